package io.sluice.examples.snapshot;

import io.sluice.cache.snapshot.SnapshotWriter;
import io.sluice.cache.snapshot.SnapshotMessages;
import io.sluice.examples.DemoJvm;

import io.sluice.api.SluiceException;
import io.sluice.api.SystemCallException;
import io.sluice.fdpassing.ReceivedMessage;
import io.sluice.fdpassing.SeqPacketServer;
import io.sluice.fdpassing.SeqPacketSocket;
import io.sluice.memfd.MemfdRegion;
import io.sluice.memfd.Seal;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The sealed snapshot cache, end to end: this JVM (the owner) builds version 1 of an instrument
 * reference-data table (10,000 symbols) in a memfd, seals it {@code SHRINK|GROW|WRITE} so that
 * nobody, the owner included, can change it, and serves it on a socket. Three reader JVMs
 * connect; each receives every version as a PUBLISH message with the fd, checks it, looks
 * symbols up in place and checks every answer. The owner publishes a new version, in a new memfd,
 * every {@value #PERIOD_MILLIS} ms; readers swap to it and close the old one. At the end each
 * reader reports, and the owner prints a summary.
 *
 * <p>Run: {@code ./mvnw -q compile exec:exec -Ddemo=snapshot}. Exits 0 only if every reader saw
 * every version, made no mismatch, was refused every write and leaked no fd or mapping.
 */
public final class SnapshotDemo {
    private static final int READERS = 3;
    private static final int VERSIONS = 4;
    private static final long PERIOD_MILLIS = 1000;
    private static final Duration WAIT = Duration.ofSeconds(30);

    private final List<Process> readers = new ArrayList<>();
    private final List<SeqPacketSocket> connections = new ArrayList<>();

    public static void main(String[] args) throws Exception {
        System.exit(new SnapshotDemo().run() ? 0 : 1);
    }

    private boolean run() throws Exception {
        long start = System.nanoTime();
        Path dir = Files.createTempDirectory("sluice-snapshot-");
        Path socket = dir.resolve("snapshot.sock");
        MemfdRegion current = null;
        try (SeqPacketServer server = SeqPacketServer.bind(socket)) {
            current = build(1);
            try {
                current.mapReadWrite();
                say("owner could map it writable: this should not happen");
            } catch (SystemCallException e) {
                say("even the owner cannot write it now: mmap(PROT_WRITE) -> " + e.errnoName());
            }
            for (int i = 1; i <= READERS; i++) {
                readers.add(startReader(socket, i));
            }
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (connections.size() < READERS) {
                SeqPacketSocket conn = server.accept(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
                if (conn == null) {
                    throw new SluiceException("only " + connections.size() + " of " + READERS
                            + " reader JVMs connected within " + WAIT);
                }
                connections.add(conn);
                conn.send(SnapshotMessages.publish(1, current.size()), current.fd()); // a late joiner starts at the current version
            }
            say(String.format("%d reader JVMs connected after %.1f s (pids %s); each was sent v1 with its fd",
                    READERS, (System.nanoTime() - start) / 1e9, pids()));

            for (long v = 2; v <= VERSIONS; v++) {
                Thread.sleep(PERIOD_MILLIS); // pacing of publication, not synchronisation
                MemfdRegion next = build(v);
                for (SeqPacketSocket conn : connections) {
                    conn.send(SnapshotMessages.publish(v, next.size()), next.fd());
                }
                current.close(); // the readers hold their own fds; the owner keeps only the newest
                current = next;
                say("published v" + v + " to " + connections.size() + " readers; closed my v" + (v - 1));
            }
            Thread.sleep(PERIOD_MILLIS);
            for (SeqPacketSocket conn : connections) {
                conn.send(SnapshotMessages.end());
            }
            List<Map<String, String>> reports = new ArrayList<>();
            for (SeqPacketSocket conn : connections) {
                try (ReceivedMessage m = conn.receive(SnapshotMessages.MAX_LENGTH, 0, WAIT)) {
                    if (SnapshotMessages.type(m.data(), m.fdCount()) != SnapshotMessages.REPORT) {
                        throw new SluiceException("reader pid " + conn.peerCredentials().pid() + " answered END with something else than REPORT");
                    }
                    reports.add(parse(SnapshotMessages.decodeReport(m.data())));
                }
            }
            awaitReaders();
            reports.sort(java.util.Comparator.comparing(r -> r.getOrDefault("reader", "")));
            return summarize(reports, (System.nanoTime() - start) / 1e9);
        } finally {
            connections.forEach(SeqPacketSocket::close);
            if (current != null) {
                current.close();
            }
            for (Process p : readers) {
                if (p.isAlive()) {
                    p.destroyForcibly();
                }
            }
            Files.deleteIfExists(socket);
            Files.deleteIfExists(dir);
        }
    }

    private static MemfdRegion build(long version) {
        long t = System.nanoTime();
        SnapshotWriter writer = ReferenceData.table(version);
        MemfdRegion region = writer.build("refdata.v" + version, version);
        if (version == 1) {
            say(String.format("built v1: %,d instruments, %,d slots, %,d bytes in memfd 'sluice:%s' (%.1f ms), sealed %s",
                    writer.entryCount(), writer.slotCount(), region.size(), region.name(), (System.nanoTime() - t) / 1e6,
                    Seal.describe(region.seals())));
        }
        return region;
    }

    private Process startReader(Path socket, int readerNo) throws Exception {
        return DemoJvm.start(List.of("-XX:+UseSerialGC", "-Xmx64m"), SnapshotReaderProcess.class,
                socket.toString(), Integer.toString(readerNo));
    }

    private void awaitReaders() throws InterruptedException {
        for (Process p : readers) {
            if (!p.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)) {
                say("reader pid " + p.pid() + " did not exit within " + WAIT + "; killing it");
                p.destroyForcibly();
            } else if (p.exitValue() != 0) {
                say("reader pid " + p.pid() + " exited with status " + p.exitValue());
            }
        }
    }

    private boolean summarize(List<Map<String, String>> reports, double seconds) {
        String allVersions = String.join(",", java.util.stream.LongStream.rangeClosed(1, VERSIONS)
                .mapToObj(Long::toString).toList());
        boolean ok = true;
        long totalLookups = 0;
        long totalMismatches = 0;
        System.out.println();
        System.out.println("summary: " + VERSIONS + " versions, each a new memfd sealed SHRINK|GROW|WRITE, "
                + READERS + " reader JVMs, " + String.format("%.1f s", seconds));
        System.out.printf("  %-6s %-7s %-8s %11s %10s %11s %10s  %-29s %s%n", "reader", "pid", "versions", "lookups",
                "lookups/s", "per CPU-s", "mismatches", "writes refused (see below)", "fds/maps left");
        for (Map<String, String> r : reports) {
            long lookups = Long.parseLong(r.getOrDefault("lookups", "0"));
            long mismatches = Long.parseLong(r.getOrDefault("mismatches", "0"));
            double perSecond = lookups / Math.max(1e-9, Long.parseLong(r.getOrDefault("lookup_ns", "0")) / 1e9);
            double perCpuSecond = lookups / Math.max(1e-9, Long.parseLong(r.getOrDefault("lookup_cpu_ns", "0")) / 1e9);
            String refused = r.get("mmap_rw") + "/" + r.get("reopen_map_rw") + "/" + r.get("write") + "/"
                    + r.get("grow") + "/" + shortName(r.get("java_store"));
            String left = r.get("sluice_fds") + "/" + r.get("sluice_maps");
            System.out.printf("  %-6s %-7s %-8s %,11d %,10.0f %,11.0f %10d  %-29s %s%n", r.get("reader"), r.get("pid"),
                    r.get("versions"), lookups, perSecond, perCpuSecond, mismatches, refused, left);
            if (r.containsKey("error")) {
                System.out.println("         error: " + r.get("error"));
            }
            totalLookups += lookups;
            totalMismatches += mismatches;
            ok &= !r.containsKey("error") && mismatches == 0 && allVersions.equals(r.get("versions"))
                    && "0/0".equals(left) && !refused.contains("ALLOWED") && !r.containsValue("ALLOWED");
        }
        ok &= reports.size() == READERS;
        System.out.println("  writes refused: mmap(PROT_WRITE) / re-open rw + map / write(2) / ftruncate / Java store"
                + " (IAE: IllegalArgumentException, read-only segment)");
        System.out.printf("  total: %,d lookups in place (each value checked), %d mismatches; %s%n",
                totalLookups, totalMismatches, ok ? "OK" : "FAILED");
        return ok;
    }

    private static String shortName(String exceptionName) {
        return "IllegalArgumentException".equals(exceptionName) ? "IAE" : exceptionName;
    }

    /** A REPORT: {@code key=value} pairs separated by spaces, then optionally {@code error=<text>}. */
    private static Map<String, String> parse(String report) {
        Map<String, String> m = new LinkedHashMap<>();
        int error = report.indexOf(" error=");
        if (error >= 0) {
            m.put("error", report.substring(error + " error=".length()));
            report = report.substring(0, error);
        }
        for (String kv : report.split(" ")) {
            int eq = kv.indexOf('=');
            if (eq > 0) {
                m.put(kv.substring(0, eq), kv.substring(eq + 1));
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
