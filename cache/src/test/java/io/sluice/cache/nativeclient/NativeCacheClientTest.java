package io.sluice.cache.nativeclient;

import io.sluice.api.RefusalReason;
import io.sluice.cache.CacheHost;
import io.sluice.cache.CacheMessages;
import io.sluice.cache.PublishedSnapshot;
import io.sluice.cache.snapshot.Seeded;
import io.sluice.cache.snapshot.SnapshotWriter;
import io.sluice.fdpassing.ReceivedMessage;
import io.sluice.fdpassing.SeqPacketServer;
import io.sluice.fdpassing.SeqPacketSocket;
import io.sluice.memfd.MemfdRegion;
import io.sluice.memfd.OwnedFd;
import io.sluice.memfd.Seal;
import io.sluice.testing.TestCalls;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The native client's side of the cache protocol ({@code sluice_cache_connect},
 * {@code sluice_cache_next}) against a Java {@link CacheHost} and against a fake host that forges
 * what it sends. {@code cache_reader} runs under ASan and UBSan (a leak or an out-of-bounds read
 * fails its exit code) and counts its open fds before each subscription and after its close: every
 * fd that arrived, with a good message or a forged one, must be closed.
 */
class NativeCacheClientTest {
    private static final long TIMEOUT_S = 60;
    private static final Duration WAIT = Duration.ofSeconds(TIMEOUT_S);
    private static final String NAME = "refdata";

    @TempDir
    Path dir;

    /** One version's table: keys key(keySeed, 0..n-1) with random values, and the model of it. */
    private record Version(SnapshotWriter writer, Map<ByteBuffer, byte[]> model) {
        static Version random(SplittableRandom random, long keySeed, int n) {
            SnapshotWriter w = new SnapshotWriter();
            Map<ByteBuffer, byte[]> model = new HashMap<>();
            for (int i = 0; i < n; i++) {
                byte[] key = KeyStream.key(keySeed, i);
                byte[] value = new byte[random.nextInt(200)];
                random.nextBytes(value);
                w.put(key, value);
                model.put(ByteBuffer.wrap(key), value);
            }
            return new Version(w, model);
        }

        /** The line cache_reader must print for this version: the same lookups, the same digest. */
        String expectedLine(long version, long keySeed, int n, long lookupSeed, int count) {
            KeyStream lookups = new KeyStream(lookupSeed);
            long digest = KeyStream.FNV_BASIS;
            long found = 0;
            for (int j = 0; j < count; j++) {
                byte[] value = model.get(ByteBuffer.wrap(KeyStream.key(keySeed, lookups.nextIndex(n))));
                found += value != null ? 1 : 0;
                digest = KeyStream.digest(digest, value);
            }
            return "VERSION " + version + " lookups " + count + " found " + found + " digest " + Long.toUnsignedString(digest);
        }
    }

    @Test
    void theCClientReadsVersionOneThenTwoFromACacheHostAndStopsAtEnd() {
        CacheReader.assumeBuilt();
        Seeded.run(Seeded.seed(), random -> {
            long keySeed = random.nextLong();
            long lookupSeed = random.nextLong();
            int n = 2_000;
            int count = 50_000;
            Path socket = dir.resolve("host.sock");
            try (CacheHost host = CacheHost.bind(socket);
                 PublishedSnapshot snapshot = host.snapshot(NAME)) {
                Version v1 = Version.random(random, keySeed, n);
                assertEquals(1, snapshot.publish(v1.writer()));
                try (CacheReader c = CacheReader.reader(CacheReader.SANITIZED, "subscribe", socket.toString(), NAME,
                        Long.toString(keySeed), Integer.toString(n), Long.toString(lookupSeed), Integer.toString(count))) {
                    assertEquals(v1.expectedLine(1, keySeed, n, lookupSeed, count), c.awaitLine("VERSION 1 ", TIMEOUT_S),
                            "C's answers in version 1 differ from the model's");
                    Version v2 = Version.random(random, keySeed, n);
                    assertEquals(2, snapshot.publish(v2.writer()));
                    assertEquals(v2.expectedLine(2, keySeed, n, lookupSeed, count), c.awaitLine("VERSION 2 ", TIMEOUT_S),
                            "C's answers in version 2 differ from the model's");
                    snapshot.close(); // END
                    String[] ended = c.awaitLine("ENDED ", TIMEOUT_S).split(" "); // ENDED after 2 fds B A
                    assertEquals("2", ended[2], String.join(" ", ended));
                    assertEquals(ended[4], ended[5], "fds open in the C process before the connect and after the close");
                    c.assertExitsCleanly(TIMEOUT_S);
                }
            }
        });
    }

