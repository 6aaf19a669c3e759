package io.sluice.cache.nativeclient;

import io.sluice.cache.CacheMessages;
import io.sluice.cache.snapshot.Seeded;
import io.sluice.cache.snapshot.SnapshotWriter;
import io.sluice.fdpassing.SeqPacketServer;
import io.sluice.fdpassing.SeqPacketSocket;
import io.sluice.memfd.MemfdRegion;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * A snapshot table built in Java, read from C: the JVM publishes a sealed table of seeded random
 * keys and values over a socket (the cache protocol's PUBLISH with the memfd), {@code cache_reader}
 * subscribes with {@code sluice_cache_connect} (which opens it with {@code sluice_snapshot_open})
 * and makes a million lookups, hits and misses, with keys both sides
 * derive from the seeds ({@link KeyStream}); its count of hits and its digest of every answer
 * (found or not, value bytes) must equal the Java model's exactly.
 */
class NativeSnapshotLookupTest {
    private static final long TIMEOUT_S = 120;
    private static final int LOOKUPS = 1_000_000;

    @TempDir
    Path dir;

    @Test
    void aMillionLookupsFromCAgreeWithTheModel() {
        CacheReader.assumeBuilt();
        long seed = Seeded.seed();
        Seeded.run(seed, random -> lookups(random, CacheReader.RELEASE, 20_000, LOOKUPS));
    }

    @Test
    void lookupsUnderTheSanitizersAgreeWithTheModel() {
        CacheReader.assumeBuilt();
        long seed = Seeded.seed();
        Seeded.run(seed, random -> lookups(random, CacheReader.SANITIZED, 2_000, 100_000));
    }

    @Test
    void anEmptyTableAnswersEveryLookupAbsent() {
        CacheReader.assumeBuilt();
        long seed = Seeded.seed();
        Seeded.run(seed, random -> lookups(random, CacheReader.SANITIZED, 0, 10_000));
    }

    private void lookups(SplittableRandom random, String variant, int entries, int count) throws Exception {
        long keySeed = random.nextLong();
        long lookupSeed = random.nextLong();
        long version = 1 + random.nextLong(1L << 40);
        SnapshotWriter writer = new SnapshotWriter();
        Map<ByteBuffer, byte[]> model = new HashMap<>();
        for (int i = 0; i < entries; i++) {
            byte[] key = KeyStream.key(keySeed, i);
            byte[] value = new byte[random.nextInt(random.nextInt(8) == 0 ? 2_000 : 100)];
            random.nextBytes(value);
            writer.put(key, value);
            model.put(ByteBuffer.wrap(key), value);
        }
        // The model's answers: the same lookups, the same digest.
        KeyStream lookups = new KeyStream(lookupSeed);
        int n = Math.max(entries, 1); // an empty table: every key looked up, 0 and 1, is absent
        long digest = KeyStream.FNV_BASIS;
        long found = 0;
        for (int j = 0; j < count; j++) {
            byte[] value = model.get(ByteBuffer.wrap(KeyStream.key(keySeed, lookups.nextIndex(n))));
            found += value != null ? 1 : 0;
            digest = KeyStream.digest(digest, value);
        }
        Path socket = dir.resolve("snapshot-" + variant + "-" + entries + ".sock");
        try (SeqPacketServer server = SeqPacketServer.bind(socket);
             MemfdRegion table = writer.build("native.lookups", version);
             CacheReader c = CacheReader.reader(variant, "snapshot", socket.toString(), Long.toString(keySeed),
                     Integer.toString(n), Long.toString(lookupSeed), Integer.toString(count))) {
            try (SeqPacketSocket conn = server.accept(Duration.ofSeconds(TIMEOUT_S))) {
                assertNotNull(conn, "cache_reader did not connect; its output:\n" + c.output());
                // HELLO read before PUBLISH and the connection held until DONE, as a host does:
                // closing with the HELLO unread resets the connection under the reader.
                conn.receive(CacheMessages.MAX_HELLO_LENGTH, 0, Duration.ofSeconds(TIMEOUT_S)).close();
                conn.send(CacheMessages.publish(CacheMessages.KIND_SNAPSHOT, version, table.size()), table.fd());
                String done = c.awaitLine("DONE", TIMEOUT_S);
                assertEquals("DONE lookups " + count + " found " + found + " digest " + Long.toUnsignedString(digest), done,
                        "C's answers differ from the model's (" + entries + " entries, version " + version + ")");
            }
            c.assertExitsCleanly(TIMEOUT_S);
        }
    }
}
