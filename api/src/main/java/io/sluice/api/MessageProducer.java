package io.sluice.api;

import java.lang.foreign.MemorySegment;

/**
 * Writes messages into a ring, either zero-copy (claim, write in place, commit) or by copying
 * ({@link #offer}).
 *
 * <pre>{@code
 * long at = producer.tryClaim(MSG_QUOTE, 32);
 * if (at >= 0) {
 *     MemorySegment buf = producer.buffer();
 *     buf.set(ValueLayout.JAVA_LONG_UNALIGNED, at, price);
 *     ...
 *     producer.commit(at);
 * }
 * }</pre>
 */
public interface MessageProducer {
    /** Returned by {@link #tryClaim} when the ring has no room now (back-pressure). */
    long INSUFFICIENT_CAPACITY = -1;

    /**
     * Claims room for a message of {@code length} bytes.
     *
     * @return the offset in {@link #buffer()} where the payload goes, or
     *         {@link #INSUFFICIENT_CAPACITY}; must be followed by exactly one {@link #commit} or
     *         {@link #abort} with that offset before the next claim
     * @throws IllegalArgumentException if {@code type <= 0} or {@code length} is negative or above
     *                                  {@link #maxMessageLength()}
     */
    long tryClaim(int type, int length);

    /** Publishes the claimed message to consumers. */
    void commit(long offset);

    /** Gives the claimed space back; consumers skip it. */
    void abort(long offset);

    /** Copies {@code length} bytes of {@code source} from {@code sourceOffset} into a new message. */
    boolean offer(int type, MemorySegment source, long sourceOffset, int length);

    /** The writable segment that claim offsets index. */
    MemorySegment buffer();

    /** The longest message this ring accepts. */
    int maxMessageLength();
}
