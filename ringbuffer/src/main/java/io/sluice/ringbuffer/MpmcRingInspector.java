package io.sluice.ringbuffer;

import io.sluice.api.RingLayoutException;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.Objects;

import static io.sluice.ringbuffer.MpmcRingDescriptor.HEAD_POSITION_OFFSET;
import static io.sluice.ringbuffer.MpmcRingDescriptor.TAIL_POSITION_OFFSET;
import static io.sluice.ringbuffer.MpmcSlotDescriptor.CLAIMED;
import static io.sluice.ringbuffer.MpmcSlotDescriptor.CONSUMING;

/**
 * A read-only look at an MPMC ring for the host that watches it: where the head and the tail
 * are, and who holds the slot there. Participants share the ring read-write and the ring cannot
 * tell a slow participant from a stuck one; a claim left open blocks every consumer at its
 * position (a take left open blocks producers once they wrap round to it). The host samples
 * {@link #headSlot()} (and {@link #tailSlot()}) now and then: a head that has not moved for a
 * while, with its slot {@code CLAIMED} by participant N, says that N is holding the ring, which
 * the host can then report, detach and recover ({@link MpmcRecovery}).
 *
 * <p>Each call is two acquire loads (the counter, then the slot's state word) and writes nothing;
 * nothing here is on any participant's path. The two loads are not one atomic snapshot: the word
 * may already serve a later position than the counter read (see {@link Slot#lapsAhead()}); sample
 * again for a stable picture. Any thread.
 */
public final class MpmcRingInspector {
    private static final VarHandle STATE = MpmcSlotDescriptor.STATE;
    private static final VarHandle POSITION = MpmcRingDescriptor.POSITION;

    private final MemorySegment region;
    private final MpmcRingGeometry geometry;
    private final int slotCountShift;

    private MpmcRingInspector(MemorySegment region, MpmcRingGeometry geometry) {
        this.region = region;
        this.geometry = geometry;
        this.slotCountShift = geometry.slotCountShift();
    }

    /**
     * An inspector of the ring in {@code region}, which may be mapped read-only.
     *
     * @param ringName names the ring in messages
     * @param region the whole ring region (read-only is enough)
     * @return an inspector reading the ring at each call
     * @throws RingLayoutException if the region does not hold a valid MPMC ring
     */
    public static MpmcRingInspector of(MemorySegment region, String ringName) {
        Objects.requireNonNull(region, "region");
        return new MpmcRingInspector(region, MpmcRingDescriptor.validate(region, ringName));
    }

    /**
     * The slot at the head: the next position a consumer will take. A head that does not move
     * while this slot is {@code CLAIMED} at its position ({@link Slot#lapsAhead()} 0) means its
     * claimant has not committed: {@link Slot#holder()} is that participant.
     *
     * @return a snapshot of the head slot (plain reads: it may be stale at once)
     */
    public Slot headSlot() {
        return slotAt((long) POSITION.getAcquire(region, HEAD_POSITION_OFFSET));
    }

    /**
     * The slot at the tail: the next position a producer will claim. Still serving the previous
     * lap ({@link Slot#lapsAhead()} -1) and not FREE, the ring is full there; if it is
     * {@code CONSUMING}, {@link Slot#holder()} is the consumer that took that message and has not
     * released it, and producers wait for it.
     *
     * @return a snapshot of the tail slot (plain reads: it may be stale at once)
     */
    public Slot tailSlot() {
        return slotAt((long) POSITION.getAcquire(region, TAIL_POSITION_OFFSET));
    }

    private Slot slotAt(long position) {
        final long word = (long) STATE.getAcquire(region, geometry.slotOffset(position));
        return new Slot(position, position & (geometry.slotCount() - 1), word,
                MpmcSlotDescriptor.lapDifference(word, position, slotCountShift));
    }

    /** {@return the ring's sizes, as its header says} */
    public MpmcRingGeometry geometry() {
        return geometry;
    }

    /**
     * What an inspection found at a counter.
     *
     * @param position  the counter (head or tail position) read
     * @param index     the slot serving it: {@code position mod slotCount}
     * @param word      the slot's state word, read after the counter (see {@link MpmcSlotDescriptor})
     * @param lapsAhead the word's lap minus the position's: 0 when the slot serves this position,
     *                  -1 when it still serves the previous lap, 1 when it has moved on already
     */
    public record Slot(long position, long index, long word, long lapsAhead) {
        /** {@return {@link MpmcSlotDescriptor#FREE}, {@code CLAIMED}, {@code COMMITTED}, {@code ABORTED} or {@code CONSUMING}} */
        public int state() {
            return MpmcSlotDescriptor.state(word);
        }

        /** {@return the participant the word names (0 when FREE)} */
        public int participant() {
            return MpmcSlotDescriptor.participant(word);
        }

        /**
         * The participant holding the slot — a producer's open claim ({@code CLAIMED}) or a
         * consumer's open take ({@code CONSUMING}) — or 0 if nobody holds it.
         *
         * @return the holder's participant id, or 0
         */
        public int holder() {
            final int state = state();
            return state == CLAIMED || state == CONSUMING ? participant() : 0;
        }

        @Override
        public String toString() {
            return "slot " + index + " at position " + position + ": " + MpmcSlotDescriptor.describe(word)
                    + (lapsAhead == 0 ? "" : ", " + lapsAhead + " lap(s) ahead of the position");
        }
    }
}
