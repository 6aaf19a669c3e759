package io.sluice.examples.marketdata;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * A quote as it travels in the ring: 48 bytes, little-endian, written in place by the publisher
 * and read in place by subscribers (no object is made per quote).
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                Symbol (8 bytes ASCII, space padded)           |  0
 *  +---------------------------------------------------------------+
 *  |                Bid (i64, price x 10^5)                        |  8
 *  +---------------------------------------------------------------+
 *  |                Ask (i64, price x 10^5)                        | 16
 *  +-------------------------------+-------------------------------+
 *  |         Bid Size (i32)        |         Ask Size (i32)        | 24
 *  +-------------------------------+-------------------------------+
 *  |        Send Time (i64, System.nanoTime of the publisher)      | 32
 *  +---------------------------------------------------------------+
 *  |                     Sequence (i64)                            | 40
 *  +---------------------------------------------------------------+
 * </pre>
 * Both processes run on one machine, where {@code System.nanoTime} reads the same monotonic
 * clock: a subscriber's {@code nanoTime() - sendTime} is the publish-to-read latency.
 */
public final class Quote {
    private Quote() {
    }

    public static final int TYPE = 1;
    public static final int LENGTH = 48;
    public static final long SYMBOL = 0;
    public static final long BID = 8;
    public static final long ASK = 16;
    public static final long BID_SIZE = 24;
    public static final long ASK_SIZE = 28;
    public static final long SEND_TIME = 32;
    public static final long SEQUENCE = 40;

    /** The 8 symbol bytes as one little-endian long, padded with spaces. */
    public static long symbol(String s) {
        byte[] b = (s + "        ").substring(0, 8).getBytes(StandardCharsets.US_ASCII);
        long v = 0;
        for (int i = 7; i >= 0; i--) {
            v = (v << 8) | (b[i] & 0xFF);
        }
        return v;
    }

    public static String symbolText(long symbol) {
        byte[] b = new byte[8];
        for (int i = 0; i < 8; i++) {
            b[i] = (byte) (symbol >>> (8 * i));
        }
        return new String(b, StandardCharsets.US_ASCII).trim();
    }

    /** Writes a quote at {@code at} in {@code buffer}. */
    public static void write(MemorySegment buffer, long at, long symbol, long bid, long ask, int bidSize, int askSize,
                             long sendTime, long sequence) {
        buffer.set(JAVA_LONG_UNALIGNED, at + SYMBOL, symbol);
        buffer.set(JAVA_LONG_UNALIGNED, at + BID, bid);
        buffer.set(JAVA_LONG_UNALIGNED, at + ASK, ask);
        buffer.set(JAVA_INT_UNALIGNED, at + BID_SIZE, bidSize);
        buffer.set(JAVA_INT_UNALIGNED, at + ASK_SIZE, askSize);
        buffer.set(JAVA_LONG_UNALIGNED, at + SEND_TIME, sendTime);
        buffer.set(JAVA_LONG_UNALIGNED, at + SEQUENCE, sequence);
    }

    public static long sendTime(MemorySegment quote) {
        return quote.get(JAVA_LONG_UNALIGNED, SEND_TIME);
    }

    public static long sequence(MemorySegment quote) {
        return quote.get(JAVA_LONG_UNALIGNED, SEQUENCE);
    }

    public static long bid(MemorySegment quote) {
        return quote.get(JAVA_LONG_UNALIGNED, BID);
    }

    public static long ask(MemorySegment quote) {
        return quote.get(JAVA_LONG_UNALIGNED, ASK);
    }
}
