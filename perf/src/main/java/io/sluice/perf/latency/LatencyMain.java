package io.sluice.perf.latency;

import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The launcher of the cross-process latency harness (run by {@code perf/run-latency.sh}): for
 * each scenario and size, for each round, runs every system once (A B C, A B C, ...), each run
 * in fresh JVMs pinned to CPUs 0 and 1 (or, for a row with a native side, one JVM and the native
 * peer program), then writes the summary tables, the {@code .hgrm} files
 * and the charts under {@code perf/results/<run-id>/}.
 *
 * <pre>
 * LatencyMain --latency-dir perf/target/latency --classes perf/target/classes
 *             [--mode quick|full] [--rounds N] [--systems raw-c,agrona,...]
 *             [--scenarios pingpong,fixedrate,throughput] [--probe perf/target/native/rawpingpong]
 *             [--native-peer perf/target/native/sluice_latency_peer] [--results perf/results] [--run-id ID] [--compare-to SYSTEM]
 * </pre>
 */
public final class LatencyMain {
    private static final List<String> PEER_JVM_FLAGS = List.of(
            "-XX:+UseSerialGC", "-Xms512m", "-Xmx512m", "-XX:+AlwaysPreTouch", "--enable-native-access=ALL-UNNAMED");

    /** Extra flags for every peer JVM, separated by spaces or commas (diagnostics: {@code -XX:+LogCompilation}, ...). */
    static final String PEER_JVM_ARGS_PROPERTY = "sluice.perf.peerJvmArgs";

    /** Data bytes of every ring (default 64 KiB): smaller rings wrap more often, which shows a ring's wrap cost in its tail. */
    static final String RING_CAPACITY_PROPERTY = "sluice.perf.ringCapacity";

    private final Map<String, String> options;
    private final Plan plan;
    private final Path latencyDir;
    private final Path classes;
    private final Path probe;
    private final Path nativePeer;
    private final Path resultsDir;
    private final Path shmDir;
    private final String runId;
    private final boolean pinned;
    private final List<String> systems;
    private final List<Scenario> scenarios;
    private final Map<String, Map<String, List<RunResult>>> results = new LinkedHashMap<>();
    private final Map<String, ScenarioConfig> configs = new LinkedHashMap<>();
    private int runNumber;
    private int totalRuns;

