package io.sluice.channel;

import io.sluice.api.AttachRefusedException;
import io.sluice.api.BroadcastPolicy;
import io.sluice.api.MessageProducer;
import io.sluice.api.RefusalReason;
import io.sluice.fdpassing.ReceivedMessage;
import io.sluice.fdpassing.SeqPacketSocket;
import io.sluice.testing.ChildJvm;
import jdk.jfr.Configuration;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The channel layer's control-path events, as a JFR recording and as log lines: a child JVM
 * attaches, a second consumer is refused, the child is killed with SIGKILL and its hang-up is
 * noticed; each is recorded once, with the peer's pid and the channel's name.
 */
class ChannelEventsTest {
    private static final long TIMEOUT_S = 20;
    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    /** What the scenario saw: the child's pid. */
    private long scenario(Path socket, String name) throws Exception {
        try (ChannelHost host = ChannelHost.bind(socket)) {
            HostedSpscChannel ch = host.spsc(name, SpscOptions.of(4096));
            CompletableFuture<Attachment> detached = new CompletableFuture<>();
            ch.onDetach(detached::complete);
            try (ChildJvm child = ChildJvm.start(ChannelPeer.class, "spsc-hold", socket.toString(), name, "1")) {
                child.awaitLine("ATTACHED", TIMEOUT_S);
                AttachRefusedException e = assertThrows(AttachRefusedException.class, () -> Channels.spsc(socket, name).close());
                assertEquals(RefusalReason.CHANNEL_FULL, e.reason());
                child.kill(); // SIGKILL: the host notices the hang-up on its socket
                Attachment gone = detached.get(TIMEOUT_S, TimeUnit.SECONDS);
                assertEquals(child.pid(), gone.peer().pid());
                return child.pid();
            }
        }
    }

    @Test
    void aRecordingWithTheDefaultSettingsHoldsTheAttachTheRefusalAndTheDetachOfAKilledPeer() throws Exception {
        String name = "jfr-orders";
        Path file = dir.resolve("rec.jfr");
        long childPid;
        try (Recording recording = new Recording(Configuration.getConfiguration("default"))) {
            recording.start();
            childPid = scenario(dir.resolve("jfr.sock"), name);
            recording.stop();
            recording.dump(file);
        }
        List<RecordedEvent> events = sluiceEvents(file, name);
        assertEquals(List.of("io.sluice.Attach", "io.sluice.Refusal", "io.sluice.Detach"),
                events.stream().map(e -> e.getEventType().getName()).toList(), events.toString());

        RecordedEvent attach = events.get(0);
        assertEquals(childPid, attach.getInt("pid"));
        assertEquals("SPSC", attach.getString("kind"));
        assertEquals("CONSUMER", attach.getString("role"));
        assertEquals("Sluice", attach.getEventType().getCategoryNames().get(0));

        RecordedEvent refusal = events.get(1);
        assertEquals("CHANNEL_FULL", refusal.getString("reason"));
        assertEquals(ProcessHandle.current().pid(), refusal.getInt("pid"));

        RecordedEvent detach = events.get(2);
        assertEquals(childPid, detach.getInt("pid"));
        assertEquals("HANG_UP", detach.getString("cause"));
        assertEquals(attach.getLong("attachment"), detach.getLong("attachment"));
    }

