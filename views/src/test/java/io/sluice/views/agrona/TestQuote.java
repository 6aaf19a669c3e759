package io.sluice.views.agrona;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * An SBE-style flyweight, as SBE generates them: fixed offsets, little-endian, an encoder over a
 * {@link MutableDirectBuffer} and a decoder over a {@link DirectBuffer}, both re-wrapped per
 * message. 40 bytes: instrument id (i64), bid and ask (i64 mantissas), bid and ask sizes (i32),
 * sequence (i64).
 */
final class TestQuote {
    static final int TYPE = 7;
    static final int BLOCK_LENGTH = 40;
    static final ByteOrder ORDER = ByteOrder.LITTLE_ENDIAN;

    private TestQuote() {
    }

    static final class Encoder {
        private MutableDirectBuffer buffer;
        private int offset;

        Encoder wrap(MutableDirectBuffer buffer, int offset) {
            this.buffer = buffer;
            this.offset = offset;
            return this;
        }

        Encoder instrument(long v) { buffer.putLong(offset, v, ORDER); return this; }
        Encoder bid(long v) { buffer.putLong(offset + 8, v, ORDER); return this; }
        Encoder ask(long v) { buffer.putLong(offset + 16, v, ORDER); return this; }
        Encoder bidSize(int v) { buffer.putInt(offset + 24, v, ORDER); return this; }
        Encoder askSize(int v) { buffer.putInt(offset + 28, v, ORDER); return this; }
        Encoder sequence(long v) { buffer.putLong(offset + 32, v, ORDER); return this; }
    }

    static final class Decoder {
        private DirectBuffer buffer;
        private int offset;

        Decoder wrap(DirectBuffer buffer, int offset) {
            this.buffer = buffer;
            this.offset = offset;
            return this;
        }

        long instrument() { return buffer.getLong(offset, ORDER); }
        long bid() { return buffer.getLong(offset + 8, ORDER); }
        long ask() { return buffer.getLong(offset + 16, ORDER); }
        int bidSize() { return buffer.getInt(offset + 24, ORDER); }
        int askSize() { return buffer.getInt(offset + 28, ORDER); }
        long sequence() { return buffer.getLong(offset + 32, ORDER); }
    }

    /** What the producer of message {@code seq} writes, from {@code seed}: both sides compute it. */
    static long field(long seed, long seq, int field) {
        long z = seed + seq * 0x9E3779B97F4A7C15L + field * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    static void encode(Encoder e, long seed, long seq) {
        e.instrument(field(seed, seq, 0)).bid(field(seed, seq, 1)).ask(field(seed, seq, 2))
                .bidSize((int) field(seed, seq, 3)).askSize((int) field(seed, seq, 4)).sequence(seq);
    }

    /** Null if {@code d} holds exactly what {@link #encode} wrote for {@code seq}, else what differs. */
    static String mismatch(Decoder d, long seed, long seq) {
        if (d.sequence() != seq) {
            return "sequence " + d.sequence() + " != " + seq;
        }
        if (d.instrument() != field(seed, seq, 0) || d.bid() != field(seed, seq, 1) || d.ask() != field(seed, seq, 2)
                || d.bidSize() != (int) field(seed, seq, 3) || d.askSize() != (int) field(seed, seq, 4)) {
            return "fields of message " + seq + " differ";
        }
        return null;
    }
}
