package io.sluice.perf.latency;

import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Runs one system once: starts its peers (two JVMs, one JVM for an in-process row, or a JVM and
 * the native peer), waits for them within the plan's timeout, reads what they reported, and
 * removes the run's work folder; or runs the raw C probe. A failed run is a result, not an
 * exception: the round goes on.
 */
final class RunLauncher {
    private final LaunchOptions options;
    private final PeerCommands commands;

    RunLauncher(LaunchOptions options, PeerCommands commands) {
        this.options = options;
        this.commands = commands;
    }

    /** Run number {@code runNumber} (its work folder's name): {@code system} in {@code c}, round {@code round}. */
    RunResult runJvms(LatencySystem system, ScenarioConfig c, int round, int runNumber) throws Exception {
        Path resultsDir = options.resultsDir();
        String name = system.id() + "-r" + round;
        Path workDir = options.shmDir().resolve(String.format(Locale.ROOT, "%04d", runNumber));
        Files.createDirectories(workDir);
        Path control = workDir.resolve("control");
        Files.write(control, new byte[(int) Control.SIZE]);
        Path logDir = resultsDir.resolve("logs").resolve(c.key());
        Files.createDirectories(logDir);
        Path output = logDir.resolve(name);
        RunSpec spec = options.spec(system.id(), c, workDir, output);
        String classPath = commands.classPath(system);
        List<Process> processes = new ArrayList<>();
        try {
            if (system.kind() == LatencySystem.Kind.IN_PROCESS) {
                processes.add(start(commands.jvm(system, "both", "0,1", control, classPath, spec), logDir.resolve(name + ".log")));
            } else {
                for (Role role : Role.values()) {
                    List<String> cmd = system.nativeSide().equals(Optional.of(role))
                            ? commands.nativePeer(system, role, control, spec)
                            : commands.jvm(system, role.letter(), Integer.toString(role.cpu()), control, classPath, spec);
                    processes.add(start(cmd, logDir.resolve(name + "-" + role.letter() + ".log")));
                }
            }
            String failure = await(processes, options.plan().runTimeoutSeconds());
            Properties a = PeerResults.load(Path.of(output + "-A.properties"));
            Properties b = PeerResults.load(Path.of(output + "-B.properties"));
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
            if (c.scenario() == Scenario.PING_PONG) {
                TailBreakdown.append(output, system.id() + " " + c.key(), resultsDir.resolve("tail.md"));
            }
            return PeerResults.parse(system.id(), round, c, a, b).withAllocation(PeerResults.allocation(a, b));
        } finally {
            for (Process p : processes) {
                p.destroyForcibly();
            }
            deleteTree(workDir);
        }
    }

    /** The raw C probe's ping-pong, round {@code round}, at the plan's ping-pong slice size. */
    RunResult runProbe(ScenarioConfig c, int round) throws Exception {
        Plan plan = options.plan();
        Path logDir = options.resultsDir().resolve("logs").resolve(c.key());
        Files.createDirectories(logDir);
        Path bin = logDir.resolve("raw-c-r" + round + ".bin");
        Path log = logDir.resolve("raw-c-r" + round + ".log");
        long count = (long) plan.pingSlices() * plan.pingSliceSize();
        List<String> cmd = List.of(options.probe().toString(), Integer.toString(plan.warmupBatches() * Plan.batchFor(plan.pingSliceSize())),
                Long.toString(count), Integer.toString(plan.pingSliceSize()), bin.toString(), "0", "1");
        Process p = start(cmd, log);
        String failure = await(List.of(p), plan.runTimeoutSeconds());
        if (failure != null) {
            return RunResult.failure("raw-c", round, failure);
        }
        Histogram h = PeerResults.readValues(bin);
        List<Long> slices = Files.readAllLines(log).stream().filter(l -> l.startsWith("slice_p50_ns"))
                .flatMap(l -> Arrays.stream(l.split(" ")).skip(1)).map(Long::parseLong).toList();
        return new RunResult("raw-c", round, h, null, null, slices, 0, 0, 0, null);
    }

    /**
     * The C copy probe at {@code c}'s message size, round {@code round}: as many warm-up and
     * measured messages, in as many slices, as a throughput run of that size, into a buffer of the
     * run's ring capacity, pinned to side A's CPU.
     */
    RunResult runMemcpy(ScenarioConfig c, int round) throws Exception {
        Path logDir = options.resultsDir().resolve("logs").resolve(c.key());
        Files.createDirectories(logDir);
        Path log = logDir.resolve(LaunchOptions.MEMCPY + "-r" + round + ".log");
        RunSpec spec = options.spec(LaunchOptions.MEMCPY, c, logDir, log);
        List<String> cmd = List.of(options.memcpyProbe().toString(), Integer.toString(c.messageSize()),
                Integer.toString(spec.ringCapacity()), Long.toString((long) spec.warmupBatches() * spec.batchSize()),
                Long.toString(spec.measuredMessages()), Integer.toString(spec.sliceSize()), Integer.toString(Role.INITIATOR.cpu()));
        Process p = start(cmd, log);
        String failure = await(List.of(p), options.plan().runTimeoutSeconds());
        if (failure != null) {
            return RunResult.failure(LaunchOptions.MEMCPY, round, failure);
        }
        List<Long> rates = Files.readAllLines(log).stream().filter(l -> l.startsWith("slice_rate"))
                .flatMap(l -> Arrays.stream(l.split(" ")).skip(1)).map(Long::parseLong).toList();
        double seconds = rates.stream().mapToDouble(r -> (double) spec.sliceSize() / r).sum();
        double perSecond = spec.measuredMessages() / seconds;
        return new RunResult(LaunchOptions.MEMCPY, round, null, null, null, rates, perSecond, 0, 0, null);
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

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