    @Test
    void theClaimOfAKilledMpmcProducerIsRecordedAsItsDetachAndItsRecovery() throws Exception {
        String name = "jfr-work";
        Path socket = dir.resolve("mpmc.sock");
        Path file = dir.resolve("mpmc.jfr");
        long childPid;
        int participant;
        try (Recording recording = new Recording(Configuration.getConfiguration("default"))) {
            recording.start();
            try (ChannelHost host = ChannelHost.bind(socket)) {
                HostedMpmcChannel ch = host.mpmc(name, MpmcOptions.of(64, 64).maxParticipants(4));
                CompletableFuture<Attachment> detached = new CompletableFuture<>();
                ch.onDetach(detached::complete);
                try (ChildJvm dying = ChildJvm.start(ChannelPeer.class, "mpmc-claim-die", socket.toString(), name)) {
                    String claimed = dying.awaitLine("CLAIMED", TIMEOUT_S); // "CLAIMED <participant id>"
                    participant = Integer.parseInt(claimed.substring("CLAIMED ".length()).trim());
                    childPid = dying.pid();
                    dying.kill(); // with its claim open
                    assertEquals(childPid, detached.get(TIMEOUT_S, TimeUnit.SECONDS).peer().pid());
                }
            }
            recording.stop();
            recording.dump(file);
        }
        List<RecordedEvent> events = sluiceEvents(file, name);
        assertEquals(List.of("io.sluice.Attach", "io.sluice.Detach", "io.sluice.Recovery"),
                events.stream().map(e -> e.getEventType().getName()).toList(), events.toString());
        assertEquals("PRODUCER", events.get(0).getString("role"));
        assertEquals(childPid, events.get(1).getInt("pid"));
        assertEquals("HANG_UP", events.get(1).getString("cause"));
        RecordedEvent recovery = events.get(2);
        assertEquals("MPMC", recovery.getString("kind"));
        assertEquals(participant, recovery.getInt("participant"));
        assertEquals(1, recovery.getInt("claimsAborted"));
        assertEquals(0, recovery.getInt("takesReleased"));
        assertTrue(recovery.getString("who").contains("pid " + childPid), recovery.getString("who"));
    }

    @Test
    void theLogSaysWhoAttachedWasRefusedAndLeftWithPeerTextEscaped() throws Exception {
        String name = "log-orders";
        Path socket = dir.resolve("log.sock");
        long childPid;
        String hostile = "orders\n2026-12-05 INFO attach \u001b[2Jroot";
        try (JulCapture log = new JulCapture()) {
            childPid = scenario(socket, name);
            try (ChannelHost host = ChannelHost.bind(dir.resolve("hostile.sock"))) {
                host.spsc("orders", SpscOptions.of(4096));
                try (SeqPacketSocket s = SeqPacketSocket.connect(dir.resolve("hostile.sock"))) {
                    s.send(PeerTextTest.rawHello(hostile.getBytes(StandardCharsets.UTF_8)));
                    try (ReceivedMessage m = s.receive(HandshakeDescriptor.MAX_MESSAGE_BYTES, 0, WAIT)) {
                        assertEquals(RefusalReason.MALFORMED, Handshake.decodeRefuse(m.data(), "host").reason());
                    }
                }
            }
            List<String> lines = log.lines();
            long me = ProcessHandle.current().pid();
            assertOne(lines, "INFO: attach: channel '" + name + "' SPSC CONSUMER #", " peer pid " + childPid + " uid ");
            assertOne(lines, "WARNING: refusal: channel '" + name + "' peer pid " + me + " uid ", " reason CHANNEL_FULL: ");
            assertOne(lines, "INFO: detach: channel '" + name + "' SPSC CONSUMER #", " peer pid " + childPid + " uid ",
                    " cause HANG_UP: the peer closed its connection or died");
            String malformed = assertOne(lines, "WARNING: refusal: channel (none) peer pid " + me, " reason MALFORMED: ");
            // the text the peer was told quotes its name escaped; the log line escapes that text once more
            assertTrue(malformed.contains("orders\\\\n2026-12-05 INFO attach \\\\x1b[2Jroot"), malformed);
            for (String l : lines) {
                assertFalse(l.contains("\u001b") || l.startsWith("2026-12-05"), "a forged line reached the log: " + l);
            }
        }
    }

