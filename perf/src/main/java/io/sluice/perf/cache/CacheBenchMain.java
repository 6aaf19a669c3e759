package io.sluice.perf.cache;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * The cross-process cache runs ({@code perf/run-cache.sh}): for each round, each entry count and
 * each number of readers, every system in turn (interleaved), one run of fresh JVMs: the owner
 * ({@link CacheOwner}) builds and serves the cache, then 1 or 2 readers ({@link CacheReaderMain})
 * look keys up at full speed, hits then misses, while the owner of the map and of Chronicle Map
 * updates existing keys at a fixed rate. Writes {@code <results>/<run-id>/cache-summary.md} (medians
 * over rounds), {@code runs.tsv} (every reader phase of every run), {@code hgrm/} and {@code logs/}.
 *
 * <pre>
 * --systems snapshot,map,chronicle  --entries 10000,1000000  --readers 1,2  --rounds 3
 * --warmup-ms 2000  --measure-ms 3000  --batch 1000  --update-rate 100000
 * --run-id ID  --results perf/results  --work /dev/shm
 * </pre>
 */
public final class CacheBenchMain {
    private static final long READY_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(180);

    private CacheBenchMain() {
    }

    record Options(List<String> systems, List<Integer> entries, List<Integer> readers, int rounds, long warmupMs,
                   long measureMs, int batch, long updateRate, String runId, Path results, Path work) {
    }

    /** One reader's phase in one run. */
    record Phase(int round, String system, int entries, int readers, int reader, String phase, long lookups, long nanos,
                 long wrong, long p50, long p90, long p99, long p999, long max, double ownerUpdatesPerSecond) {
        double rate() {
            return lookups * 1e9 / nanos;
        }
    }

    public static void main(String[] args) throws Exception {
        Options o = parse(args);
        Path out = o.results().resolve(o.runId());
        Files.createDirectories(out.resolve("logs"));
        Files.createDirectories(out.resolve("hgrm"));
        List<Phase> phases = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        for (int round = 1; round <= o.rounds(); round++) {
            for (int entries : o.entries()) {
                for (int readers : o.readers()) {
                    for (String system : o.systems()) {
                        String run = system + "-" + entries + "-r" + readers + "-round" + round;
                        System.out.println("run " + run);
                        try {
                            phases.addAll(runOnce(o, out, run, round, system, entries, readers));
                        } catch (Exception e) {
                            failures.add(run + ": " + e);
                            System.out.println("  FAILED: " + e);
                        }
                    }
                }
            }
        }
        writeTsv(out.resolve("runs.tsv"), phases);
        String summary = summary(o, args, phases, failures);
        Files.writeString(out.resolve("cache-summary.md"), summary);
        System.out.println(summary);
        System.out.println("written: " + out.resolve("cache-summary.md"));
        if (!failures.isEmpty()) {
            System.exit(1);
        }
    }

