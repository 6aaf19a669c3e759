package io.sluice.bridge;

/**
 * What the out side does when Aeron does not take a message: the remote side is slow (flow
 * control), or gone (not connected).
 */
public enum OutPolicy {
    /**
     * Keep offering the message until Aeron takes it. The out side stops reading its channel
     * meanwhile, so a back-pressure source channel holds its producer: back-pressure end to end.
     * (An overwrite source channel never waits; it laps the out side, which counts what it lost.)
     */
    HOLD,
    /**
     * Offer the message until the drop timeout passes, then drop it, count it and go on: the
     * remote side never holds the local producer for longer than that. The dropped message's
     * bridge sequence is skipped, so the in side sees the gap.
     */
    DROP
}
