package io.sluice.adversarial;

import io.sluice.api.RefusalReason;
import io.sluice.channel.AccessPolicy;
import io.sluice.channel.ChannelHost;
import io.sluice.channel.Channels;
import io.sluice.channel.ConsumerAttachment;
import io.sluice.channel.HostOptions;
import io.sluice.channel.HostedSpscChannel;
import io.sluice.channel.SpscOptions;
import io.sluice.testing.ChildJvm;
import io.sluice.ringbuffer.SpscConsumer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A host under connection floods keeps its limits, its one thread and its service to honest
 * peers, does not spin when the process runs out of fds, and gives everything back afterwards.
 */
class HostExhaustionTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final long CHILD_TIMEOUT_S = 60;

    @TempDir
    Path tmp;

    /** Attachments the host has let go of (connection closed, regions released). */
    private final java.util.Set<io.sluice.channel.Attachment> released = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /**
     * 3,000 silent connections from another uid (a child process running as {@code nobody}): the
     * host keeps {@code maxConnectionsPerUid} (256) of them and refuses the rest at once with
     * CONNECTION_LIMIT, runs one thread, and serves an honest peer of its own uid within 1 s while
     * the flood holds its connections; when the flood ends, its fds and threads are as before.
     */
    @Test
    void aFloodOfSilentConnectionsFromAnotherUidIsCappedPerUidAndHonestPeersAreStillServed() throws Exception {
        Assumptions.assumeTrue(Adversarial.uid() == 0, "the flood runs as another uid (65534) through setpriv: needs root");
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")), "setpriv missing");
        int flood = 3_000;
        int perUid = HostOptions.DEFAULT_MAX_CONNECTIONS_PER_UID;
        // World-traversable (as /tmp is; @TempDir is not), so that uid 65534 reaches the socket
        // and the class path copied under it.
        Path dir = Files.createTempDirectory("sluice-flood-", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        try {
            flood(dir, flood, perUid);
        } finally {
            try (Stream<Path> walk = Files.walk(dir)) {
                walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private void flood(Path dir, int flood, int perUid) throws Exception {
        Path socket = dir.resolve("host.sock");
        HostOptions options = HostOptions.defaults()
                .accessPolicy(AccessPolicy.uids(Adversarial.uid(), 65534))
                .socketPermissions(PosixFilePermissions.fromString("rw-rw-rw-"))
                .handshakeTimeout(Duration.ofSeconds(60)); // the silent ones stay for the whole test
        try (ChannelHost host = ChannelHost.bind(socket, options)) {
            HostedSpscChannel orders = host.spsc("orders", SpscOptions.of(4096));
            orders.onDetach(released::add);
            honestAttach(socket, orders); // warm-up
            Adversarial.Resources base = Adversarial.Resources.now();
            try (ChildJvm flooder = ChildJvm.launcher(ConnectionFlood.class).prefix(List.of("/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
                    "--clear-groups"))
                    .classPathCopiedReadableTo(dir).start(socket.toString(), Integer.toString(flood))) {
                String started = flooder.awaitLine("STARTED", CHILD_TIMEOUT_S);
                assertEquals("STARTED uid 65534", started);
                Adversarial.Resources withChild = Adversarial.Resources.now(); // + the child's pipes
                OutputStream toChild = flooder.stdin();
                say(toChild, "go");
                String held = flooder.awaitLine("HELD", CHILD_TIMEOUT_S);
                // Each connection beyond the cap was accepted and refused at once (bounded wait:
                // the last ones may still sit in the listener's backlog when the child says HELD).
                long deadline = System.nanoTime() + WAIT.toNanos();
                while (host.refusals(RefusalReason.CONNECTION_LIMIT) < flood - perUid && System.nanoTime() < deadline) {
                    LockSupport.parkNanos(1_000_000L); // polling a counter another thread raises; bounded
                }
                long refused = host.refusals(RefusalReason.CONNECTION_LIMIT);
                long keptFds = Adversarial.peerReachableFds() - withChild.fds();
                long threads = Adversarial.hostThreads();
                assertEquals(flood - perUid, refused, "every connection beyond " + perUid + " refused with CONNECTION_LIMIT");
                assertTrue(keptFds <= perUid, "the host keeps at most " + perUid + " of them: " + keptFds + " fds more");
                assertEquals(1, threads, "one host thread");
                // An honest peer of the test's own uid is served at once, while the flood holds its connections.
                long t0 = System.nanoTime();
                honestAttach(socket, orders);
                double attachMs = (System.nanoTime() - t0) / 1e6;
                assertTrue(attachMs < 1_000, "honest attach took " + attachMs + " ms under the flood");
                assertEquals(1, Adversarial.hostThreads(), "one host thread");
                say(toChild, "release");
                flooder.awaitLine("RELEASED", CHILD_TIMEOUT_S);
                assertEquals(0, flooder.waitFor(CHILD_TIMEOUT_S), flooder.output());
                toChild.close();
                System.out.printf("[HostExhaustionTest] flood of %d silent connections from uid 65534 (%s): host kept %d fds"
                                + " (cap %d per uid), refused %d with CONNECTION_LIMIT, %d host thread; honest attach + message"
                                + " under the flood in %.1f ms%n", flood, held, keptFds, perUid, refused, threads, attachMs);
            }
            Adversarial.Resources after = Adversarial.awaitBaseline(base, WAIT);
            assertEquals(base, after, "after the flood: delta " + after.minus(base));
            honestAttach(socket, orders);
        }
    }

    /**
     * Thousands of connections opened and closed at once (some before the host accepts them):
     * the host's fds and threads come back to where they were, and it still serves.
     */
    @Test
    void connectCloseCyclesLeaveNothingBehind() throws Exception {
        long cycles = Adversarial.byMode(5_000, 50_000);
        Path socket = tmp.resolve("cycles.sock");
        try (Adversarial.LogCapture logs = new Adversarial.LogCapture();
             ChannelHost host = ChannelHost.bind(socket)) {
            HostedSpscChannel orders = host.spsc("orders", SpscOptions.of(4096));
            orders.onDetach(released::add);
            honestAttach(socket, orders);
            Adversarial.Resources base = Adversarial.Resources.now();
            long t0 = System.nanoTime();
            long maxThreads = 0;
            for (long i = 0; i < cycles; i++) {
                RawClient.connect(socket).close();
                if (i % 500 == 0) {
                    maxThreads = Math.max(maxThreads, Adversarial.hostThreads());
                }
            }
            double ms = (System.nanoTime() - t0) / 1e6;
            Adversarial.Resources after = Adversarial.awaitBaseline(base, WAIT);
            assertEquals(base, after, "after " + cycles + " connect/close cycles: delta " + after.minus(base));
            assertEquals(1, maxThreads, "one host thread throughout");
            honestAttach(socket, orders);
            assertEquals(List.of(), logs.failures(), "the host logged failures");
            System.out.printf("[HostExhaustionTest] %d connect/close cycles in %.0f ms; back to baseline (%s); host: %s%n",
                    cycles, ms, after, logs.summary());
        }
    }

    /**
     * A host in a process limited to 256 fds ({@code ulimit -n}), flooded past the limit with
     * connections: it sheds what it cannot accept instead of spinning on the ready listener (its
     * CPU time grows by well under the flood's wall time), says so once per 10 s instead of once
     * per attempt, and once the flood's connections are closed an honest peer is served again.
     */
    @Test
    void aHostOutOfFdsDoesNotSpinLogsBoundedlyAndRecoversWhenTheFloodEnds() throws Exception {
        Path socket = tmp.resolve("lowfd.sock");
        Duration window = Duration.ofMillis(Adversarial.byMode(3_000, 15_000));
        String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // sh lowers its fd limit and exec's the JVM: the host's pid is the one we started
        List<String> command = List.of("sh", "-c", "ulimit -n 256 && exec \"$0\" \"$@\"", java, "--enable-native-access=ALL-UNNAMED",
                "-Xmx128m", "-cp", System.getProperty("java.class.path"), LowFdHost.class.getName(), socket.toString(), "60000");
        try (ChildJvm host = ChildJvm.watch(new ProcessBuilder(command))) {
            String ready = host.awaitLine("READY", CHILD_TIMEOUT_S);
            long pid = host.pid();
            assertEquals("READY " + pid, ready, "the host is the JVM that sh exec'd");
            assertTrue(Files.readAllLines(Path.of("/proc/" + pid + "/limits")).stream()
                    .anyMatch(l -> l.startsWith("Max open files") && l.matches(".*\\s256\\s+256\\s.*")), "the host's fd limit is 256");
            int socketsBefore = sockets(pid); // its listener
            honestAttach(socket);
            awaitSockets(pid, socketsBefore); // the host has seen the consumer go
            int fdsBefore = openFds(pid);
            long ticksPerSecond = clockTicksPerSecond();
            long cpu0 = cpuTicks(pid);
            long t0 = System.nanoTime();
            List<RawClient> flood = new ArrayList<>();
            long attempts = 0;
            long peakHostFds = 0;
            try {
                // Paced: bursts of connection attempts every 10 ms (not a busy loop on this side,
                // which would starve the host of CPU and hide a spin).
                while (System.nanoTime() - t0 < window.toNanos()) {
                    for (int i = 0; i < 40 && flood.size() < 3_000; i++) {
                        attempts++;
                        RawClient c = RawClient.tryConnect(socket);
                        if (c == null) {
                            break; // backlog full: the host is not accepting now
                        }
                        flood.add(c);
                    }
                    peakHostFds = Math.max(peakHostFds, openFds(pid));
                    LockSupport.parkNanos(10_000_000L); // pacing the flood, not waiting for anything
                }
                long wallNanos = System.nanoTime() - t0;
                long cpu = cpuTicks(pid) - cpu0;
                double cpuShare = cpu / (double) ticksPerSecond / (wallNanos / 1e9);
                List<String> warnings = host.lines("WARNING: host on");
                long outputLines = host.output().lines().count();
                System.out.printf("[HostExhaustionTest] host limited to 256 fds, flooded for %.1f s: %d attempts, %d connected,"
                                + " host peaked at %d fds; host CPU %.1f%% of the window; %d out-of-fds warnings, %d lines of output%n",
                        wallNanos / 1e9, attempts, flood.size(), peakHostFds, 100 * cpuShare, warnings.size(), outputLines);
                assertTrue(peakHostFds >= 250, "the flood took the host to its fd limit: peak " + peakHostFds);
                assertTrue(host.output().contains("cannot accept"), "the host said it ran out of fds:\n" + host.output());
                assertTrue(cpuShare < 0.5, "the host used " + Math.round(100 * cpuShare) + "% of a CPU while out of fds: it spins");
                long allowed = 1 + wallNanos / 10_000_000_000L + 1;
                assertTrue(host.output().split("cannot accept", -1).length - 1 <= allowed,
                        "out-of-fds warnings at most once per 10 s:\n" + host.output());
                assertTrue(outputLines <= 10 + 2 * allowed, "the host's output stays bounded: " + outputLines + " lines:\n" + host.output());
            } finally {
                flood.forEach(RawClient::close);
            }
            // Its accept pause is at most 200 ms (the longest back-off); then it serves at once.
            long t1 = System.nanoTime();
            honestAttach(socket);
            double recoverMs = (System.nanoTime() - t1) / 1e6;
            System.out.printf("[HostExhaustionTest] flood closed: honest attach served after %.0f ms%n", recoverMs);
            assertTrue(recoverMs < 1_000, "honest attach after the flood took " + recoverMs + " ms (longest accept pause: 200 ms)");
            awaitSockets(pid, socketsBefore);
            // The consumer that just left takes its position region with it, even though the
            // producer is idle: back to exactly the fds before the flood (the host closes them as
            // it sees the ends of stream: a bounded wait).
            long fdDeadline = System.nanoTime() + 5_000_000_000L;
            while (openFds(pid) > fdsBefore && System.nanoTime() < fdDeadline) {
                LockSupport.parkNanos(5_000_000L); // polling another process's fd count, bounded
            }
            assertEquals(fdsBefore, openFds(pid), "the host's fds after the flood");
            host.stdin().close(); // ends the host
            host.awaitLine("CLOSED", CHILD_TIMEOUT_S);
        }
    }

    private static void say(OutputStream to, String line) throws IOException {
        to.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        to.flush();
    }

    /**
     * An honest consumer attaches and gets messages through: two capacities' worth, so that the
     * producer passes a capacity check and the host may unmap the position regions of consumers
     * that left before (see AttachSoakTest: an idle SPSC producer makes the host keep them). Returns
     * once the host has let go of it (bounded).
     */
    private void honestAttach(Path socket, HostedSpscChannel channel) {
        io.sluice.channel.Attachment mine;
        try (Arena arena = Arena.ofConfined();
             ConsumerAttachment<SpscConsumer> c = Channels.spsc(socket, "orders", WAIT)) {
            mine = channel.consumer();
            MemorySegment m = arena.allocate(64);
            long deadline = System.nanoTime() + WAIT.toNanos();
            for (long i = 1; i <= 2 * 4096 / 64 + 2; i++) {
                m.set(ValueLayout.JAVA_LONG_UNALIGNED, 0, i);
                assertTrue(channel.producer().offer(1, m, 0, 64), "room for message " + i);
                long[] got = {0};
                while (c.poll((t, p) -> got[0] = p.get(ValueLayout.JAVA_LONG_UNALIGNED, 0), 1) == 0) {
                    assertTrue(System.nanoTime() < deadline, "message " + i + " did not come");
                    Thread.onSpinWait();
                }
                assertEquals(i, got[0]);
            }
        }
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!released.contains(mine)) {
            assertTrue(System.nanoTime() < deadline, "the host did not let go of " + mine + " within " + WAIT);
            Thread.onSpinWait();
        }
    }

    /** An honest consumer attaches (the producer is in another process). */
    private static void honestAttach(Path socket) {
        try (ConsumerAttachment<SpscConsumer> c = Channels.spsc(socket, "orders", WAIT)) {
            assertTrue(c.isHostAlive());
        }
    }

    /** Waits (polling, bounded) until the host has {@code expected} sockets open: every connection closed. */
    private static void awaitSockets(long pid, int expected) throws IOException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        int sockets;
        while ((sockets = sockets(pid)) != expected && System.nanoTime() < deadline) {
            LockSupport.parkNanos(5_000_000L); // polling the host's socket count; bounded
        }
        assertEquals(expected, sockets, "the host's sockets (its listener, no connection)");
    }

    private static int sockets(long pid) throws IOException {
        try (Stream<Path> s = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            return (int) s.filter(p -> {
                try {
                    return Files.readSymbolicLink(p).toString().startsWith("socket:");
                } catch (IOException e) {
                    return false;
                }
            }).count();
        }
    }

    private static int openFds(long pid) throws IOException {
        try (Stream<Path> s = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            return (int) s.count();
        }
    }

    /** utime + stime of a process, in clock ticks ({@code /proc/<pid>/stat} fields 14 and 15). */
    private static long cpuTicks(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]); // fields 14, 15 counted from 1, the first two before ')'
    }

    private static long clockTicksPerSecond() throws Exception {
        Process p = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
        p.waitFor();
        return out.matches("\\d+") ? Long.parseLong(out) : 100;
    }
}
