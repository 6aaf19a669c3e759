package io.sluice.ringbuffer;

/**
 * Where a consumer joining a broadcast ring starts reading.
 */
public enum BroadcastStart {
    /**
     * At the newest committed message (it is delivered first), or at the tail if none was ever
     * committed.
     */
    NEWEST,
    /** At the oldest record still intact in the ring (the ring's Head). */
    OLDEST
}
