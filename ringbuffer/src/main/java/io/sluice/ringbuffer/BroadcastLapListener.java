package io.sluice.ringbuffer;

/**
 * Told when a broadcast consumer finds it was lapped (records it had not read yet were
 * overwritten) and has resumed at the oldest record still intact. Called on the consumer's
 * thread, inside {@link BroadcastConsumer#poll}, before the first message after the gap is handed
 * to the message handler.
 */
@FunctionalInterface
public interface BroadcastLapListener {
    /**
     * One lap: the consumer lost what was between where it was and where it resumed.
     *
     * @param lostMessages messages committed in the gap that this consumer will never see (may be 0
     *                     when only padding was overwritten)
     * @param lostBytes    ring bytes skipped: the resume position minus the position at which the
     *                     lap was detected
     */
    void onLapped(long lostMessages, long lostBytes);
}
