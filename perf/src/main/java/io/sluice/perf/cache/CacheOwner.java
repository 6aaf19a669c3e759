package io.sluice.perf.cache;

import io.sluice.cache.CacheHost;
import io.sluice.cache.PublishedMap;
import io.sluice.cache.PublishedSnapshot;
import io.sluice.cache.map.SharedMapOptions;
import io.sluice.cache.map.SharedMapWriter;
import io.sluice.cache.snapshot.SnapshotWriter;
import net.openhft.chronicle.map.ChronicleMap;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.concurrent.locks.LockSupport;

/**
 * The owner JVM of one cross-process cache run: builds the cache with {@link CacheData}'s entries,
 * serves it, prints {@code READY}, and (map and Chronicle rows) updates existing keys at a fixed
 * rate until its stdin closes; then prints {@code UPDATES count nanos} and exits.
 *
 * <pre>CacheOwner SYSTEM ENTRIES DIR UPDATES_PER_SECOND</pre>
 * SYSTEM: {@code snapshot} (a {@link CacheHost} serving one sealed version at {@code DIR/cache.sock}),
 * {@code map} (a shared map served by the same kind of host, which readers subscribe to by name
 * with {@code Caches.map}), {@code chronicle}
 * (Chronicle Map persisted to {@code DIR/chronicle.map}). An update keeps the value's first word
 * (the key, which readers check) and changes the second; 0 updates per second means none.
 */
public final class CacheOwner {
    public static final String SNAPSHOT_NAME = "bench.snapshot";
    public static final String MAP_NAME = "bench.map";
    /** Updates per burst; bursts are spaced to keep the rate. */
    private static final int BURST = 100;

    private CacheOwner() {
    }

    public static void main(String[] args) throws Exception {
        String system = args[0];
        int entries = Integer.parseInt(args[1]);
        Path dir = Path.of(args[2]);
        long rate = Long.parseLong(args[3]);
        CacheData data = new CacheData(entries);
        Thread stdinWatcher = Thread.ofPlatform().daemon().start(CacheOwner::awaitEndOfInput);
        switch (system) {
            case "snapshot" -> serveSnapshot(data, dir, stdinWatcher);
            case "map" -> serveMap(data, dir, rate, stdinWatcher);
            case "chronicle" -> serveChronicle(data, dir, rate, stdinWatcher);
            default -> throw new IllegalArgumentException("unknown system " + system + " (snapshot, map, chronicle)");
        }
    }

    private static void awaitEndOfInput() {
        try (InputStream in = System.in) {
            while (in.read() >= 0) {
                // nothing is sent: the launcher only closes the stream
            }
        } catch (IOException e) {
            // closed: the same as end of input
        }
    }

    private static void serveSnapshot(CacheData data, Path dir, Thread stdinWatcher) throws InterruptedException {
        SnapshotWriter w = new SnapshotWriter();
        for (int i = 0; i < data.entries(); i++) {
            long k = data.key(i);
            w.put(CacheData.keyBytes(k), CacheData.value(k));
        }
        try (CacheHost host = CacheHost.bind(dir.resolve("cache.sock"));
             PublishedSnapshot snapshot = host.snapshot(SNAPSHOT_NAME)) {
            snapshot.publish(w);
            ready();
            stdinWatcher.join();
            System.out.println("UPDATES 0 0");
        }
    }

    private static void serveMap(CacheData data, Path dir, long rate, Thread stdinWatcher) throws InterruptedException {
        // Served as a user serves one: readers subscribe by name (Caches.map) on the host's socket.
        try (CacheHost host = CacheHost.bind(dir.resolve("cache.sock"));
             PublishedMap published = host.map(MAP_NAME,
                     SharedMapOptions.of(data.entries(), CacheData.KEY_LENGTH, CacheData.VALUE_LENGTH));
             Arena arena = Arena.ofConfined()) {
            SharedMapWriter w = published.writer();
            for (int i = 0; i < data.entries(); i++) {
                long k = data.key(i);
                w.put(CacheData.keyBytes(k), CacheData.value(k));
            }
            MemorySegment key = arena.allocate(CacheData.KEY_LENGTH, 8);
            MemorySegment value = arena.allocate(CacheData.VALUE_LENGTH, 8);
            long[] order = data.probes(1 << 16, true, CacheData.SEED + 3);
            ready();
            String updates = update(rate, stdinWatcher, order, (k, n) -> {
                CacheData.setKey(key, k);
                value.set(CacheData.LONG, 0, k);
                value.set(CacheData.LONG, 8, n);
                w.put(key, value);
            });
            System.out.println(updates);
        }
    }

    private static void serveChronicle(CacheData data, Path dir, long rate, Thread stdinWatcher) throws InterruptedException {
        try (ChronicleMap<Long, byte[]> map = ChronicleMaps.fill(ChronicleMaps.persisted("bench.chronicle", data.entries(),
                dir.resolve("chronicle.map").toFile()), data)) {
            byte[] value = CacheData.value(0);
            long[] order = data.probes(1 << 16, true, CacheData.SEED + 3);
            ready();
            String updates = update(rate, stdinWatcher, order, (k, n) -> {
                CacheData.LONG_IN_ARRAY.set(value, 0, k);
                CacheData.LONG_IN_ARRAY.set(value, 8, n);
                map.put(k, value); // serialised into the map: the array is reused
            });
            System.out.println(updates);
        }
    }

    private interface Update {
        void apply(long key, long n);
    }

    /** Bursts of updates spaced to {@code rate} per second until stdin ends; returns the summary line. */
    private static String update(long rate, Thread stdinWatcher, long[] order, Update u) throws InterruptedException {
        long start = System.nanoTime();
        long n = 0;
        if (rate <= 0) {
            stdinWatcher.join();
            return "UPDATES 0 " + (System.nanoTime() - start);
        }
        long nanosPerBurst = 1_000_000_000L * BURST / rate;
        long due = start;
        while (stdinWatcher.isAlive()) {
            for (int i = 0; i < BURST; i++, n++) {
                u.apply(order[(int) (n & (order.length - 1))], n);
            }
            due += nanosPerBurst;
            long wait = due - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(wait);
            }
        }
        return "UPDATES " + n + " " + (System.nanoTime() - start);
    }

    private static void ready() {
        System.out.println("READY");
        System.out.flush();
    }

}
