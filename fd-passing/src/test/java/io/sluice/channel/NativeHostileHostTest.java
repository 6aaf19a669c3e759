package io.sluice.channel;

import io.sluice.memfd.OwnedFd;
import io.sluice.api.RefusalReason;
import io.sluice.fdpassing.ReceivedMessage;
import io.sluice.fdpassing.SeqPacketSocket;
import io.sluice.memfd.MemfdRegion;
import io.sluice.memfd.Seal;
import io.sluice.memfd.libc.FdCalls;
import io.sluice.memfd.libc.MemfdCalls;
import io.sluice.ringbuffer.SpscProducer;
import io.sluice.api.RingKind;
import io.sluice.ringbuffer.SpscRing;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.sluice.channel.NativeFakeHost.DETACH;
import static io.sluice.channel.NativeFakeHost.SpscRegion;
import static io.sluice.channel.NativeFakeHost.reasonMessage;
import static io.sluice.channel.NativeFakeHost.receivePosition;
import static io.sluice.channel.NativeFakeHost.reopen;
import static io.sluice.channel.NativeFakeHost.spscRegion;
import static io.sluice.channel.NativeFakeHost.welcomeSpsc;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The C client against a host that lies, made by hand ({@link NativeFakeHost}): a memfd shrunk
 * between the client's checks, DETACH with a reason, texts full of control characters, and every
 * kind of malformed answer over many attaches — after which the client holds no fd more than
 * before. The C side runs under ASan and UBSan.
 */
class NativeHostileHostTest {
    private static final long TIMEOUT_S = 60;
    private static final int CAPACITY = 4096;
    private static final int WAKE_FLAG = HandshakeDescriptor.WELCOME_FLAG_BLOCKING_WAKE;
    private static final int REFUSE = HandshakeDescriptor.REFUSE;

    @TempDir
    Path dir;

    /** "REFUSED NAME code before after: message": the fds open in the C process before and after its attach are equal. */
    private static void assertNoFdLeak(String refusedLine) {
        String[] f = refusedLine.split(":")[0].split(" ");
        assertEquals(f[3], f[4], "fds open in the C process before and after the failed attach: " + refusedLine);
    }

    @Test
    void aSizeReadBeforeTheSealsIsNeverUsedEvenIfTheHostShrinksAndSealsTheMemfdBetweenTheChecks() throws Exception {
        Path socket = dir.resolve("race.sock");
        Path go = dir.resolve("go");
        try (NativeFakeHost host = NativeFakeHost.bind(socket);
             SpscRegion ring = spscRegion("test.race", CAPACITY); // unsealed, so that this host can still shrink it
             NativeChild c = NativeChild.start(NativeChild.SANITIZED, "sluice_peer", "refused", socket.toString(), "orders",
                     "CONSUMER", "5000", "pause-at", "data-region-before-seals", go.toString());
             SeqPacketSocket conn = host.acceptHello()) {
            conn.send(welcomeSpsc(CAPACITY, 0), ring.fd());
            // The client has checked the fd's type and target and is about to read its seals: the
            // hostile host's moment. It shrinks the memfd to nothing, then seals it as promised.
            String paused = c.awaitLine("PAUSED", TIMEOUT_S);
            assertTrue(paused.startsWith("PAUSED data-region-before-seals fd "), paused);
            ring.fd().use(n -> MemfdCalls.ftruncate(n, 0));
            ring.region().addSeals(Seal.SHRINK, Seal.GROW, Seal.FUTURE_WRITE);
            Files.createFile(go);
            // A client that used a size read before the seals would map 4224 bytes of an empty file and
            // die of SIGBUS on the ring header; this one reads the size once it is final.
            String line = c.awaitLine("REFUSED", TIMEOUT_S);
            c.assertExitsCleanly(TIMEOUT_S);
            assertTrue(line.startsWith("REFUSED SLUICE_EREGION 0 ")
                    && line.endsWith(": memfd 'sluice:test.race' (the data region) is 0 bytes, the host promised 4224"), line);
            assertNoFdLeak(line);
        }
    }

