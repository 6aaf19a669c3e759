package io.sluice.bridge.demo;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * The loopback demo's quote, 40 bytes: sequence, instrument, bid, ask, and a check word over them,
 * so a subscriber on the far side knows each quote arrived whole and in order.
 */
final class DemoQuote {
    static final int TYPE = 1;
    static final int LENGTH = 40;

    private DemoQuote() {
    }

    static void write(MemorySegment to, long at, long sequence) {
        long instrument = sequence % 8;
        long bid = 1_000_000 + (sequence * 7919) % 5_000;
        long ask = bid + 1 + sequence % 3;
        to.set(JAVA_LONG_UNALIGNED, at, sequence);
        to.set(JAVA_LONG_UNALIGNED, at + 8, instrument);
        to.set(JAVA_LONG_UNALIGNED, at + 16, bid);
        to.set(JAVA_LONG_UNALIGNED, at + 24, ask);
        to.set(JAVA_LONG_UNALIGNED, at + 32, check(sequence, instrument, bid, ask));
    }

    /** The quote's sequence, or -1 if its check word does not match (not written whole). */
    static long read(int type, MemorySegment m) {
        if (type != TYPE || m.byteSize() != LENGTH) {
            return -1;
        }
        long sequence = m.get(JAVA_LONG_UNALIGNED, 0);
        long check = check(sequence, m.get(JAVA_LONG_UNALIGNED, 8), m.get(JAVA_LONG_UNALIGNED, 16), m.get(JAVA_LONG_UNALIGNED, 24));
        return check == m.get(JAVA_LONG_UNALIGNED, 32) ? sequence : -1;
    }

    private static long check(long sequence, long instrument, long bid, long ask) {
        long h = sequence * 0x9E3779B97F4A7C15L;
        h = (h ^ instrument) * 0xBF58476D1CE4E5B9L;
        h = (h ^ bid) * 0x94D049BB133111EBL;
        return h ^ ask;
    }
}
