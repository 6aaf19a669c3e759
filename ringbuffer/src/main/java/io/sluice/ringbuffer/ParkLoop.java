package io.sluice.ringbuffer;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.Objects;
import java.util.function.IntSupplier;

/**
 * The consumer's half of every cross-process wake-up ({@link SpscWakeup}, {@link BroadcastWakeup},
 * {@link MpmcWakeup}), written once: spin a little, then park one slice at a time until a poll
 * handles messages or the deadline passes. What differs between the rings is only how a consumer
 * says "I am parked" ({@link Mark}): its own flag in its position region (SPSC, broadcast), or a
 * count in the ring that every consumer shares (MPMC).
 *
 * <pre>
 *   c1  seen = wakeSequence          (acquire)
 *   c2  mark.raise()                 (a release store of a flag, or an atomic add)
 *   c3  full fence                   (StoreLoad: the mark before the ring check)
 *   c4  poll the ring: a message? stop
 *   c5  futex wait while wakeSequence == seen, at most one slice
 *   c6  mark.lower()
 * </pre>
 * The producer's half is the mirror image: commit (a release store), full fence, load the mark,
 * and if it is raised add 1 to the wake sequence and wake every sleeper ({@link #bump}). Each
 * side stores, fences, then loads what the other stored, so at least one sees the other: either
 * c4 finds the message, or the producer sees the mark and bumps. The bump comes after c1 (the
 * producer saw the mark, which c2 raised after c1), so the wait at c5 either finds the word
 * changed and returns at once, or is already asleep when the wake comes (the kernel compares the
 * word and sleeps atomically). Each ring's class writes out the argument for its own words.
 *
 * <p>Whatever the shared words hold — a flag or count left raised by a consumer that died asleep,
 * garbage written by a peer — no sleep lasts longer than one slice ({@link #SLICE_NANOS}): a lost
 * wake costs at most that much latency, never a hang, and the caller's poll re-checks the host's
 * liveness between slices. A mark wrongly raised only costs the producer needless wakes.
 *
 * <p>One instance belongs to one consumer thread; nothing here allocates.
 */
final class ParkLoop {
    /** The wake sequence: a 4-byte aligned u32, little-endian. */
    static final VarHandle WORD = RegionHeaderDescriptor.ALIGNED_U32.varHandle().withInvokeExactBehavior();
    /** Spins before parking: a message due within a few microseconds costs no system call. */
    static final int SPINS = 200;
    /** Longest single sleep: the consumer re-checks its deadline (and whatever its poll checks). */
    static final long SLICE_NANOS = 50_000_000L;

    /** How a consumer tells producers it is about to sleep (c2) and that it is awake again (c6). */
    interface Mark {
        /** c2: from here on producers must wake this consumer. */
        void raise();

        /** c6: this consumer is awake; producers may stop waking it. */
        void lower();
    }

    private final MemorySegment wakeSequence; // read-only is enough: the consumer only waits on it
    private final Futex futex;
    private final Mark mark;

    ParkLoop(MemorySegment wakeSequence, Futex futex, Mark mark) {
        this.wakeSequence = Objects.requireNonNull(wakeSequence, "wake sequence");
        this.futex = Objects.requireNonNull(futex, "futex");
        this.mark = Objects.requireNonNull(mark, "mark");
    }

    /**
     * Runs {@code poll} until it handles messages or {@code timeoutNanos} pass: spins a little,
     * then parks one slice at a time ({@link #parkOnce}).
     *
     * @return the last poll's count (0 on timeout)
     */
    int pollOrPark(IntSupplier poll, long timeoutNanos) {
        int n = poll.getAsInt();
        for (int i = 0; n == 0 && i < SPINS; i++) {
            Thread.onSpinWait();
            n = poll.getAsInt();
        }
        final long deadline = System.nanoTime() + timeoutNanos;
        while (n == 0) {
            final long left = deadline - System.nanoTime();
            if (left <= 0) {
                return 0;
            }
            n = parkOnce(poll, Math.min(left, SLICE_NANOS));
        }
        return n;
    }

    /**
     * One round, c1..c6: raise the mark, check the ring once more, sleep at most
     * {@code sliceNanos} unless it had a message, lower the mark; if it slept, poll once more.
     *
     * @return what the last poll returned
     */
    int parkOnce(IntSupplier poll, long sliceNanos) {
        final int seen = (int) WORD.getAcquire(wakeSequence, 0L); // c1
        mark.raise();                                             // c2
        VarHandle.fullFence();                                    // c3: the mark before the ring check
        int n;
        try {
            n = poll.getAsInt();                                  // c4
            if (n == 0) {
                futex.await(wakeSequence, seen, sliceNanos);      // c5
            }
        } finally {
            mark.lower();                                         // c6, also when the poll threw (the host is gone)
        }
        return n == 0 ? poll.getAsInt() : n;
    }

    /**
     * The producer's p4, p5: adds 1 to the wake sequence and wakes every sleeper. The add changes
     * the word, so a consumer that read the old value and has not slept yet returns from its wait
     * at once.
     *
     * @param wakeSequence the ring's wake sequence, writable
     */
    static void bump(MemorySegment wakeSequence, Futex futex) {
        int ignored = (int) WORD.getAndAdd(wakeSequence, 0L, 1);
        futex.wakeAll(wakeSequence);
    }
}
