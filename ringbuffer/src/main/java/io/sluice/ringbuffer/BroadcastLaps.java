package io.sluice.ringbuffer;

/**
 * What a broadcast consumer lost to being lapped (overwrite rings, or a backpressure joiner the
 * producer lapped before it adopted it): how many laps, messages and ring bytes, and who is told.
 * The consumer detects a lap (its record overwritten: the Tail Intent more than a capacity past
 * it) and, at the first intact record after resuming at the Head, reports the loss here: the
 * difference of the record sequences is exact. Consumer thread only.
 */
final class BroadcastLaps {
    private long count;
    private long lostMessages;
    private long lostBytes;
    private BroadcastLapListener listener;

    /** One lap: {@code messages} and {@code bytes} skipped. Tells the listener, if any. */
    void lapped(long messages, long bytes) {
        count++;
        lostMessages += messages;
        lostBytes += bytes;
        if (listener != null) {
            listener.onLapped(messages, bytes);
        }
    }

    void listener(BroadcastLapListener listener) {
        this.listener = listener;
    }

    long count() {
        return count;
    }

    long lostMessages() {
        return lostMessages;
    }

    long lostBytes() {
        return lostBytes;
    }
}