    @Test
    void detachReasonAndEscapedTextExplainTheHostsEndOfStreamToAReadOnlyConsumer() throws Exception {
        byte[] text = "consumer position 4100 is not a multiple of 8\n\u001b[2J".getBytes(StandardCharsets.UTF_8);
        String shown = "consumer position 4100 is not a multiple of 8\\n\\x1b[2J";
        detachCase(false, 12, "BAD_POSITION", text, shown, "");
        detachCase(true, 13, "CHANNEL_CLOSED", "host shutting down".getBytes(StandardCharsets.UTF_8), "host shutting down",
                "; every message it committed was delivered");
    }

    /**
     * The hardened host's hand-over: an O_RDONLY data fd
     * sealed SHRINK|GROW|FUTURE_WRITE|SEAL; three messages; then DETACH and the end of the connection.
     */
    private void detachCase(boolean block, int reason, String reasonName, byte[] text, String shown, String suffix)
            throws Exception {
        Path socket = dir.resolve("detach-" + block + ".sock");
        try (NativeFakeHost host = NativeFakeHost.bind(socket);
             SpscRegion ring = spscRegion("test.detach", CAPACITY, Seal.SHRINK, Seal.GROW, Seal.FUTURE_WRITE, Seal.SEAL)) {
            OwnedFd readOnly = reopen(ring.fd(), FdCalls.O_RDONLY);
            try (NativeChild c = block
                    ? NativeChild.start(NativeChild.SANITIZED, "sluice_peer", "until-gone", socket.toString(), "orders", "block")
                    : NativeChild.start(NativeChild.SANITIZED, "sluice_peer", "until-gone", socket.toString(), "orders");
                 SeqPacketSocket conn = host.acceptHello();
                 MemfdRegion position = NativeFakeHost.serveSpscConsumer(conn, CAPACITY, block ? WAKE_FLAG : 0, readOnly)) {
                assertEquals("ATTACHED 1 data fd O_RDONLY", c.awaitLine("ATTACHED", TIMEOUT_S));
                // The client's own region: sealed for good (F_SEAL_SEAL after the others) and 0600.
                assertTrue(position.seals().containsAll(Set.of(Seal.SHRINK, Seal.GROW, Seal.FUTURE_WRITE, Seal.SEAL)),
                        "position region seals " + position.seals());
                assertEquals(0600, position.fd().apply(FdCalls::fstat).mode() & 07777, "position region mode");
                SpscProducer producer = SpscRing.attachProducer(ring.writable(), position.mapReadOnly(), "orders");
                for (long seq = 0; seq < 3; seq++) {
                    NativeSpscTest.send(producer, 5, seq, 64, c);
                }
                conn.send(reasonMessage(DETACH, reason, text));
                conn.close();
                String gone = c.awaitLine("HOSTGONE", TIMEOUT_S);
                c.assertExitsCleanly(TIMEOUT_S);
                assertEquals("HOSTGONE SLUICE_EHOSTGONE refusal " + reason + " after 3 messages: spsc ring 'orders': host "
                        + "detached this consumer: " + reasonName + ": " + shown + suffix, gone);
            } finally {
                readOnly.close();
            }
        }
    }

    /** A DETACH where READY was due (the host closed the channel in between) is a refusal with its reason. */
    @Test
    void aDetachWhereReadyWasDueIsARefusalWithItsReason() throws Exception {
        Path socket = dir.resolve("detach-at-ready.sock");
        try (NativeFakeHost host = NativeFakeHost.bind(socket);
             SpscRegion ring = spscRegion("test.detach-at-ready", CAPACITY, Seal.SHRINK, Seal.GROW, Seal.FUTURE_WRITE);
             NativeChild c = NativeChild.start(NativeChild.SANITIZED, "sluice_peer", "refused", socket.toString(),
                     "orders", "CONSUMER", "5000");
             SeqPacketSocket conn = host.acceptHello()) {
            conn.send(NativeFakeHost.welcomeSpsc(CAPACITY, 0), ring.fd());
            NativeFakeHost.receivePosition(conn).close();
            conn.send(reasonMessage(DETACH, 13, "channel 'orders' was closed by its host".getBytes(StandardCharsets.UTF_8)));
            String line = c.awaitLine("REFUSED", TIMEOUT_S);
            c.assertExitsCleanly(TIMEOUT_S);
            assertTrue(line.startsWith("REFUSED CHANNEL_CLOSED 13 ")
                    && line.endsWith(": attaching to 'orders' refused (CHANNEL_CLOSED): channel 'orders' was closed by its host"), line);
            assertNoFdLeak(line);
        }
    }

