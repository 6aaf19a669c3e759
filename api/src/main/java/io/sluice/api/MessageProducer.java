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
 *
 * <p>Every ring treats the same misuse the same way, checked in this order and before anything
 * is claimed, each message starting with the ring (e.g. {@code "spsc ring 'orders': "}):
 * <ul>
 *   <li>{@code type <= 0}, or {@code length} outside {@code 0..}{@link #maxMessageLength()}:
 *       {@link IllegalArgumentException};</li>
 *   <li>({@link #offer}) a source range outside the source: {@link IndexOutOfBoundsException};</li>
 *   <li>a claim while one is still open: {@link IllegalStateException};</li>
 *   <li>{@link #commit} or {@link #abort} with no claim open: {@link IllegalStateException}; with an
 *       offset that is not the open claim's: {@link IllegalArgumentException} (the claim stays
 *       open).</li>
 * </ul>
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
     * @throws IllegalStateException    if a claim is still open
     * @param type   the message type, positive (the ring uses 0 and negatives for itself)
     * @param length the payload length in bytes, 0 to {@link #maxMessageLength()}
     */
    long tryClaim(int type, int length);

    /**
     * Publishes the claimed message to consumers.
     *
     * @throws IllegalStateException    if no claim is open
     * @throws IllegalArgumentException if {@code offset} is not the open claim's
     * @param offset the offset {@link #tryClaim} returned
     */
    void commit(long offset);

    /**
     * Gives the claimed space back; consumers skip it.
     *
     * @throws IllegalStateException    if no claim is open
     * @throws IllegalArgumentException if {@code offset} is not the open claim's
     * @param offset the offset {@link #tryClaim} returned
     */
    void abort(long offset);

    /**
     * Copies {@code length} bytes of {@code source} from {@code sourceOffset} into a new message:
     * claim, copy, commit. If the copy throws, the claim is aborted and the exception propagates.
     *
     * @return false if the ring has no room now
     * @throws IllegalArgumentException  as {@link #tryClaim}
     * @throws IndexOutOfBoundsException if {@code [sourceOffset, sourceOffset + length)} is not
     *                                   inside {@code source}
     * @throws IllegalStateException     if a claim is still open
     * @param type         the message type, positive
     * @param source       where the payload is
     * @param sourceOffset where in {@code source} it starts
     * @param length       the payload length in bytes, 0 to {@link #maxMessageLength()}
     */
    boolean offer(int type, MemorySegment source, long sourceOffset, int length);

    /**
     * The writable segment that claim offsets index.
     *
     * @return the ring's data segment; write only inside an open claim's payload range
     */
    MemorySegment buffer();

    /**
     * The longest message this ring accepts.
     *
     * @return the bound in bytes, fixed when the ring was formatted
     */
    int maxMessageLength();
}
