package io.sluice.channel;

import io.sluice.api.BroadcastPolicy;
import io.sluice.ringbuffer.MpmcRing;
import io.sluice.api.Role;
import io.sluice.memfd.OwnedFd;
import io.sluice.api.RingKind;
import io.sluice.fdpassing.ReceivedMessage;
import io.sluice.fdpassing.SeqPacketServer;
import io.sluice.fdpassing.SeqPacketSocket;
import io.sluice.memfd.MemfdRegion;
import io.sluice.memfd.ProcessResources;
import io.sluice.memfd.Seal;
import io.sluice.memfd.libc.FdCalls;
import io.sluice.ringbuffer.MpmcRingDescriptor;
import io.sluice.ringbuffer.SpscRing;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The handshake between the Java host and C peers, both ways round: a C peer that sends malformed
 * or hostile handshakes is refused cleanly (and the host leaks nothing and keeps serving); the C
 * client refuses what a host must not send (wrong fds, seals, sizes, headers) with an error code
 * and a message, under ASan, leaking no fd; and it reports a corrupt ring instead of reading
 * outside it.
 */
class NativeHandshakeTest {
    private static final long TIMEOUT_S = 60;

    @TempDir
    Path dir;

    /** Case name (as sluice_peer's "malformed" mode prints it) to the refusal the host must answer. */
    private static final Map<String, String> MALFORMED = new LinkedHashMap<>();

    static {
        for (String c : List.of("bad-magic", "short-header", "truncated-hello", "unknown-role", "role-zero", "empty-name",
                "name-too-long", "name-length-mismatch", "reserved-flags", "name-not-utf8", "ready-instead-of-hello",
                "hello-with-fd")) {
            MALFORMED.put(c, "MALFORMED");
        }
        MALFORMED.put("version-2", "VERSION_MISMATCH");
        MALFORMED.put("unknown-channel", "UNKNOWN_CHANNEL");
        MALFORMED.put("producer-on-spsc", "ROLE_NOT_ALLOWED");
        MALFORMED.put("silent", "TIMEOUT");
        // after a valid HELLO and the host's WELCOME: the POSITION message and its region
        for (String c : List.of("pipe", "unsealed", "no-future-write", "too-small", "not-formatted", "wrong-start")) {
            MALFORMED.put(c, "BAD_REGION");
        }
        for (String c : List.of("size-field-lies", "no-fd", "two-fds")) {
            MALFORMED.put(c, "MALFORMED");
        }
        MALFORMED.put("silent-after-welcome", "TIMEOUT");
    }

    private static final List<String> POSITION_CASES = List.of("pipe", "unsealed", "no-future-write", "too-small",
            "not-formatted", "wrong-start", "size-field-lies", "no-fd", "two-fds", "silent-after-welcome");