    @Test
    void refusalTextsAreEscapedAndTheNewReasonCodesHaveNames() throws Exception {
        ByteArrayOutputStream hostile = new ByteArrayOutputStream();
        hostile.writeBytes("line one\nline two \u001b[31mred\u001b[0m ".getBytes(StandardCharsets.UTF_8));
        hostile.writeBytes(new byte[] {(byte) 0xff, (byte) 0xfe, ' ', (byte) 0xe2, (byte) 0x82}); // not UTF-8; a cut sequence
        hostile.writeBytes(" \u202eevil\\ \u00e9t\u00e9\r\t\u0000\u0085".getBytes(StandardCharsets.UTF_8));
        String shown = "line one\\nline two \\x1b[31mred\\x1b[0m \\xff\\xfe \\xe2\\x82 \\u202eevil\\\\ \u00e9t\u00e9\\r\\t\\x00\\u0085";
        Map<Integer, String> reasons = new LinkedHashMap<>();
        reasons.put(10, "CONNECTION_LIMIT");
        reasons.put(11, "CHANNEL_CORRUPT");
        reasons.put(12, "BAD_POSITION");
        reasons.put(13, "CHANNEL_CLOSED");
        reasons.put(14, "STUCK");
        reasons.put(99, "UNKNOWN_REASON");
        Path socket = dir.resolve("refuse.sock");
        try (NativeFakeHost host = NativeFakeHost.bind(socket)) {
            for (Map.Entry<Integer, String> r : reasons.entrySet()) {
                try (NativeChild c = NativeChild.start(NativeChild.SANITIZED, "sluice_peer", "refused", socket.toString(),
                        "orders", "CONSUMER", "5000");
                     SeqPacketSocket conn = host.acceptHello()) {
                    conn.send(reasonMessage(REFUSE, r.getKey(), hostile.toByteArray()));
                    String line = c.awaitLine("REFUSED", TIMEOUT_S);
                    c.assertExitsCleanly(TIMEOUT_S);
                    assertTrue(line.startsWith("REFUSED " + r.getValue() + " " + r.getKey() + " "), line);
                    assertTrue(line.endsWith(": attaching to 'orders' refused (" + r.getValue() + "): " + shown), line);
                    assertFalse(c.output().contains("\u001b") || c.output().contains("\r"), c.output());
                    assertTrue(c.lines("line two").isEmpty(), "the host's newline reached the output: " + c.output());
                    assertNoFdLeak(line);
                }
            }
        }
    }

    @Test
    void channelNamesOutsideTheNameRuleAreRefusedBeforeAnythingIsConnected() throws Exception {
        Path nowhere = dir.resolve("nobody-listens.sock");
        Map<String, String> names = new LinkedHashMap<>();
        names.put("bad name", "channel name \"bad name\" has byte 0x20 at 3: a name is printable ASCII (0x21..0x7E) "
                + "without spaces or '/'");
        names.put("md/eurusd", "channel name \"md/eurusd\" has byte 0x2f at 2");
        names.put("esc\u001b[31m", "channel name \"esc\\x1b[31m\" has byte 0x1b at 3");
        names.put("tab\there", "channel name \"tab\\there\" has byte 0x09 at 3");
        names.put("del\u007f", "channel name \"del\\x7f\" has byte 0x7f at 3");
        names.put("x".repeat(129), "channel name must be 1..128 bytes, was 129");
        for (Map.Entry<String, String> n : names.entrySet()) {
            try (NativeChild c = NativeChild.start(NativeChild.SANITIZED, "sluice_peer", "refused", nowhere.toString(),
                    n.getKey(), "CONSUMER")) {
                String line = c.awaitLine("REFUSED", TIMEOUT_S);
                c.assertExitsCleanly(TIMEOUT_S);
                assertTrue(line.startsWith("REFUSED SLUICE_EARGUMENT 0 ") && line.contains(n.getValue()), line);
                assertFalse(c.output().contains("\u001b"), c.output());
            }
        }
        // A good name gets as far as connecting (nobody listens there).
        try (NativeChild c = NativeChild.start(NativeChild.SANITIZED, "sluice_peer", "refused", nowhere.toString(),
                "md.eur-usd_1~x", "CONSUMER")) {
            String line = c.awaitLine("REFUSED", TIMEOUT_S);
            assertTrue(line.startsWith("REFUSED SLUICE_ESYSCALL 0 ") && line.contains("connect " + nowhere + ": ENOENT"), line);
        }
    }

