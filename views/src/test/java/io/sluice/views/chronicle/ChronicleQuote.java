package io.sluice.views.chronicle;

import net.openhft.chronicle.bytes.BytesIn;
import net.openhft.chronicle.bytes.BytesMarshallable;
import net.openhft.chronicle.bytes.BytesOut;

/**
 * A Chronicle codec as an application writes one: a {@link BytesMarshallable} with its own
 * {@code writeMarshallable} and {@code readMarshallable} (no reflection), the sequence as a
 * stop-bit number (Chronicle's variable-length encoding, decoded by Chronicle's own helper),
 * then instrument id, bid and ask (i64) and bid and ask sizes (i32): at most 48 bytes.
 */
final class ChronicleQuote implements BytesMarshallable {
    static final int TYPE = 9;
    static final int MAX_LENGTH = 48;

    long sequence;
    long instrument;
    long bid;
    long ask;
    int bidSize;
    int askSize;

    @Override
    public void writeMarshallable(BytesOut<?> out) {
        out.writeStopBit(sequence);
        out.writeLong(instrument);
        out.writeLong(bid);
        out.writeLong(ask);
        out.writeInt(bidSize);
        out.writeInt(askSize);
    }

    @Override
    public void readMarshallable(BytesIn<?> in) {
        sequence = in.readStopBit();
        instrument = in.readLong();
        bid = in.readLong();
        ask = in.readLong();
        bidSize = in.readInt();
        askSize = in.readInt();
    }

    /** What the producer of message {@code seq} writes, from {@code seed}: both sides compute it. */
    static long field(long seed, long seq, int field) {
        long z = seed + seq * 0x9E3779B97F4A7C15L + field * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    ChronicleQuote fill(long seed, long seq) {
        sequence = seq;
        instrument = field(seed, seq, 0);
        bid = field(seed, seq, 1);
        ask = field(seed, seq, 2);
        bidSize = (int) field(seed, seq, 3);
        askSize = (int) field(seed, seq, 4);
        return this;
    }

    /** Null if this holds exactly what {@link #fill} gives for {@code seq}, else what differs. */
    String mismatch(long seed, long seq) {
        if (sequence != seq) {
            return "sequence " + sequence + " != " + seq;
        }
        if (instrument != field(seed, seq, 0) || bid != field(seed, seq, 1) || ask != field(seed, seq, 2)
                || bidSize != (int) field(seed, seq, 3) || askSize != (int) field(seed, seq, 4)) {
            return "fields of message " + seq + " differ";
        }
        return null;
    }
}