    @Test
    void aStallBeyondTheThresholdIsLoggedOnceNamingTheConsumerAndRecordedWhenACommitEndsIt() throws Exception {
        String name = "stall-orders";
        Path socket = dir.resolve("stall.sock");
        Path file = dir.resolve("stall.jfr");
        Duration threshold = Duration.ofMillis(200);
        long childPid;
        long attachment;
        long refused;
        List<String> lines;
        try (Recording recording = new Recording(Configuration.getConfiguration("default")); JulCapture log = new JulCapture()) {
            recording.start();
            try (ChannelHost host = ChannelHost.bind(socket, HostOptions.defaults().stallLogThreshold(threshold))) {
                HostedSpscChannel ch = host.spsc(name, SpscOptions.of(4096));
                try (ChildJvm child = ChildJvm.start(ChannelPeer.class, "spsc-stop", socket.toString(), name, "2")) {
                    child.awaitLine("ATTACHED", TIMEOUT_S);
                    childPid = child.pid();
                    attachment = ch.consumer().id();
                    var producer = ch.producer();
                    long seq = 0;
                    while (seq < 2) {
                        seq += produce(producer, seq) ? 1 : 0;
                    }
                    child.awaitLine("HELD 2", TIMEOUT_S);
                    while (produce(producer, seq)) { // the child reads no more: this ends at the first refusal
                        seq++;
                    }
                    String stallLine = "WARNING: stall: channel '" + name + "' SPSC producer held back for ";
                    await(() -> lines(log).stream().anyMatch(l -> l.startsWith(stallLine)), "the stall's line");
                    // Several watch ticks later, and more refusals: still the one line.
                    await(() -> producer.counters().stalledNanos(System.nanoTime()) >= 5 * threshold.toNanos(), "a long stall");
                    assertFalse(produce(producer, seq));
                    refused = producer.counters().refusedClaims();
                    child.stdin().write("go\n".getBytes(StandardCharsets.UTF_8));
                    child.stdin().flush();
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_S);
                    while (!produce(producer, seq)) {
                        assertTrue(System.nanoTime() < deadline, "the producer never found room again");
                        Thread.onSpinWait();
                    }
                    await(() -> lines(log).stream().anyMatch(l -> l.startsWith("INFO: stall ended: channel '" + name + "'")),
                            "the stall's end");
                }
            }
            recording.stop();
            recording.dump(file);
            lines = log.lines();
        }
        String who = " by CONSUMER #" + attachment + " peer pid " + childPid + " uid ";
        String report = assertOne(lines, "WARNING: stall: channel '" + name + "' SPSC producer held back for ", who, " claims refused");
        assertTrue(report.matches(".* at position [1-9][0-9]*, [1-9][0-9]* bytes behind the producer; [1-9][0-9]* claims refused"),
                report);
        assertOne(lines, "INFO: stall ended: channel '" + name + "' SPSC producer was held back for ", who);

