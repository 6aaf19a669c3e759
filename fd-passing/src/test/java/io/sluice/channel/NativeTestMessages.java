package io.sluice.channel;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * The test messages of {@code fd-passing/native/test/testmsg.h}, computed the same way in Java:
 * every message is a pure function of (seed, tag, seq), so the Java and the C side each generate,
 * verify and checksum it without the other. Random lengths and types, seeded.
 */
final class NativeTestMessages {
    private NativeTestMessages() {
    }

    static final long BASIS = 0xCBF29CE484222325L;
    static final int MIN_LENGTH = 16;

    static long splitmix64(long x) {
        long z = x + 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    static long mix(long seed, long tag, long seq) {
        return splitmix64(seed + tag * 0xD1B54A32D192ED03L + seq * 0x9E3779B97F4A7C15L);
    }

    static int type(long mix) {
        return (int) (1 + (mix >>> 61));
    }

    static int length(long mix, int maxLength) {
        return MIN_LENGTH + (int) Long.remainderUnsigned(mix, maxLength - MIN_LENGTH + 1);
    }

    /** Writes the payload of message (tag, seq) at {@code at}. */
    static void fill(MemorySegment buf, long at, long mix, long tag, long seq, int length) {
        buf.set(JAVA_LONG_UNALIGNED, at, seq);
        buf.set(JAVA_LONG_UNALIGNED, at + 8, tag);
        long j = 0;
        for (int off = 16; off < length; off += 8, j++) {
            long w = mix ^ (j * 0x2545F4914F6CDD1DL);
            if (length - off >= 8) {
                buf.set(JAVA_LONG_UNALIGNED, at + off, w);
            } else {
                for (int b = 0; b < length - off; b++) {
                    buf.set(JAVA_BYTE, at + off + b, (byte) (w >>> (8 * b)));
                }
            }
        }
    }

    static long step(long h, long w) {
        return Long.rotateLeft((h ^ w) * 0x9E3779B97F4A7C15L, 31);
    }

    static long digest(int type, MemorySegment buf, long at, int length) {
        long h = step(BASIS, Integer.toUnsignedLong(type));
        h = step(h, length);
        for (int off = 0; off < length; off += 8) {
            long w;
            if (length - off >= 8) {
                w = buf.get(JAVA_LONG_UNALIGNED, at + off);
            } else {
                w = 0;
                for (int b = 0; b < length - off; b++) {
                    w |= (buf.get(JAVA_BYTE, at + off + b) & 0xFFL) << (8 * b);
                }
            }
            h = step(h, w);
        }
        return h;
    }

    /** Spins, yielding now and then: the test machine may have fewer cores than busy threads. */
    static void backOff(int spins) {
        if ((spins & 63) == 0) {
            Thread.yield();
        } else {
            Thread.onSpinWait();
        }
    }

    /** A checksum as the C side prints it: 16 hex digits. */
    static String hex(long checksum) {
        return String.format("%016x", checksum);
    }

    /** The seed of a test run: -Dsluice.test.seed=... repeats one. */
    static long seed() {
        return Long.getLong("sluice.test.seed", System.nanoTime());
    }

    /** Runs a test body, naming the seed in any failure. */
    static void withSeed(long seed, ThrowingRunnable body) throws Exception {
        try {
            body.run();
        } catch (AssertionError e) {
            throw new AssertionError("seed " + seed + " (repeat with -Dsluice.test.seed=" + seed + "): " + e.getMessage(), e);
        }
    }

    @FunctionalInterface
    interface ThrowingRunnable {
        void run() throws Exception;
    }
}
