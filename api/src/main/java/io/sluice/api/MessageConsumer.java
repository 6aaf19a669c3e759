package io.sluice.api;

/**
 * Reads messages from a ring, in place.
 */
public interface MessageConsumer {
    /**
     * Hands up to {@code limit} available messages to {@code handler}, in order.
     *
     * @return how many messages were handled (0 when the ring is empty)
     * @throws IllegalArgumentException if {@code limit < 1}
     * @throws CorruptRingException     if a header read from shared memory is impossible
     */
    int poll(MessageHandler handler, int limit);
}
