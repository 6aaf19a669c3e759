package io.sluice.ringbuffer;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Deterministic payload contents and an order-sensitive checksum, shared by tests and child JVMs. */
final class SpscPayloads {
    private SpscPayloads() {
    }

    /** A well-mixed 64-bit value for word {@code k} of message {@code seq} (SplitMix64 finaliser). */
    static long word(long seq, long k) {
        long z = seq * 0x9E37_79B9_7F4A_7C15L + k + 1;
        z = (z ^ (z >>> 30)) * 0xBF58_476D_1CE4_E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D0_49BB_1331_11EBL;
        return z ^ (z >>> 31);
    }

    /** Fills {@code length} bytes at {@code offset} with message {@code seq}'s contents. */
    static void fill(MemorySegment buf, long offset, int length, long seq) {
        long k = 0;
        for (; k + 8 <= length; k += 8) {
            buf.set(ValueLayout.JAVA_LONG_UNALIGNED, offset + k, word(seq, k));
        }
        long last = word(seq, k);
        for (int i = 0; k < length; k++, i++) {
            buf.set(ValueLayout.JAVA_BYTE, offset + k, (byte) (last >>> (8 * i)));
        }
    }

    /** Whether {@code payload} holds message {@code seq}'s contents. */
    static boolean matches(MemorySegment payload, long seq) {
        int length = (int) payload.byteSize();
        long k = 0;
        for (; k + 8 <= length; k += 8) {
            if (payload.get(ValueLayout.JAVA_LONG_UNALIGNED, k) != word(seq, k)) {
                return false;
            }
        }
        long last = word(seq, k);
        for (int i = 0; k < length; k++, i++) {
            if (payload.get(ValueLayout.JAVA_BYTE, k) != (byte) (last >>> (8 * i))) {
                return false;
            }
        }
        return true;
    }

    /** Folds one message (type, length, every byte) into a running FNV-1a-style checksum. */
    static long checksum(long h, int type, MemorySegment payload) {
        int length = (int) payload.byteSize();
        h = mix(h, type);
        h = mix(h, length);
        long k = 0;
        for (; k + 8 <= length; k += 8) {
            h = mix(h, payload.get(ValueLayout.JAVA_LONG_UNALIGNED, k));
        }
        for (; k < length; k++) {
            h = mix(h, payload.get(ValueLayout.JAVA_BYTE, k));
        }
        return h;
    }

    static final long CHECKSUM_SEED = 0xCBF2_9CE4_8422_2325L;

    private static long mix(long h, long value) {
        return (h ^ value) * 0x0000_0100_0000_01B3L;
    }

    /** Message lengths: mostly small, one in 64 anywhere up to {@code max}. */
    static int length(java.util.SplittableRandom random, int max) {
        return random.nextInt(64) == 0 ? random.nextInt(max + 1) : random.nextInt(Math.min(max, 300) + 1);
    }
}
