package io.sluice.examples.sbe;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * A quote in the shape SBE gives a message, with the encoder and decoder flyweights SBE would
 * generate for it: an 8-byte message header, then a fixed-size block at fixed offsets,
 * little-endian. The encoder writes into a {@link MutableDirectBuffer}, the decoder reads from a
 * {@link DirectBuffer}; both are re-wrapped per message and make no object.
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-------------------------------+-------------------------------+
 *  |     Block Length (u16) = 48   |     Template Id (u16) = 1     |  0
 *  +-------------------------------+-------------------------------+
 *  |     Schema Id (u16) = 77      |     Version (u16) = 1         |  4
 *  +-------------------------------+-------------------------------+
 *  |                  Instrument Id (i64)                          |  8
 *  +---------------------------------------------------------------+
 *  |                  Bid (i64, price x 10^5)                      | 16
 *  +---------------------------------------------------------------+
 *  |                  Ask (i64, price x 10^5)                      | 24
 *  +-------------------------------+-------------------------------+
 *  |         Bid Size (i32)        |         Ask Size (i32)        | 32
 *  +-------------------------------+-------------------------------+
 *  |        Send Time (i64, System.nanoTime of the publisher)      | 40
 *  +---------------------------------------------------------------+
 *  |                     Sequence (i64)                            | 48
 *  +---------------------------------------------------------------+
 * </pre>
 * Offsets above are from the start of the message; the block's own offsets (as SBE numbers them)
 * are 8 less.
 */
public final class QuoteCodec {
    private QuoteCodec() {
    }

    /** The ring message type the publisher gives quotes. */
    public static final int MESSAGE_TYPE = 1;
    public static final ByteOrder BYTE_ORDER = ByteOrder.LITTLE_ENDIAN;
    public static final int HEADER_LENGTH = 8;
    public static final int BLOCK_LENGTH = 48;
    public static final int TEMPLATE_ID = 1;
    public static final int SCHEMA_ID = 77;
    public static final int SCHEMA_VERSION = 1;
    /** Header and block: what a publisher claims per quote. */
    public static final int ENCODED_LENGTH = HEADER_LENGTH + BLOCK_LENGTH;

    /** Writes a quote's header and fields at an offset of a mutable buffer. */
    public static final class Encoder {
        private MutableDirectBuffer buffer;
        private int offset;

        /**
         * Points the encoder at {@code offset} of {@code buffer} and writes the message header.
         *
         * @param buffer where the message goes (a view of a claimed slot)
         * @param offset where in {@code buffer}
         * @return this encoder, for the field setters
         */
        public Encoder wrapAndApplyHeader(MutableDirectBuffer buffer, int offset) {
            buffer.putShort(offset, (short) BLOCK_LENGTH, BYTE_ORDER);
            buffer.putShort(offset + 2, (short) TEMPLATE_ID, BYTE_ORDER);
            buffer.putShort(offset + 4, (short) SCHEMA_ID, BYTE_ORDER);
            buffer.putShort(offset + 6, (short) SCHEMA_VERSION, BYTE_ORDER);
            this.buffer = buffer;
            this.offset = offset + HEADER_LENGTH;
            return this;
        }

        public Encoder instrumentId(long v) { buffer.putLong(offset, v, BYTE_ORDER); return this; }
        public Encoder bid(long v) { buffer.putLong(offset + 8, v, BYTE_ORDER); return this; }
        public Encoder ask(long v) { buffer.putLong(offset + 16, v, BYTE_ORDER); return this; }
        public Encoder bidSize(int v) { buffer.putInt(offset + 24, v, BYTE_ORDER); return this; }
        public Encoder askSize(int v) { buffer.putInt(offset + 28, v, BYTE_ORDER); return this; }
        public Encoder sendTime(long v) { buffer.putLong(offset + 32, v, BYTE_ORDER); return this; }
        public Encoder sequence(long v) { buffer.putLong(offset + 40, v, BYTE_ORDER); return this; }
    }

    /** Reads a quote at an offset of a buffer, after checking its header as an SBE decoder would. */
    public static final class Decoder {
        private DirectBuffer buffer;
        private int offset;

        /**
         * Points the decoder at the message at {@code offset} of {@code buffer}, after checking that
         * the header is a quote's and that the block fits in the buffer.
         *
         * @param buffer the message's bytes (a view of a payload)
         * @param offset where the message starts
         * @return this decoder
         * @throws IllegalArgumentException if the header is not a quote's of this schema
         */
        public Decoder wrapAndCheckHeader(DirectBuffer buffer, int offset) {
            int blockLength = buffer.getShort(offset, BYTE_ORDER) & 0xFFFF;
            int templateId = buffer.getShort(offset + 2, BYTE_ORDER) & 0xFFFF;
            int schemaId = buffer.getShort(offset + 4, BYTE_ORDER) & 0xFFFF;
            if (templateId != TEMPLATE_ID || schemaId != SCHEMA_ID || blockLength < BLOCK_LENGTH) {
                throw new IllegalArgumentException("not a quote: template " + templateId + ", schema " + schemaId
                        + ", block length " + blockLength);
            }
            buffer.boundsCheck(offset, HEADER_LENGTH + BLOCK_LENGTH);
            this.buffer = buffer;
            this.offset = offset + HEADER_LENGTH;
            return this;
        }

        public long instrumentId() { return buffer.getLong(offset, BYTE_ORDER); }
        public long bid() { return buffer.getLong(offset + 8, BYTE_ORDER); }
        public long ask() { return buffer.getLong(offset + 16, BYTE_ORDER); }
        public int bidSize() { return buffer.getInt(offset + 24, BYTE_ORDER); }
        public int askSize() { return buffer.getInt(offset + 28, BYTE_ORDER); }
        public long sendTime() { return buffer.getLong(offset + 32, BYTE_ORDER); }
        public long sequence() { return buffer.getLong(offset + 40, BYTE_ORDER); }
    }
}
