package io.sluice.ringbuffer;

/**
 * The spans of the records a broadcast producer made (padding, the end-of-lap gap and aborted
 * claims included), oldest first, from position {@link #from()} on: what the Head walk needs, kept
 * on the producer's heap so that it need not read the headers back from the ring.
 *
 * <p>Why: the headers the walk reads lie in the lines the coming claim overwrites, which the
 * consumers' cores read a lap before. Read back from the ring, each is a load from a line another
 * core may hold, and the claim cannot start before it returns (the loads depend on each other);
 * docs/benchmarks.md has what that cost a round trip. Kept here, a span is an array read.
 *
 * <p>Bounded: {@code capacity / 16} entries (a lap never holds more records), at most
 * {@link #MAX_SPANS} (256 KiB of heap), which covers every record of a lap on any ring of up to
 * 1 MiB and on larger ones whose records are long enough. When it is full the oldest span is
 * dropped and {@link #from()} moves past it; the walk then reads those records from the ring, as
 * it does after a producer resumes a used ring.
 * Producer thread only.
 */
final class BroadcastSpans {
    /** Largest number of spans kept. */
    static final int MAX_SPANS = 1 << 16;

    private final int[] spans;
    private final int mask;
    private long oldest;   // index of the oldest span (in spans, mod length)
    private long next;     // index where the next span goes
    private long from;     // position where the oldest span starts; the end of the newest if empty

    /**
     * @param capacity the ring's data capacity (a power of two, validated): every lap holds at most
     *                 {@code capacity / 16} records, so no more entries are ever needed
     * @param position where the first span to be added starts (the producer's tail)
     */
    BroadcastSpans(long capacity, long position) {
        final int length = (int) Math.min(MAX_SPANS, capacity / BroadcastRecordDescriptor.HEADER_LENGTH);
        this.spans = new int[length];
        this.mask = length - 1;
        this.from = position;
    }

    /** {@return the position where the oldest kept span starts: the Head walk takes from here} */
    long from() {
        return from;
    }

    /** {@return whether no span is kept} */
    boolean isEmpty() {
        return oldest == next;
    }

    /** Appends the span of the next record (or gap) the producer made. */
    void add(long span) {
        if (next - oldest == spans.length) {
            from += spans[(int) (oldest++ & mask)]; // full: drop the oldest, the walk reads it from the ring
        }
        spans[(int) (next++ & mask)] = (int) span;
    }

    /** Removes and returns the oldest span, which starts at {@link #from()}; not when empty. */
    long take() {
        final long span = spans[(int) (oldest++ & mask)];
        from += span;
        return span;
    }
}