        List<RecordedEvent> stalls = sluiceEvents(file, name).stream()
                .filter(e -> e.getEventType().getName().equals("io.sluice.Stall")).toList();
        assertEquals(1, stalls.size(), stalls.toString());
        RecordedEvent stall = stalls.get(0);
        assertEquals(childPid, stall.getInt("pid"));
        assertEquals(attachment, stall.getLong("attachment"));
        assertEquals("SPSC", stall.getString("kind"));
        assertEquals("COMMIT", stall.getString("end"));
        assertTrue(stall.getDuration("stalled").compareTo(threshold.multipliedBy(5)) >= 0, stall.toString());
        assertTrue(stall.getLong("refusedClaims") >= refused, stall.toString()); // and those while the child drained
        assertTrue(stall.getLong("lag") > 0 && stall.getLong("lag") <= 4096, stall.toString());
    }

    @Test
    void aBroadcastStallOpenWhenItsChannelClosesIsRecordedWithTheConsumerThatHeldIt() throws Exception {
        String name = "stall-quotes";
        Path socket = dir.resolve("bstall.sock");
        Path file = dir.resolve("bstall.jfr");
        long childPid;
        long attachment;
        List<String> lines;
        try (Recording recording = new Recording(Configuration.getConfiguration("default")); JulCapture log = new JulCapture()) {
            recording.start();
            try (ChannelHost host = ChannelHost.bind(socket, HostOptions.defaults().stallLogThreshold(Duration.ofMillis(100)))) {
                HostedBroadcastChannel ch = host.broadcast(name, BroadcastOptions.of(BroadcastPolicy.BACK_PRESSURE, 4096));
                try (ChildJvm child = ChildJvm.start(ChannelPeer.class, "bcast-stop", socket.toString(), name)) {
                    child.awaitLine("ATTACHED", TIMEOUT_S);
                    childPid = child.pid();
                    attachment = ch.attachments().get(0).id();
                    long seq = 0;
                    while (produce(ch.producer(), seq)) {
                        seq++;
                    }
                    await(() -> lines(log).stream().anyMatch(l -> l.startsWith("WARNING: stall: channel '" + name + "'")),
                            "the stall's line");
                    ch.close();
                    child.stdin().write("go\n".getBytes(StandardCharsets.UTF_8)); // now it reads: the host is gone
                    child.stdin().flush();
                    child.awaitLine("DETACHED CHANNEL_CLOSED", TIMEOUT_S);
                }
            }
            recording.stop();
            recording.dump(file);
            lines = log.lines();
        }
        String who = " by CONSUMER #" + attachment + " peer pid " + childPid + " uid ";
        assertOne(lines, "WARNING: stall: channel '" + name + "' BROADCAST_BACKPRESSURE producer held back for ", who,
                " at position 0, ");
        assertOne(lines, "INFO: stall ended: channel '" + name + "' BROADCAST_BACKPRESSURE producer was held back for ", who,
                "; the channel closed");
        List<RecordedEvent> stalls = sluiceEvents(file, name).stream()
                .filter(e -> e.getEventType().getName().equals("io.sluice.Stall")).toList();
        assertEquals(1, stalls.size(), stalls.toString());
        assertEquals("CHANNEL_CLOSED", stalls.get(0).getString("end"));
        assertEquals(childPid, stalls.get(0).getInt("pid"));
        assertEquals(0, stalls.get(0).getLong("position"));
    }

    @Test
    void aBroadcastConsumersLapsAreRecordedAsTheHostSeesItsPublishedCountRise() throws Exception {
        String name = "lap-quotes";
        Path socket = dir.resolve("lap.sock");
        Path file = dir.resolve("lap.jfr");
        long childPid;
        long laps;
        long lost;
        try (Recording recording = new Recording(Configuration.getConfiguration("default"))) {
            recording.start();
            try (ChannelHost host = ChannelHost.bind(socket, HostOptions.defaults().stallLogThreshold(Duration.ofMillis(100)))) {
                HostedBroadcastChannel ch = host.broadcast(name, BroadcastOptions.of(BroadcastPolicy.OVERWRITE, 4096));
                try (ChildJvm child = ChildJvm.start(ChannelPeer.class, "bcast-lap", socket.toString(), name)) {
                    child.awaitLine("ATTACHED", TIMEOUT_S);
                    childPid = child.pid();
                    for (long seq = 0; seq < 1000; seq++) { // far more than the ring holds: the child is lapped
                        assertTrue(produce(ch.producer(), seq));
                    }
                    child.stdin().write("go\n".getBytes(StandardCharsets.UTF_8));
                    child.stdin().flush();
                    String[] counts = child.awaitLine("LAPS ", TIMEOUT_S).split(" ");
                    laps = Long.parseLong(counts[1]);
                    lost = Long.parseLong(counts[2]);
                    assertTrue(laps >= 1 && lost >= 1, String.join(" ", counts));
                    await(() -> ch.lapsSeen() == laps, "the host to see " + laps + " laps");
                    child.stdin().close();
                    assertEquals(0, child.waitFor(TIMEOUT_S), child.output());
                }
            }
            recording.stop();
            recording.dump(file);
        }
        List<RecordedEvent> lapEvents = sluiceEvents(file, name).stream()
                .filter(e -> e.getEventType().getName().equals("io.sluice.Lap")).toList();
        assertFalse(lapEvents.isEmpty());
        assertEquals(laps, lapEvents.stream().mapToLong(e -> e.getLong("laps")).sum(), lapEvents.toString());
        assertEquals(lost, lapEvents.stream().mapToLong(e -> e.getLong("lost")).sum(), lapEvents.toString());
        RecordedEvent last = lapEvents.get(lapEvents.size() - 1);
        assertEquals(laps, last.getLong("totalLaps"));
        assertEquals(childPid, last.getInt("pid"));
        assertEquals("BROADCAST_OVERWRITE", last.getString("kind"));
        assertEquals("CONSUMER", last.getString("role"));
    }

    /** One message carrying {@code seq}; false if the ring had no room. */
    static boolean produce(MessageProducer producer, long seq) {
        long at = producer.tryClaim(1, 56);
        if (at < 0) {
            return false;
        }
        producer.buffer().set(JAVA_LONG_UNALIGNED, at, seq);
        producer.commit(at);
        return true;
    }

    /** Waits for {@code condition}, looking every few milliseconds, at most the test's timeout. */
    static void await(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_S);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("waited " + TIMEOUT_S + " s for " + what);
            }
            LockSupport.parkNanos(5_000_000L);
        }
    }

    static List<String> lines(JulCapture log) {
        try {
            return log.lines();
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    /** The one line that starts with {@code start} (after its level) and contains each of {@code parts}. */
    static String assertOne(List<String> lines, String start, String... parts) {
        List<String> found = lines.stream().filter(l -> l.startsWith(start)).toList();
        assertEquals(1, found.size(), "lines starting '" + start + "' in:\n" + String.join("\n", lines));
        for (String p : parts) {
            assertTrue(found.get(0).contains(p), found.get(0) + " should contain " + p);
        }
        return found.get(0);
    }

    /** The Sluice events of channel {@code name} in {@code file}, oldest first: other tests of this JVM may host channels meanwhile. */
    static List<RecordedEvent> sluiceEvents(Path file, String name) throws Exception {
        List<RecordedEvent> events = new ArrayList<>();
        for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
            if (e.getEventType().getName().startsWith("io.sluice.") && name.equals(e.getString("channel"))) {
                events.add(e);
            }
        }
        events.sort(Comparator.comparing(RecordedEvent::getStartTime));
        return events;
    }

    /**
     * What the {@code io.sluice.channel} logger says while open, one entry per record as
     * {@code "LEVEL: message"} (java.util.logging, the System.Logger backend, reached reflectively:
     * this module does not read java.logging).
     */
    static final class JulCapture extends OutputStream implements AutoCloseable {
        private final Class<?> loggerClass;
        private final Object logger; // held: java.util.logging keeps loggers weakly
        private final Object handler;
        private final StringBuilder text = new StringBuilder();

        JulCapture() throws ReflectiveOperationException {
            loggerClass = Class.forName("java.util.logging.Logger");
            logger = loggerClass.getMethod("getLogger", String.class).invoke(null, ChannelEvents.LOGGER);
            Class<?> formatter = Class.forName("java.util.logging.Formatter");
            handler = Class.forName("java.util.logging.StreamHandler").getConstructor(OutputStream.class, formatter)
                    .newInstance(this, Class.forName("java.util.logging.SimpleFormatter").getConstructor().newInstance());
            loggerClass.getMethod("addHandler", Class.forName("java.util.logging.Handler")).invoke(logger, handler);
        }

        @Override
        public synchronized void write(int b) {
            text.append((char) b);
        }

        /** The message lines ("LEVEL: message"), without SimpleFormatter's date-and-source lines. */
        List<String> lines() throws ReflectiveOperationException {
            handler.getClass().getMethod("flush").invoke(handler);
            synchronized (this) {
                return text.toString().lines().filter(l -> !l.isEmpty()).toList();
            }
        }

        @Override
        public void close() {
            try {
                lines();
                loggerClass.getMethod("removeHandler", Class.forName("java.util.logging.Handler")).invoke(logger, handler);
            } catch (ReflectiveOperationException e) {
                throw new AssertionError(e);
            }
        }
    }
}
