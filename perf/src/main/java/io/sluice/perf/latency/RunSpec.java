package io.sluice.perf.latency;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything one measured run needs, passed from the launcher to the peers as
 * {@code key=value} arguments.
 *
 * @param system        {@link LatencySystem#id()}
 * @param scenario      what is measured
 * @param messageSize   bytes per message, at least 8
 * @param rate          messages per second of a {@link Scenario#FIXED_RATE} run, else 0
 * @param warmupBatches batches of {@code batchSize} messages run and thrown away first, so the
 *                      loop methods get a normal compilation, not only on-stack replacement
 * @param batchSize     messages per call of a loop method
 * @param slices        measured slices; each is recorded on its own (a p50 per slice shows a
 *                      change of the machine's level inside a run) and added to the total
 * @param sliceSize     messages per slice (a multiple of {@code batchSize})
 * @param settleMillis  raw ping-pong, unrecorded, before the first bracket (the level settles while both spin)
 * @param bracketWarmup raw round trips thrown away before each bracket
 * @param bracketCount  raw round trips recorded in each bracket (before and after the run)
 * @param ringCapacity  data capacity of each ring, in bytes
 * @param workDir       where the system puts its files (under {@code /dev/shm})
 * @param output        where the peer writes its results: {@code <output>-A.properties}, {@code -B}
 */
public record RunSpec(String system, Scenario scenario, int messageSize, long rate,
                      int warmupBatches, int batchSize, int slices, int sliceSize,
                      int settleMillis, int bracketWarmup, int bracketCount, int ringCapacity, Path workDir, Path output) {

    public RunSpec {
        if (messageSize < 8) {
            throw new IllegalArgumentException("messageSize " + messageSize + " < 8: the first 8 bytes carry the value");
        }
        if (batchSize <= 0 || sliceSize <= 0 || sliceSize % batchSize != 0) {
            throw new IllegalArgumentException("sliceSize " + sliceSize + " must be a positive multiple of batchSize " + batchSize);
        }
        if (scenario == Scenario.FIXED_RATE && rate <= 0) {
            throw new IllegalArgumentException("a fixed-rate run needs rate > 0");
        }
    }

    /** Messages measured in all. */
    public long measuredMessages() {
        return (long) slices * sliceSize;
    }

    /** Nanoseconds between two sends of a fixed-rate run. */
    public long intervalNs() {
        return rate == 0 ? 0 : 1_000_000_000L / rate;
    }

    /** As {@code key=value} arguments. */
    public List<String> toArgs() {
        List<String> args = new ArrayList<>();
        asMap().forEach((k, v) -> args.add(k + "=" + v));
        return args;
    }

    private Map<String, String> asMap() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("system", system);
        m.put("scenario", scenario.key());
        m.put("messageSize", Integer.toString(messageSize));
        m.put("rate", Long.toString(rate));
        m.put("warmupBatches", Integer.toString(warmupBatches));
        m.put("batchSize", Integer.toString(batchSize));
        m.put("slices", Integer.toString(slices));
        m.put("sliceSize", Integer.toString(sliceSize));
        m.put("settleMillis", Integer.toString(settleMillis));
        m.put("bracketWarmup", Integer.toString(bracketWarmup));
        m.put("bracketCount", Integer.toString(bracketCount));
        m.put("ringCapacity", Integer.toString(ringCapacity));
        m.put("workDir", workDir.toString());
        m.put("output", output.toString());
        return m;
    }

    /** Parses what {@link #toArgs()} wrote; extra arguments are refused. */
    public static RunSpec parse(List<String> args) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String a : args) {
            int eq = a.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("expected key=value, got '" + a + "'");
            }
            m.put(a.substring(0, eq), a.substring(eq + 1));
        }
        RunSpec spec = new RunSpec(req(m, "system"), Scenario.ofKey(req(m, "scenario")),
                Integer.parseInt(req(m, "messageSize")), Long.parseLong(req(m, "rate")),
                Integer.parseInt(req(m, "warmupBatches")), Integer.parseInt(req(m, "batchSize")),
                Integer.parseInt(req(m, "slices")), Integer.parseInt(req(m, "sliceSize")),
                Integer.parseInt(req(m, "settleMillis")), Integer.parseInt(req(m, "bracketWarmup")), Integer.parseInt(req(m, "bracketCount")),
                Integer.parseInt(req(m, "ringCapacity")), Path.of(req(m, "workDir")), Path.of(req(m, "output")));
        if (!m.isEmpty()) {
            throw new IllegalArgumentException("unknown arguments " + m.keySet());
        }
        return spec;
    }

    private static String req(Map<String, String> m, String key) {
        String v = m.remove(key);
        if (v == null) {
            throw new IllegalArgumentException("missing argument " + key + "=...");
        }
        return v;
    }
}
