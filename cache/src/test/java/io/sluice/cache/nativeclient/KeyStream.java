package io.sluice.cache.nativeclient;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The keys and lookups that the tests and {@code cache_reader} derive from the same seeds, so
 * that neither sends the other a key (the C side is in cache_reader.c, its top comment):
 * <pre>
 *   key(seed, i): state = seed + i * 0x632BE59BD9B4E019; 8 bytes of i (little-endian), then
 *                 splitmix64(state) % 25 more bytes, taken low byte first from further outputs
 *   lookup j:     i = splitmix64(state) % (2N), the state starting at the lookup seed
 *   digest:       FNV-1a 64 over, per lookup, 1 byte found or not, then (found) the value length
 *                 (u32 LE) and the value bytes
 * </pre>
 */
final class KeyStream {
    static final long FNV_BASIS = 0xCBF2_9CE4_8422_2325L;
    private static final long FNV_PRIME = 0x0000_0100_0000_01B3L;

    private long state;

    KeyStream(long seed) {
        this.state = seed;
    }

    /** The next splitmix64 output. */
    long next() {
        long z = (state += 0x9E37_79B9_7F4A_7C15L);
        z = (z ^ (z >>> 30)) * 0xBF58_476D_1CE4_E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D0_49BB_1331_11EBL;
        return z ^ (z >>> 31);
    }

    /** The index of the next lookup among {@code 2n} keys (below {@code n}: keys that were stored). */
    int nextIndex(int n) {
        return (int) Long.remainderUnsigned(next(), 2L * n);
    }

    /** key(seed, i): 8 to 32 bytes, the first 8 being i, so that keys of different i differ. */
    static byte[] key(long seed, long i) {
        KeyStream s = new KeyStream(seed + i * 0x632B_E59B_D9B4_E019L);
        int extra = (int) Long.remainderUnsigned(s.next(), 25);
        ByteBuffer k = ByteBuffer.allocate(8 + extra).order(ByteOrder.LITTLE_ENDIAN).putLong(i);
        long r = 0;
        for (int j = 0; j < extra; j++) {
            if (j % 8 == 0) {
                r = s.next();
            }
            k.put((byte) (r >>> (8 * (j % 8))));
        }
        return k.array();
    }

    static long fnv(long h, byte[] bytes) {
        for (byte b : bytes) {
            h ^= b & 0xFF;
            h *= FNV_PRIME;
        }
        return h;
    }

    /** The digest after one more lookup: {@code value} null when the key was absent. */
    static long digest(long h, byte[] value) {
        h = fnv(h, new byte[] {(byte) (value != null ? 1 : 0)});
        if (value != null) {
            h = fnv(h, ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(value.length).array());
            h = fnv(h, value);
        }
        return h;
    }
}
