package io.sluice.perf.latency;

/**
 * One side's view of the two one-way paths between A and B, as a system under test offers
 * them: the {@link Role#INITIATOR} sends on A-to-B and polls B-to-A, the
 * {@link Role#RESPONDER} the other way round. The harness's loops call only these methods, so
 * every system pays the same harness cost; each JVM loads one implementation, so the calls are
 * monomorphic and inline.
 *
 * <p>A message is {@code messageSize} bytes, its first eight bytes a long (a sequence number or
 * a {@code System.nanoTime()} stamp), the rest payload the sender writes every time. The
 * receiver reads the long, in place where the system allows, and nothing else.
 */
public interface Endpoint extends AutoCloseable {
    /** What {@link #poll()} returns when no message is there. */
    long EMPTY = Long.MIN_VALUE;

    /**
     * Called on both sides once both have opened their endpoints, before anything is measured:
     * wait until the paths are connected, and pre-touch every page the hot path will use.
     */
    default void awaitReady() throws Exception {
    }

    /**
     * Called by a fixed-rate sender while it waits for its next send time: a system that needs
     * the sending thread for housekeeping (Aeron's driver in INVOKER mode) does it here.
     */
    default void idle() {
    }

    /** Sends one message carrying {@code value}; busy-spins while the path is full. */
    void send(long value);

    /** The value of the next message, consumed, or {@link #EMPTY} at once when there is none. */
    long poll();

    /** Unmaps and releases what {@code open} took; unchecked failures only. */
    @Override
    void close();
}
