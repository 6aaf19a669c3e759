package io.sluice.ringbuffer;

/**
 * Where the SPSC producer's records start, for checking a consumer position without reading the
 * ring: one bit per 8-byte slot of the data area, set where a record (or padding record) of the
 * producer's last capacity of stream starts. Producer-private, on the heap: capacity / 64 bytes
 * (1 KiB for a 64 KiB ring, 16 MiB for the largest, 1 GiB).
 *
 * <p>Why not walk the record headers from the accepted position instead, as the check once did:
 * those headers are in lines the consumer has just read, and on this kind of machine a line a
 * core reads from another's cache does not stay in the writer's: the walk took a cache miss per
 * record, and halved the ring's throughput at 256-byte messages (docs/benchmarks.md).
 *
 * <p>Records and padding tile the stream with no gap, so every slot of the last capacity before
 * the producer's tail was rewritten by the commit that covered it: {@link #recordAt} clears the
 * slots its record covers and marks its first. A consumer position the producer checks lies in
 * [accepted position, tail), inside that last capacity, because the producer never writes past
 * the accepted position plus the capacity; so a set bit there is a record of the current lap.
 */
final class SpscRecordStarts {
    private static final int SLOT_SHIFT = 3;   // 8-byte slots: records start at multiples of 8
    private static final int WORD_SHIFT = 6;   // 64 slots per long

    private final long[] bits;

    /** @param capacity the data area's size, a power of two, at least 64 and at most 2^30 */
    SpscRecordStarts(long capacity) {
        this.bits = new long[(int) Math.max(1, capacity >>> (SLOT_SHIFT + WORD_SHIFT))];
    }

    /**
     * A record or padding record of {@code span} bytes now starts at data offset {@code index}:
     * no other record starts inside it.
     */
    void recordAt(long index, long span) {
        final long first = index >>> SLOT_SHIFT;
        clear(first + 1, (index + span) >>> SLOT_SHIFT);
        bits[(int) (first >>> WORD_SHIFT)] |= 1L << first;
    }

    /** {@return whether a record of the last capacity of stream starts at data offset {@code index}} */
    boolean startsAt(long index) {
        final long slot = index >>> SLOT_SHIFT;
        return (bits[(int) (slot >>> WORD_SHIFT)] & (1L << slot)) != 0;
    }

    /** Clears slots [from, to). */
    private void clear(long from, long to) {
        while (from < to) {
            final int bit = (int) (from & 63);
            final long count = Math.min(64 - bit, to - from);
            final long run = count == 64 ? -1L : ((1L << count) - 1) << bit;
            bits[(int) (from >>> WORD_SHIFT)] &= ~run;
            from += count;
        }
    }
}
