package io.sluice.api;

/**
 * What a broadcast producer does when its slowest consumer is a whole ring behind: the one choice
 * a broadcast channel is created with.
 */
public enum BroadcastPolicy {
    /** The producer waits: a claim finds no room until the slowest registered consumer moves on. */
    BACK_PRESSURE(RingKind.BROADCAST_BACKPRESSURE),
    /** The producer never waits: it overwrites, and a consumer it laps is told how much it lost. */
    OVERWRITE(RingKind.BROADCAST_OVERWRITE);

    private final RingKind kind;

    BroadcastPolicy(RingKind kind) {
        this.kind = kind;
    }

    /**
     * The ring kind a region of this policy carries in its header.
     *
     * @return the kind, one of the two broadcast kinds
     */
    public RingKind ringKind() {
        return kind;
    }

    /**
     * The policy of a broadcast ring kind.
     *
     * @param kind a broadcast ring kind
     * @return its policy
     * @throws IllegalArgumentException if {@code kind} is not a broadcast kind
     */
    public static BroadcastPolicy of(RingKind kind) {
        return switch (kind) {
            case BROADCAST_BACKPRESSURE -> BACK_PRESSURE;
            case BROADCAST_OVERWRITE -> OVERWRITE;
            default -> throw new IllegalArgumentException(kind + " is not a broadcast ring kind");
        };
    }
}
