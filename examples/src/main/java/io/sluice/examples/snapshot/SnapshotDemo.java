package io.sluice.examples.snapshot;

import io.sluice.cache.CacheHost;
import io.sluice.cache.PublishedSnapshot;
import io.sluice.cache.snapshot.SnapshotWriter;
import io.sluice.examples.DemoJvm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.LongStream;
import java.util.stream.Stream;

/**
 * The sealed snapshot cache, end to end, on {@code io.sluice.cache}: this JVM (the owner) serves
 * an instrument reference table with a {@link CacheHost} and publishes version 1 (10,000
 * symbols), each version a new memfd sealed {@code SHRINK|GROW|WRITE}. Three readers subscribe by
 * socket path and name: two reader JVMs ({@link SnapshotReaderProcess}, with
 * {@code Caches.snapshot}) and a C reader (the native client's {@code sluice_cache_connect}; this
 * demo builds it with gcc, {@link NativeReader}). Each looks symbols up in place and checks every
 * answer. Once all three have read version 1, the owner publishes version 2; each reader is sent
 * it, switches, and reads it. Then the owner closes the table (END) and prints what each reader
 * saw, and a summary.
 *
 * <p>Run: {@code ./mvnw -q compile exec:exec -Ddemo=snapshot} (an optional argument: lookups per
 * reader and version, 200,000 by default). Exits 0 only if every reader saw both versions and no
 * answer was wrong.
 */
public final class SnapshotDemo {
    /** The name the table is served under. */
    static final String NAME = "refdata";
    private static final int JAVA_READERS = 2;
    private static final int VERSIONS = 2;
    private static final Duration WAIT = Duration.ofSeconds(90);

    private final long lookupsPerVersion;
    private final Map<String, List<Map<String, String>>> reports = new ConcurrentHashMap<>(); // label -> its lines, in order
    private final List<Process> readers = new ArrayList<>();
    private final List<Thread> pumps = new ArrayList<>();

    private SnapshotDemo(long lookupsPerVersion) {
        this.lookupsPerVersion = lookupsPerVersion;
    }

    public static void main(String[] args) throws Exception {
        long lookups = DemoJvm.firstArgument(args, 200_000, 1, 100_000_000, "lookups per reader and version");
        System.exit(new SnapshotDemo(lookups).run() ? 0 : 1);
    }

    private boolean run() throws Exception {
        long start = System.nanoTime();
        Path dir = Files.createTempDirectory("sluice-snapshot-");
        Path socket = dir.resolve("cache.sock");
        List<String> labels = new ArrayList<>();
        try (CacheHost host = CacheHost.bind(socket)) { // closing the host closes the table too
            Path cReader = buildCReader(dir);
            PublishedSnapshot table = host.snapshot(NAME);
            publish(table, 1);
            for (int i = 1; i <= JAVA_READERS; i++) {
                String label = "java-" + i;
                labels.add(label);
                watch(label, DemoJvm.startSmall(SnapshotReaderProcess.class, socket.toString(), NAME, label,
                        Long.toString(lookupsPerVersion)));
            }
            if (cReader != null) {
                labels.add("c-1");
                watch("c-1", new ProcessBuilder(cReader.toString(), socket.toString(), NAME, "c-1",
                        Long.toString(lookupsPerVersion)).redirectErrorStream(true).start());
            }
            say("started " + labels.size() + " readers (" + String.join(", ", labels) + "): pids " + pids());

            for (long v = 1; v <= VERSIONS; v++) {
                if (!awaitAllSaw(labels, v)) {
                    return summarize(labels, start);
                }
                say("every reader has read v" + v);
                if (v < VERSIONS) {
                    publish(table, v + 1);
                }
            }
            say("closing the table: every reader is sent END");
            table.close(); // no version will come
            DemoJvm.awaitAll(readers, WAIT.toSeconds(), pumps);
            return summarize(labels, start);
        } finally {
            for (Process p : readers) {
                if (p.isAlive()) {
                    p.destroyForcibly();
                }
            }
            try (Stream<Path> left = Files.list(dir)) {
                for (Path p : left.toList()) {
                    Files.deleteIfExists(p);
                }
            }
            Files.deleteIfExists(dir);
        }
    }

    private static void publish(PublishedSnapshot table, long expectedVersion) {
        long t = System.nanoTime();
        SnapshotWriter writer = ReferenceData.table(expectedVersion);
        long version = table.publish(writer); // a new memfd, sealed, sent to every subscribed reader
        if (version != expectedVersion) {
            throw new IllegalStateException("published v" + version + ", expected v" + expectedVersion);
        }
        say(String.format("published v%d: %,d instruments, %,d bytes in a new memfd sealed SHRINK|GROW|WRITE (%.1f ms)",
                version, writer.entryCount(), writer.regionSize(), (System.nanoTime() - t) / 1e6));
    }

