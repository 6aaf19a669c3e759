package io.sluice.ringbuffer;

import io.sluice.api.RingKind;
import io.sluice.api.RingLayoutException;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

import static io.sluice.ringbuffer.BroadcastRecordDescriptor.ALIGNMENT;
import static io.sluice.ringbuffer.BroadcastRingDescriptor.GATED_REGISTRATION_OFFSET;

/**
 * The backpressure half of a broadcast producer: the registered consumers it gates on, and the
 * limit they put on its claims. The overwrite policy never consults it. Registration
 * ({@link #addConsumer}, {@link #removeConsumer}) runs on any thread and publishes a new
 * copy-on-write {@link BroadcastConsumerSet}; the producer thread adopts it at its next claim
 * ({@link #admits}) or idle refresh, reads every position, caches the lowest plus the capacity as
 * the producer limit, and acknowledges the set's version in the ring's Gated Registration field.
 * Positions are validated as they are read; a consumer that publishes an impossible one is
 * reported and gates nothing more. See {@link BroadcastProducer} for the joining protocol.
 *
 * <p><b>Registered while the producer is ahead.</b> If the producer overwrote a joiner's start
 * between the joiner's attach and the adoption of its registration, it finds on adoption a
 * position more than a capacity behind its tail, so it cannot claim at all until that consumer
 * moves; the joiner, once gated, sees the Tail Intent past its start plus the capacity, reports
 * the overwritten records as a lap (exact counts, as in overwrite mode), resumes at the Head —
 * which cannot move while the producer is stuck — and publishes that position, which releases the
 * producer.
 *
 * <p><b>Consumers it does not trust.</b> A position region is written by its consumer's process.
 * Every position read is validated: not negative, a multiple of 8, not beyond the producer's tail,
 * and not behind the last value read from the same registration (the first read may be far behind:
 * the lapped joiner above). A consumer whose position fails is faulty, not the ring: it no longer
 * gates the producer — the producer must not be held, nor misled into overwriting the others'
 * unread records, by it — and it is reported once. Like a removed consumer it is no longer
 * protected.
 */
final class BroadcastGate {
    private static final VarHandle LONG = RegionHeaderDescriptor.ALIGNED_U64.varHandle().withInvokeExactBehavior();
    private static final VarHandle CONSUMER_SET;