    @Test
    void malformedHandshakesOfACPeerAreRefusedCleanlyAndTheHostKeepsServing() throws Exception {
        Path socket = dir.resolve("host.sock");
        try (ChannelHost host = ChannelHost.bind(socket, HostOptions.defaults().accessPolicy(AccessPolicy.sameUser())
                .handshakeTimeout(Duration.ofMillis(500)))) {
            HostedSpscChannel orders = host.spsc("orders", SpscOptions.of(4096));
            for (String c : POSITION_CASES) {
                host.spsc("pos-" + c, SpscOptions.of(4096)); // a channel each: a refused consumer's slot frees asynchronously
            }
            try (NativeChild warmUp = NativeChild.start(NativeChild.RELEASE, "sluice_peer", "refused", socket.toString(),
                    "nope", "CONSUMER")) {
                assertTrue(warmUp.awaitLine("REFUSED", TIMEOUT_S).startsWith("REFUSED UNKNOWN_CHANNEL 1 "));
                warmUp.assertExitsCleanly(TIMEOUT_S);
            }
            ProcessResources.awaitOpenFds(-1, Duration.ofSeconds(1)); // no count to reach: a bounded second for the warm-up's asynchronous closes
            long baseline = ProcessResources.openFds();
            try (NativeChild c = NativeChild.start(NativeChild.SANITIZED, "sluice_peer", "malformed", socket.toString())) {
                c.awaitLine("END", TIMEOUT_S);
                c.assertExitsCleanly(TIMEOUT_S);
                Map<String, String> got = new LinkedHashMap<>();
                for (String line : c.lines("CASE ")) {
                    String[] f = line.split(" ", 4);
                    got.put(f[1], f[2]);
                    System.out.println("C peer: " + line);
                }
                assertEquals(MALFORMED, got, "the host's answer to each malformed handshake");
                String all = c.output();
                assertTrue(all.contains("CASE hello-with-fd MALFORMED 6 fds 0: ") && all.contains("carried 1 fds"), all);
                assertTrue(all.contains("CASE version-2 VERSION_MISMATCH 3 fds 0: host speaks protocol version 1"), all);
                assertTrue(all.contains("missing FUTURE_WRITE"), all);
                assertTrue(all.contains("consumer position region starts at 4096, the channel's start is 0"), all);
            }
            // Every fd of every refused connection (sockets, position regions, the pipe) was closed...
            ProcessResources.awaitOpenFds(baseline, Duration.ofSeconds(10));
            assertEquals(baseline, ProcessResources.openFds(), "fds leaked by the host");
            // ...and the host still serves a well-behaved C peer.
            try (NativeChild good = NativeChild.start(NativeChild.RELEASE, "sluice_peer", "spsc", socket.toString(), "orders",
                    "100", "7", "64")) {
                good.awaitLine("ATTACHED", TIMEOUT_S);
                long checksum = NativeTestMessages.BASIS;
                for (long seq = 0; seq < 100; seq++) {
                    checksum = NativeTestMessages.step(checksum, NativeSpscTest.send(orders.producer(), 7, seq, 64, good));
                }
                assertEquals("DONE 100 " + NativeTestMessages.hex(checksum), good.awaitLine("DONE", TIMEOUT_S));
            }
        }
    }

    @Test
    void cPeerThatTalksAfterReadyIsDroppedAndDetached() throws Exception {
        Path socket = dir.resolve("chatty.sock");
        try (ChannelHost host = ChannelHost.bind(socket)) {
            HostedSpscChannel ch = host.spsc("orders", SpscOptions.of(4096));
            CompletableFuture<Attachment> detached = new CompletableFuture<>();
            ch.onDetach(detached::complete);
            try (NativeChild c = NativeChild.start(NativeChild.SANITIZED, "sluice_peer", "chatty", socket.toString(), "orders")) {
                assertEquals("DROPPED", c.awaitLine("DROPPED", TIMEOUT_S));
                c.assertExitsCleanly(TIMEOUT_S);
            }
            assertEquals(io.sluice.api.Role.CONSUMER, detached.get(TIMEOUT_S, TimeUnit.SECONDS).role());
        }
    }

