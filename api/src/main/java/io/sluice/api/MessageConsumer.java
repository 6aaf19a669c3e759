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
     * @param handler called once per message, on this thread; the payload is valid only during the call
     * @param limit   the most messages to hand over in this call, at least 1
     */
    int poll(MessageHandler handler, int limit);
}
