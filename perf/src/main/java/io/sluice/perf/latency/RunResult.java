package io.sluice.perf.latency;

import org.HdrHistogram.Histogram;

import java.util.List;

/**
 * What one run of one system produced.
 *
 * @param system        system id ({@code raw-c} for the C probe)
 * @param round         1-based round
 * @param measured      the latency histogram (ns); null for throughput runs and failures
 * @param bracketPre    raw ping-pong by the same two processes just before; null for raw-c
 * @param bracketPost   the same just after
 * @param sliceValues   p50 (ns) per slice, or messages/s per slice for throughput
 * @param messagesPerSecond throughput as the receiver saw it; 0 for latency runs
 * @param senderLate    fixed rate: sends more than one interval behind schedule
 * @param senderRate    fixed rate: the rate the sender achieved, msg/s
 * @param error         why the run failed, or null
 */
public record RunResult(String system, int round, Histogram measured, Histogram bracketPre, Histogram bracketPost,
                        List<Long> sliceValues, double messagesPerSecond, long senderLate, double senderRate,
                        String error, double allocationPerMessage) {

    public RunResult(String system, int round, Histogram measured, Histogram bracketPre, Histogram bracketPost,
                     List<Long> sliceValues, double messagesPerSecond, long senderLate, double senderRate, String error) {
        this(system, round, measured, bracketPre, bracketPost, sliceValues, messagesPerSecond, senderLate, senderRate, error,
                Double.NaN);
    }

    /** This result with the heap bytes per message its peers allocated in their measured loops (the larger side's). */
    public RunResult withAllocation(double bytesPerMessage) {
        return new RunResult(system, round, measured, bracketPre, bracketPost, sliceValues, messagesPerSecond, senderLate,
                senderRate, error, bytesPerMessage);
    }

    public boolean failed() {
        return error != null;
    }

    /** Pre and post brackets added together, or null when there are none. */
    public Histogram bracket() {
        if (bracketPre == null || bracketPost == null) {
            return null;
        }
        Histogram both = bracketPre.copy();
        both.add(bracketPost);
        return both;
    }

    public static RunResult failure(String system, int round, String error) {
        return new RunResult(system, round, null, null, null, List.of(), 0, 0, 0, error);
    }
}
