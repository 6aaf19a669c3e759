package io.sluice.perf.cache;

import io.sluice.cache.Caches;
import io.sluice.cache.MapSubscription;
import io.sluice.cache.SnapshotLease;
import io.sluice.cache.SnapshotSubscription;
import io.sluice.cache.map.SharedMapReader;
import net.openhft.chronicle.map.ChronicleMap;
import org.HdrHistogram.Histogram;

import java.io.FileOutputStream;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A reader JVM of one cross-process cache run: opens the owner's cache, looks keys up at full
 * speed, hits then misses, and reports each phase.
 *
 * <pre>CacheReaderMain SYSTEM ENTRIES DIR READER WARMUP_MS MEASURE_MS BATCH OUT_PREFIX</pre>
 *
 * <p>Once attached it prints {@code ATTACHED} and waits for the file {@code DIR/start}, so that
 * the readers of a run measure at the same time.
 *
 * <p>Timing is by batch: {@code System.nanoTime()} around {@code BATCH} lookups, and the batch's
 * mean per lookup (rounded up) recorded once in an HdrHistogram. Percentiles are therefore of
 * per-batch means: a single slow lookup is diluted by the batch (with {@code BATCH} 1 every
 * lookup is timed, clock reads included). Each phase warms up for {@code WARMUP_MS}, then
 * measures for {@code MEASURE_MS}; a hit must return the key as the value's first word and a
 * miss nothing, or it counts as wrong. The snapshot reader acquires a lease per batch, as an
 * application would around a unit of work.
 *
 * <p>Prints one line per phase: {@code RESULT phase=hit lookups=N nanos=T wrong=W p50=.. p90=..
 * p99=.. p999=.. max=..} (ns), and writes {@code OUT_PREFIX-hit.hgrm} and {@code OUT_PREFIX-miss.hgrm}.
 */
public final class CacheReaderMain {
    private static final int PROBES = 1 << 20;
    private static final Duration WAIT = Duration.ofSeconds(30);

    private CacheReaderMain() {
    }

    /** One lookup: the value's first word, or -1 if absent. */
    interface Lookup {
        long firstWord(long key, Long boxedKey);

        /** Called around each batch (the snapshot holds a lease over it). */
        default void beginBatch() {
        }

        default void endBatch() {
        }
    }

    public static void main(String[] args) throws Exception {
        String system = args[0];
        int entries = Integer.parseInt(args[1]);
        Path dir = Path.of(args[2]);
        int reader = Integer.parseInt(args[3]);
        long warmupNanos = Long.parseLong(args[4]) * 1_000_000L;
        long measureNanos = Long.parseLong(args[5]) * 1_000_000L;
        int batch = Integer.parseInt(args[6]);
        String out = args[7];
        CacheData data = new CacheData(entries);
        long[] hits = data.probes(PROBES, true, CacheData.SEED + 100 + reader);
        long[] misses = data.probes(PROBES, false, CacheData.SEED + 200 + reader);
        // Chronicle takes Long keys: boxed here, outside the measured loop, as in the JMH rows.
        Long[] boxedHits = system.equals("chronicle") ? box(hits) : null;
        Long[] boxedMisses = system.equals("chronicle") ? box(misses) : null;
        try (Arena arena = Arena.ofConfined()) {
            AutoCloseable[] held = new AutoCloseable[1];
            Lookup lookup = open(system, entries, dir, arena, held);
            try {
                awaitStart(dir);
                for (String phase : new String[]{"hit", "miss"}) {
                    boolean hit = phase.equals("hit");
                    long[] probes = hit ? hits : misses;
                    Long[] boxed = hit ? boxedHits : boxedMisses;
                    run(lookup, probes, boxed, batch, warmupNanos, null, hit);
                    Histogram h = new Histogram(3);
                    long[] counts = run(lookup, probes, boxed, batch, measureNanos, h, hit);
                    try (PrintStream p = new PrintStream(new FileOutputStream(out + "-" + phase + ".hgrm"), true, StandardCharsets.UTF_8)) {
                        h.outputPercentileDistribution(p, 1.0);
                    }
                    System.out.println("RESULT phase=" + phase + " lookups=" + counts[0] + " nanos=" + counts[1]
                            + " wrong=" + counts[2] + " p50=" + h.getValueAtPercentile(50) + " p90=" + h.getValueAtPercentile(90)
                            + " p99=" + h.getValueAtPercentile(99) + " p999=" + h.getValueAtPercentile(99.9)
                            + " max=" + h.getMaxValue());
                }
            } finally {
                if (held[0] != null) {
                    held[0].close();
                }
            }
        }
    }

