package io.sluice.perf.latency;

import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/** Writes {@code summary.md} and the charts of a finished run, and returns the markdown. */
final class SummaryWriter {
    private final LatencyMain run;

    SummaryWriter(LatencyMain run) {
        this.run = run;
    }

    String write() throws IOException {
        StringBuilder md = new StringBuilder();
        md.append("# Sluice latency harness — run ").append(run.runId()).append(" (").append(run.plan().mode()).append(" mode)\n\n");
        md.append("- Machine: ").append(cpuModel()).append(", ").append(Runtime.getRuntime().availableProcessors())
                .append(" CPUs, Linux ").append(System.getProperty("os.version")).append(", JDK ")
                .append(System.getProperty("java.runtime.version")).append(" (").append(System.getProperty("java.vm.name")).append(")\n");
        md.append("- Command: `perf/run-latency.sh").append(run.options().containsKey("mode") ? " --mode " + run.options().get("mode") : "")
                .append(run.options().entrySet().stream()
                        .filter(e -> List.of("rounds", "systems", "scenarios").contains(e.getKey()))
                        .map(e -> " --" + e.getKey() + " " + e.getValue()).collect(Collectors.joining()))
                .append("`\n");
        md.append("- Placement: ").append(run.pinned()
                ? "side A pinned to CPU 0, side B to CPU 1 (`taskset` per process; the in-process rows pin their two threads)"
                : "**not pinned** (taskset or a second CPU missing)").append("; peer JVMs run with `")
                .append("-XX:+UseSerialGC -Xms512m -Xmx512m -XX:+AlwaysPreTouch`; every wait is a busy spin.\n");
        md.append("- ").append(run.plan().rounds()).append(" rounds, systems interleaved within each (A B C, A B C, ...). "
                + "A cell is the median over the rounds; *p50 range* is the lowest and highest p50 of the rounds.\n");
        md.append("- *raw*: the raw cache-line ping-pong that the same two processes (or threads) ran just before and just after "
                + "the measured run (").append(run.plan().bracketCount()).append(" round trips each). Ratios divide a system's "
                + "percentile by the same percentile of its own run's raw probe (median over rounds). `raw-c` is the C probe "
                + "itself and has none. This machine's core-to-core latency moves between levels (docs/performance-notes.md): compare "
                + "ratios, and rows of one run only.\n");
        md.append("- Latencies in ns unless marked. Receivers read the 8-byte value of each message in place; senders write "
                + "the whole message every time.\n");
        md.append("- *alloc B/msg* (per run): heap bytes per message that the measuring threads allocated inside the measured "
                + "loops, the larger of its JVM sides (— for raw-c and for failed runs).\n\n");

        md.append("## Systems\n\n| row | what | jars |\n|---|---|---|\n");
        md.append("| raw-c | raw cache-line ping-pong in C (perf/native/rawpingpong.c, gcc -O2, memfd, two forked processes) | — |\n");
        md.append("| memcpy | the copy limit in C (perf/native/memcpybw.c, gcc -O2): one process on CPU 0 copies each message into "
                + "a ring-sized memfd mapping at the next offset, as a producer does; throughput only | — |\n");
        for (LatencySystem s : Systems.ALL) {
            md.append("| ").append(s.id()).append(" | ").append(s.label()).append(" | ").append(jarNames(s)).append(" |\n");
        }
        md.append('\n');

        boolean throughputChartDone = false;
        for (Map.Entry<String, Map<String, List<RunResult>>> e : run.results().entrySet()) {
            ScenarioConfig c = run.configs().get(e.getKey());
            md.append("## ").append(c.title()).append("\n\n");
            if (c.scenario() == Scenario.THROUGHPUT) {
                if (!throughputChartDone) {
                    throughputChart();
                    md.append("![throughput](throughput.png)\n\n");
                    throughputChartDone = true;
                }
                md.append(table(c, e.getValue()));
            } else {
                latencyChart(c, e.getValue());
                md.append("![").append(c.key()).append("](").append(c.key()).append(".png)\n\n");
                md.append(table(c, e.getValue()));
                if (c.scenario() == Scenario.FIXED_RATE) {
                    md.append("\nOne-way latency, stamped by the sender with System.nanoTime() and recorded with "
                            + "coordinated-omission correction (expected interval ").append(1_000_000_000L / c.rate())
                            .append(" ns); *raw RTT* is the round trip of the raw probe. Unlike a ping-pong, this open "
                            + "loop counts the time either side was not running: on a machine whose CPUs are shared "
                            + "with other work it shows the scheduler (see *late sends* and the `-uncorrected.hgrm` files).\n");
                }
            }
            md.append(byLevel(c, e.getValue()));
            md.append('\n').append(runsDetail(c, e.getValue())).append('\n');
        }
        failures(md);
        String text = md.toString();
        Files.writeString(run.resultsDir().resolve("summary.md"), text);
        return text;
    }

