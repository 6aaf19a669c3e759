package io.sluice.perf.latency;

import java.lang.management.ManagementFactory;
import java.util.Locale;
import java.util.Properties;

/**
 * Heap bytes the measuring thread allocates inside the measured loops only (the harness's own
 * per-slice work, between the loops, is not counted): a system whose hot path allocates shows
 * here, in the peer's log and in the summary's per-run table.
 */
final class AllocationMeter {
    /** Property of a peer's results: bytes per message in its measured loops. */
    static final String PROPERTY = "alloc.bytesPerMessage";

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /**
     * Reads the thread bean once, at a peer's start rather than first in front of a measured
     * loop. Its first use sets up the platform's management classes (reflection, streams,
     * lambdas), and the compiler threads then compile what that ran while the measured loop runs
     * beside them on the same pinned CPU: the first slices of a throughput run lost milliseconds
     * to them (docs/benchmarks.md).
     */
    static void prime() {
        THREADS.getCurrentThreadAllocatedBytes();
    }

    private long inLoops;
    private long startedAt;

    /** Before a measured loop. */
    void start() {
        startedAt = THREADS.getCurrentThreadAllocatedBytes();
    }

    /** After it. */
    void stop() {
        inLoops += THREADS.getCurrentThreadAllocatedBytes() - startedAt;
    }

    /** Logs and records the bytes per message of {@code messages} measured messages. */
    void report(Role role, long messages, Properties out) {
        double perMessage = (double) inLoops / messages;
        System.out.printf(Locale.ROOT, "%s: %d bytes allocated in the measured loops, %.2f per message%n",
                role, inLoops, perMessage);
        out.setProperty(PROPERTY, String.format(Locale.ROOT, "%.4f", perMessage));
    }
}
