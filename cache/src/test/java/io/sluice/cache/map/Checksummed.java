package io.sluice.cache.map;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Values that prove themselves whole: {@code [u64 n][filler bytes derived from n][u64 checksum]},
 * 16 to 16 + 63 bytes, the checksum over everything before it. A value made of parts of two
 * writes fails {@link #verify} (the filler and the checksum both depend on n).
 */
final class Checksummed {
    private Checksummed() {
    }

    static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final int MAX_LENGTH = 16 + 63;

    static int length(long n) {
        return 16 + (int) Math.floorMod(n * 0x9E3779B97F4A7C15L >>> 7, 64L);
    }

    /** Writes value {@code n} at the start of {@code dst}; returns its length. */
    static int write(MemorySegment dst, long n) {
        int length = length(n);
        dst.set(U64, 0, n);
        for (int i = 8; i < length - 8; i++) {
            dst.set(ValueLayout.JAVA_BYTE, i, (byte) (n * 31 + i));
        }
        dst.set(U64, length - 8, checksum(dst, length - 8));
        return length;
    }

    static byte[] of(long n) {
        byte[] b = new byte[length(n)];
        write(MemorySegment.ofArray(b), n);
        return b;
    }

    /** Whether the first {@code length} bytes of {@code v} are one whole value; its n, or -1. */
    static long verify(MemorySegment v, long length) {
        if (length < 16 || length > MAX_LENGTH) {
            return -1;
        }
        long n = v.get(U64, 0);
        if (length(n) != length || v.get(U64, length - 8) != checksum(v, length - 8)) {
            return -1;
        }
        for (int i = 8; i < length - 8; i++) {
            if (v.get(ValueLayout.JAVA_BYTE, i) != (byte) (n * 31 + i)) {
                return -1;
            }
        }
        return n;
    }

    private static long checksum(MemorySegment v, long length) {
        long h = 0xCBF2_9CE4_8422_2325L;
        for (long i = 0; i < length; i++) {
            h ^= v.get(ValueLayout.JAVA_BYTE, i) & 0xFF;
            h *= 0x0000_0100_0000_01B3L;
        }
        return h ^ (h >>> 29);
    }
}
