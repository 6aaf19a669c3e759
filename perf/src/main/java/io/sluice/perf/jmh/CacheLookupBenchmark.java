package io.sluice.perf.jmh;

import io.sluice.cache.map.SharedMapOptions;
import io.sluice.cache.map.SharedMapReader;
import io.sluice.cache.map.SharedMapWriter;
import io.sluice.cache.map.ValueReader;
import io.sluice.cache.snapshot.SnapshotReader;
import io.sluice.cache.snapshot.SnapshotWriter;
import io.sluice.memfd.MemfdRegion;
import io.sluice.perf.cache.CacheData;
import io.sluice.perf.cache.ChronicleMaps;
import net.openhft.chronicle.map.ChronicleMap;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import static io.sluice.perf.cache.CacheData.LONG;
import static io.sluice.perf.cache.CacheData.LONG_IN_ARRAY;

/**
 * One thread looking keys up, in-process: 8-byte keys, 64-byte values, 10,000 or 1,000,000
 * entries, keys that are there ({@code hit}) or not ({@code miss}), chosen from a precomputed
 * random sequence of 2^20 probes. Every benchmark call is one lookup that reads the value's first
 * word (the key, for a hit) and returns it.
 *
 * <ul>
 *   <li>{@code snapshotInPlace}: a sealed snapshot table ({@link SnapshotReader#findEntry}), the
 *       value read where it lies in the read-only mapping;</li>
 *   <li>{@code snapshotSlice}: the same through {@link SnapshotReader#get}, which returns a slice
 *       (shows whether the JIT removes the slice's allocation);</li>
 *   <li>{@code sharedMapCopy}: the live shared map ({@link SharedMapReader#get(MemorySegment, MemorySegment)}),
 *       the value copied into a caller's off-heap buffer and checked stable;</li>
 *   <li>{@code sharedMapInPlace}: the same map through {@link SharedMapReader#read}, the word read
 *       in place by a {@link ValueReader} that returns a reused holder;</li>
 *   <li>{@code chronicleMap}: Chronicle Map (off-heap, in this process), {@code getUsing} into a
 *       reused 64-byte array;</li>
 *   <li>{@code concurrentHashMap}: {@code ConcurrentHashMap<Long, byte[]>} on the heap, as
 *       context (no serialisation at all, and no other process can read it).</li>
 * </ul>
 * The Sluice rows write the probe into one reused off-heap 8-byte key; Chronicle and the heap map
 * get pre-boxed {@code Long} probes (distinct objects from the map's own keys). Run with
 * {@code -prof gc} for the allocation per lookup.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 3, jvmArgsAppend = {"-Xms3g", "-Xmx3g",
        // Chronicle Map's flags on JDK 25: ChronicleMaps.JVM_FLAGS says why each is there.
        "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED",
        "--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED",
        "--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED",
        "--add-opens=java.base/java.lang=ALL-UNNAMED",
        "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow",
        "--enable-native-access=ALL-UNNAMED",
        "-Dchronicle.analytics.disable=true"})
public class CacheLookupBenchmark {
    /** Probes per sequence: a power of two, so the cursor wraps with a mask. */
    static final int PROBES = 1 << 20;

    /** The data and the probe sequence, shared by the rows of one fork. */
    @State(Scope.Benchmark)
    public static class Data {
        @Param({"10000", "1000000"})
        public int entries;

        @Param({"hit", "miss"})
        public String lookup;

        CacheData data;
        long[] probes;
        Long[] boxedProbes;

        @Setup
        public void setup() {
            data = new CacheData(entries);
            probes = data.probes(PROBES, lookup.equals("hit"), CacheData.SEED + 1);
            boxedProbes = new Long[PROBES];
            for (int i = 0; i < PROBES; i++) {
                // valueOf makes a new object for any key outside -128..127 (all but never, for random
                // longs): distinct from the map's own key objects, as a caller's keys would be.
                boxedProbes[i] = Long.valueOf(probes[i]);
            }
        }
    }

    /** The probe cursor and the reused key segment of one thread. */
    @State(Scope.Thread)
    public static class Cursor {
        int next;
        final Arena arena = Arena.ofShared();
        final MemorySegment key = arena.allocate(CacheData.KEY_LENGTH, 8);

        int advance() {
            int i = next;
            next = (i + 1) & (PROBES - 1);
            return i;
        }

        @TearDown
        public void close() {
            arena.close();
        }
    }

    @State(Scope.Benchmark)
    public static class Snapshot {
        MemfdRegion region;
        SnapshotReader reader;
        MemorySegment table;

        @Setup
        public void setup(Data d) {
            SnapshotWriter w = new SnapshotWriter();
            for (int i = 0; i < d.data.entries(); i++) {
                long k = d.data.key(i);
                w.put(CacheData.keyBytes(k), CacheData.value(k));
            }
            region = w.build("bench.lookup-snapshot", 1);
            reader = SnapshotReader.open(region.mapReadOnly(), region.name());
            reader.verify();
            table = reader.segment();
        }

        @TearDown
        public void close() {
            region.close();
        }
    }

    @State(Scope.Benchmark)
    public static class SharedMap {
        SharedMapWriter writer;
        SharedMapReader reader;

        @Setup
        public void setup(Data d) {
            writer = SharedMapWriter.create("bench.lookup-map",
                    SharedMapOptions.of(d.data.entries(), CacheData.KEY_LENGTH, CacheData.VALUE_LENGTH));
            for (int i = 0; i < d.data.entries(); i++) {
                long k = d.data.key(i);
                writer.put(CacheData.keyBytes(k), CacheData.value(k));
            }
            reader = writer.reader();
        }

        @TearDown
        public void close() {
            writer.close();
        }
    }

    /** The caller's buffer of the copying lookup, off-heap as the probes. */
    @State(Scope.Thread)
    public static class ValueBuffer {
        final Arena arena = Arena.ofShared();
        final MemorySegment value = arena.allocate(CacheData.VALUE_LENGTH, 8);

        @TearDown
        public void close() {
            arena.close();
        }
    }

    /** What the in-place reader hands back: reused, so that the lookup allocates nothing. */
    public static final class Word {
        long value;
    }

    @State(Scope.Thread)
    public static class InPlace {
        final Word word = new Word();
        final ValueReader<Word> firstWord = (map, offset, length) -> {
            word.value = map.get(LONG, offset);
            return word;
        };
    }

    @State(Scope.Benchmark)
    public static class Chronicle {
        ChronicleMap<Long, byte[]> map;

        @Setup
        public void setup(Data d) {
            map = ChronicleMaps.fill(ChronicleMaps.inMemory("bench.lookup-chronicle", d.data.entries()), d.data);
        }

        @TearDown
        public void close() {
            map.close();
        }
    }

    @State(Scope.Thread)
    public static class ChronicleValue {
        final byte[] value = new byte[CacheData.VALUE_LENGTH];
    }

    @State(Scope.Benchmark)
    public static class HeapMap {
        ConcurrentHashMap<Long, byte[]> map;

        @Setup
        public void setup(Data d) {
            map = new ConcurrentHashMap<>(d.data.entries() * 2);
            for (int i = 0; i < d.data.entries(); i++) {
                long k = d.data.key(i);
                map.put(k, CacheData.value(k));
            }
        }
    }

    @Benchmark
    public long snapshotInPlace(Data d, Cursor c, Snapshot s) {
        CacheData.setKey(c.key, d.probes[c.advance()]);
        long entry = s.reader.findEntry(c.key);
        return entry < 0 ? -1 : s.table.get(LONG, s.reader.valueOffset(entry));
    }

    @Benchmark
    public long snapshotSlice(Data d, Cursor c, Snapshot s) {
        CacheData.setKey(c.key, d.probes[c.advance()]);
        MemorySegment value = s.reader.get(c.key);
        return value == null ? -1 : value.get(LONG, 0);
    }

    @Benchmark
    public long sharedMapCopy(Data d, Cursor c, SharedMap m, ValueBuffer b) {
        CacheData.setKey(c.key, d.probes[c.advance()]);
        int length = m.reader.get(c.key, b.value);
        return length == SharedMapReader.ABSENT ? -1 : b.value.get(LONG, 0);
    }

    @Benchmark
    public long sharedMapInPlace(Data d, Cursor c, SharedMap m, InPlace r) {
        CacheData.setKey(c.key, d.probes[c.advance()]);
        Word w = m.reader.read(c.key, r.firstWord);
        return w == null ? -1 : w.value;
    }

    @Benchmark
    public long chronicleMap(Data d, Cursor c, Chronicle m, ChronicleValue v) {
        byte[] value = m.map.getUsing(d.boxedProbes[c.advance()], v.value);
        return value == null ? -1 : (long) LONG_IN_ARRAY.get(value, 0);
    }

    @Benchmark
    public long concurrentHashMap(Data d, Cursor c, HeapMap m) {
        byte[] value = m.map.get(d.boxedProbes[c.advance()]);
        return value == null ? -1 : (long) LONG_IN_ARRAY.get(value, 0);
    }
}
