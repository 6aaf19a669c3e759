package io.sluice.channel;

import io.sluice.api.AttachRefusedException;
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

    /** The one line that starts with {@code start} (after its level) and contains each of {@code parts}. */
    private static String assertOne(List<String> lines, String start, String... parts) {
        List<String> found = lines.stream().filter(l -> l.startsWith(start)).toList();
        assertEquals(1, found.size(), "lines starting '" + start + "' in:\n" + String.join("\n", lines));
        for (String p : parts) {
            assertTrue(found.get(0).contains(p), found.get(0) + " should contain " + p);
        }
        return found.get(0);
    }

    /** The Sluice events of channel {@code name} in {@code file}, oldest first: other tests of this JVM may host channels meanwhile. */
    private static List<RecordedEvent> sluiceEvents(Path file, String name) throws Exception {
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
