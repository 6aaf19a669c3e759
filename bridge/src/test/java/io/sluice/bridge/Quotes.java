package io.sluice.bridge;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * The test messages: message {@code s} is {@link #length(long)} bytes, its sequence in the first
 * 8 and a pattern of {@code s} after them, so a receiver checks every byte without being told
 * what was sent.
 */
final class Quotes {
    static final int TYPE = 7;
    static final int MAX_LENGTH = 256;

    private Quotes() {
    }

    static int length(long s) {
        return 8 + (int) ((s * 7) % (MAX_LENGTH - 7));
    }

    static void write(MemorySegment to, long at, long s) {
        int length = length(s);
        to.set(JAVA_LONG_UNALIGNED, at, s);
        for (int i = 8; i < length; i++) {
            to.set(JAVA_BYTE, at + i, (byte) (s * 31 + i));
        }
    }

    /** The message's sequence if every byte is as {@link #write} wrote it; otherwise an AssertionError. */
    static long check(int type, MemorySegment m) {
        long s = m.get(JAVA_LONG_UNALIGNED, 0);
        if (type != TYPE || m.byteSize() != length(s)) {
            throw new AssertionError("message " + s + ": type " + type + ", " + m.byteSize() + " bytes; expected type " + TYPE
                    + ", " + length(s) + " bytes");
        }
        for (int i = 8; i < m.byteSize(); i++) {
            if (m.get(JAVA_BYTE, i) != (byte) (s * 31 + i)) {
                throw new AssertionError("message " + s + ": byte " + i + " is " + m.get(JAVA_BYTE, i));
            }
        }
        return s;
    }
}