    private static List<Phase> runOnce(Options o, Path out, String run, int round, String system, int entries, int readers)
            throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory(o.work(), "sluice-cache-bench-");
        Path ownerLog = out.resolve("logs").resolve(run + "-owner.log");
        Process owner = start(system, "-Xmx3g", ownerLog, CacheOwner.class.getName(), system, Integer.toString(entries),
                dir.toString(), Long.toString(system.equals("snapshot") ? 0 : o.updateRate()));
        List<Phase> phases = new ArrayList<>();
        List<Process> readerProcesses = new ArrayList<>();
        try {
            awaitLine(owner, ownerLog, "READY");
            List<Path> readerLogs = new ArrayList<>();
            for (int r = 0; r < readers; r++) {
                Path log = out.resolve("logs").resolve(run + "-reader" + r + ".log");
                readerLogs.add(log);
                readerProcesses.add(start(system, "-Xmx1g", log, CacheReaderMain.class.getName(), system,
                        Integer.toString(entries), dir.toString(), Integer.toString(r), Long.toString(o.warmupMs()),
                        Long.toString(o.measureMs()), Integer.toString(o.batch()),
                        out.resolve("hgrm").resolve(run + "-reader" + r).toString()));
            }
            for (int r = 0; r < readers; r++) {
                awaitLine(readerProcesses.get(r), readerLogs.get(r), "ATTACHED");
            }
            Files.createFile(dir.resolve("start")); // every reader is attached: all start together
            long limit = 2 * (o.warmupMs() + o.measureMs()) + 120_000;
            for (int r = 0; r < readers; r++) {
                Process p = readerProcesses.get(r);
                if (!p.waitFor(limit, TimeUnit.MILLISECONDS) || p.exitValue() != 0) {
                    throw new IllegalStateException("reader " + r + " did not finish cleanly (log " + readerLogs.get(r) + ")");
                }
            }
            owner.getOutputStream().close(); // the owner stops at the end of its input
            if (!owner.waitFor(60, TimeUnit.SECONDS)) {
                throw new IllegalStateException("owner did not stop (log " + ownerLog + ")");
            }
            double updatesPerSecond = ownerUpdates(ownerLog);
            for (int r = 0; r < readers; r++) {
                for (String line : Files.readAllLines(readerLogs.get(r))) {
                    if (line.startsWith("RESULT ")) {
                        Map<String, String> f = fields(line);
                        phases.add(new Phase(round, system, entries, readers, r, f.get("phase"), num(f, "lookups"),
                                num(f, "nanos"), num(f, "wrong"), num(f, "p50"), num(f, "p90"), num(f, "p99"),
                                num(f, "p999"), num(f, "max"), updatesPerSecond));
                    }
                }
            }
            if (phases.size() != 2 * readers) {
                throw new IllegalStateException("expected " + 2 * readers + " RESULT lines, got " + phases.size());
            }
            return phases;
        } finally {
            for (Process p : readerProcesses) {
                p.destroyForcibly();
            }
            owner.destroyForcibly();
            owner.waitFor(10, TimeUnit.SECONDS);
            deleteTree(dir);
        }
    }

    private static Process start(String system, String heap, Path log, String main, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of("-XX:+UseSerialGC", heap, "--enable-native-access=ALL-UNNAMED"));
        if (system.equals("chronicle")) {
            command.addAll(Arrays.asList(ChronicleMaps.JVM_FLAGS));
        }
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), main));
        command.addAll(Arrays.asList(args));
        Files.writeString(log, String.join(" ", command) + "\n");
        return new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    }

    private static void awaitLine(Process p, Path log, String line) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + READY_TIMEOUT_NANOS;
        while (true) {
            if (Files.readAllLines(log).contains(line)) {
                return;
            }
            if (!p.isAlive()) {
                throw new IllegalStateException("process exited with " + p.exitValue() + " before " + line + " (log " + log + ")");
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no " + line + " within 180 s (log " + log + ")");
            }
            Thread.sleep(50); // polling a log file: nothing to be notified by
        }
    }

    private static double ownerUpdates(Path log) throws IOException {
        for (String line : Files.readAllLines(log)) {
            if (line.startsWith("UPDATES ")) {
                String[] p = line.split(" ");
                long nanos = Long.parseLong(p[2]);
                return nanos == 0 ? 0 : Long.parseLong(p[1]) * 1e9 / nanos;
            }
        }
        throw new IllegalStateException("no UPDATES line in " + log);
    }

    private static Map<String, String> fields(String line) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String part : line.substring("RESULT ".length()).split(" ")) {
            int eq = part.indexOf('=');
            m.put(part.substring(0, eq), part.substring(eq + 1));
        }
        return m;
    }

    private static long num(Map<String, String> f, String key) {
        return Long.parseLong(f.get(key));
    }

    private static void writeTsv(Path file, List<Phase> phases) throws IOException {
        try (BufferedWriter w = Files.newBufferedWriter(file)) {
            w.write("round\tsystem\tentries\treaders\treader\tphase\tlookups\tnanos\tlookups_per_s\twrong\tp50\tp90\tp99\tp999\tmax\towner_updates_per_s\n");
            for (Phase p : phases) {
                w.write(p.round() + "\t" + p.system() + "\t" + p.entries() + "\t" + p.readers() + "\t" + p.reader() + "\t"
                        + p.phase() + "\t" + p.lookups() + "\t" + p.nanos() + "\t" + Math.round(p.rate()) + "\t" + p.wrong()
                        + "\t" + p.p50() + "\t" + p.p90() + "\t" + p.p99() + "\t" + p.p999() + "\t" + p.max() + "\t"
                        + Math.round(p.ownerUpdatesPerSecond()) + "\n");
            }
        }
    }

    private static String summary(Options o, String[] args, List<Phase> phases, List<String> failures) {
        StringBuilder sb = new StringBuilder();
        sb.append("# Cross-process cache lookups, run ").append(o.runId()).append("\n\n");
        sb.append("- date: ").append(LocalDateTime.now().format(DateTimeFormatter.ISO_LOCAL_DATE_TIME)).append('\n');
        sb.append("- machine: ").append(Runtime.getRuntime().availableProcessors()).append(" CPUs, ")
                .append(System.getProperty("os.name")).append(' ').append(System.getProperty("os.version")).append(", JDK ")
                .append(System.getProperty("java.version")).append('\n');
        sb.append("- arguments: `").append(String.join(" ", args)).append("`\n");
        sb.append("- each run: fresh owner and reader JVMs; a reader warms up ").append(o.warmupMs())
                .append(" ms and measures ").append(o.measureMs()).append(" ms per phase (hits, then misses); latency is the mean per lookup of batches of ")
                .append(o.batch()).append(" lookups (one HdrHistogram value per batch); the map and Chronicle owners update ")
                .append(o.updateRate()).append(" existing keys/s throughout\n");
        sb.append("- a cell is the median over rounds (lookups/s per reader: over every reader of every round; all readers: the sum of one run's readers)\n\n");
        sb.append("| system | entries | readers | lookup | runs | lookups/s per reader | lookups/s all readers | p50 ns | p90 ns | p99 ns | p99.9 ns | max ns | wrong | owner updates/s |\n");
        sb.append("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        Map<String, List<Phase>> groups = phases.stream().collect(Collectors.groupingBy(
                p -> p.system() + "|" + p.entries() + "|" + p.readers() + "|" + p.phase(), LinkedHashMap::new, Collectors.toList()));
        for (String system : o.systems()) {
            for (int entries : o.entries()) {
                for (int readers : o.readers()) {
                    for (String phase : List.of("hit", "miss")) {
                        List<Phase> g = groups.get(system + "|" + entries + "|" + readers + "|" + phase);
                        if (g == null) {
                            continue;
                        }
                        Map<Integer, Double> perRound = g.stream().collect(Collectors.groupingBy(Phase::round,
                                Collectors.summingDouble(Phase::rate)));
                        sb.append("| ").append(label(system)).append(" | ").append(entries).append(" | ").append(readers)
                                .append(" | ").append(phase).append(" | ").append(perRound.size())
                                .append(" | ").append(rate(median(g.stream().mapToDouble(Phase::rate).toArray())))
                                .append(" | ").append(rate(median(perRound.values().stream().mapToDouble(d -> d).toArray())))
                                .append(" | ").append(med(g, Phase::p50)).append(" | ").append(med(g, Phase::p90))
                                .append(" | ").append(med(g, Phase::p99)).append(" | ").append(med(g, Phase::p999))
                                .append(" | ").append(med(g, Phase::max))
                                .append(" | ").append(g.stream().mapToLong(Phase::wrong).sum())
                                .append(" | ").append(rate(median(g.stream().mapToDouble(Phase::ownerUpdatesPerSecond).toArray())))
                                .append(" |\n");
                    }
                }
            }
        }
        if (!failures.isEmpty()) {
            sb.append("\nFailed runs:\n\n");
            failures.forEach(f -> sb.append("- ").append(f).append('\n'));
        }
        return sb.toString();
    }

    private static String label(String system) {
        return switch (system) {
            case "snapshot" -> "Sluice sealed snapshot";
            case "map" -> "Sluice shared map";
            case "chronicle" -> "Chronicle Map (file in " + "/dev/shm)";
            default -> system;
        };
    }

    private static long med(List<Phase> g, java.util.function.ToLongFunction<Phase> f) {
        return Math.round(median(g.stream().mapToDouble(p -> f.applyAsLong(p)).toArray()));
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n == 0 ? Double.NaN : n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    private static String rate(double r) {
        if (r >= 1e6) {
            return String.format("%.2fM", r / 1e6);
        }
        if (r >= 1e3) {
            return String.format("%.1fk", r / 1e3);
        }
        return String.format("%.0f", r);
    }

    private static void deleteTree(Path dir) {
        try (var s = Files.walk(dir)) {
            s.sorted((a, b) -> b.getNameCount() - a.getNameCount()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Options parse(String[] args) {
        Map<String, String> a = new LinkedHashMap<>();
        a.put("--systems", "snapshot,map,chronicle");
        a.put("--entries", "10000,1000000");
        a.put("--readers", "1,2");
        a.put("--rounds", "3");
        a.put("--warmup-ms", "2000");
        a.put("--measure-ms", "3000");
        a.put("--batch", "1000");
        a.put("--update-rate", "100000");
        a.put("--run-id", "cache-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        a.put("--results", "perf/results");
        a.put("--work", "/dev/shm");
        for (int i = 0; i < args.length; i += 2) {
            if (!a.containsKey(args[i]) || i + 1 >= args.length) {
                throw new IllegalArgumentException("unknown option or missing value: " + args[i] + "; options: " + a.keySet());
            }
            a.put(args[i], args[i + 1]);
        }
        List<String> systems = List.of(a.get("--systems").split(","));
        for (String s : systems) {
            if (!List.of("snapshot", "map", "chronicle").contains(s)) {
                throw new IllegalArgumentException("--systems: unknown system " + s + " (snapshot, map, chronicle)");
            }
        }
        int batch = Integer.parseInt(a.get("--batch"));
        if (batch < 1 || batch > 1_000_000) {
            throw new IllegalArgumentException("--batch " + batch + " is outside 1..1000000");
        }
        return new Options(systems, ints(a.get("--entries")), ints(a.get("--readers")), Integer.parseInt(a.get("--rounds")),
                Long.parseLong(a.get("--warmup-ms")), Long.parseLong(a.get("--measure-ms")), batch,
                Long.parseLong(a.get("--update-rate")), a.get("--run-id"), Path.of(a.get("--results")), Path.of(a.get("--work")));
    }

    private static List<Integer> ints(String csv) {
        return Arrays.stream(csv.split(",")).map(Integer::parseInt).toList();
    }
}
