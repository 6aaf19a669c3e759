package io.sluice.ringbuffer;

import java.util.Arrays;

/**
 * Where the SPSC producer's records start, for checking a consumer position without reading the
 * ring: for each of the last two laps of the stream (a lap is a capacity of positions,
 * {@code position / capacity}), one bit per 8-byte slot of the data area, set where a record or
 * padding record of that lap starts. Producer-private, on the heap: capacity / 32 bytes (2 KiB for
 * a 64 KiB ring, 32 MiB for the largest, 1 GiB).
 *
 * <p>Why a map and not a walk of the record headers from the accepted position: those headers
 * lie in lines the consumer has just read, and walking them cost about a cache miss per record,
 * half the ring's throughput at 256-byte messages (docs/benchmarks.md, What moved the numbers).
 * Why one map per lap, cleared when the lap starts, and not one map whose bits each record clears
 * under itself: a commit then costs one bit set, not a loop over the slots it covers.
 *
 * <p>Exact for the positions the producer checks: they lie in [accepted position, tail), and the
 * producer writes nothing at or past the accepted position plus the capacity, so such a position
 * is in the tail's lap or the one before. The map of a lap is cleared when the first record of the
 * lap is marked, so it holds that lap's record starts and nothing else.
 */
final class SpscRecordStarts {
    private static final int SLOT_SHIFT = 3;   // 8-byte slots: records start at multiples of 8
    private static final int WORD_SHIFT = 6;   // 64 slots per long

    private final long[] evenLaps;
    private final long[] oddLaps;
    private final int lapShift;                // log2(capacity)
    private final long mask;
    private long lap = -1;                     // the lap of the last record marked

    /** @param capacity the data area's size, a power of two, at least 64 and at most 2^30 */
    SpscRecordStarts(long capacity) {
        final int words = (int) Math.max(1, capacity >>> (SLOT_SHIFT + WORD_SHIFT));
        this.evenLaps = new long[words];
        this.oddLaps = new long[words];
        this.lapShift = Long.numberOfTrailingZeros(capacity);
        this.mask = capacity - 1;
    }

    /** A record or padding record starts at stream {@code position}; positions only grow. */
    void recordAt(long position) {
        final long lap = position >>> lapShift;
        if (lap != this.lap) {
            startLap(lap);
        }
        final long slot = (position & mask) >>> SLOT_SHIFT;
        bitsOf(lap)[(int) (slot >>> WORD_SHIFT)] |= 1L << slot;
    }

    private void startLap(long lap) {
        // The map this lap reuses held the lap two before it: nothing the producer checks.
        Arrays.fill(bitsOf(lap), 0L);
        if (lap != this.lap + 1) {
            Arrays.fill(bitsOf(lap + 1), 0L); // a jump (attach to a used ring): the other map is stale too
        }
        this.lap = lap;
    }

    /** {@return whether a record starts at stream {@code position}, one of the last two laps'} */
    boolean startsAt(long position) {
        final long lap = position >>> lapShift;
        if (lap != this.lap && lap != this.lap - 1) {
            return false;
        }
        final long slot = (position & mask) >>> SLOT_SHIFT;
        return (bitsOf(lap)[(int) (slot >>> WORD_SHIFT)] & (1L << slot)) != 0;
    }

    private long[] bitsOf(long lap) {
        return (lap & 1) == 0 ? evenLaps : oddLaps;
    }
}