    /**
     * The same table again for each level the machine was at (see {@link Levels}), from the runs
     * made wholly at it; nothing when all runs were at one level.
     */
    private String byLevel(ScenarioConfig c, Map<String, List<RunResult>> bySystem) {
        List<Levels.Level> levels = Levels.of(bySystem.values());
        if (levels.size() < 2) {
            return "";
        }
        StringBuilder sb = new StringBuilder("\nThe machine was at ").append(levels.size())
                .append(" levels during these runs; the same table from the runs made wholly at each (runs whose level "
                        + "changed while they ran are in none):\n");
        for (Levels.Level level : levels) {
            sb.append("\n**At ").append(level.label()).append("**\n\n").append(table(c, Levels.at(level, bySystem)));
        }
        return sb.toString();
    }

    /** The scenario's table of {@code bySystem}, divided by its reference row where it has one. */
    private String table(ScenarioConfig c, Map<String, List<RunResult>> bySystem) {
        String reference = reference(bySystem);
        if (c.scenario() == Scenario.THROUGHPUT) {
            List<Summary.ThroughputRow> rows = new ArrayList<>();
            bySystem.forEach((system, runs) -> rows.add(Summary.throughputRow(system, runs, c.messageSize())));
            return Summary.throughputTable(rows, rows.stream().filter(r -> r.system().equals(reference)).findFirst().orElse(null));
        }
        List<Summary.LatencyRow> rows = new ArrayList<>();
        bySystem.forEach((system, runs) -> rows.add(Summary.latencyRow(system, runs)));
        return Summary.latencyTable(rows, c.scenario() == Scenario.FIXED_RATE,
                rows.stream().filter(r -> r.system().equals(reference)).findFirst().orElse(null));
    }

    /**
     * The row the other rows are divided by: {@code --compare-to ID}, else the first Sluice row
     * ({@code sluice...}) of the table, else none.
     */
    private String reference(Map<String, List<RunResult>> bySystem) {
        String wanted = run.options().get("compare-to");
        if (wanted != null) {
            return bySystem.containsKey(wanted) ? wanted : null;
        }
        return bySystem.keySet().stream().filter(id -> id.startsWith("sluice")).findFirst().orElse(null);
    }

    private void failures(StringBuilder md) {
        List<String> lines = new ArrayList<>();
        run.results().forEach((key, bySystem) -> bySystem.forEach((system, runs) -> runs.stream().filter(RunResult::failed)
                .forEach(r -> lines.add("- " + key + " " + system + " round " + r.round() + ": " + r.error()))));
        if (!lines.isEmpty()) {
            md.append("## Failed runs\n\n").append(String.join("\n", lines)).append("\n");
        }
    }

