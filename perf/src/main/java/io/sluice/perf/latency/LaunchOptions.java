package io.sluice.perf.latency;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The launcher's command line, checked, and what follows from it: the plan, the folders, the
 * systems and scenarios to run, the scenario configurations in order, and the spec of each run.
 *
 * @param options    the options as given, without their {@code --} (the summary repeats some)
 * @param plan       the mode's plan, with {@code --rounds} applied
 * @param latencyDir {@code perf/target/latency}: the dependency sets the build wrote
 * @param classes    {@code perf/target/classes}
 * @param probe      the raw C probe, or null
 * @param nativePeer the native peer program, or null
 * @param memcpyProbe the C copy probe (the {@code memcpy} row of the throughput tables), or null
 * @param runId      {@code --run-id}, or the UTC time and mode
 * @param resultsDir where this run's results go: {@code <results>/<run-id>}
 * @param shmDir     this run's work folders, in /dev/shm (else the temporary folder)
 * @param systems    the rows to run, {@code raw-c} and {@code memcpy} among them by default
 * @param scenarios  the scenarios to run
 */
record LaunchOptions(Map<String, String> options, Plan plan, Path latencyDir, Path classes, Path probe, Path nativePeer,
                     Path memcpyProbe, String runId, Path resultsDir, Path shmDir, List<String> systems, List<Scenario> scenarios) {

    /** Data bytes of every ring (default 64 KiB): smaller rings wrap more often, which shows a ring's wrap cost in its tail. */
    static final String RING_CAPACITY_PROPERTY = "sluice.perf.ringCapacity";
    /** Rings hold at least this many messages of the run's size, whatever the property says (64 KiB messages get 1 MiB rings). */
    static final int MIN_MESSAGES_PER_RING = 16;
    /** The row of the C copy probe in throughput tables: one core copying the same messages into a ring-sized buffer. */
    static final String MEMCPY = "memcpy";

    /** Parses {@code --option value} pairs. */
    static LaunchOptions parse(String[] args) {
        Map<String, String> options = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("expected --option value, got '" + args[i] + "'");
            }
            options.put(args[i].substring(2), args[++i]);
        }
        return of(options);
    }

    private static List<Integer> sizes(String list) {
        return Arrays.stream(list.split(",")).map(String::trim).map(Integer::valueOf).toList();
    }

    static LaunchOptions of(Map<String, String> options) {
        Plan plan = Plan.of(options.getOrDefault("mode", "quick"));
        if (options.containsKey("rounds")) {
            plan = plan.withRounds(Integer.parseInt(options.get("rounds")));
        }
        if (options.containsKey("ping-sizes")) {
            plan = plan.withPingSizes(sizes(options.get("ping-sizes")));
        }
        if (options.containsKey("throughput-sizes")) {
            plan = plan.withThroughputSizes(sizes(options.get("throughput-sizes")));
        }
        Path latencyDir = Path.of(required(options, "latency-dir")).toAbsolutePath();
        Path classes = Path.of(required(options, "classes")).toAbsolutePath();
        Path probe = options.containsKey("probe") ? Path.of(options.get("probe")).toAbsolutePath() : null;
        Path nativePeer = options.containsKey("native-peer") ? Path.of(options.get("native-peer")).toAbsolutePath() : null;
        Path memcpyProbe = options.containsKey("memcpy-probe") ? Path.of(options.get("memcpy-probe")).toAbsolutePath() : null;
        String runId = options.getOrDefault("run-id",
                LocalDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")) + "-" + plan.mode());
        Path resultsDir = Path.of(options.getOrDefault("results", "perf/results")).toAbsolutePath().resolve(runId);
        Path shmDir = Path.of(Files.isDirectory(Path.of("/dev/shm")) ? "/dev/shm" : System.getProperty("java.io.tmpdir"))
                .resolve("sluice-perf-" + runId);
        List<String> all = new ArrayList<>();
        all.add("raw-c");
        all.add(MEMCPY);
        Systems.ALL.forEach(s -> all.add(s.id()));
        List<String> systems = options.containsKey("systems") ? Arrays.asList(options.get("systems").split(",")) : all;
        for (String s : systems) {
            if (!all.contains(s)) {
                throw new IllegalArgumentException("unknown system '" + s + "'; known: " + all);
            }
        }
        List<Scenario> scenarios = Arrays.stream(options.getOrDefault("scenarios", "pingpong,fixedrate,throughput").split(","))
                .map(Scenario::ofKey).toList();
        return new LaunchOptions(options, plan, latencyDir, classes, probe, nativePeer, memcpyProbe, runId, resultsDir, shmDir, systems,
                scenarios);
    }

    private static String required(Map<String, String> options, String key) {
        String v = options.get(key);
        if (v == null) {
            throw new IllegalArgumentException("--" + key + " is required");
        }
        return v;
    }

    /** Every scenario configuration to run, in order: each scenario by the plan's sizes (and rates). */
    List<ScenarioConfig> configs() {
        List<ScenarioConfig> list = new ArrayList<>();
        for (Scenario s : scenarios) {
            switch (s) {
                case PING_PONG -> plan.pingSizes().forEach(size -> list.add(new ScenarioConfig(s, size, 0)));
                case FIXED_RATE -> plan.rates().forEach(rate -> plan.rateSizes().forEach(size -> list.add(new ScenarioConfig(s, size, rate))));
                case THROUGHPUT -> plan.throughputSizes().forEach(size -> list.add(new ScenarioConfig(s, size, 0)));
            }
        }
        return list;
    }

    boolean hasProbe() {
        return probe != null && Files.isExecutable(probe);
    }

    boolean hasMemcpyProbe() {
        return memcpyProbe != null && Files.isExecutable(memcpyProbe);
    }

    boolean hasNativePeer() {
        return nativePeer != null && Files.isExecutable(nativePeer);
    }

    /** The rows that run in {@code c}: those selected that can, raw-c and native-side rows only if their program is there. */
    List<String> systemsFor(ScenarioConfig c) {
        List<String> out = new ArrayList<>();
        for (String s : systems) {
            if (s.equals("raw-c")) {
                if (c.scenario() == Scenario.PING_PONG && hasProbe()) {
                    out.add(s);
                }
            } else if (s.equals(MEMCPY)) {
                if (c.scenario() == Scenario.THROUGHPUT && hasMemcpyProbe()) {
                    out.add(s);
                }
            } else {
                LatencySystem system = Systems.byId(s);
                if (system.scenarios().contains(c.scenario()) && (system.nativeSide().isEmpty() || hasNativePeer())) {
                    out.add(s);
                }
            }
        }
        return out;
    }

    /** Spec of one run of {@code c}. */
    RunSpec spec(String system, ScenarioConfig c, Path workDir, Path output) {
        int slices;
        int sliceSize;
        switch (c.scenario()) {
            case PING_PONG -> {
                slices = plan.pingSlices();
                sliceSize = plan.pingSliceSize();
            }
            case FIXED_RATE -> {
                slices = plan.rateSlices();
                sliceSize = (int) (c.rate() * plan.rateSliceMillis() / 1000);
            }
            default -> {
                slices = plan.throughputSlices();
                sliceSize = (int) Math.max(Plan.MIN_THROUGHPUT_SLICE_MESSAGES, plan.throughputSliceBytes() / c.messageSize());
                sliceSize -= sliceSize % 1000;
            }
        }
        int batch = Plan.batchFor(sliceSize);
        int warmupBatches = Math.max(plan.warmupBatches(), (Plan.MIN_WARMUP_MESSAGES + batch - 1) / batch);
        return new RunSpec(system, c.scenario(), c.messageSize(), c.rate(), warmupBatches, batch, slices, sliceSize,
                plan.settleMillis(), plan.bracketWarmup(), plan.bracketCount(), ringCapacity(c.messageSize()), workDir, output);
    }

    /**
     * Data bytes of each ring for messages of {@code messageSize}: the property (default 64 KiB),
     * raised to the power of two that holds {@link #MIN_MESSAGES_PER_RING} messages.
     */
    static int ringCapacity(int messageSize) {
        int configured = Integer.getInteger(RING_CAPACITY_PROPERTY, 64 * 1024);
        return Math.max(configured, Integer.highestOneBit(Math.max(1, messageSize * MIN_MESSAGES_PER_RING - 1)) << 1);
    }
}