    @FunctionalInterface
    private interface Behaviour {
        void serve(SeqPacketSocket conn) throws Exception;
    }

    @Test
    void theClientHoldsNoFdMoreAfterManyFailedAttachesWhateverTheHostSends() throws Exception {
        Path socket = dir.resolve("loop.sock");
        OwnedFd[] pipe = NativeFakeHost.pipe();
        try (NativeFakeHost host = NativeFakeHost.bind(socket);
             SpscRegion good = spscRegion("test.loop", CAPACITY, Seal.SHRINK, Seal.GROW, Seal.FUTURE_WRITE);
             SpscRegion unsealed = spscRegion("test.unsealed", CAPACITY)) {
            byte[] welcome = welcomeSpsc(CAPACITY, 0);
            byte[] tooBig = welcome.clone();
            ByteBuffer.wrap(tooBig).order(ByteOrder.LITTLE_ENDIAN).putLong(HandshakeDescriptor.WELCOME_DATA_SIZE_OFFSET, 1L << 31);
            byte[] badMagic = welcome.clone();
            badMagic[0] ^= 0x55;
            OwnedFd[] many = new OwnedFd[20];
            java.util.Arrays.fill(many, good.fd());
            Map<String, Behaviour> behaviours = new LinkedHashMap<>();
            behaviours.put("refuse-with-fds", conn -> conn.send(reasonMessage(REFUSE, 6, "no".getBytes()), pipe[0], pipe[1], good.fd()));
            behaviours.put("welcome-two-fds", conn -> conn.send(welcome, good.fd(), good.fd()));
            behaviours.put("welcome-twenty-fds", conn -> conn.send(welcome, many));
            behaviours.put("welcome-pipe", conn -> conn.send(welcome, pipe[0]));
            behaviours.put("welcome-unsealed", conn -> conn.send(welcome, unsealed.fd()));
            behaviours.put("welcome-too-big", conn -> conn.send(tooBig, good.fd()));
            behaviours.put("too-long-with-fds", conn -> conn.send(new byte[2000], pipe[0], pipe[1]));
            behaviours.put("bad-magic-with-fds", conn -> conn.send(badMagic, good.fd(), pipe[0]));
            // No SPSC record starts in the last 16 bytes of a 64-byte line: a start there is a lie.
            byte[] startInLineEnd = Handshake.welcome(new Handshake.Welcome(RingKind.SPSC, 0, SpscRing.regionSize(CAPACITY),
                    SpscRing.consumerPositionRegionSize(), SpscRing.maxMessageLength(CAPACITY), 0, 48));
            behaviours.put("welcome-start-at-line-end", conn -> conn.send(startInLineEnd, good.fd()));
            behaviours.put("refused-after-position", conn -> {
                conn.send(welcome, good.fd());
                try (ReceivedMessage m = receivePosition(conn)) {
                    conn.send(Handshake.refuse(RefusalReason.BAD_REGION, "not that one"));
                }
            });
            behaviours.put("ready-with-an-fd", conn -> {
                conn.send(welcome, good.fd());
                try (ReceivedMessage m = receivePosition(conn)) {
                    conn.send(Handshake.ready(0), pipe[0]);
                }
            });
            behaviours.put("hangs-up-before-ready", conn -> {
                conn.send(welcome, good.fd());
                try (ReceivedMessage m = receivePosition(conn)) {
                    conn.close();
                }
            });
            behaviours.put("attached-then-stray-fds-and-detach", conn -> {
                try (MemfdRegion position = NativeFakeHost.serveSpscConsumer(conn, CAPACITY, 0, good.fd())) {
                    conn.send(Handshake.position(384), pipe[0], pipe[1]);                      // stray, with fds
                    conn.send(reasonMessage(DETACH, 13, "with an fd".getBytes()), pipe[0]);   // a DETACH with an fd: not one
                    conn.send(reasonMessage(DETACH, 13, "closing".getBytes()));
                }
            });
            int rounds = 3;
            int n = rounds * behaviours.size();
            List<String> order = new ArrayList<>();
            for (int i = 0; i < rounds; i++) {
                order.addAll(behaviours.keySet());
            }
            try (NativeChild c = NativeChild.start(NativeChild.SANITIZED, "sluice_peer", "attach-loop", socket.toString(),
                    "orders", "CONSUMER", Integer.toString(n), "2000")) {
                CompletableFuture<Void> served = CompletableFuture.runAsync(() -> {
                    for (String name : order) {
                        try (SeqPacketSocket conn = host.acceptHello()) {
                            behaviours.get(name).serve(conn);
                        } catch (Exception e) {
                            throw new AssertionError("serving " + name + ": " + e, e);
                        }
                    }
                });
                String looped = c.awaitLine("LOOPED", TIMEOUT_S * 2);
                served.get(TIMEOUT_S, TimeUnit.SECONDS);
                c.assertExitsCleanly(TIMEOUT_S);
                List<String> tries = c.lines("TRY ");
                for (int i = 0; i < tries.size(); i++) {
                    System.out.println("C client, host " + order.get(i) + ": " + tries.get(i));
                }
                String[] f = looped.split(" ");
                assertEquals("LOOPED " + n + " attached " + rounds, looped.substring(0, looped.indexOf(" fds ")), c.output());
                assertEquals(f[5], f[6], "fds open in the C process before the first attach and after the last: " + looped);
                List<String> expected = List.of("SLUICE_EPROTOCOL: the host's REFUSE carried 3 fds",
                        "SLUICE_EPROTOCOL: WELCOME carried 2 fds", "SLUICE_EPROTOCOL: WELCOME carried 20 fds",
                        "SLUICE_EREGION: the data region (fd", "SLUICE_EREGION: memfd 'sluice:test.unsealed' (the data region) has seals",
                        "SLUICE_EPROTOCOL: WELCOME data region size 2147483648 is out of range",
                        "SLUICE_EPROTOCOL: the host's WELCOME was truncated (MSG_TRUNC",
                        "SLUICE_EPROTOCOL: the host's message has bad magic",
                        "SLUICE_EPROTOCOL: spsc ring 'orders': WELCOME start position 48 lies in the last 16 bytes of a"
                                + " 64-byte line, where no record starts",
                        "SLUICE_EREFUSED: attaching to 'orders' refused (BAD_REGION): not that one",
                        "SLUICE_EPROTOCOL: READY is 16 bytes with 1 fds",
                        "SLUICE_EHOSTGONE: the host closed the connection while we waited for READY",
                        "ATTACHED");
                for (int i = 0; i < n; i++) {
                    String want = "TRY " + i + " " + expected.get(i % expected.size());
                    assertTrue(tries.get(i).startsWith(want), order.get(i) + ": " + tries.get(i) + " (expected " + want + ")");
                }
                List<String> gone = c.lines("HOSTGONE");
                assertEquals(Collections.nCopies(rounds, "HOSTGONE SLUICE_EHOSTGONE refusal 13 after 0 messages: spsc ring "
                        + "'orders': host detached this consumer: CHANNEL_CLOSED: closing"), gone);
            }
        } finally {
            pipe[0].close();
            pipe[1].close();
        }
    }
}