    @Test
    void theHostsRefusalsReachCWithTheirReason() throws Exception {
        CacheReader.assumeBuilt();
        Path socket = dir.resolve("refusing.sock");
        try (CacheHost host = CacheHost.bind(socket);
             PublishedSnapshot snapshot = host.snapshot(NAME)) {
            snapshot.publish(Version.random(new SplittableRandom(1), 1, 10).writer());
            assertRound(run(socket, "nosuch", CacheMessages.KIND_SNAPSHOT), "SLUICE_EREFUSED", "-", 0,
                    RefusalReason.UNKNOWN_CHANNEL.code(), "refused by the host (UNKNOWN_CHANNEL): cache region 'nosuch': no snapshot named 'nosuch'");
            assertRound(run(socket, NAME, CacheMessages.KIND_SHARED_MAP), "SLUICE_EREFUSED", "-", 0,
                    RefusalReason.UNKNOWN_CHANNEL.code(), "'refdata' is a snapshot, not a shared map");
            assertEquals(2, host.refusals(RefusalReason.UNKNOWN_CHANNEL));
        }
    }

    private String run(Path socket, String name, int kind) throws Exception {
        try (CacheReader c = CacheReader.reader(CacheReader.SANITIZED, "connect", socket.toString(), name,
                Integer.toString(kind), "1")) {
            String line = c.awaitLine("ROUND 0 ", TIMEOUT_S);
            c.assertExitsCleanly(TIMEOUT_S);
            return line;
        }
    }

    /** One forged answer to the C client's HELLO, and what the client must make of it. */
    private record Forgery(String name, Consumer<SeqPacketSocket> send, String connectCode, String nextCode, int versions,
                           int refusal, String words) {
    }

    private static byte[] publish(int kind, long version, long size) {
        return CacheMessages.publish(kind, version, size);
    }

    private static byte[] patched16(byte[] message, int offset, int value) {
        ByteBuffer.wrap(message).order(ByteOrder.LITTLE_ENDIAN).putShort(offset, (short) value);
        return message;
    }

    private static byte[] patched32(byte[] message, int offset, int value) {
        ByteBuffer.wrap(message).order(ByteOrder.LITTLE_ENDIAN).putInt(offset, value);
        return message;
    }