    /** Builds the C reader; null (said why) if it cannot be built here: the demo goes on with the JVMs. */
    private static Path buildCReader(Path dir) throws IOException, InterruptedException {
        long t = System.nanoTime();
        try {
            Path program = NativeReader.build(dir);
            say(String.format("built the C reader with gcc (%.1f s): %s", (System.nanoTime() - t) / 1e9, program));
            return program;
        } catch (NativeReader.Unavailable e) {
            say("NO C READER: " + e.getMessage());
            return null;
        }
    }

    /** Follows a reader's output: its SAW, DONE and FAILED lines are recorded and shown, the rest echoed. */
    private void watch(String label, Process p) throws IOException {
        p.getOutputStream().close();
        readers.add(p);
        reports.put(label, new CopyOnWriteArrayList<>());
        pumps.add(DemoJvm.pump(p, "the owner", line -> {
            if (!line.startsWith("SAW ") && !line.startsWith("DONE ") && !line.startsWith("FAILED ")) {
                return false;
            }
            reports.get(label).add(parse(line));
            System.out.println("  [" + label + " pid " + p.pid() + "] " + line);
            synchronized (this) {
                notifyAll();
            }
            return true;
        }));
    }

    /** Waits (bounded) until every reader said it read version {@code v}; false if one failed or time ran out. */
    private synchronized boolean awaitAllSaw(List<String> labels, long v) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            boolean all = true;
            for (String label : labels) {
                List<Map<String, String>> lines = reports.get(label);
                if (lines.stream().anyMatch(r -> r.get("kind").equals("FAILED"))) {
                    say("reader " + label + " failed");
                    return false;
                }
                all &= lines.stream().anyMatch(r -> r.get("kind").equals("SAW") && Long.toString(v).equals(r.get("version")));
            }
            if (all) {
                return true;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                say("not every reader read v" + v + " within " + WAIT);
                return false;
            }
            wait(Math.max(1, left / 1_000_000));
        }
    }

    private boolean summarize(List<String> labels, long start) {
        String expectedVersions = String.join(",", LongStream.rangeClosed(1, VERSIONS)
                .mapToObj(Long::toString).toList());
        System.out.println();
        System.out.printf("%-7s %-8s %-9s %12s %11s%n", "reader", "pid", "versions", "lookups", "mismatches");
        long lookups = 0;
        long mismatches = 0;
        int good = 0;
        for (String label : labels.stream().sorted(Comparator.naturalOrder()).toList()) {
            Map<String, String> done = reports.get(label).stream().filter(r -> r.get("kind").equals("DONE")).findFirst()
                    .orElse(null);
            if (done == null) {
                Map<String, String> failed = reports.get(label).stream().filter(r -> r.get("kind").equals("FAILED"))
                        .findFirst().orElse(Map.of("error", "no report"));
                System.out.printf("%-7s FAILED: %s%n", label, failed.get("error"));
                continue;
            }
            long l = Long.parseLong(done.get("lookups"));
            long m = Long.parseLong(done.get("mismatches"));
            System.out.printf("%-7s %-8s %-9s %,12d %11d%n", label, done.get("pid"), done.get("versions"), l, m);
            lookups += l;
            mismatches += m;
            good += expectedVersions.equals(done.get("versions")) && m == 0 ? 1 : 0;
        }
        boolean ok = good == labels.size() && labels.size() >= JAVA_READERS;
        System.out.printf("%d readers saw v1 and v2, %,d lookups, %d mismatches (%.1f s%s): %s%n", good, lookups, mismatches,
                (System.nanoTime() - start) / 1e9, labels.size() > JAVA_READERS ? "" : "; no C reader: see above",
                ok ? "OK" : "FAILED");
        return ok;
    }

    /** A reader's line: its first word as "kind", then {@code key=value} pairs; "error" takes the rest of the line. */
    private static Map<String, String> parse(String line) {
        Map<String, String> m = new LinkedHashMap<>();
        int error = line.indexOf(" error=");
        if (error >= 0) {
            m.put("error", line.substring(error + " error=".length()));
            line = line.substring(0, error);
        }
        String[] words = line.split(" ");
        m.put("kind", words[0]);
        for (int i = 1; i < words.length; i++) {
            int eq = words[i].indexOf('=');
            if (eq > 0) {
                m.put(words[i].substring(0, eq), words[i].substring(eq + 1));
            }
        }
        return m;
    }

    private String pids() {
        return String.join(", ", readers.stream().map(p -> Long.toString(p.pid())).toList());
    }

    private static void say(String what) {
        System.out.println("[owner pid " + ProcessHandle.current().pid() + "] " + what);
        System.out.flush();
    }
}
