package io.sluice.cache.nativeclient;

import io.sluice.cache.map.SharedMapOptions;
import io.sluice.cache.map.SharedMapWriter;
import io.sluice.cache.snapshot.Seeded;
import io.sluice.cache.snapshot.SnapshotDescriptor;
import io.sluice.fdpassing.SeqPacketServer;
import io.sluice.fdpassing.SeqPacketSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The C reader racing the Java writer: while {@code cache_reader} (another process) looks up a
 * few dozen keys millions of times, a thread of this JVM rewrites their values as fast as it can
 * (each update a new length and new bytes), and now and then deletes a key and puts it back
 * (tombstones, slot reuse). Every value C finds carries its key's index, the update number, filler
 * derived from it and a checksum of the whole ({@code race_value_ok} in cache_reader.c): a value
 * mixed from two updates, or read from a slot being reused for another key, fails them. None may;
 * the run ends in bounded time; lookups the writer kept changing (SLUICE_ECONTENDED) are counted
 * but, on a fair scheduler, rare.
 */
class NativeMapRaceTest {
    private static final long TIMEOUT_S = 180;
    private static final int KEYS = 48;
    private static final int MAX_VALUE = 512;

    @TempDir
    Path dir;

    @Test
    void noTornValueWhileTheWriterUpdatesAtFullSpeed() {
        CacheReader.assumeBuilt();
        long seed = Seeded.seed();
        Seeded.run(seed, random -> race(random, CacheReader.RELEASE, 4_000_000));
    }

    @Test
    void noTornValueUnderTheSanitizers() {
        CacheReader.assumeBuilt();
        long seed = Seeded.seed();
        Seeded.run(seed, random -> race(random, CacheReader.SANITIZED, 500_000));
    }

    /** What race_value_ok accepts: i, update, filler (byte) (update + j), then the hash of all before. */
    static byte[] value(long i, long update, int length) {
        ByteBuffer v = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN).putLong(i).putLong(update);
        for (int j = 16; j < length - 8; j++) {
            v.put((byte) (update + j));
        }
        v.putLong(SnapshotDescriptor.hash(java.util.Arrays.copyOf(v.array(), length - 8)));
        return v.array();
    }

    private void race(SplittableRandom random, String variant, int lookups) throws Exception {
        long keySeed = random.nextLong();
        long writerSeed = random.nextLong();
        Path socket = dir.resolve("race-" + variant + ".sock");
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong updates = new AtomicLong();
        try (SharedMapWriter map = SharedMapWriter.create("native.race", SharedMapOptions.of(KEYS, 32, MAX_VALUE))) {
            for (int i = 0; i < KEYS; i++) {
                map.put(KeyStream.key(keySeed, i), value(i, 0, 24));
            }
            // The writer runs at full speed before C maps the map, and until C is done.
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                SplittableRandom w = new SplittableRandom(writerSeed);
                for (long update = 1; !stop.get(); update++) {
                    int i = w.nextInt(KEYS);
                    byte[] key = KeyStream.key(keySeed, i);
                    if (w.nextInt(64) == 0) {
                        map.remove(key); // a tombstone; the put below may take another free slot
                    }
                    map.put(key, value(i, update, 24 + w.nextInt(MAX_VALUE - 24 + 1)));
                    updates.set(update);
                }
            });
            try (SeqPacketServer server = SeqPacketServer.bind(socket);
                 CacheReader c = CacheReader.reader(variant, "map-race", socket.toString(), Long.toString(keySeed),
                         Integer.toString(KEYS), Integer.toString(lookups))) {
                try (SeqPacketSocket conn = server.accept(Duration.ofSeconds(TIMEOUT_S))) {
                    assertNotNull(conn, "cache_reader did not connect; its output:\n" + c.output());
                    conn.send(MapAnnouncement.region(map.regionSize()), map.readOnlyFd());
                }
                c.awaitLine("RACING", TIMEOUT_S);
                long before = updates.get();
                String raced = c.awaitLine("RACED", TIMEOUT_S);
                long during = updates.get() - before;
                String[] f = raced.split(" "); // RACED lookups L found F torn T contended C
                assertEquals("0", f[6], "torn values read from C: " + c.output());
                assertTrue(Long.parseLong(f[4]) > 0, "C found none of the keys: " + raced);
                assertTrue(during > 0, "the writer made no update while C read: " + raced);
                System.out.println(variant + ": " + raced + " while the writer made " + during + " updates");
                c.assertExitsCleanly(TIMEOUT_S);
            } finally {
                stop.set(true); // before the map is unmapped
                writer.get(TIMEOUT_S, TimeUnit.SECONDS);
            }
        }
    }
}