    /** Looks up for {@code nanos}; returns lookups, elapsed nanos, wrong answers. */
    private static long[] run(Lookup lookup, long[] probes, Long[] boxed, int batch, long nanos, Histogram h, boolean hits) {
        long lookups = 0;
        long wrong = 0;
        int next = 0;
        long start = System.nanoTime();
        long now = start;
        while (now - start < nanos) {
            lookup.beginBatch();
            long t0 = System.nanoTime();
            for (int i = 0; i < batch; i++) {
                long key = probes[next];
                long word = lookup.firstWord(key, boxed == null ? null : boxed[next]);
                next = (next + 1) & (PROBES - 1);
                if (hits ? word != key : word != -1) {
                    wrong++;
                }
            }
            now = System.nanoTime();
            lookup.endBatch();
            if (h != null) {
                h.recordValue((now - t0 + batch - 1) / batch);
            }
            lookups += batch;
        }
        return new long[]{lookups, now - start, wrong};
    }

    /**
     * Says {@code ATTACHED} and waits for the launcher's start file, which it creates once every
     * reader of the run has said so: the readers' phases then start within a few milliseconds of
     * each other, whatever each one's start-up took.
     */
    private static void awaitStart(Path dir) throws InterruptedException {
        System.out.println("ATTACHED");
        System.out.flush();
        Path go = dir.resolve("start");
        long deadline = System.nanoTime() + WAIT.toNanos() * 4;
        while (!java.nio.file.Files.exists(go)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no start file " + go + " within " + WAIT.multipliedBy(4));
            }
            Thread.sleep(1); // a file to poll, nothing to be notified by
        }
    }

    private static Long[] box(long[] keys) {
        Long[] boxed = new Long[keys.length];
        for (int i = 0; i < keys.length; i++) {
            boxed[i] = Long.valueOf(keys[i]);
        }
        return boxed;
    }

    private static Lookup open(String system, int entries, Path dir, Arena arena, AutoCloseable[] held) {
        MemorySegment key = arena.allocate(CacheData.KEY_LENGTH, 8);
        switch (system) {
            case "snapshot" -> {
                SnapshotSubscription sub = Caches.snapshot(dir.resolve("cache.sock"), CacheOwner.SNAPSHOT_NAME, WAIT);
                held[0] = sub;
                return new Lookup() {
                    SnapshotLease lease;
                    MemorySegment table;

                    @Override
                    public void beginBatch() {
                        lease = sub.acquire();
                        table = lease.segment();
                    }

                    @Override
                    public void endBatch() {
                        lease.close();
                    }

                    @Override
                    public long firstWord(long k, Long unused) {
                        CacheData.setKey(key, k);
                        long entry = lease.findEntry(key);
                        return entry < 0 ? -1 : table.get(CacheData.LONG, lease.reader().valueOffset(entry));
                    }
                };
            }
            case "map" -> {
                MapSubscription subscription = Caches.map(dir.resolve("cache.sock"), CacheOwner.MAP_NAME, WAIT);
                SharedMapReader r = subscription.reader();
                held[0] = subscription;
                MemorySegment value = arena.allocate(CacheData.VALUE_LENGTH, 8);
                return (k, unused) -> {
                    CacheData.setKey(key, k);
                    return r.get(key, value) == SharedMapReader.ABSENT ? -1 : value.get(CacheData.LONG, 0);
                };
            }
            case "chronicle" -> {
                ChronicleMap<Long, byte[]> map = ChronicleMaps.persisted("bench.chronicle", entries,
                        dir.resolve("chronicle.map").toFile());
                held[0] = map;
                byte[] value = new byte[CacheData.VALUE_LENGTH];
                return (k, boxedKey) -> {
                    byte[] v = map.getUsing(boxedKey, value);
                    return v == null ? -1 : (long) CacheData.LONG_IN_ARRAY.get(v, 0);
                };
            }
            default -> throw new IllegalArgumentException("unknown system " + system + " (snapshot, map, chronicle)");
        }
    }

}