    private String runsDetail(ScenarioConfig c, Map<String, List<RunResult>> bySystem) {
        StringBuilder sb = new StringBuilder("<details><summary>every run (brackets, p50 per slice)</summary>\n\n");
        boolean throughput = c.scenario() == Scenario.THROUGHPUT;
        boolean rate = c.scenario() == Scenario.FIXED_RATE;
        sb.append(throughput ? "| system | round | msg/s | raw before | raw after | alloc B/msg | msg/s per slice |\n|---|---:|---:|---:|---:|---:|---|\n"
                : "| system | round | p50 | p99 | p99.9 | raw before | raw after | alloc B/msg |" + (rate ? " sent msg/s | late sends |" : "")
                + " p50 per slice |\n|---|---:|---:|---:|---:|---:|---:|---:|" + (rate ? "---:|---:|" : "") + "---|\n");
        bySystem.forEach((system, runs) -> {
            for (RunResult r : runs) {
                sb.append("| ").append(system).append(" | ").append(r.round());
                if (r.failed()) {
                    sb.append(" | failed |\n");
                    continue;
                }
                if (throughput) {
                    sb.append(" | ").append(Summary.count(r.messagesPerSecond()));
                } else {
                    Histogram h = r.measured();
                    sb.append(" | ").append(Summary.ns(h.getValueAtPercentile(50))).append(" | ")
                            .append(Summary.ns(h.getValueAtPercentile(99))).append(" | ")
                            .append(Summary.ns(h.getValueAtPercentile(99.9)));
                }
                if (r.bracketPre() != null) {
                    double pre = r.bracketPre().getValueAtPercentile(50);
                    double post = r.bracketPost().getValueAtPercentile(50);
                    sb.append(" | ").append(Summary.ns(pre)).append(" | ").append(Summary.ns(post))
                            .append(Summary.levelChanged(pre, post, 0.25) ? " (level changed)" : "");
                } else {
                    sb.append(" | — | —");
                }
                sb.append(" | ").append(Double.isNaN(r.allocationPerMessage()) ? "—"
                        : String.format(Locale.ROOT, "%.2f", r.allocationPerMessage()));
                if (rate) {
                    sb.append(" | ").append(Summary.count(r.senderRate())).append(" | ").append(r.senderLate());
                }
                sb.append(" | ").append(r.sliceValues().stream()
                        .map(v -> throughput ? Summary.count(v) : Summary.ns(v)).collect(Collectors.joining(" "))).append(" |\n");
            }
        });
        return sb.append("\n</details>\n").toString();
    }

    private void latencyChart(ScenarioConfig c, Map<String, List<RunResult>> bySystem) throws IOException {
        Map<String, Histogram> series = new LinkedHashMap<>();
        Histogram brackets = Histograms.newHistogram();
        bySystem.forEach((system, runs) -> {
            Histogram all = Histograms.newHistogram();
            for (RunResult r : runs) {
                if (!r.failed()) {
                    all.add(r.measured());
                    if (r.bracket() != null) {
                        brackets.add(r.bracket());
                    }
                }
            }
            series.put(system, all);
        });
        String bracketName = c.scenario() == Scenario.FIXED_RATE ? "raw bracket RTT, all runs" : "raw bracket, all runs";
        series.put(bracketName, brackets);
        String y = c.scenario() == Scenario.FIXED_RATE ? "one-way latency" : "round-trip latency";
        Plots.percentileChart(c.title() + " — all rounds (run " + run.runId() + ")", y, series,
                run.resultsDir().resolve(c.key() + ".png"));
    }

    private void throughputChart() throws IOException {
        Map<Integer, Map<String, Double>> bySize = new LinkedHashMap<>();
        run.results().forEach((key, bySystem) -> {
            ScenarioConfig c = run.configs().get(key);
            if (c.scenario() == Scenario.THROUGHPUT) {
                Map<String, Double> row = new LinkedHashMap<>();
                bySystem.forEach((system, runs) -> row.put(system, Summary.medianOf(runs, RunResult::messagesPerSecond)));
                bySize.put(c.messageSize(), row);
            }
        });
        Plots.throughputChart("Throughput, one producer, one consumer (run " + run.runId() + ")", bySize,
                run.resultsDir().resolve("throughput.png"));
    }

    private String jarNames(LatencySystem s) {
        List<String> names = new ArrayList<>();
        try {
            for (String set : s.classpathSets()) {
                List<String> jars = run.jars(set);
                for (String j : jars.subList(0, Math.min(3, jars.size()))) {
                    names.add(Path.of(j).getFileName().toString().replace(".jar", ""));
                }
                if (jars.size() > 3) {
                    names.add(String.format(Locale.ROOT, "+%d more", jars.size() - 3));
                }
            }
        } catch (IOException | RuntimeException e) {
            names.add("?");
        }
        return names.isEmpty() ? "—" : String.join(", ", names);
    }

    private static String cpuModel() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).strip()).findFirst().orElse("unknown CPU");
        } catch (IOException e) {
            return "unknown CPU";
        }
    }
}
