package io.sluice.perf.cache;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The keys and values every cache benchmark uses, the same for every system: 8-byte keys (a
 * {@code long}, little-endian), 64-byte values whose first 8 bytes are the key (a reader can check
 * what it got) and the rest a pattern. Keys are distinct random longs from a fixed seed; the probe
 * sequences (which key each lookup asks for) are computed here once, so no random number is drawn
 * inside a measured loop.
 */
public final class CacheData {
    public static final int KEY_LENGTH = 8;
    public static final int VALUE_LENGTH = 64;
    /** Seed of the keys; the probe sequences use seeds derived from it. */
    public static final long SEED = 0x5EEDCAC4EL;
    /** Little-endian longs in byte arrays (Chronicle's and the heap map's values). */
    public static final VarHandle LONG_IN_ARRAY = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    /** Little-endian, unaligned: how keys and value words are laid out in segments. */
    public static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final long[] keys;
    private final Set<Long> keySet;

    /** {@code entries} distinct random keys. */
    public CacheData(int entries) {
        if (entries < 1 || entries > 1 << 26) {
            throw new IllegalArgumentException("entries " + entries + " is outside 1.." + (1 << 26));
        }
        SplittableRandom random = new SplittableRandom(SEED);
        keys = new long[entries];
        keySet = new HashSet<>(entries * 2);
        for (int i = 0; i < entries; ) {
            long k = random.nextLong();
            if (keySet.add(k)) {
                keys[i++] = k;
            }
        }
    }

    public int entries() {
        return keys.length;
    }

    /** The i-th key put into every cache. */
    public long key(int i) {
        return keys[i];
    }

    /**
     * {@code count} keys to look up, drawn at random (seeded): from the cache's keys for hits,
     * from longs that are not keys for misses.
     */
    public long[] probes(int count, boolean hits, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        long[] probes = new long[count];
        for (int i = 0; i < count; ) {
            long k = hits ? keys[random.nextInt(keys.length)] : random.nextLong();
            if (hits || !keySet.contains(k)) {
                probes[i++] = k;
            }
        }
        return probes;
    }

    /** The value of {@code key}: the key, then a pattern of 56 bytes that depends on it. */
    public static byte[] value(long key) {
        byte[] v = new byte[VALUE_LENGTH];
        fillValue(v, key, 0);
        return v;
    }

    /** Writes the value of {@code key}, with {@code version} mixed into its pattern, into {@code v}. */
    public static void fillValue(byte[] v, long key, long version) {
        LONG_IN_ARRAY.set(v, 0, key);
        long p = key * 0x9E3779B97F4A7C15L + version;
        for (int at = 8; at < VALUE_LENGTH; at += 8) {
            p = p * 6364136223846793005L + 1442695040888963407L;
            LONG_IN_ARRAY.set(v, at, p);
        }
    }

    /** A key as the 8 bytes the Sluice caches store. */
    public static byte[] keyBytes(long key) {
        byte[] k = new byte[KEY_LENGTH];
        LONG_IN_ARRAY.set(k, 0, key);
        return k;
    }

    /** Writes {@code key} into an 8-byte key segment (off-heap, reused for every lookup). */
    public static void setKey(MemorySegment keySegment, long key) {
        keySegment.set(LONG, 0, key);
    }
}
