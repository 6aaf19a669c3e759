package io.sluice.ringbuffer;

/**
 * Told when a producer refuses a consumer's published position ({@link ConsumerFault}). Called on
 * the producer's thread, inside the producer call that read the position (a claim, or an SPSC
 * commit's early read; a slow path, never the common case), once per faulty consumer. Keep it
 * short and do not call the producer from it; hand the fault to another thread (the host's) to
 * act on. An exception it throws is caught and ignored: the producer goes on.
 */
@FunctionalInterface
public interface ConsumerFaultListener {
    /**
     * One consumer's position was refused; from now on that consumer gates the producer no more.
     *
     * @param fault which consumer, the position it published, and why it was refused
     */
    void onConsumerFault(ConsumerFault fault);

    /**
     * Tells {@code listener} (if any) of {@code fault}; whatever it throws stays here: the producer goes on.
     *
     * @param listener the listener, or null
     * @param fault    what was found
     */
    static void tell(ConsumerFaultListener listener, ConsumerFault fault) {
        if (listener != null) {
            try {
                listener.onConsumerFault(fault);
            } catch (Exception ignored) {
                // The listener's trouble must not become the producer's.
            }
        }
    }
}