    static {
        try {
            CONSUMER_SET = MethodHandles.lookup()
                    .findVarHandle(BroadcastGate.class, "consumerSet", BroadcastConsumerSet.class)
                    .withInvokeExactBehavior();
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** {@link #lastSeen}: no position read from that consumer yet (a real one is never negative). */
    private static final long NOT_READ = -1;
    /** {@link #lastSeen}: that consumer published an impossible position; it gates nothing any more. */
    private static final long FAULTED = Long.MIN_VALUE;
    private BroadcastConsumerSet adoptedSet;
    // Per consumer of adoptedSet (same index): the last position read from its region, NOT_READ
    // before the first read, or FAULTED once it published an impossible one (then it no longer
    // gates the producer). Producer thread only; rebuilt on adoption, never per claim.
    private long[] lastSeen = new long[0];
    private long producerLimit = Long.MAX_VALUE;

    // Told of a consumer's impossible position; null: nobody. Set once before the producer thread
    // starts producing (see onConsumerFault), read by the producer thread only.
    private ConsumerFaultListener faultListener;
    // The last fault found: written by the producer thread (volatile: a host may poll it).
    private volatile ConsumerFault latestFault;

    // Written under registrationLock by registering threads with a volatile store (a release would
    // do for publishing the set; the store-load order of the Dekker pair below needs volatile);
    // read by the producer thread with an acquire or volatile load (only through CONSUMER_SET), so
    // the arrays of a set it sees are fully built.
    private final Object registrationLock = new Object();
    private long registrationVersion;
    @SuppressWarnings({"unused", "FieldMayBeFinal"})
    private BroadcastConsumerSet consumerSet;
    // True while the producer thread reads consumers' position regions (adopting a set, or
    // recomputing the gate): the only places it touches them. With consumerSet it is a Dekker
    // pair that tells a host when a removed consumer's region may be unmapped (isDoneWith):
    //   producer (slow path):  readingPositions = true, then load consumerSet (volatile), read positions
    //   host, after removal:   store consumerSet (volatile, under registrationLock), then load readingPositions
    // If the host reads false, any slow path that starts later loads the set after its store of
    // true, so after the host's store: it sees the set without the removed consumer and never
    // reads its region again; a slow path that ended before stored false after its last read.
    private volatile boolean readingPositions;

    private final MemorySegment region;
    private final String what;
    private final long capacity;
    private final boolean backpressure;

    /**
     * A gate with no consumer registered, continuing the version a previous producer left in the
     * ring's Gated Registration field (the producer's attach checked it).
     */
    BroadcastGate(MemorySegment region, String what, BroadcastRingDescriptor.Header header) {
        final long gatedRegistration = (long) LONG.getAcquire(region, GATED_REGISTRATION_OFFSET);
        this.region = region;
        this.what = what;
        this.capacity = header.capacity();
        this.backpressure = header.kind() == RingKind.BROADCAST_BACKPRESSURE;
        this.registrationVersion = gatedRegistration;
        this.adoptedSet = new BroadcastConsumerSet(gatedRegistration, new long[0], new MemorySegment[0]);
        CONSUMER_SET.setRelease(this, adoptedSet);
    }

    /**
     * Producer thread: whether a claim writing up to {@code reach} (its record and the next
     * slot's mark, {@link BroadcastRecordDescriptor#reach}) respects every gated consumer.
     * Fast path: one acquire load and a compare against the cached limit.
     *
     * @param reach the end of what the claim writes
     * @param tail the producer's committed tail (positions beyond it are faults)
     */
    boolean admits(long reach, long tail) {
        final BroadcastConsumerSet set = (BroadcastConsumerSet) CONSUMER_SET.getAcquire(this);
        if (set == adoptedSet && reach <= producerLimit) {
            return true;
        }
        return admitsSlowly(reach, tail);
    }

    /** The set changed or the cached limit is used up: read the positions (see readingPositions). */
    private boolean admitsSlowly(long reach, long tail) {
        readingPositions = true;
        try {
            final BroadcastConsumerSet set = (BroadcastConsumerSet) CONSUMER_SET.getVolatile(this);
            if (set != adoptedSet) {
                adopt(set, tail);
            } else {
                producerLimit = computeProducerLimit(tail);
            }
            return reach <= producerLimit;
        } finally {
            readingPositions = false;
        }
    }

    private void adopt(BroadcastConsumerSet set, long tail) {
        lastSeen = carryOver(adoptedSet, lastSeen, set);
        adoptedSet = set;
        producerLimit = computeProducerLimit(tail);
        // After the positions were read: a joiner that acquire-loads this version knows that every
        // claim from now on respects its position, and sees every earlier Tail Intent.
        LONG.setRelease(region, GATED_REGISTRATION_OFFSET, set.version());
    }

    /**
     * The last-seen values for {@code to}: each consumer still registered keeps its own, a new one
     * starts {@link #NOT_READ}. Registration numbers are increasing in every set (a registration
     * is the version its add produced, appended at the end; a removal keeps the order), so one
     * merge pass matches them.
     */
    private static long[] carryOver(BroadcastConsumerSet from, long[] fromSeen, BroadcastConsumerSet to) {
        final long[] old = from.registrations();
        final long[] now = to.registrations();
        final long[] seen = new long[now.length];
        int j = 0;
        for (int i = 0; i < now.length; i++) {
            while (j < old.length && old[j] < now[i]) {
                j++;
            }
            seen[i] = j < old.length && old[j] == now[i] ? fromSeen[j] : NOT_READ;
        }
        return seen;
    }

    /**
     * The first position the producer may not write: the lowest consumer position plus the
     * capacity, or no limit if no consumer gates the producer. Each position read is validated
     * first: not negative, a multiple of 8, not beyond the producer's tail, and not behind the
     * last one read from the same registration. The first read after registration may be far
     * behind — a joiner the producer lapped before adopting it — and then holds the producer
     * until that consumer moves (see the class comment). A position that fails is that consumer's
     * fault: it no longer gates the producer, and it is reported once ({@link BroadcastProducer#onConsumerFault}).
     * A dead consumer that stopped moving (or one stuck far behind) still holds the producer
     * until the host removes it: that is the backpressure contract.
     */
    private long computeProducerLimit(long tail) {
        final MemorySegment[] positions = adoptedSet.positions();
        final long[] lastSeen = this.lastSeen;
        long min = Long.MAX_VALUE;
        for (int i = 0; i < positions.length; i++) {
            final long seen = lastSeen[i];
            if (seen == FAULTED) {
                continue;
            }
            final long position = (long) LONG.getAcquire(positions[i], BroadcastConsumerPositionDescriptor.POSITION_OFFSET);
            if (position < 0 || (position & (ALIGNMENT - 1)) != 0 || position > tail || position < seen) {
                fault(i, position, seen, tail);
                continue;
            }
            lastSeen[i] = position;
            if (position < min) {
                min = position;
            }
        }
        return min == Long.MAX_VALUE ? Long.MAX_VALUE : min + capacity;
    }

    private void fault(int index, long position, long seen, long tail) {
        lastSeen[index] = FAULTED;
        final long registration = adoptedSet.registrations()[index];
        final ConsumerFault.Problem problem = position < 0 ? ConsumerFault.Problem.NEGATIVE
                : (position & (ALIGNMENT - 1)) != 0 ? ConsumerFault.Problem.UNALIGNED
                : position > tail ? ConsumerFault.Problem.BEYOND_PRODUCER
                : ConsumerFault.Problem.REWOUND;
        final String at = what + ": consumer " + registration + " position " + position;
        final String reason = switch (problem) {
            case NEGATIVE -> at + " is negative";
            case UNALIGNED -> at + " is not a multiple of " + ALIGNMENT;
            case BEYOND_PRODUCER -> at + " is beyond the producer's position " + tail;
            default -> at + " is behind the position " + seen + " it published before";
        };
        final ConsumerFault fault = new ConsumerFault(registration, position, tail, seen, problem, reason);
        latestFault = fault;
        ConsumerFaultListener.tell(faultListener, fault);
    }

    /**
     * Makes the producer tell {@code listener} of each registered consumer whose position it
     * refuses (once per registration); that consumer gates the producer no more. Call before
     * producing, from the thread that starts the producer thread; the listener runs on the
     * producer thread ({@link ConsumerFaultListener}). The host typically removes that consumer
     * ({@link BroadcastProducer#removeConsumer}) and detaches it.
     */
    void onConsumerFault(ConsumerFaultListener listener) {
        this.faultListener = listener;
    }

    /** The last consumer fault the producer found (volatile), or null if none. */
    ConsumerFault latestFault() {
        return latestFault;
    }

    /**
     * Producer thread only: adopts a consumer set changed by {@link BroadcastProducer#addConsumer} or
     * {@link BroadcastProducer#removeConsumer} since the last claim, acknowledging the new registrations in the
     * ring's Gated Registration field. {@link BroadcastProducer#tryClaim} does the same; call this when idle so that
     * joiners do not wait for the next message. Cheap when nothing changed (one acquire load).
     *
     * @return whether a new set was adopted
     */
    boolean refreshConsumers(long tail) {
        if ((BroadcastConsumerSet) CONSUMER_SET.getAcquire(this) == adoptedSet) {
            return false;
        }
        readingPositions = true;
        try {
            final BroadcastConsumerSet set = (BroadcastConsumerSet) CONSUMER_SET.getVolatile(this);
            if (set == adoptedSet) {
                return false;
            }
            adopt(set, tail);
            return true;
        } finally {
            readingPositions = false;
        }
    }

    /**
     * Any thread: whether the producer will never again read the position region of a consumer
     * removed before the set of {@code version} was published ({@link BroadcastProducer#requestedRegistration()}
     * right after the removal), so that the region may be unmapped now — also while the producer
     * is idle. False only while the producer is reading positions at this moment: ask again later.
     */
    boolean isDoneWith(long version) {
        return adoptedRegistration() >= version || !readingPositions;
    }

    /**
     * Any thread: registers a consumer's position region; the producer gates on it from the
     * moment it adopts the new set (see the class comment for the joining protocol).
     *
     * @param positionRegion the consumer's position region (a read-only mapping is enough; the
     *                       producer keeps a read-only view)
     * @return the registration number: hand it to the consumer ({@link BroadcastConsumer#registered})
     *         and use it for {@link BroadcastProducer#removeConsumer}; positive, increasing
     * @throws IllegalStateException if the ring is not a backpressure ring
     * @throws RingLayoutException   if the region is not a valid position region
     */
    long addConsumer(MemorySegment positionRegion) {
        requireBackpressure("addConsumer");
        BroadcastConsumerPositionDescriptor.validate(positionRegion, what + ": consumer position region");
        final MemorySegment view = positionRegion.asReadOnly();
        synchronized (registrationLock) {
            final BroadcastConsumerSet current = (BroadcastConsumerSet) CONSUMER_SET.getAcquire(this);
            final long version = ++registrationVersion;
            CONSUMER_SET.setVolatile(this, current.with(version, view)); // volatile: see readingPositions
            return version;
        }
    }

    /**
     * Any thread: stops gating on a consumer (it detached, or the host saw it die). A consumer
     * removed while still reading is no longer protected: the producer may overwrite what it reads.
     *
     * @return false if that registration is not (or no longer) registered
     */
    boolean removeConsumer(long registration) {
        requireBackpressure("removeConsumer");
        synchronized (registrationLock) {
            final BroadcastConsumerSet current = (BroadcastConsumerSet) CONSUMER_SET.getAcquire(this);
            final BroadcastConsumerSet next = current.without(registrationVersion + 1, registration);
            if (next == null) {
                return false;
            }
            registrationVersion++;
            CONSUMER_SET.setVolatile(this, next); // volatile: see readingPositions
            return true;
        }
    }

    private void requireBackpressure(String operation) {
        if (!backpressure) {
            throw new IllegalStateException(what + ": " + operation + " on an overwrite ring: its producer never"
                    + " reads consumer positions");
        }
    }

    /**
     * The latest consumer-set version requested by {@link BroadcastProducer#addConsumer}/{@link BroadcastProducer#removeConsumer}
     * (any thread). A removed consumer's position region may be unmapped once
     * {@link BroadcastProducer#adoptedRegistration()} has reached the version current right after its removal.
     */
    long requestedRegistration() {
        synchronized (registrationLock) {
            return registrationVersion;
        }
    }

    /** The consumer-set version the producer has adopted: the ring's Gated Registration (acquire). */
    long adoptedRegistration() {
        return (long) LONG.getAcquire(region, GATED_REGISTRATION_OFFSET);
    }
}
