package io.sluice.ringbuffer;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

import static io.sluice.ringbuffer.BroadcastRingDescriptor.GATED_REGISTRATION_OFFSET;

/**
 * A broadcast consumer's half of the joining protocol (see {@link BroadcastProducer}): the
 * registration number the host got from {@link BroadcastProducer#addConsumer} for this consumer's
 * position region, and whether the producer has adopted it yet. Until then the producer may
 * overwrite what this consumer would read, so the consumer delivers nothing. An overwrite ring's
 * consumer is gated from the start: its producer reads no positions, so there is nothing to wait
 * for. Consumer thread only.
 */
final class BroadcastRegistration {
    private static final VarHandle LONG = RegionHeaderDescriptor.ALIGNED_U64.varHandle().withInvokeExactBehavior();
    private static final long UNREGISTERED = 0;

    private final MemorySegment region;
    private final String what;
    private final boolean overwrite;
    private long registration = UNREGISTERED;
    // Once true, stays true. Set after an acquire load of Gated Registration that reached our
    // number: the producer release-stored that version after it read our position, so every claim
    // from then on respects that position, and every earlier Tail Intent is visible to us.
    private boolean gated;
    // The Gated Registration under which the consumer last checked it was not lapped; -1: never.
    private long settledRegistration = -1;

    BroadcastRegistration(MemorySegment region, String what, boolean overwrite) {
        this.region = region;
        this.what = what;
        this.overwrite = overwrite;
        this.gated = overwrite;
    }

    /** See {@link BroadcastConsumer#registered}. */
    void register(long registration) {
        if (overwrite) {
            throw new IllegalStateException(what + ": overwrite rings do not register consumers");
        }
        if (registration <= 0) {
            throw new IllegalArgumentException(what + ": registration " + registration + " is not positive");
        }
        if (this.registration != UNREGISTERED) {
            throw new IllegalStateException(what + ": already registered as " + this.registration);
        }
        this.registration = registration;
    }

    /**
     * Backpressure rings: whether the consumer set the producer gates on is still the one of the
     * last {@link #settle}, so that nothing can have overwritten what this consumer has not read
     * since (it was gated then and has not been removed). One acquire load of Gated Registration,
     * a field the producer writes only when it adopts a new set. Overwrite rings: false.
     */
    boolean isSettled() {
        return !overwrite && (long) LONG.getAcquire(region, GATED_REGISTRATION_OFFSET) == settledRegistration;
    }

    /** {@return the ring's Gated Registration (acquire), to {@link #settle} on; 0 on overwrite rings} */
    long gatedRegistration() {
        return overwrite ? 0 : (long) LONG.getAcquire(region, GATED_REGISTRATION_OFFSET);
    }

    /**
     * Records that the consumer checked, against the Tail and Tail Intent loaded after
     * {@code gatedRegistration}, that nothing it has not read was overwritten.
     */
    void settle(long gatedRegistration) {
        settledRegistration = gatedRegistration;
    }

    /** Whether the producer gates on this consumer yet: one field read once it does. */
    boolean isGated() {
        return gated || tryGate();
    }

    private boolean tryGate() {
        if (registration == UNREGISTERED
                || (long) LONG.getAcquire(region, GATED_REGISTRATION_OFFSET) < registration) {
            return false;
        }
        gated = true;
        return true;
    }
}
