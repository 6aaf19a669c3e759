package io.sluice.perf.jmh;

import io.sluice.api.Role;
import io.sluice.cache.map.SharedMapOptions;
import io.sluice.cache.map.SharedMapUpdater;
import io.sluice.cache.map.SharedMapUpdates;
import io.sluice.cache.map.SharedMapWriter;
import io.sluice.channel.ChannelHost;
import io.sluice.channel.HostedMpmcChannel;
import io.sluice.perf.cache.CacheData;
import io.sluice.perf.cache.ChronicleMaps;
import net.openhft.chronicle.map.ChronicleMap;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Updates of existing keys by one writer, in-process: 8-byte keys, 64-byte values, 10,000 or
 * 1,000,000 entries, keys drawn from a precomputed random sequence, every update with a value
 * different from the key's last one. ns per update ({@code AverageTime}); {@code -prof gc} for
 * the allocation.
 *
 * <ul>
 *   <li>{@code sharedMapPut}: the owner's {@link SharedMapWriter#put} (the new value into the slot's
 *       inactive buffer, then one release store of the control word), the value in a reused
 *       off-heap segment whose first word is a counter;</li>
 *   <li>{@code chronicleMapPut}: Chronicle Map's {@code put} (returning null, so no copy of the old
 *       value), values from a pool of 16 arrays;</li>
 *   <li>{@code concurrentHashMapPut}: {@code ConcurrentHashMap<Long, byte[]>.put} of the same pooled
 *       arrays (a reference store: context, not a peer);</li>
 *   <li>{@code updaterRoundTrip}: one thread sends a PUT through a {@link SharedMapUpdater} (the MPMC
 *       update channel of the map) and applies it as the owner ({@link SharedMapWriter#applyUpdates}
 *       with limit 1): the CPU cost of an update from another process, without the cache-line
 *       transfers;</li>
 *   <li>group {@code updater} (two threads, throughput): a sender thread offering PUTs as fast as the
 *       channel takes them and the owner's thread applying them in batches of up to 64; the figure
 *       is {@code received} (updates applied per second), as in the ring throughput benchmarks.</li>
 * </ul>
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
public class CacheUpdateBenchmark {
    static final int PROBES = 1 << 20;
    static final int POOL = 16;
    /** Slots of the update channel's ring (a power of two). */
    static final int CHANNEL_SLOTS = 1024;

    @State(Scope.Benchmark)
    public static class Data {
        @Param({"10000", "1000000"})
        public int entries;

        CacheData data;
        long[] keys;
        Long[] boxedKeys;
        /** POOL distinct values, taken in turn. */
        byte[][] pool;

        @Setup
        public void setup() {
            data = new CacheData(entries);
            keys = data.probes(PROBES, true, CacheData.SEED + 2);
            boxedKeys = new Long[PROBES];
            for (int i = 0; i < PROBES; i++) {
                boxedKeys[i] = Long.valueOf(keys[i]);
            }
            pool = new byte[POOL][CacheData.VALUE_LENGTH];
            for (int p = 0; p < POOL; p++) {
                CacheData.fillValue(pool[p], p, p); // any bytes: what matters is that they differ
            }
        }

        byte[] pooled(long n) {
            return pool[(int) (n & (POOL - 1))];
        }
    }

    /** Cursor, counter and the reused off-heap key and value of one thread. */
    @State(Scope.Thread)
    public static class Cursor {
        int next;
        long n;
        final Arena arena = Arena.ofShared();
        final MemorySegment key = arena.allocate(CacheData.KEY_LENGTH, 8);
        final MemorySegment value = arena.allocate(CacheData.VALUE_LENGTH, 8);

        int advance() {
            int i = next;
            next = (i + 1) & (PROBES - 1);
            n++;
            return i;
        }

        /** The next key into {@link #key} and a value not equal to that key's last one into {@link #value}. */
        void nextUpdate(long[] keys) {
            CacheData.setKey(key, keys[advance()]);
            value.set(CacheData.LONG, 0, n);
        }

        @TearDown
        public void close() {
            arena.close();
        }
    }

    static SharedMapWriter filledMap(CacheData data, String name) {
        SharedMapWriter w = SharedMapWriter.create(name,
                SharedMapOptions.of(data.entries(), CacheData.KEY_LENGTH, CacheData.VALUE_LENGTH));
        try {
            for (int i = 0; i < data.entries(); i++) {
                long k = data.key(i);
                w.put(CacheData.keyBytes(k), CacheData.value(k));
            }
            return w;
        } catch (RuntimeException e) {
            w.close();
            throw e;
        }
    }

    @State(Scope.Benchmark)
    public static class SharedMap {
        SharedMapWriter writer;

        @Setup
        public void setup(Data d) {
            writer = filledMap(d.data, "bench.update-map");
        }

        @TearDown
        public void close() {
            writer.close();
        }
    }

    /** The map, its update channel on a host of its own, and a sender attached in-process. */
    @State(Scope.Group)
    public static class Channel {
        Path dir;
        ChannelHost host;
        SharedMapWriter writer;
        SharedMapUpdater updater;

        @Setup
        public void setup(Data d) throws IOException {
            dir = Files.createTempDirectory("sluice-bench-updates");
            host = ChannelHost.bind(dir.resolve("host.sock"));
            writer = filledMap(d.data, "bench.update-channel-map");
            SharedMapOptions options = SharedMapOptions.of(d.data.entries(), CacheData.KEY_LENGTH, CacheData.VALUE_LENGTH);
            HostedMpmcChannel channel = writer.hostUpdates(host, "bench.updates",
                    SharedMapUpdates.channelOptions(options, CHANNEL_SLOTS));
            updater = SharedMapUpdater.over(channel.attachLocal(Role.PRODUCER));
        }

        @TearDown
        public void close() {
            try {
                updater.close();
                writer.close();
                host.close();
                Files.deleteIfExists(dir.resolve("host.sock"));
                Files.deleteIfExists(dir);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    @State(Scope.Benchmark)
    public static class Chronicle {
        ChronicleMap<Long, byte[]> map;

        @Setup
        public void setup(Data d) {
            map = ChronicleMaps.fill(ChronicleMaps.inMemory("bench.update-chronicle", d.data.entries()), d.data);
        }

        @TearDown
        public void close() {
            map.close();
        }
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
    public boolean sharedMapPut(Data d, Cursor c, SharedMap m) {
        c.nextUpdate(d.keys);
        return m.writer.put(c.key, c.value);
    }

    @Benchmark
    public void chronicleMapPut(Data d, Cursor c, Chronicle m) {
        int i = c.advance();
        m.map.put(d.boxedKeys[i], d.pooled(c.n));
    }

    @Benchmark
    public byte[] concurrentHashMapPut(Data d, Cursor c, HeapMap m) {
        int i = c.advance();
        return m.map.put(d.boxedKeys[i], d.pooled(c.n));
    }

    /** One thread: send one PUT through the channel, then apply it as the owner. */
    @State(Scope.Thread)
    public static class RoundTrip {
        Channel channel;

        @Setup
        public void setup(Data d) throws IOException {
            channel = new Channel();
            channel.setup(d);
        }

        @TearDown
        public void close() {
            channel.close();
        }
    }

    @Benchmark
    public int updaterRoundTrip(Data d, Cursor c, RoundTrip r) {
        c.nextUpdate(d.keys);
        if (!r.channel.updater.offerPut(c.key, c.value)) {
            throw new IllegalStateException("update channel full with nothing pending");
        }
        return r.channel.writer.applyUpdates(1);
    }

    @Benchmark
    @Group("updater")
    @GroupThreads(1)
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public void send(Data d, Cursor c, Channel ch, ThroughputCounters counters) {
        c.nextUpdate(d.keys);
        counters.offered(ch.updater.offerPut(c.key, c.value));
    }

    @Benchmark
    @Group("updater")
    @GroupThreads(1)
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public void apply(Channel ch, ThroughputCounters counters) {
        counters.polled(ch.writer.applyUpdates(64));
    }
}
