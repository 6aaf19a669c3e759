package io.sluice.ringbuffer;

import io.sluice.api.ConsumerWaker;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.Objects;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntSupplier;

/**
 * The MPMC cross-process wake-up: any consumer, in any process, may sleep in the kernel while
 * the ring has nothing to take, and any producer, in any process, wakes the sleepers after it
 * commits (or aborts: an aborted slot can be what held the head). MPMC participants have no
 * region of their own, so the words are both in the ring, which every participant maps
 * read-write:
 * <ul>
 *   <li>the <b>wake sequence</b> (u32, {@link MpmcRingDescriptor#WAKE_SEQUENCE_OFFSET}):
 *       incremented by producers (and the host), once per wake; consumers sleep on it;</li>
 *   <li>the <b>parked count</b> (u32, {@link MpmcRingDescriptor#PARKED_COUNT_OFFSET}): how many
 *       consumers are about to sleep or sleeping. A consumer adds 1 before it sleeps and takes 1
 *       away after, both atomically; producers read it.</li>
 * </ul>
 *
 * <h2>The protocol and why no wake is lost</h2>
 * <pre>
 *   consumer (ParkLoop)                          producer (afterPublish)
 *   c1  seen = wakeSequence          (acquire)   p1  CAS state word -> COMMITTED / ABORTED
 *   c2  parkedCount += 1             (atomic)    p2  full fence              (StoreLoad)
 *   c3  full fence                   (StoreLoad) p3  if parkedCount != 0     (volatile load):
 *   c4  poll the ring: a message? stop           p4      wakeSequence += 1   (atomic add)
 *   c5  futex wait while wakeSequence == seen    p5      futex wake (all)
 *   c6  parkedCount -= 1 if above 0  (CAS)
 * </pre>
 * Dekker again: each side writes (c2, p1), fences (c3, p2), then reads what the other wrote (c4
 * loads the slot's state word, p3 the count). Either the consumer's take sees the committed (or
 * aborted, hence skippable) slot, or the producer sees a count above zero and bumps; the bump
 * comes after c1, so the wait at c5 returns at once or is woken. Several consumers count
 * together: the count is non-zero while any of them is between c2 and c6.
 *
 * <h2>What a bad count costs (bounded)</h2>
 * The count is shared, so a participant can leave it wrong: one killed while asleep leaves it 1
 * too high for good, and a writer of garbage can set anything. Too high: producers make a
 * needless wake (one atomic add and one system call) per commit. Too low (zero or negative while
 * a consumer sleeps): that consumer is not woken and sleeps to the end of its slice
 * ({@link ParkLoop#SLICE_NANOS}), then polls. Nobody ever hangs. The consumer's decrement stops
 * at zero, so a count forced negative climbs back as consumers park, and one reset to zero under
 * a sleeper (the host resets it when the last consumer leaves) cannot go negative when that
 * sleeper wakes.
 *
 * <p>One instance per participant; the consumer half belongs to the consumer's thread, the
 * producer half to the producer's.
 */
public final class MpmcWakeup implements ConsumerWaker, ConsumerParking {
    private static final VarHandle WORD = ParkLoop.WORD;

    private final MemorySegment wakeSequence;
    private final MemorySegment parkedCount;
    private final Futex futex;
    private final ParkLoop parking;
    private final LongAdder wakes = new LongAdder();

    private MpmcWakeup(MemorySegment ringRegion, Futex futex) {
        this.wakeSequence = ringRegion.asSlice(MpmcRingDescriptor.WAKE_SEQUENCE_OFFSET, Integer.BYTES);
        this.parkedCount = ringRegion.asSlice(MpmcRingDescriptor.PARKED_COUNT_OFFSET, Integer.BYTES);
        this.futex = Objects.requireNonNull(futex, "futex");
        final MemorySegment count = parkedCount;
        this.parking = new ParkLoop(wakeSequence, futex, new ParkLoop.Mark() {
            @Override
            public void raise() {
                incrementBelowMax(count);                          // c2
            }

            @Override
            public void lower() {
                decrementIfPositive(count);                        // c6
            }
        });
    }