    @Test
    void cPeerOfAnotherUidIsDeniedByTheAccessPolicy() throws Exception {
        // As root, run the C peer as 'nobody' (65534). Skipped where setpriv or root is missing.
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")), "setpriv missing");
        org.junit.jupiter.api.Assumptions.assumeTrue(AccessPolicy.currentUid() == 0, "not root");
        Path open = Files.createTempDirectory("sluice-native-access-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        Path program = open.resolve("sluice_peer");
        Files.copy(NativeChild.program(NativeChild.RELEASE, "sluice_peer"), program);
        Files.setPosixFilePermissions(program, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path socket = open.resolve("host.sock");
        try (ChannelHost host = ChannelHost.bind(socket, HostOptions.defaults().accessPolicy(AccessPolicy.sameUser())
                .handshakeTimeout(Duration.ofSeconds(5))
                .socketPermissions(PosixFilePermissions.fromString("rw-rw-rw-")))) {
            host.spsc("orders", SpscOptions.of(4096));
            Process p = new ProcessBuilder("/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                    program.toString(), "refused", socket.toString(), "orders", "CONSUMER").redirectErrorStream(true).start();
            assertTrue(p.waitFor(TIMEOUT_S, TimeUnit.SECONDS));
            String out = new String(p.getInputStream().readAllBytes());
            assertTrue(out.startsWith("REFUSED ACCESS_DENIED 4 ") && out.contains("uid 65534 gid 65534 is not admitted"), out);
        } finally {
            Files.deleteIfExists(program);
            Files.deleteIfExists(open);
        }
    }

    // ---- the C client against a host that sends what it must not -------------------------------------

    private static byte[] welcome(RingKind kind, int participant, long dataSize, long positionSize, int maxMessage) {
        return Handshake.welcome(new Handshake.Welcome(kind, participant, dataSize, positionSize, maxMessage, 0, 0));
    }

    /** serveOnce's reply that closes the connection instead of answering. */
    private static final byte[] HANG_UP = new byte[0];

    /** A data region for an SPSC ring of capacity 4096: 4224 bytes, formatted or not, with the given seals. */
    private static MemfdRegion spscRegion(long size, boolean format, Seal... seals) {
        MemfdRegion r = MemfdRegion.create("test.data", size);
        if (format) {
            SpscRing.format(r.mapReadWrite(), 4096);
        }
        if (seals.length > 0) {
            r.addSeals(java.util.EnumSet.of(seals[0], seals));
        }
        return r;
    }

    /**
     * Serves one connection: reads HELLO, then sends {@code reply} with {@code fds}, or says nothing
     * ({@code null}: the client times out after 400 ms), or hangs up ({@link #HANG_UP}). Returns what
     * the C client printed.
     */
    private static String serveOnce(SeqPacketServer server, Path socket, String role, byte[] reply, OwnedFd... fds) throws Exception {
        try (NativeChild c = NativeChild.start(NativeChild.SANITIZED, "sluice_peer", "refused", socket.toString(), "orders",
                role, "400");
             SeqPacketSocket conn = server.accept()) {
            try (ReceivedMessage hello = conn.receive(HandshakeDescriptor.MAX_MESSAGE_BYTES, 0, Duration.ofSeconds(TIMEOUT_S))) {
                assertEquals(HandshakeDescriptor.HELLO, Handshake.type(hello.data()));
            }
            if (reply == HANG_UP) {
                conn.close();
            } else if (reply != null) {
                conn.send(reply, fds);
            }
            String line = c.awaitLine("REFUSED", TIMEOUT_S);
            c.assertExitsCleanly(TIMEOUT_S);
            String[] f = line.split(":")[0].split(" ");
            assertEquals(f[3], f[4], "fds open in the C process before and after the failed attach: " + line);
            return line;
        }
    }

    @Test
    void cClientRefusesFdsSealsSizesAndHeadersThatAreNotWhatTheProtocolPromises() throws Exception {
        Path socket = dir.resolve("fake.sock");
        Map<String, String> results = new LinkedHashMap<>();
        try (SeqPacketServer server = SeqPacketServer.bind(socket)) {
            byte[] spsc = welcome(RingKind.SPSC, 0, 4224, 384, 512);
            int[] pipe = FdCalls.pipe();
            try {
                results.put("pipe", serveOnce(server, socket, "CONSUMER", spsc, OwnedFd.adopt(pipe[0], "pipe")));
            } finally {
                FdCalls.close(pipe[0]);
                FdCalls.close(pipe[1]);
            }
            Path file = dir.resolve("data.bin");
            Files.write(file, new byte[4224]);
            int fileFd = FdCalls.open(file.toString(), FdCalls.O_RDONLY | FdCalls.O_CLOEXEC, 0);
            try {
                results.put("file", serveOnce(server, socket, "CONSUMER", spsc, OwnedFd.adopt(fileFd, "file")));
            } finally {
                FdCalls.close(fileFd);
            }
            try (MemfdRegion r = spscRegion(4224, true)) {
                results.put("unsealed", serveOnce(server, socket, "CONSUMER", spsc, r.fd()));
            }
            try (MemfdRegion r = spscRegion(4224, true, Seal.SHRINK, Seal.GROW)) {
                results.put("no-future-write", serveOnce(server, socket, "CONSUMER", spsc, r.fd()));
            }
            try (MemfdRegion r = spscRegion(8192, true, Seal.SHRINK, Seal.GROW, Seal.FUTURE_WRITE)) {
                results.put("size", serveOnce(server, socket, "CONSUMER", spsc, r.fd()));
            }
            try (MemfdRegion r = spscRegion(4224, false, Seal.SHRINK, Seal.GROW, Seal.FUTURE_WRITE)) {
                results.put("bad-magic", serveOnce(server, socket, "CONSUMER", spsc, r.fd()));
            }
            try (MemfdRegion r = MemfdRegion.create("test.data", 4224)) {
                MemorySegment rw = r.mapReadWrite();
                SpscRing.format(rw, 4096);
                rw.set(ValueLayout.JAVA_LONG_UNALIGNED, 24, 1L << 20); // capacity beyond the region
                r.addSeals(Seal.SHRINK, Seal.GROW, Seal.FUTURE_WRITE);
                results.put("capacity", serveOnce(server, socket, "CONSUMER", spsc, r.fd()));
                results.put("two-fds", serveOnce(server, socket, "CONSUMER", spsc, r.fd(), r.fd()));
            }
            try (MemfdRegion r = spscRegion(4224, true, Seal.SHRINK, Seal.GROW, Seal.FUTURE_WRITE)) {
                results.put("max-message-differs", serveOnce(server, socket, "CONSUMER", welcome(RingKind.SPSC, 0, 4224, 384, 999), r.fd()));
                results.put("position-size", serveOnce(server, socket, "CONSUMER", welcome(RingKind.SPSC, 0, 4224, 1 << 30, 512), r.fd()));
                results.put("mpmc-for-a-producer-sealed-future-write",
                        serveOnce(server, socket, "PRODUCER", welcome(RingKind.MPMC, 1, 4224, 0, 512), r.fd()));
                results.put("spsc-for-a-producer", serveOnce(server, socket, "PRODUCER", spsc, r.fd()));
                byte[] unknownKind = spsc.clone();
                ByteBuffer.wrap(unknownKind).order(ByteOrder.LITTLE_ENDIAN).putInt(HandshakeDescriptor.WELCOME_KIND_OFFSET, 9);
                results.put("unknown-kind", serveOnce(server, socket, "CONSUMER", unknownKind, r.fd()));
                results.put("welcome-short", serveOnce(server, socket, "CONSUMER", java.util.Arrays.copyOf(spsc, 40), r.fd()));
            }
            // Sizes: a data region above 2^30 + 64 KiB is refused before anything is checked or mapped.
            try (MemfdRegion r = spscRegion(4224, true, Seal.SHRINK, Seal.GROW, Seal.FUTURE_WRITE)) {
                results.put("data-size-above-bound", serveOnce(server, socket, "CONSUMER",
                        welcome(RingKind.SPSC, 0, (1L << 30) + 65536 + 1, 384, 512), r.fd()));
                results.put("data-size-at-bound", serveOnce(server, socket, "CONSUMER",
                        welcome(RingKind.SPSC, 0, (1L << 30) + 65536, 384, 512), r.fd()));
                OwnedFd writeOnly = NativeFakeHost.reopen(r.fd(), 1 /* O_WRONLY */);
                try {
                    results.put("write-only-fd", serveOnce(server, socket, "CONSUMER", spsc, writeOnly));
                } finally {
                    writeOnly.close();
                }
            }
            // MPMC: a header longer than the region; a read-only fd for a role that writes.
            long mpmcSize = MpmcRing.regionSize(2, 64);
            try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined();
                 MemfdRegion small = MemfdRegion.create("test.mpmc-small", 256);
                 MemfdRegion mpmc = MemfdRegion.create("test.mpmc", mpmcSize)) {
                MemorySegment formatted = arena.allocate(mpmcSize, 8);
                MpmcRing.format(formatted, 2, 64, 4);
                small.mapReadWrite().copyFrom(formatted.asSlice(0, 256));
                small.addSeals(Seal.SHRINK, Seal.GROW);
                results.put("mpmc-header-beyond-region", serveOnce(server, socket, "PRODUCER",
                        welcome(RingKind.MPMC, 1, 256, 0, 48), small.fd()));
                mpmc.mapReadWrite().copyFrom(formatted);
                mpmc.addSeals(Seal.SHRINK, Seal.GROW);
                OwnedFd readOnly = NativeFakeHost.reopen(mpmc.fd(), FdCalls.O_RDONLY);
                try {
                    results.put("mpmc-read-only-fd", serveOnce(server, socket, "PRODUCER",
                            welcome(RingKind.MPMC, 1, mpmcSize, 0, 48), readOnly));
                } finally {
                    readOnly.close();
                }
            }
            byte[] refuse = Handshake.refuse(io.sluice.api.RefusalReason.MALFORMED, "0123456789");
            ByteBuffer.wrap(refuse).order(ByteOrder.LITTLE_ENDIAN).putShort(HandshakeDescriptor.REFUSE_TEXT_LENGTH_OFFSET, (short) 900);
            results.put("refuse-length-lies", serveOnce(server, socket, "CONSUMER", refuse));
            results.put("too-long", serveOnce(server, socket, "CONSUMER", new byte[2000]));
            results.put("hangs-up", serveOnce(server, socket, "CONSUMER", HANG_UP));
            results.put("silent", serveOnce(server, socket, "CONSUMER", null));
        }
        results.forEach((k, v) -> System.out.println("C client, host sends " + k + ": " + v));
        Map<String, String> expected = new LinkedHashMap<>();
        expected.put("pipe", "SLUICE_EREGION|is a pipe, not a memfd");
        expected.put("file", "SLUICE_EREGION|(a regular file), not a memfd");
        // (the seals a memfd has may include EXEC: MFD_NOEXEC_SEAL, where the kernel has it)
        expected.put("unsealed", "SLUICE_EREGION|, missing SHRINK|GROW|FUTURE_WRITE");
        expected.put("no-future-write", "SLUICE_EREGION|, missing FUTURE_WRITE");
        expected.put("size", "SLUICE_EREGION|is 8192 bytes, the host promised 4224");
        expected.put("bad-magic", "SLUICE_ELAYOUT|spsc ring 'orders': bad magic 0x0");
        expected.put("capacity", "SLUICE_ELAYOUT|capacity 1048576 plus header 128 exceeds the segment's 4224 bytes");
        expected.put("two-fds", "SLUICE_EPROTOCOL|WELCOME carried 2 fds, expected 1");
        expected.put("max-message-differs", "SLUICE_EPROTOCOL|spsc ring 'orders': WELCOME max message length 999, the ring's is 512");
        expected.put("position-size", "SLUICE_EPROTOCOL|WELCOME position region size 1073741824, the SPSC layout's is 384");
        expected.put("mpmc-for-a-producer-sealed-future-write", "SLUICE_ESYSCALL|mmap of the data region (4224 bytes, PROT_READ|PROT_WRITE): EPERM");
        expected.put("spsc-for-a-producer", "SLUICE_EPROTOCOL|channel 'orders' is SPSC, which this side did not ask for");
        expected.put("unknown-kind", "SLUICE_EPROTOCOL|WELCOME ring kind 9 is unknown");
        expected.put("welcome-short", "SLUICE_EPROTOCOL|WELCOME is 40 bytes, expected 48");
        expected.put("data-size-above-bound", "SLUICE_EPROTOCOL|WELCOME data region size 1073807361 is out of range: a "
                + "ring's data area is at most 1073741824 bytes (2^30), its region at most 1073807360 (2^30 + 64 KiB); nothing was mapped");
        expected.put("data-size-at-bound", "SLUICE_EREGION|is 4224 bytes, the host promised 1073807360");
        expected.put("write-only-fd", "SLUICE_EREGION|memfd 'sluice:test.data' (the data region) is open O_WRONLY: it cannot be "
                + "mapped for reading");
        expected.put("mpmc-header-beyond-region", "SLUICE_ELAYOUT|mpmc ring 'orders': segment of 256 bytes is smaller than the "
                + "512-byte header");
        expected.put("mpmc-read-only-fd", "SLUICE_EREGION|memfd 'sluice:test.mpmc' (the data region) is open O_RDONLY, but this "
                + "role writes the ring: it needs O_RDWR");
        expected.put("refuse-length-lies", "SLUICE_EPROTOCOL|REFUSE text length 900 does not match");
        expected.put("too-long", "SLUICE_EPROTOCOL|truncated (MSG_TRUNC");
        expected.put("hangs-up", "SLUICE_EHOSTGONE|the host closed the connection while we waited for WELCOME");
        expected.put("silent", "SLUICE_ETIMEOUT|no WELCOME from the host within 400 ms");
        assertEquals(expected.keySet(), results.keySet());
        expected.forEach((k, v) -> {
            String[] e = v.split("\\|", 2);
            String line = results.get(k);
            assertTrue(line.startsWith("REFUSED " + e[0] + " 0 ") && line.contains(e[1]), k + ": " + line);
        });
    }

    // ---- corrupt rings at run time: an error code and a message, no read outside the mapping -----------

    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    @Test
    void cConsumersReportCorruptRingsWithAMessageUnderSanitizers() throws Exception {
        Path socket = dir.resolve("corrupt.sock");
        try (ChannelHost host = ChannelHost.bind(socket)) {
            // SPSC: a committed record whose length is impossible.
            HostedSpscChannel spsc = host.spsc("bad-spsc", SpscOptions.of(4096));
            try (NativeChild c = NativeChild.start(NativeChild.SANITIZED, "sluice_peer", "spsc", socket.toString(), "bad-spsc",
                    "10", "1", "64")) {
                c.awaitLine("ATTACHED", TIMEOUT_S);
                MemorySegment data = spsc.producer().buffer();
                data.set(JAVA_INT_UNALIGNED, 8, 1 << 30); // length
                data.set(JAVA_INT_UNALIGNED, 12, 1);      // type
                LONG.setRelease(data, 0L, 0L);            // stamp: "committed at position 0"
                String error = c.awaitLine("RING-ERROR", TIMEOUT_S);
                assertEquals("RING-ERROR SLUICE_ECORRUPT: spsc ring 'bad-spsc': record at position 0 (data offset 0): "
                        + "length 1073741824 outside 0..512", error);
                assertEquals(6, c.waitFor(TIMEOUT_S), c.output());
            }
            // Broadcast: an intact record header of an unknown type.
            HostedBroadcastChannel bc = host.broadcast("bad-bcast", BroadcastOptions.of(BroadcastPolicy.OVERWRITE, 4096)
                    .maxMessageLength(256).maxConsumers(2));
            try (NativeChild c = NativeChild.start(NativeChild.SANITIZED, "sluice_peer", "bcast", socket.toString(), "bad-bcast",
                    "10", "1", "64", "oldest")) {
                c.awaitLine("GATED", TIMEOUT_S);
                long at = bc.producer().tryClaim(1, 32);
                bc.producer().buffer().set(JAVA_INT_UNALIGNED, at - 16 + 4, 0); // the record's type
                bc.producer().commit(at);
                String error = c.awaitLine("RING-ERROR", TIMEOUT_S);
                assertEquals("RING-ERROR SLUICE_ECORRUPT: broadcast ring 'bad-bcast': corrupt record at position 0 (offset 0): "
                        + "unknown record type 0", error);
                assertEquals(6, c.waitFor(TIMEOUT_S), c.output());
            }
            // MPMC: a slot word a lap ahead of the head, and a committed message of an impossible type.
            // (Words the host's recovery would find malformed too are left out: the host's answer to
            // those is not this test's subject.)
            HostedMpmcChannel mpmc = host.mpmc("bad-mpmc", MpmcOptions.of(16, 64).maxParticipants(4));
            try (NativeChild c = NativeChild.start(NativeChild.SANITIZED, "sluice_peer", "mpmc-consume", socket.toString(),
                    "bad-mpmc", "1", "48")) {
                c.awaitLine("ATTACHED", TIMEOUT_S);
                LONG.setRelease(mpmc.attachLocal(Role.PRODUCER).buffer(), 512L, 5L << 16); // slot 0: FREE for lap 5
                String error = c.awaitLine("RING-ERROR", TIMEOUT_S);
                assertEquals("RING-ERROR SLUICE_ECORRUPT: mpmc ring 'bad-mpmc': head position 0, slot 0 holds 0x50000 (lap 5, "
                        + "FREE (0), participant 0): laps ahead of a head that never reached it", error);
                assertEquals(6, c.waitFor(TIMEOUT_S), c.output());
            }
            HostedMpmcChannel typed = host.mpmc("bad-type", MpmcOptions.of(16, 64).maxParticipants(4));
            try (NativeChild c = NativeChild.start(NativeChild.SANITIZED, "sluice_peer", "mpmc-consume", socket.toString(),
                    "bad-type", "1", "48")) {
                c.awaitLine("ATTACHED", TIMEOUT_S);
                var p = typed.attachLocal(Role.PRODUCER);
                long at = p.tryClaim(1, 8);
                p.buffer().set(JAVA_INT_UNALIGNED, at - 8, 0); // the slot's type field
                p.commit(at);
                String error = c.awaitLine("RING-ERROR", TIMEOUT_S);
                assertEquals("RING-ERROR SLUICE_ECORRUPT: mpmc ring 'bad-type': committed message at position 0 (slot 0) has "
                        + "type 0 and length 8 (max 48); dropped", error);
                assertEquals(6, c.waitFor(TIMEOUT_S), c.output());
                // it released the slot before reporting: the ring flows on for everyone else
                var other = typed.attachLocal(Role.CONSUMER);
                at = p.tryClaim(1, 8);
                p.commit(at);
                assertEquals(1, other.poll((t, pl) -> { }, 1));
            }
        }
    }
}
