package io.sluice.cache.nativeclient;

import io.sluice.cache.map.SharedMapOptions;
import io.sluice.cache.map.SharedMapWriter;
import io.sluice.cache.snapshot.Seeded;
import io.sluice.fdpassing.SeqPacketServer;
import io.sluice.fdpassing.SeqPacketSocket;
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
 * A shared map written in Java, read from C: the JVM fills a map with seeded random keys and
 * values, deletes some (tombstones on the probe chains), reinserts and updates others (both value
 * buffers in use), and sends its read-only fd; {@code cache_reader} opens it with
 * {@code sluice_map_open}, makes a million lookups, hits and misses, of keys both sides derive
 * from the seeds ({@link KeyStream}), then walks it. Its hit count and digest of every answer, and
 * its count and digest of the live entries, must equal the Java model's exactly.
 */
class NativeMapLookupTest {
    private static final long TIMEOUT_S = 120;
    private static final int MAX_KEY = 32;
    private static final int MAX_VALUE = 200;

    @TempDir
    Path dir;

    @Test
    void aMillionLookupsFromCAgreeWithTheModel() {
        CacheReader.assumeBuilt();
        long seed = Seeded.seed();
        Seeded.run(seed, random -> lookups(random, CacheReader.RELEASE, 20_000, 1_000_000));
    }

    @Test
    void lookupsUnderTheSanitizersAgreeWithTheModel() {
        CacheReader.assumeBuilt();
        long seed = Seeded.seed();
        Seeded.run(seed, random -> lookups(random, CacheReader.SANITIZED, 2_000, 100_000));
    }

    private void lookups(SplittableRandom random, String variant, int keys, int count) throws Exception {
        long keySeed = random.nextLong();
        long lookupSeed = random.nextLong();
        Map<ByteBuffer, byte[]> model = new HashMap<>();
        Path socket = dir.resolve("map-" + variant + ".sock");
        try (SharedMapWriter map = SharedMapWriter.create("native.map", SharedMapOptions.of(keys, MAX_KEY, MAX_VALUE))) {
            for (int i = 0; i < keys; i++) {
                put(map, model, KeyStream.key(keySeed, i), random);
            }
            for (int round = 0; round < keys; round++) { // deletes, reinserts, updates
                byte[] key = KeyStream.key(keySeed, random.nextInt(keys));
                switch (random.nextInt(3)) {
                    case 0 -> {
                        map.remove(key);
                        model.remove(ByteBuffer.wrap(key));
                    }
                    default -> put(map, model, key, random);
                }
            }
            KeyStream lookups = new KeyStream(lookupSeed);
            long digest = KeyStream.FNV_BASIS;
            long found = 0;
            for (int j = 0; j < count; j++) {
                byte[] value = model.get(ByteBuffer.wrap(KeyStream.key(keySeed, lookups.nextIndex(keys))));
                found += value != null ? 1 : 0;
                digest = KeyStream.digest(digest, value);
            }
            long live = 0;
            for (Map.Entry<ByteBuffer, byte[]> e : model.entrySet()) {
                live += KeyStream.digest(KeyStream.fnv(KeyStream.FNV_BASIS, e.getKey().array()), e.getValue());
            }
            try (SeqPacketServer server = SeqPacketServer.bind(socket);
                 CacheReader c = CacheReader.reader(variant, "map", socket.toString(), Long.toString(keySeed),
                         Integer.toString(keys), Long.toString(lookupSeed), Integer.toString(count))) {
                try (SeqPacketSocket conn = server.accept(Duration.ofSeconds(TIMEOUT_S))) {
                    assertNotNull(conn, "cache_reader did not connect; its output:\n" + c.output());
                    conn.send(MapAnnouncement.region(map.regionSize()), map.readOnlyFd());
                }
                assertEquals("DONE lookups " + count + " found " + found + " digest " + Long.toUnsignedString(digest),
                        c.awaitLine("DONE", TIMEOUT_S), "C's answers differ from the model's");
                assertEquals("LIVE entries " + model.size() + " digest " + Long.toUnsignedString(live),
                        c.awaitLine("LIVE", TIMEOUT_S), "C's walk of the live entries differs from the model");
                c.assertExitsCleanly(TIMEOUT_S);
            }
        }
    }

    private static void put(SharedMapWriter map, Map<ByteBuffer, byte[]> model, byte[] key, SplittableRandom random) {
        byte[] value = new byte[random.nextInt(MAX_VALUE + 1)];
        random.nextBytes(value);
        map.put(key, value);
        model.put(ByteBuffer.wrap(key), value);
    }
}
