package io.sluice.perf.latency;

/** The two sides of a measured run. */
public enum Role {
    /** Side A, pinned to CPU 0: sends the pings, the fixed-rate stream, the throughput stream. */
    INITIATOR,
    /** Side B, pinned to CPU 1: echoes pings, receives and records the one-way streams. */
    RESPONDER;

    /** The CPU this side is pinned to (where the machine has two). */
    public int cpu() {
        return ordinal();
    }

    /** "A" or "B". */
    public String letter() {
        return this == INITIATOR ? "A" : "B";
    }
}
