package io.sluice.channel;

import io.sluice.memfd.OwnedFd;
import io.sluice.api.AttachRefusedException;
import io.sluice.api.RefusalReason;
import io.sluice.api.Role;
import io.sluice.testing.ChildJvm;
import io.sluice.fdpassing.ReceivedMessage;
import io.sluice.fdpassing.SeqPacketSocket;
import io.sluice.memfd.MemfdRegion;
import io.sluice.memfd.ProcessResources;
import io.sluice.memfd.Seal;
import io.sluice.memfd.libc.FdCalls;
import io.sluice.ringbuffer.SpscRing;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every refusal reason, and malformed input of every kind: each gets a clear refusal, the host
 * goes on serving others, and the host leaks no fd.
 */
class RefusalTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    private Path dir;
    private ChannelHost host;
    private Path socket;

    @BeforeEach
    void host() throws Exception {
        // World-traversable, so that a child under another uid can reach the socket (access test).
        dir = Files.createTempDirectory("sluice-refusals-", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        socket = dir.resolve("host.sock");
        host = ChannelHost.bind(socket, HostOptions.defaults().accessPolicy(AccessPolicy.sameUser())
                .handshakeTimeout(Duration.ofMillis(300))
                .socketPermissions(PosixFilePermissions.fromString("rw-rw-rw-")));
        host.spsc("orders", SpscOptions.of(4096));
        host.mpmc("work", MpmcOptions.of(16, 64).maxParticipants(4));
    }

    @AfterEach
    void close() throws Exception {
        host.close();
        try (var walk = Files.walk(dir)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private AttachRefusedException refused(Runnable attach) {
        return assertThrows(AttachRefusedException.class, attach::run);
    }

    @Test
    void unknownChannelDisclosesNoOtherNameBySocketPathOrPid() {
        AttachRefusedException e = refused(() -> Channels.spsc(socket, "nope").close());
        assertEquals(RefusalReason.UNKNOWN_CHANNEL, e.reason());
        assertEquals("no channel 'nope' on this host", e.getMessage());
    }

    @Test
    void unknownChannelListsTheHostedNamesOnlyWhenTheHostOptsIn() {
        Path other = socket.resolveSibling("listing.sock");
        try (ChannelHost listing = ChannelHost.bind(other, HostOptions.defaults().listChannelsInRefusals(true))) {
            listing.spsc("orders", SpscOptions.of(4096));
            listing.spsc("work", SpscOptions.of(4096));
            AttachRefusedException e = refused(() -> Channels.spsc(other, "nope").close());
            assertEquals("no channel 'nope' on this host (hosted: orders, work)", e.getMessage());
        }
    }

    @Test
    void producerRoleOnAnSpscChannel() {
        AttachRefusedException e = refused(() -> Channels.mpmc(socket, "orders", Role.PRODUCER).close());
        // the client refuses a kind it did not ask for only after the host's answer; here the host refuses first
        assertEquals(RefusalReason.ROLE_NOT_ALLOWED, e.reason());
        assertTrue(e.getMessage().contains("takes consumers only"), e.getMessage());
    }

    @Test
    void secondConsumerOfAnSpscChannel() throws Exception {
        java.util.concurrent.CompletableFuture<Attachment> left = new java.util.concurrent.CompletableFuture<>();
        host.channel("orders").onDetach(left::complete);
        try (var first = Channels.spsc(socket, "orders")) {
            AttachRefusedException e = refused(() -> Channels.spsc(socket, "orders").close());
            assertEquals(RefusalReason.CHANNEL_FULL, e.reason());
        }
        // Closing ends the connection; the host detaches on its own thread when it sees the EOF.
        assertEquals(Role.CONSUMER, left.get(10, TimeUnit.SECONDS).role());
        Channels.spsc(socket, "orders").close(); // and the slot is free again
    }

    @Test
    void mpmcRunsOutOfParticipantIds() {
        var held = new java.util.ArrayList<MpmcAttachment>();
        try {
            for (int i = 0; i < 4; i++) {
                held.add(Channels.mpmc(socket, "work", Role.PARTICIPANT));
            }
            AttachRefusedException e = refused(() -> Channels.mpmc(socket, "work", Role.CONSUMER).close());
            assertEquals(RefusalReason.CHANNEL_FULL, e.reason());
        } finally {
            held.forEach(MpmcAttachment::close);
        }
    }

    /**
     * A host that joined the consumer and closed the channel before READY went out sends DETACH
     * where READY was due: the attach fails with that reason, not with a protocol error.
     */
    @Test
    void aDetachWhereReadyWasDueIsARefusalWithItsReason() throws Exception {
        Path fake = dir.resolve("fake.sock");
        try (NativeFakeHost fakeHost = NativeFakeHost.bind(fake);
             NativeFakeHost.SpscRegion ring = NativeFakeHost.spscRegion("test.detach-at-ready", 4096,
                     Seal.SHRINK, Seal.GROW, Seal.FUTURE_WRITE)) {
            var attempt = java.util.concurrent.CompletableFuture.supplyAsync(() -> Channels.spsc(fake, "orders", WAIT));
            try (SeqPacketSocket conn = fakeHost.acceptHello()) {
                conn.send(NativeFakeHost.welcomeSpsc(4096, 0), ring.fd());
                NativeFakeHost.receivePosition(conn).close();
                conn.send(NativeFakeHost.reasonMessage(NativeFakeHost.DETACH, RefusalReason.CHANNEL_CLOSED.code(),
                        "channel 'orders' was closed by its host".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            }
            var thrown = assertThrows(java.util.concurrent.ExecutionException.class, () -> attempt.get(10, TimeUnit.SECONDS));
            AttachRefusedException e = assertInstanceOf(AttachRefusedException.class, thrown.getCause());
            assertEquals(RefusalReason.CHANNEL_CLOSED, e.reason());
            assertEquals("channel 'orders' was closed by its host", e.getMessage());
        }
    }

    /** Sends raw bytes as a client would, returns the host's REFUSE (or fails). */
    private Handshake.Refuse rawRefusal(byte[] bytes, OwnedFd... fds) {
        try (SeqPacketSocket s = SeqPacketSocket.connect(socket)) {
            if (bytes != null) {
                s.send(bytes, fds);
            }
            try (ReceivedMessage m = s.receive(HandshakeDescriptor.MAX_MESSAGE_BYTES, 1, WAIT)) {
                return Handshake.decodeRefuse(m.data(), "host");
            }
        }
    }

    @Test
    void versionMismatch() {
        Handshake.Refuse r = rawRefusal(Handshake.hello(2, Role.CONSUMER.code(), "orders"));
        assertEquals(RefusalReason.VERSION_MISMATCH, r.reason());
        assertTrue(r.text().contains("host speaks protocol version 1") && r.text().contains("sent version 2"), r.text());
    }

    @Test
    void silentPeerTimesOut() {
        Handshake.Refuse r = rawRefusal(null);
        assertEquals(RefusalReason.TIMEOUT, r.reason());
    }

    @Test
    void malformedHellos() {
        byte[] hello = Handshake.hello(Role.CONSUMER, "orders");
        byte[] badMagic = hello.clone();
        badMagic[0] ^= 0x55;
        byte[] truncated = java.util.Arrays.copyOf(hello, 12);
        byte[] badRole = Handshake.hello(1, 9, "orders");
        byte[] longName = hello.clone();
        ByteBuffer.wrap(longName).order(ByteOrder.LITTLE_ENDIAN).putShort(HandshakeDescriptor.HELLO_NAME_LENGTH_OFFSET, (short) 500);
        byte[] wrongType = Handshake.position(4096);
        for (byte[] m : List.of(badMagic, truncated, badRole, longName, wrongType)) {
            Handshake.Refuse r = rawRefusal(m);
            assertEquals(RefusalReason.MALFORMED, r.reason(), r.text());
        }
    }

    @Test
    void helloWithFdsIsRefusedAndTheFdsClosed() {
        int[] pipe = FdCalls.pipe();
        try {
            Handshake.Refuse r = rawRefusal(Handshake.hello(Role.CONSUMER, "orders"), OwnedFd.adopt(pipe[0], "pipe"));
            assertEquals(RefusalReason.MALFORMED, r.reason());
            assertTrue(r.text().contains("carried 1 fds, at most 0"), r.text());
        } finally {
            FdCalls.close(pipe[0]);
            FdCalls.close(pipe[1]);
        }
    }

    @Test
    void positionRegionOfTheWrongKindOrWithoutSealsIsRefused() {
        for (String variant : List.of("pipe", "unsealed", "small")) {
            host.spsc("p-" + variant, SpscOptions.of(4096)); // a channel each: a refused consumer's slot frees asynchronously
            try (SeqPacketSocket s = SeqPacketSocket.connect(socket)) {
                s.send(Handshake.hello(Role.CONSUMER, "p-" + variant));
                Handshake.Welcome w;
                try (ReceivedMessage m = s.receive(HandshakeDescriptor.MAX_MESSAGE_BYTES, 1, WAIT)) {
                    w = Handshake.decodeWelcome(m.data(), "host");
                }
                long size = w.positionRegionSize();
                int[] pipe = FdCalls.pipe();
                try (MemfdRegion r = MemfdRegion.create("test.position", variant.equals("small") ? 128 : size)) {
                    if (variant.equals("small")) {
                        r.addSeals(Seal.SHRINK, Seal.GROW, Seal.FUTURE_WRITE);
                    }
                    s.send(Handshake.position(size), variant.equals("pipe") ? OwnedFd.adopt(pipe[0], "pipe") : r.fd());
                    try (ReceivedMessage m = s.receive(HandshakeDescriptor.MAX_MESSAGE_BYTES, 0, WAIT)) {
                        Handshake.Refuse refuse = Handshake.decodeRefuse(m.data(), "host");
                        assertEquals(RefusalReason.BAD_REGION, refuse.reason(), variant + ": " + refuse.text());
                    }
                } finally {
                    FdCalls.close(pipe[0]);
                    FdCalls.close(pipe[1]);
                }
            }
        }
    }

    @Test
    void randomBytesAreRefusedAndTheHostKeepsServingWithoutLeakingFds() throws Exception {
        // Warm up the host's refusal path, then count its fds (this JVM is the host). Successful
        // attaches stay out of the window: a departed SPSC consumer's position region stays mapped
        // until the (here idle) producer's next capacity check, by design.
        rawRefusal(new byte[] {1});
        ProcessResources.awaitOpenFds(-1, Duration.ofSeconds(1)); // no count to reach: a bounded second for the warm-up's asynchronous closes
        long baseline = ProcessResources.openFds();
        long seed = System.nanoTime();
        SplittableRandom random = new SplittableRandom(seed);
        try {
            for (int i = 0; i < 200; i++) {
                byte[] junk = new byte[1 + random.nextInt(64)];
                random.nextBytes(junk);
                if (random.nextBoolean() && junk.length >= 8) { // half with a valid header, junk after
                    ByteBuffer.wrap(junk).order(ByteOrder.LITTLE_ENDIAN).putInt(0, HandshakeDescriptor.MAGIC)
                            .putShort(4, (short) 1).putShort(6, (short) HandshakeDescriptor.HELLO);
                }
                Handshake.Refuse r = rawRefusal(junk);
                assertTrue(r.reason() == RefusalReason.MALFORMED || r.reason() == RefusalReason.UNKNOWN_CHANNEL,
                        "seed " + seed + ": " + r.reason() + " " + r.text());
            }
            // Every refused connection's fds were closed...
            ProcessResources.awaitOpenFds(baseline, Duration.ofSeconds(10));
            assertEquals(baseline, ProcessResources.openFds(), "seed " + seed + ": fds leaked");
            // ...and the host still serves a well-behaved peer.
            try (var a = Channels.spsc(socket, "orders")) {
                assertTrue(a.isHostAlive());
            }
        } catch (AssertionError e) {
            throw new AssertionError("seed " + seed + ": " + e.getMessage(), e);
        }
    }


    @Test
    void peerOfAnotherUidIsDeniedByThePolicy() throws Exception {
        // As root, start the child as 'nobody' (65534). Skipped where setpriv or root is missing.
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")), "setpriv missing");
        org.junit.jupiter.api.Assumptions.assumeTrue(AccessPolicy.currentUid() == 0, "not root");
        try (ChildJvm child = ChildJvm.launcher(ChannelPeer.class).prefix(List.of("/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"))
                    .classPathCopiedReadableTo(dir).start("refuse", socket.toString(), "orders", "CONSUMER")) {
            String line = child.awaitLine("REFUSED", 60);
            assertTrue(line.startsWith("REFUSED ACCESS_DENIED"), line);
            assertTrue(line.contains("uid 65534 gid 65534 is not admitted"), line);
        }
    }
}