    @Test
    void aHostileHostIsRefusedWithTheRightCodeAndNoFdLeft() throws Exception {
        CacheReader.assumeBuilt();
        SnapshotWriter table = Version.random(new SplittableRandom(7), 7, 10).writer();
        try (MemfdRegion v1 = table.build("hostile.v1", 1);
             MemfdRegion v2 = table.build("hostile.v2", 2);
             MemfdRegion unsealed = MemfdRegion.create("hostile.unsealed", 4096);
             MemfdRegion futureWrite = MemfdRegion.create("hostile.future-write", 4096);
             OwnedFd devNull = TestCalls.openReadOnly("/dev/null")) {
            futureWrite.addSeals(Seal.SHRINK, Seal.GROW, Seal.FUTURE_WRITE); // the owner could still write it
            long size = v1.size();
            String subscribed = "SLUICE_OK"; // the connect succeeded: version 1 was good
            List<Forgery> forgeries = new ArrayList<>(List.of(
                    // the first message: the connect fails
                    new Forgery("bad magic", c -> c.send(patched32(publish(1, 1, size), 0, 0x5041_4E53), v1.fd()),
                            "SLUICE_EPROTOCOL", "-", 0, 0, "bad magic 0x50414e53"),
                    new Forgery("protocol version 2", c -> c.send(patched16(publish(1, 1, size), 4, 2), v1.fd()),
                            "SLUICE_EPROTOCOL", "-", 0, 0, "cache protocol version 2"),
                    new Forgery("two fds", c -> c.send(publish(1, 1, size), v1.fd(), v1.readOnlyFd()),
                            "SLUICE_EPROTOCOL", "-", 0, 0, "PUBLISH of 32 bytes with 2 fds"),
                    new Forgery("no fd", c -> c.send(publish(1, 1, size)),
                            "SLUICE_EPROTOCOL", "-", 0, 0, "PUBLISH of 32 bytes with 0 fds"),
                    new Forgery("a shared map for a snapshot", c -> c.send(publish(2, 1, size), v1.fd()),
                            "SLUICE_EPROTOCOL", "-", 0, 0, "PUBLISH of a shared map (kind 2), a snapshot was asked for"),
                    new Forgery("an unknown kind", c -> c.send(publish(9, 1, size), v1.fd()),
                            "SLUICE_EPROTOCOL", "-", 0, 0, "(kind 9)"),
                    new Forgery("reserved bytes", c -> c.send(patched32(publish(1, 1, size), 12, 7), v1.fd()),
                            "SLUICE_EPROTOCOL", "-", 0, 0, "reserved fields at offsets 10 and 12 must be 0"),
                    new Forgery("a longer PUBLISH", c -> c.send(Arrays.copyOf(publish(1, 1, size), 40), v1.fd()),
                            "SLUICE_EPROTOCOL", "-", 0, 0, "PUBLISH of 40 bytes with 1 fds"),
                    new Forgery("version 0", c -> c.send(publish(1, 0, size), v1.fd()),
                            "SLUICE_EPROTOCOL", "-", 0, 0, "PUBLISH of version 0, outside 1.."),
                    new Forgery("a size above 2^34", c -> c.send(publish(1, 1, (1L << 34) + 1), v1.fd()),
                            "SLUICE_EPROTOCOL", "-", 0, 0, "outside 1..17179869184"),
                    new Forgery("an unsealed memfd", c -> c.send(publish(1, 1, 4096), unsealed.fd()),
                            "SLUICE_EREGION", "-", 0, 0, "missing SHRINK|GROW|WRITE"),
                    new Forgery("a memfd its owner could still write", c -> c.send(publish(1, 1, 4096), futureWrite.fd()),
                            "SLUICE_EREGION", "-", 0, 0, "missing WRITE"),
                    new Forgery("no memfd at all", c -> c.send(publish(1, 1, 4096), devNull),
                            "SLUICE_EREGION", "-", 0, 0, "character device, not a memfd"),
                    new Forgery("another size than the memfd's", c -> c.send(publish(1, 1, size + 8), v1.fd()),
                            "SLUICE_EREGION", "-", 0, 0, "the host promised " + (size + 8)),
                    new Forgery("another version than the table's", c -> c.send(publish(1, 2, size), v1.fd()),
                            "SLUICE_ELAYOUT", "-", 0, 0, "header says version 1, the owner announced 2"),
                    new Forgery("END carrying an fd", c -> c.send(CacheMessages.end(), v1.fd()),
                            "SLUICE_EPROTOCOL", "-", 0, 0, "END of 8 bytes with 1 fds"),
                    new Forgery("END before any version", c -> c.send(CacheMessages.end()),
                            "SLUICE_EENDED", "-", 0, 0, "the host ended it (END)"),
                    new Forgery("a HELLO from the host", c -> c.send(CacheMessages.hello(1, NAME)),
                            "SLUICE_EPROTOCOL", "-", 0, 0, "the host sent HELLO"),
                    new Forgery("a forged refusal", c -> c.send(CacheMessages.refused(RefusalReason.ACCESS_DENIED,
                            "no\n\u001b[31mFAKE LOG LINE")), "SLUICE_EREFUSED", "-", 0, RefusalReason.ACCESS_DENIED.code(),
                            "(ACCESS_DENIED): no\\n\\x1b[31mFAKE LOG LINE"),
                    new Forgery("a message longer than any", c -> c.send(patched16(patched32(new byte[4000], 0,
                            CacheMessages.MAGIC), 6, CacheMessages.PUBLISH), v1.fd()),
                            "SLUICE_EPROTOCOL", "-", 0, 0, "was truncated (MSG_TRUNC; 1 fds closed)"),
                    new Forgery("gone without a word", c -> { },
                            "SLUICE_EHOSTGONE", "-", 0, 0, "the host closed the connection"),
                    // after a good version 1: the subscription stops, the version handed out was fine
                    new Forgery("version 1 twice", c -> {
                        c.send(publish(1, 1, size), v1.fd());
                        c.send(publish(1, 1, size), v1.fd());
                    }, subscribed, "SLUICE_EPROTOCOL", 1, 0, "PUBLISH of version 1 after version 1"),
                    new Forgery("a REFUSED once subscribed", c -> {
                        c.send(publish(1, 1, size), v1.fd());
                        c.send(CacheMessages.refused(RefusalReason.INTERNAL, "late"));
                    }, subscribed, "SLUICE_EPROTOCOL", 1, 0, "the host sent REFUSED (type 3) where PUBLISH or END was due"),
                    new Forgery("an unsealed version 2", c -> {
                        c.send(publish(1, 1, size), v1.fd());
                        c.send(publish(1, 2, 4096), unsealed.fd());
                    }, subscribed, "SLUICE_EREGION", 1, 0, "version 2 refused: "),
                    new Forgery("a shared map as version 2", c -> {
                        c.send(publish(1, 1, size), v1.fd());
                        c.send(publish(2, 2, size), v2.fd());
                    }, subscribed, "SLUICE_EPROTOCOL", 1, 0, "PUBLISH of a shared map (kind 2), a snapshot was asked for"),
                    new Forgery("gone after version 1", c -> c.send(publish(1, 1, size), v1.fd()),
                            subscribed, "SLUICE_EHOSTGONE", 1, 0, "the host closed the connection"),
                    new Forgery("versions 1 and 2, then END", c -> {
                        c.send(publish(1, 1, size), v1.fd());
                        c.send(publish(1, 2, size), v2.fd());
                        c.send(CacheMessages.end());
                    }, subscribed, "SLUICE_EENDED", 2, 0, "the host ended it (END) after version 2")));

            Path socket = dir.resolve("hostile.sock");
            try (SeqPacketServer server = SeqPacketServer.bind(socket);
                 CacheReader c = CacheReader.reader(CacheReader.SANITIZED, "connect", socket.toString(), NAME,
                         Integer.toString(CacheMessages.KIND_SNAPSHOT), Integer.toString(forgeries.size()))) {
                for (int i = 0; i < forgeries.size(); i++) {
                    Forgery f = forgeries.get(i);
                    try (SeqPacketSocket conn = server.accept(WAIT)) {
                        assertNotNull(conn, "cache_reader did not connect for round " + i + "; its output:\n" + c.output());
                        try (ReceivedMessage hello = conn.receive(CacheMessages.MAX_HELLO_LENGTH, 0, WAIT)) {
                            assertEquals(CacheMessages.HELLO, CacheMessages.type(hello.data(), hello.fdCount()));
                            assertEquals(new CacheMessages.Hello(CacheMessages.KIND_SNAPSHOT, NAME),
                                    CacheMessages.decodeHello(hello.data()), "the C client's HELLO");
                        }
                        f.send().accept(conn);
                    } // closed: what was sent stays readable, then the client sees the end of the stream
                    String line = c.awaitLine("ROUND " + i + " ", TIMEOUT_S);
                    assertRound(line, f.connectCode(), f.nextCode(), f.versions(), f.refusal(), f.words(), f.name());
                }
                c.assertExitsCleanly(TIMEOUT_S);
            }
        }
    }

    private static void assertRound(String line, String connectCode, String nextCode, int versions, int refusal, String words) {
        assertRound(line, connectCode, nextCode, versions, refusal, words, "");
    }

    /** "ROUND i CONNECT-CODE NEXT-CODE versions V refusal R fds B A: message". */
    private static void assertRound(String line, String connectCode, String nextCode, int versions, int refusal, String words,
                                    String name) {
        String[] f = line.split(":", 2)[0].split(" ");
        String what = name + ": " + line;
        assertEquals(11, f.length, what);
        assertEquals(connectCode, f[2], what);
        assertEquals(nextCode, f[3], what);
        assertEquals(Integer.toString(versions), f[5], what);
        assertEquals(Integer.toString(refusal), f[7], what);
        assertEquals(f[9], f[10], "fds open in the C process before the connect and after the close: " + what);
        assertTrue(line.contains(words), name + ": '" + line + "' should say '" + words + "'");
    }
}
