package io.sluice.perf.jmh;

/** Sizes shared by every throughput benchmark, so that all rows compare like with like. */
final class Rings {
    private Rings() {
    }

    /** Data capacity of every byte ring, in bytes (Agrona's and Sluice's alike). */
    static final int DATA_CAPACITY = 64 * 1024;
    /** Most messages one poll call may hand over. */
    static final int POLL_LIMIT = 64;

    /** Slots of a fixed-slot ring of the same data capacity (power of two). */
    static int mpmcSlots(int messageLength) {
        int slot = Integer.highestOneBit(messageLength + 16 - 1) << 1; // payload + header, rounded up
        return DATA_CAPACITY / slot;
    }
}