    /**
     * A participant's wake-up: its producer's half ({@link MpmcProducer#wakeParkedConsumersWith})
     * and its consumer's half ({@link #pollOrPark}).
     *
     * @param ringRegion the whole ring region, writable (every participant writes both words)
     * @param futex the futex calls (the platform's)
     * @return the wake-up
     */
    public static MpmcWakeup forParticipant(MemorySegment ringRegion, Futex futex) {
        Misuse.checkWritable(ringRegion, "mpmc ring", "a participant", "ring region");
        return new MpmcWakeup(ringRegion, futex);
    }

    /**
     * c2: adds one unless the count is at {@link Integer#MAX_VALUE} (garbage a peer wrote): a count
     * that high already makes every producer wake, and adding would wrap it below zero.
     */
    private static void incrementBelowMax(MemorySegment count) {
        int v = (int) WORD.getVolatile(count, 0L);
        while (v != Integer.MAX_VALUE) {
            int witness = (int) WORD.compareAndExchange(count, 0L, v, v + 1);
            if (witness == v) {
                return;
            }
            v = witness;
        }
    }

    /**
     * c6: takes one away unless the count is zero or below (a count some participant reset or
     * broke): a decrement never takes it below zero.
     */
    private static void decrementIfPositive(MemorySegment count) {
        int v = (int) WORD.getVolatile(count, 0L);
        while (v > 0) {
            int witness = (int) WORD.compareAndExchange(count, 0L, v, v - 1);
            if (witness == v) {
                return;
            }
            v = witness; // another consumer parked or woke meanwhile: its change was made, retry on it
        }
    }

    // ---- producer half ------------------------------------------------------------------------

    /**
     * p2..p5: after the commit's or abort's CAS (p1), wakes every sleeper if the parked count is
     * not zero. Producer thread.
     */
    void afterPublish() {
        VarHandle.fullFence(); // p2: the slot's state before the count (Dekker with c2..c4)
        if ((int) WORD.getVolatile(parkedCount, 0L) != 0) {
            wake();
        }
    }

    /**
     * p4, p5: bumps the wake sequence and wakes every sleeper, in every process. Producers call
     * it through {@link #afterPublish}; the host when it gives slots back (a recovery can unblock
     * the head) and when it closes the channel.
     */
    @Override
    public void wake() {
        ParkLoop.bump(wakeSequence, futex);
        wakes.increment();
    }

    /** {@return how many times this participant woke sleeping consumers} */
    public long wakes() {
        return wakes.sum();
    }

    /**
     * The parked count as the ring holds it now (volatile; for the host and monitors).
     *
     * @param ringRegion the ring region
     * @return the count, unvalidated: whatever the participants left there
     */
    public static int parkedCount(MemorySegment ringRegion) {
        return (int) WORD.getVolatile(ringRegion, MpmcRingDescriptor.PARKED_COUNT_OFFSET);
    }

    /**
     * Host: sets the parked count to zero, when no consumer is attached any more, so that what
     * consumers killed while asleep left there stops costing producers a wake per commit.
     *
     * @param ringRegion the ring region, writable
     */
    public static void resetParkedCount(MemorySegment ringRegion) {
        WORD.setVolatile(ringRegion, MpmcRingDescriptor.PARKED_COUNT_OFFSET, 0);
    }

    // ---- consumer half ------------------------------------------------------------------------

    /**
     * Runs {@code poll} until it handles messages or {@code timeoutNanos} pass: spins a little,
     * then parks one slice at a time ({@link #parkOnce}).
     *
     * @param poll polls the ring and returns the number of messages handled
     * @param timeoutNanos the longest wait in nanoseconds, from the first empty poll
     * @return the last poll's count (0 on timeout)
     */
    @Override
    public int pollOrPark(IntSupplier poll, long timeoutNanos) {
        return parking.pollOrPark(poll, timeoutNanos);
    }

    /**
     * One round of the consumer's half, c1..c6: count itself parked, check the ring once more,
     * sleep at most {@code sliceNanos} unless it had a message, count itself awake; if it slept,
     * poll once more.
     *
     * @param poll polls the ring and returns the number of messages handled
     * @param sliceNanos the longest sleep, in nanoseconds
     * @return what the last poll returned
     */
    @Override
    public int parkOnce(IntSupplier poll, long sliceNanos) {
        return parking.parkOnce(poll, sliceNanos);
    }
}