    private LatencyMain(Map<String, String> options) {
        this.options = options;
        Plan p = Plan.of(options.getOrDefault("mode", "quick"));
        if (options.containsKey("rounds")) {
            p = p.withRounds(Integer.parseInt(options.get("rounds")));
        }
        this.plan = p;
        this.latencyDir = Path.of(required(options, "latency-dir")).toAbsolutePath();
        this.classes = Path.of(required(options, "classes")).toAbsolutePath();
        this.probe = options.containsKey("probe") ? Path.of(options.get("probe")).toAbsolutePath() : null;
        this.nativePeer = options.containsKey("native-peer") ? Path.of(options.get("native-peer")).toAbsolutePath() : null;
        this.runId = options.getOrDefault("run-id",
                LocalDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")) + "-" + plan.mode());
        this.resultsDir = Path.of(options.getOrDefault("results", "perf/results")).toAbsolutePath().resolve(runId);
        this.shmDir = Path.of(Files.isDirectory(Path.of("/dev/shm")) ? "/dev/shm" : System.getProperty("java.io.tmpdir"))
                .resolve("sluice-perf-" + runId);
        this.pinned = Runtime.getRuntime().availableProcessors() >= 2 && taskset() != null;
        List<String> all = new ArrayList<>();
        all.add("raw-c");
        Systems.ALL.forEach(s -> all.add(s.id()));
        this.systems = options.containsKey("systems") ? Arrays.asList(options.get("systems").split(",")) : all;
        for (String s : systems) {
            if (!all.contains(s)) {
                throw new IllegalArgumentException("unknown system '" + s + "'; known: " + all);
            }
        }
        this.scenarios = Arrays.stream(options.getOrDefault("scenarios", "pingpong,fixedrate,throughput").split(","))
                .map(Scenario::ofKey).toList();
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> options = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("expected --option value, got '" + args[i] + "'");
            }
            options.put(args[i].substring(2), args[++i]);
        }
        new LatencyMain(options).run();
    }

    private static String required(Map<String, String> options, String key) {
        String v = options.get(key);
        if (v == null) {
            throw new IllegalArgumentException("--" + key + " is required");
        }
        return v;
    }

    private void run() throws Exception {
        Files.createDirectories(resultsDir.resolve("logs"));
        Files.createDirectories(resultsDir.resolve("hgrm"));
        List<ScenarioConfig> list = new ArrayList<>();
        for (Scenario s : scenarios) {
            switch (s) {
                case PING_PONG -> plan.pingSizes().forEach(size -> list.add(new ScenarioConfig(s, size, 0)));
                case FIXED_RATE -> plan.rates().forEach(rate -> plan.rateSizes().forEach(size -> list.add(new ScenarioConfig(s, size, rate))));
                case THROUGHPUT -> plan.throughputSizes().forEach(size -> list.add(new ScenarioConfig(s, size, 0)));
            }
        }
        for (ScenarioConfig c : list) {
            totalRuns += plan.rounds() * systemsFor(c).size();
        }
        System.out.printf("Sluice latency harness: run %s, %s mode, %d rounds, %d runs; %s%n", runId, plan.mode(),
                plan.rounds(), totalRuns, pinned ? "A pinned to CPU 0, B to CPU 1 (taskset)" : "NOT PINNED (needs taskset and 2 CPUs)");
        System.out.println("results: " + resultsDir);
        List<String> noPeer = systems.stream().filter(s -> !s.equals("raw-c") && Systems.byId(s).nativeSide().isPresent()
                && !hasNativePeer()).toList();
        if (!noPeer.isEmpty()) {
            System.out.println("no native peer (--native-peer, built by run-latency.sh with gcc): skipping " + noPeer);
        }
        long start = System.nanoTime();
        try {
            for (ScenarioConfig c : list) {
                configs.put(c.key(), c);
                System.out.printf("%n== %s ==%n", c.title());
                for (int round = 1; round <= plan.rounds(); round++) {
                    for (String system : systemsFor(c)) {
                        RunResult r = system.equals("raw-c") ? runProbe(c, round) : runJvms(Systems.byId(system), c, round);
                        results.computeIfAbsent(c.key(), k -> new LinkedHashMap<>()).computeIfAbsent(system, k -> new ArrayList<>()).add(r);
                        saveHistograms(c, r);
                        System.out.println(describe(c, r));
                    }
                }
            }
        } finally {
            deleteTree(shmDir);
        }
        String summary = new SummaryWriter(this).write();
        System.out.println();
        System.out.println(summary);
        System.out.printf("done in %d s; summary, .hgrm files, charts and logs in %s%n",
                TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start), resultsDir);
    }

    private List<String> systemsFor(ScenarioConfig c) {
        List<String> out = new ArrayList<>();
        for (String s : systems) {
            if (s.equals("raw-c")) {
                if (c.scenario() == Scenario.PING_PONG && probe != null && Files.isExecutable(probe)) {
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

    private boolean hasNativePeer() {
        return nativePeer != null && Files.isExecutable(nativePeer);
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
                plan.settleMillis(), plan.bracketWarmup(), plan.bracketCount(), Integer.getInteger(RING_CAPACITY_PROPERTY, 64 * 1024), workDir, output);
    }

    private RunResult runJvms(LatencySystem system, ScenarioConfig c, int round) throws Exception {
        runNumber++;
        String name = system.id() + "-r" + round;
        Path workDir = shmDir.resolve(String.format(Locale.ROOT, "%04d", runNumber));
        Files.createDirectories(workDir);
        Path control = workDir.resolve("control");
        Files.write(control, new byte[(int) Control.SIZE]);
        Path logDir = resultsDir.resolve("logs").resolve(c.key());
        Files.createDirectories(logDir);
        Path output = logDir.resolve(name);
        RunSpec spec = spec(system.id(), c, workDir, output);
        String classPath = classPath(system);
        List<Process> processes = new ArrayList<>();
        try {
            if (system.kind() == LatencySystem.Kind.IN_PROCESS) {
                processes.add(start(command(system, "both", "0,1", control, classPath, spec), logDir.resolve(name + ".log")));
            } else {
                for (Role role : Role.values()) {
                    List<String> cmd = system.nativeSide().equals(Optional.of(role))
                            ? nativeCommand(system, role, control, spec)
                            : command(system, role.letter(), Integer.toString(role.cpu()), control, classPath, spec);
                    processes.add(start(cmd, logDir.resolve(name + "-" + role.letter() + ".log")));
                }
            }
            String failure = await(processes, plan.runTimeoutSeconds());
            Properties a = load(Path.of(output + "-A.properties"));
            Properties b = load(Path.of(output + "-B.properties"));
            String error = failure != null ? failure : a.getProperty("error", b.getProperty("error"));
            if (error != null) {
                return RunResult.failure(system.id(), round, error + " (see " + resultsDir.relativize(logDir) + "/" + name + "*.log)");
            }
            if (b.getProperty("histogram.uncorrected") != null) {
                Path dir = resultsDir.resolve("hgrm").resolve(c.key());
                Files.createDirectories(dir);
                Files.writeString(dir.resolve(name + "-uncorrected.hgrm"),
                        Histograms.hgrm(Histograms.decode(b.getProperty("histogram.uncorrected"))));
            }
            return parse(system.id(), round, c, a, b).withAllocation(allocation(a, b));
        } finally {
            for (Process p : processes) {
                p.destroyForcibly();
            }
            deleteTree(workDir);
        }
    }

    /** The larger of the two sides' allocation per message; NaN if neither measured it (a native peer does not). */
    private static double allocation(Properties a, Properties b) {
        double max = Double.NaN;
        for (Properties p : List.of(a, b)) {
            String v = p.getProperty(AllocationMeter.PROPERTY);
            if (v != null) {
                double d = Double.parseDouble(v);
                max = Double.isNaN(max) ? d : Math.max(max, d);
            }
        }
        return max;
    }

    private RunResult parse(String system, int round, ScenarioConfig c, Properties a, Properties b) throws IOException {
        Histogram pre = histogram(a, "histogram.bracketPre");
        Histogram post = histogram(a, "histogram.bracketPost");
        return switch (c.scenario()) {
            case PING_PONG -> new RunResult(system, round, histogram(a, "histogram.measured"), pre, post,
                    PeerMain.parseList(a.getProperty("slices.p50")), 0, 0, 0, null);
            case FIXED_RATE -> new RunResult(system, round, Histograms.decode(b.getProperty("histogram.measured")), pre, post,
                    PeerMain.parseList(b.getProperty("slices.p50")), 0, Long.parseLong(a.getProperty("sender.late")),
                    Long.parseLong(a.getProperty("sender.messages")) * 1e9 / Long.parseLong(a.getProperty("sender.elapsedNs")), null);
            case THROUGHPUT -> new RunResult(system, round, null, pre, post, PeerMain.parseList(b.getProperty("slices.rate")),
                    Long.parseLong(b.getProperty("throughput.messages")) * 1e9 / Long.parseLong(b.getProperty("throughput.elapsedNs")),
                    0, 0, null);
        };
    }

    private RunResult runProbe(ScenarioConfig c, int round) throws Exception {
        runNumber++;
        Path logDir = resultsDir.resolve("logs").resolve(c.key());
        Files.createDirectories(logDir);
        Path bin = logDir.resolve("raw-c-r" + round + ".bin");
        Path log = logDir.resolve("raw-c-r" + round + ".log");
        long count = (long) plan.pingSlices() * plan.pingSliceSize();
        List<String> cmd = List.of(probe.toString(), Integer.toString(plan.warmupBatches() * Plan.batchFor(plan.pingSliceSize())),
                Long.toString(count), Integer.toString(plan.pingSliceSize()), bin.toString(), "0", "1");
        Process p = start(cmd, log);
        String failure = await(List.of(p), plan.runTimeoutSeconds());
        if (failure != null) {
            return RunResult.failure("raw-c", round, failure);
        }
        Histogram h = readValues(bin);
        List<Long> slices = Files.readAllLines(log).stream().filter(l -> l.startsWith("slice_p50_ns"))
                .flatMap(l -> Arrays.stream(l.split(" ")).skip(1)).map(Long::parseLong).toList();
        return new RunResult("raw-c", round, h, null, null, slices, 0, 0, 0, null);
    }

    /**
     * A histogram a peer wrote under {@code key}: HdrHistogram-encoded (a JVM peer), or, from the
     * native peer, the name of a file of raw values under {@code key.bin}.
     */
    static Histogram histogram(Properties p, String key) throws IOException {
        String bin = p.getProperty(key + ".bin");
        return bin != null ? readValues(Path.of(bin)) : Histograms.decode(p.getProperty(key));
    }

    /** Records a file of little-endian int64 values (what the C programs write) and deletes it. */
    static Histogram readValues(Path bin) throws IOException {
        Histogram h = Histograms.newHistogram();
        ByteBuffer values = ByteBuffer.wrap(Files.readAllBytes(bin)).order(ByteOrder.LITTLE_ENDIAN);
        while (values.remaining() >= 8) {
            h.recordValue(Math.max(0, values.getLong()));
        }
        Files.delete(bin);
        return h;
    }

    /** The native peer as one side of {@code system}: pinned like the JVM it replaces. */
    private List<String> nativeCommand(LatencySystem system, Role role, Path control, RunSpec spec) {
        List<String> cmd = pinnedTo(Integer.toString(role.cpu()));
        cmd.add(nativePeer.toString());
        cmd.add(role.letter());
        cmd.add(control.toString());
        cmd.addAll(system.nativeArgs(spec));
        cmd.addAll(spec.toArgs());
        return cmd;
    }

    /** The start of a command line: {@code taskset -c cpus} when this machine pins, else nothing. */
    private List<String> pinnedTo(String cpus) {
        List<String> cmd = new ArrayList<>();
        if (pinned) {
            cmd.addAll(List.of(taskset(), "-c", cpus));
        }
        return cmd;
    }

    private List<String> command(LatencySystem system, String side, String cpus, Path control, String classPath, RunSpec spec) {
        List<String> cmd = pinnedTo(cpus);
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(PEER_JVM_FLAGS);
        cmd.addAll(system.jvmArgs());
        String extra = System.getProperty(PEER_JVM_ARGS_PROPERTY, "").strip();
        if (!extra.isEmpty()) {
            cmd.addAll(Arrays.asList(extra.split("[\\s,]+")));
        }
        System.getProperties().stringPropertyNames().stream()
                .filter(k -> k.startsWith("sluice.perf.") && !k.equals(Control.PATH_PROPERTY) && !k.equals(PEER_JVM_ARGS_PROPERTY)).sorted()
                .forEach(k -> cmd.add("-D" + k + "=" + System.getProperty(k)));
        cmd.add("-D" + Control.PATH_PROPERTY + "=" + control);
        cmd.add("-cp");
        cmd.add(classPath);
        cmd.add(PeerMain.class.getName());
        cmd.add(side);
        cmd.addAll(spec.toArgs());
        return cmd;
    }

    private static Process start(List<String> cmd, Path log) throws IOException {
        Files.writeString(log, "$ " + String.join(" ", cmd) + System.lineSeparator());
        return new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    }

    /** Waits for all; null if all exited 0, else what went wrong (the others are killed). */
    private static String await(List<Process> processes, int timeoutSeconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        while (true) {
            boolean allDone = true;
            for (Process p : processes) {
                if (p.isAlive()) {
                    allDone = false;
                } else if (p.exitValue() != 0) {
                    Thread.sleep(2000); // let the other side notice and write what it knows
                    return "a peer exited with status " + p.exitValue();
                }
            }
            if (allDone) {
                return null;
            }
            if (System.nanoTime() > deadline) {
                return "timed out after " + timeoutSeconds + " s";
            }
            Thread.sleep(20);
        }
    }

    private static Properties load(Path file) throws IOException {
        Properties p = new Properties();
        if (Files.exists(file)) {
            try (InputStream in = Files.newInputStream(file)) {
                p.load(in);
            }
            Files.delete(file);
        }
        return p;
    }

    String classPath(LatencySystem system) throws IOException {
        List<String> parts = new ArrayList<>();
        parts.add(classes.toString());
        parts.add(Files.readString(latencyDir.resolve("harness.classpath")).strip());
        for (String set : system.classpathSets()) {
            parts.addAll(jars(set));
        }
        return String.join(java.io.File.pathSeparator, parts);
    }

    /** The jars of a dependency set: a {@code <set>.classpath} file or a {@code <set>/} folder. */
    List<String> jars(String set) throws IOException {
        Path file = latencyDir.resolve(set + ".classpath");
        if (Files.exists(file)) {
            return Arrays.stream(Files.readString(file).strip().split(java.io.File.pathSeparator))
                    .filter(s -> !s.isEmpty()).toList();
        }
        Path dir = latencyDir.resolve(set);
        if (!Files.isDirectory(dir)) {
            throw new IllegalStateException("no dependency set '" + set + "' in " + latencyDir + " (build perf first)");
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(".jar")).sorted().map(Path::toString).toList();
        }
    }

    private void saveHistograms(ScenarioConfig c, RunResult r) throws IOException {
        if (r.failed()) {
            return;
        }
        Path dir = resultsDir.resolve("hgrm").resolve(c.key());
        Files.createDirectories(dir);
        String base = r.system() + "-r" + r.round();
        if (r.measured() != null) {
            Files.writeString(dir.resolve(base + ".hgrm"), Histograms.hgrm(r.measured()));
        }
        if (r.bracketPre() != null) {
            Files.writeString(dir.resolve(base + "-raw-before.hgrm"), Histograms.hgrm(r.bracketPre()));
            Files.writeString(dir.resolve(base + "-raw-after.hgrm"), Histograms.hgrm(r.bracketPost()));
        }
    }

    private String describe(ScenarioConfig c, RunResult r) {
        String head = String.format(Locale.ROOT, "[%d/%d] %-10s r%d ", runNumber, totalRuns, r.system(), r.round());
        if (r.failed()) {
            return head + "FAILED: " + r.error();
        }
        StringBuilder sb = new StringBuilder(head);
        if (r.measured() != null) {
            Histogram h = r.measured();
            sb.append(String.format(Locale.ROOT, "p50 %s  p99 %s  p99.9 %s  max %s", Summary.ns(h.getValueAtPercentile(50)),
                    Summary.ns(h.getValueAtPercentile(99)), Summary.ns(h.getValueAtPercentile(99.9)), Summary.ns(h.getMaxValue())));
        } else {
            sb.append(String.format(Locale.ROOT, "%s msg/s  %.0f MB/s", Summary.count(r.messagesPerSecond()),
                    r.messagesPerSecond() * c.messageSize() / 1e6));
        }
        if (r.bracket() != null) {
            double pre = r.bracketPre().getValueAtPercentile(50);
            double post = r.bracketPost().getValueAtPercentile(50);
            sb.append(String.format(Locale.ROOT, " | raw p50 before %s after %s%s", Summary.ns(pre), Summary.ns(post),
                    Summary.levelChanged(pre, post, 0.25) ? " (LEVEL CHANGED)" : ""));
            if (r.measured() != null) {
                sb.append(" | p50/raw ").append(Summary.times(Summary.ratio(r.measured().getValueAtPercentile(50),
                        r.bracket().getValueAtPercentile(50))));
            }
        }
        if (r.senderRate() > 0) {
            sb.append(String.format(Locale.ROOT, " | sent %s msg/s, %d late", Summary.count(r.senderRate()), r.senderLate()));
        }
        sb.append(c.scenario() == Scenario.THROUGHPUT ? " | msg/s per slice: " : " | p50 per slice: ");
        sb.append(r.sliceValues().stream().map(v -> c.scenario() == Scenario.THROUGHPUT ? Summary.count(v) : Summary.ns(v))
                .collect(Collectors.joining(" ")));
        return sb.toString();
    }

    private static String taskset() {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            Path p = Path.of(dir, "taskset");
            if (Files.isExecutable(p)) {
                return p.toString();
            }
        }
        return null;
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    // --- read by SummaryWriter ---
    Plan plan() {
        return plan;
    }

    Path resultsDir() {
        return resultsDir;
    }

    String runId() {
        return runId;
    }

    boolean pinned() {
        return pinned;
    }

    Map<String, String> options() {
        return options;
    }

    Map<String, Map<String, List<RunResult>>> results() {
        return results;
    }

    Map<String, ScenarioConfig> configs() {
        return configs;
    }
}
