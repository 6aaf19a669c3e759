package io.sluice.perf.latency;

import java.util.List;

/**
 * How much a mode measures. Quick: every row in a few minutes, 3 rounds, to prove the harness
 * and spot gross regressions. Full: 7 rounds and long runs, for publication.
 *
 * @param rounds          each system is run this many times per scenario, interleaved (A B C, A B C, ...)
 * @param pingSizes       message sizes of the ping-pong runs
 * @param rateSizes       message sizes of the fixed-rate runs
 * @param rates           messages per second of the fixed-rate runs
 * @param throughputSizes message sizes of the throughput runs
 * @param pingSlices      measured slices of a ping-pong run
 * @param pingSliceSize   round trips per slice
 * @param rateSlices      measured slices of a fixed-rate run
 * @param rateSliceMillis duration of one fixed-rate slice
 * @param throughputSlices measured slices of a throughput run
 * @param throughputSliceBytes bytes per throughput slice (messages = bytes / size)
 * @param warmupBatches   batches (a tenth of a slice, at most 10,000 messages) run before measuring,
 *                        100, and more if that is under {@link #MIN_WARMUP_MESSAGES} messages: C2 must
 *                        have compiled the hot path before the first slice. With 10, a 32-byte
 *                        ping-pong warm-up lasted under 20 ms; the compiler thread shares the pinned
 *                        CPU with the spinning one, and runs were measured partly on tier-3 code
 *                        (slices of one run moved between p50 levels 90 ns apart).
 * @param settleMillis    raw ping-pong before the first bracket of each run, unrecorded
 * @param bracketWarmup   raw round trips thrown away before each bracket
 * @param bracketCount    raw round trips measured in each bracket
 * @param runTimeoutSeconds a run still going after this is killed and reported as failed
 */
public record Plan(String mode, int rounds, List<Integer> pingSizes, List<Integer> rateSizes, List<Long> rates,
                   List<Integer> throughputSizes, int pingSlices, int pingSliceSize, int rateSlices, int rateSliceMillis,
                   int throughputSlices, long throughputSliceBytes, int warmupBatches, int settleMillis, int bracketWarmup, int bracketCount,
                   int runTimeoutSeconds) {

    /**
     * Fewest messages a warm-up sends, whatever the batch: the slices of large messages are few
     * messages, and 100 batches of 200 4-KiB messages did not take the send loop past C1 (C2
     * compiles a loop after some 40,000 iterations), so throughput at 4 KiB was measured on
     * profiling code in some runs and not in others (0.7 to 7.6 M msg/s).
     */
    static final int MIN_WARMUP_MESSAGES = 200_000;
    /**
     * Shortest warm-up of a throughput run, on top of its batches: the sender goes on until both
     * are done and tells the receiver how many batches that was (Control.endWarmupAfter). A
     * count alone lasted 50 ms at 32 bytes and 0.3 s at 4 KiB; the compiler threads share the
     * pinned CPUs, and C2 was still compiling the send path while the first slices ran (slices of
     * one run at 0.6, 1.7, 2.6 M msg/s).
     */
    static final long MIN_THROUGHPUT_WARMUP_NANOS = 1_000_000_000L;
    /** Fewest messages in a throughput slice (at 4 KiB, 8 MiB was 2,000 messages: a few ms). */
    static final int MIN_THROUGHPUT_SLICE_MESSAGES = 50_000;

    public static Plan quick() {
        return new Plan("quick", 3, List.of(32, 256), List.of(32), List.of(100_000L, 1_000_000L), List.of(32, 256, 4096),
                4, 50_000, 4, 100, 4, 8L << 20, 100, 300, 20_000, 50_000, 180);
    }

    public static Plan full() {
        return new Plan("full", 7, List.of(32, 256), List.of(32, 256), List.of(100_000L, 1_000_000L), List.of(32, 256, 4096),
                20, 100_000, 10, 500, 10, 64L << 20, 100, 1000, 50_000, 200_000, 600);
    }

    public static Plan of(String mode) {
        return switch (mode) {
            case "quick" -> quick();
            case "full" -> full();
            default -> throw new IllegalArgumentException("mode is quick or full, not '" + mode + "'");
        };
    }

    public Plan withRounds(int n) {
        return new Plan(mode, n, pingSizes, rateSizes, rates, throughputSizes, pingSlices, pingSliceSize, rateSlices,
                rateSliceMillis, throughputSlices, throughputSliceBytes, warmupBatches, settleMillis, bracketWarmup, bracketCount,
                runTimeoutSeconds);
    }

    public Plan withPingSizes(List<Integer> sizes) {
        return new Plan(mode, rounds, List.copyOf(sizes), rateSizes, rates, throughputSizes, pingSlices, pingSliceSize, rateSlices,
                rateSliceMillis, throughputSlices, throughputSliceBytes, warmupBatches, settleMillis, bracketWarmup, bracketCount,
                runTimeoutSeconds);
    }

    public Plan withThroughputSizes(List<Integer> sizes) {
        return new Plan(mode, rounds, pingSizes, rateSizes, rates, List.copyOf(sizes), pingSlices, pingSliceSize, rateSlices,
                rateSliceMillis, throughputSlices, throughputSliceBytes, warmupBatches, settleMillis, bracketWarmup, bracketCount,
                runTimeoutSeconds);
    }

    /** Batch size for a slice of {@code sliceSize} messages: a tenth, at most 10,000, dividing it. */
    static int batchFor(int sliceSize) {
        int batch = Math.max(1, Math.min(10_000, sliceSize / 10));
        while (sliceSize % batch != 0) {
            batch--;
        }
        return batch;
    }
}
