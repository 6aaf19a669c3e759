package io.sluice.perf.latency;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

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
 *
 * <p>This class holds the rounds and their results; the command line is {@link LaunchOptions},
 * the peers' command lines {@link PeerCommands}, one run {@link RunLauncher} (its report
 * {@link PeerResults}), what each run leaves behind {@link RunOutput}, and the summary
 * {@link SummaryWriter}.
 */
public final class LatencyMain {
    private final LaunchOptions options;
    private final PeerCommands commands;
    private final RunLauncher launcher;
    private final RunOutput output;
    private final Map<String, Map<String, List<RunResult>>> results = new LinkedHashMap<>();
    private final Map<String, ScenarioConfig> configs = new LinkedHashMap<>();
    private int runNumber;
    private int totalRuns;

    private LatencyMain(LaunchOptions options) {
        this.options = options;
        this.commands = new PeerCommands(options);
        this.launcher = new RunLauncher(options, commands);
        this.output = new RunOutput(options.resultsDir());
    }

    public static void main(String[] args) throws Exception {
        new LatencyMain(LaunchOptions.parse(args)).run();
    }

    private void run() throws Exception {
        Path resultsDir = options.resultsDir();
        Plan plan = options.plan();
        Files.createDirectories(resultsDir.resolve("logs"));
        Files.createDirectories(resultsDir.resolve("hgrm"));
        List<ScenarioConfig> list = options.configs();
        for (ScenarioConfig c : list) {
            totalRuns += plan.rounds() * options.systemsFor(c).size();
        }
        System.out.printf("Sluice latency harness: run %s, %s mode, %d rounds, %d runs; %s%n", options.runId(), plan.mode(),
                plan.rounds(), totalRuns, pinned() ? "A pinned to CPU 0, B to CPU 1 (taskset)" : "NOT PINNED (needs taskset and 2 CPUs)");
        System.out.println("results: " + resultsDir);
        List<String> noPeer = options.systems().stream().filter(s -> !s.equals("raw-c") && !s.equals(LaunchOptions.MEMCPY) && Systems.byId(s).nativeSide().isPresent()
                && !options.hasNativePeer()).toList();
        if (!noPeer.isEmpty()) {
            System.out.println("no native peer (--native-peer, built by run-latency.sh with gcc): skipping " + noPeer);
        }
        long start = System.nanoTime();
        try {
            for (ScenarioConfig c : list) {
                configs.put(c.key(), c);
                System.out.printf("%n== %s ==%n", c.title());
                for (int round = 1; round <= plan.rounds(); round++) {
                    for (String system : options.systemsFor(c)) {
                        runNumber++;
                        RunResult r = switch (system) {
                            case "raw-c" -> launcher.runProbe(c, round);
                            case LaunchOptions.MEMCPY -> launcher.runMemcpy(c, round);
                            default -> launcher.runJvms(Systems.byId(system), c, round, runNumber);
                        };
                        results.computeIfAbsent(c.key(), k -> new LinkedHashMap<>()).computeIfAbsent(system, k -> new ArrayList<>()).add(r);
                        output.saveHistograms(c, r);
                        System.out.println(RunOutput.describe(c, r, runNumber, totalRuns));
                    }
                }
            }
        } finally {
            RunLauncher.deleteTree(options.shmDir());
        }
        String summary = new SummaryWriter(this).write();
        System.out.println();
        System.out.println(summary);
        System.out.printf("done in %d s; summary, .hgrm files, charts and logs in %s%n",
                TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start), resultsDir);
    }

    // --- read by SummaryWriter ---
    Plan plan() {
        return options.plan();
    }

    Path resultsDir() {
        return options.resultsDir();
    }

    String runId() {
        return options.runId();
    }

    boolean pinned() {
        return commands.pinned();
    }

    Map<String, String> options() {
        return options.options();
    }

    Map<String, Map<String, List<RunResult>>> results() {
        return results;
    }

    Map<String, ScenarioConfig> configs() {
        return configs;
    }

    List<String> jars(String set) throws IOException {
        return commands.jars(set);
    }
}
