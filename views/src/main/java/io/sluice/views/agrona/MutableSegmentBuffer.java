package io.sluice.views.agrona;

import io.sluice.api.MessageProducer;
import org.agrona.AsciiEncoding;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * An Agrona {@link MutableDirectBuffer} over a claimed slot, in place: what an SBE encoder wraps
 * between {@code tryClaim} and {@code commit}. Writes go through the {@link MemorySegment}
 * (bounds-checked, no Unsafe), so they land only inside the range the view was pointed at, and a
 * read-only segment is refused when it is wrapped rather than failing on the first write.
 *
 * <pre>{@code
 * MutableSegmentBuffer view = new MutableSegmentBuffer();
 * QuoteEncoder encoder = new QuoteEncoder();
 * long at = producer.tryClaim(QUOTE, QuoteEncoder.BLOCK_LENGTH);
 * if (at >= 0) {
 *     view.wrapClaim(producer, at, QuoteEncoder.BLOCK_LENGTH);
 *     encoder.wrap(view, 0).bid(bid).ask(ask);
 *     producer.commit(at);
 * }
 * }</pre>
 * Re-pointing allocates nothing. Not expandable. Not thread-safe: one view per thread.
 */
public final class MutableSegmentBuffer extends SegmentReads implements MutableDirectBuffer {
    /** An empty view; {@link #wrapClaim} or {@link #wrap(MemorySegment)} points it at memory. */
    public MutableSegmentBuffer() {
    }

    /**
     * A view of the whole of {@code segment}.
     *
     * @param segment writable bytes, at most {@link Integer#MAX_VALUE} long
     */
    public MutableSegmentBuffer(MemorySegment segment) {
        wrap(segment);
    }

    /**
     * Points this view at the payload of the claim {@code at} of {@code producer}:
     * {@code [at, at + length)} of {@link MessageProducer#buffer()}. Allocates nothing.
     *
     * @param producer the producer that returned {@code at}
     * @param at       the offset {@link MessageProducer#tryClaim} returned
     * @param length   the length claimed
     * @throws IllegalArgumentException  if {@code at} is negative (a failed claim) or {@code length} is
     * @throws IndexOutOfBoundsException if the range is not inside the producer's buffer
     */
    public void wrapClaim(MessageProducer producer, long at, int length) {
        if (at < 0) {
            throw new IllegalArgumentException("claim offset " + at + " is not a claim (tryClaim returns a negative"
                    + " value when the ring has no room)");
        }
        wrap(producer.buffer(), at, length);
    }

    /**
     * Points this view at the whole of {@code segment}. Allocates nothing.
     *
     * @param segment writable bytes, at most {@link Integer#MAX_VALUE} long
     * @throws IllegalArgumentException if the segment is read-only or longer than an {@code int} can index
     */
    public void wrap(MemorySegment segment) {
        requireWritable(segment);
        point(segment);
    }

    /**
     * Points this view at {@code [offset, offset + length)} of {@code segment}. Allocates nothing.
     *
     * @param segment writable bytes
     * @param offset  where the view starts in {@code segment}
     * @param length  how many bytes it views
     * @throws IllegalArgumentException  if the segment is read-only or {@code length} negative
     * @throws IndexOutOfBoundsException if the range is not inside {@code segment}
     */
    public void wrap(MemorySegment segment, long offset, int length) {
        requireWritable(segment);
        point(segment, offset, length);
    }

    private static void requireWritable(MemorySegment segment) {
        if (Objects.requireNonNull(segment, "segment").isReadOnly()) {
            throw new IllegalArgumentException("a mutable view needs a writable segment; this one is read-only"
                    + " (a consumer's payload: view it with ReadOnlySegmentBuffer)");
        }
    }

    /**
     * The bytes this view writes, for FFM code over the same memory (a slice: allocates).
     *
     * @return a segment of exactly {@link #capacity()} bytes
     */
    public MemorySegment asSegment() {
        return segment().asSlice(base, capacity);
    }

    @Override
    public void wrap(byte[] buffer) {
        point(MemorySegment.ofArray(buffer));
    }

    @Override
    public void wrap(byte[] buffer, int offset, int length) {
        point(MemorySegment.ofArray(buffer), offset, length);
    }

    @Override
    public void wrap(ByteBuffer buffer) {
        wrap(MemorySegment.ofBuffer(buffer.duplicate().clear()));
    }

    @Override
    public void wrap(ByteBuffer buffer, int offset, int length) {
        wrap(MemorySegment.ofBuffer(buffer.duplicate().clear()), offset, length);
    }

    @Override
    public void wrap(DirectBuffer buffer) {
        wrap(segmentOf(buffer));
    }

    @Override
    public void wrap(DirectBuffer buffer, int offset, int length) {
        wrap(segmentOf(buffer), offset, length);
    }

    /**
     * The address of the view's first byte, for code that insists on one (Agrona's
     * {@code UnsafeBuffer.putBytes} from this view, say). Only for native memory.
     *
     * @return the address of byte 0 of this view
     * @throws UnsupportedOperationException if the view is over a heap array
     */
    @Override
    public long addressOffset() {
        if (!segment().isNative()) {
            throw new UnsupportedOperationException("a view of heap memory has no address");
        }
        return segment().address() + base;
    }

    @Override
    public boolean isExpandable() {
        return false;
    }

    @Override
    public void setMemory(int index, int length, byte value) {
        segment.asSlice(at(index, length), length).fill(value);
    }

    @Override
    public void putLong(int index, long value, ByteOrder byteOrder) {
        segment.set(byteOrder == ByteOrder.BIG_ENDIAN ? LONG_BE : LONG_LE, at(index, Long.BYTES), value);
    }

    @Override
    public void putLong(int index, long value) {
        segment.set(ValueLayout.JAVA_LONG_UNALIGNED, at(index, Long.BYTES), value);
    }

    @Override
    public void putInt(int index, int value, ByteOrder byteOrder) {
        segment.set(byteOrder == ByteOrder.BIG_ENDIAN ? INT_BE : INT_LE, at(index, Integer.BYTES), value);
    }

    @Override
    public void putInt(int index, int value) {
        segment.set(ValueLayout.JAVA_INT_UNALIGNED, at(index, Integer.BYTES), value);
    }

    @Override
    public void putDouble(int index, double value, ByteOrder byteOrder) {
        segment.set(byteOrder == ByteOrder.BIG_ENDIAN ? DOUBLE_BE : DOUBLE_LE, at(index, Double.BYTES), value);
    }

    @Override
    public void putDouble(int index, double value) {
        segment.set(ValueLayout.JAVA_DOUBLE_UNALIGNED, at(index, Double.BYTES), value);
    }

    @Override
    public void putFloat(int index, float value, ByteOrder byteOrder) {
        segment.set(byteOrder == ByteOrder.BIG_ENDIAN ? FLOAT_BE : FLOAT_LE, at(index, Float.BYTES), value);
    }

    @Override
    public void putFloat(int index, float value) {
        segment.set(ValueLayout.JAVA_FLOAT_UNALIGNED, at(index, Float.BYTES), value);
    }

    @Override
    public void putShort(int index, short value, ByteOrder byteOrder) {
        segment.set(byteOrder == ByteOrder.BIG_ENDIAN ? SHORT_BE : SHORT_LE, at(index, Short.BYTES), value);
    }

    @Override
    public void putShort(int index, short value) {
        segment.set(ValueLayout.JAVA_SHORT_UNALIGNED, at(index, Short.BYTES), value);
    }

    @Override
    public void putChar(int index, char value, ByteOrder byteOrder) {
        segment.set(byteOrder == ByteOrder.BIG_ENDIAN ? CHAR_BE : CHAR_LE, at(index, Character.BYTES), value);
    }

    @Override
    public void putChar(int index, char value) {
        segment.set(ValueLayout.JAVA_CHAR_UNALIGNED, at(index, Character.BYTES), value);
    }

    @Override
    public void putByte(int index, byte value) {
        segment.set(JAVA_BYTE, at(index, 1), value);
    }

    @Override
    public void putBytes(int index, byte[] src) {
        putBytes(index, src, 0, src.length);
    }

    @Override
    public void putBytes(int index, byte[] src, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, src.length);
        MemorySegment.copy(src, offset, segment, JAVA_BYTE, at(index, length), length);
    }

    @Override
    public void putBytes(int index, ByteBuffer srcBuffer, int length) {
        int srcIndex = srcBuffer.position();
        putBytes(index, srcBuffer, srcIndex, length);
        srcBuffer.position(srcIndex + length);
    }

    @Override
    public void putBytes(int index, ByteBuffer srcBuffer, int srcIndex, int length) {
        Objects.checkFromIndexSize(srcIndex, length, srcBuffer.capacity());
        MemorySegment.copy(MemorySegment.ofBuffer(srcBuffer.duplicate().clear()), srcIndex, segment, at(index, length), length);
    }

    @Override
    public void putBytes(int index, DirectBuffer srcBuffer, int srcIndex, int length) {
        long to = at(index, length);
        srcBuffer.boundsCheck(srcIndex, length);
        if (srcBuffer instanceof SegmentReads src) {
            MemorySegment.copy(src.segment, src.at(srcIndex, length), segment, to, length);
            return;
        }
        // Another kind of buffer: byte by byte through its getters, so that no address is needed.
        for (int i = 0; i < length; i++) {
            segment.set(JAVA_BYTE, to + i, srcBuffer.getByte(srcIndex + i));
        }
    }

    @Override
    public int putStringAscii(int index, String value) {
        return putStringAscii(index, (CharSequence) value, ByteOrder.nativeOrder());
    }

    @Override
    public int putStringAscii(int index, CharSequence value) {
        return putStringAscii(index, value, ByteOrder.nativeOrder());
    }

    @Override
    public int putStringAscii(int index, String value, ByteOrder byteOrder) {
        return putStringAscii(index, (CharSequence) value, byteOrder);
    }

    @Override
    public int putStringAscii(int index, CharSequence value, ByteOrder byteOrder) {
        int length = value == null ? 0 : value.length();
        at(index, STR_HEADER_LEN + length);
        putInt(index, length, byteOrder);
        putAscii(index + STR_HEADER_LEN, value, 0, length);
        return STR_HEADER_LEN + length;
    }

    @Override
    public int putStringWithoutLengthAscii(int index, String value) {
        return putStringWithoutLengthAscii(index, (CharSequence) value);
    }

    @Override
    public int putStringWithoutLengthAscii(int index, CharSequence value) {
        int length = value == null ? 0 : value.length();
        at(index, length);
        putAscii(index, value, 0, length);
        return length;
    }

    @Override
    public int putStringWithoutLengthAscii(int index, String value, int valueOffset, int length) {
        return putStringWithoutLengthAscii(index, (CharSequence) value, valueOffset, length);
    }

    @Override
    public int putStringWithoutLengthAscii(int index, CharSequence value, int valueOffset, int length) {
        int n = value == null ? 0 : Math.min(length, value.length() - valueOffset);
        at(index, Math.max(n, 0));
        putAscii(index, value, valueOffset, n);
        return Math.max(n, 0);
    }

    /** Characters above 127 are written as '?', as Agrona's buffers do. */
    private void putAscii(int index, CharSequence value, int from, int length) {
        long to = base + index;
        for (int i = 0; i < length; i++) {
            char c = value.charAt(from + i);
            segment.set(JAVA_BYTE, to + i, (byte) (c > 127 ? '?' : c));
        }
    }

    @Override
    public int putStringUtf8(int index, String value) {
        return putStringUtf8(index, value, ByteOrder.nativeOrder(), Integer.MAX_VALUE);
    }

    @Override
    public int putStringUtf8(int index, String value, ByteOrder byteOrder) {
        return putStringUtf8(index, value, byteOrder, Integer.MAX_VALUE);
    }

    @Override
    public int putStringUtf8(int index, String value, int maxEncodedLength) {
        return putStringUtf8(index, value, ByteOrder.nativeOrder(), maxEncodedLength);
    }

    @Override
    public int putStringUtf8(int index, String value, ByteOrder byteOrder, int maxEncodedLength) {
        byte[] bytes = value == null ? new byte[0] : value.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > maxEncodedLength) {
            throw new IllegalArgumentException("Encoded string larger than maximum size: " + maxEncodedLength);
        }
        at(index, STR_HEADER_LEN + bytes.length);
        putInt(index, bytes.length, byteOrder);
        putBytes(index + STR_HEADER_LEN, bytes);
        return STR_HEADER_LEN + bytes.length;
    }

    @Override
    public int putStringWithoutLengthUtf8(int index, String value) {
        byte[] bytes = value == null ? new byte[0] : value.getBytes(StandardCharsets.UTF_8);
        putBytes(index, bytes);
        return bytes.length;
    }

    @Override
    public int putIntAscii(int index, int value) {
        return putLongAscii(index, value);
    }

    @Override
    public int putNaturalIntAscii(int index, int value) {
        return putLongAscii(index, value);
    }

    @Override
    public int putNaturalLongAscii(int index, long value) {
        return putLongAscii(index, value);
    }

    @Override
    public int putLongAscii(int index, long value) {
        boolean negative = value < 0;
        // Digits of |value|, from the end; Long.MIN_VALUE's magnitude does not fit a long, so work negatively.
        long v = negative ? value : -value;
        int digits = AsciiEncoding.digitCount(v == Long.MIN_VALUE ? Long.MAX_VALUE : -v);
        int length = digits + (negative ? 1 : 0);
        long to = at(index, length);
        for (int i = length - 1; i >= (negative ? 1 : 0); i--) {
            segment.set(JAVA_BYTE, to + i, (byte) ('0' - (v % 10)));
            v /= 10;
        }
        if (negative) {
            segment.set(JAVA_BYTE, to, (byte) '-');
        }
        return length;
    }

    @Override
    public void putNaturalPaddedIntAscii(int offset, int length, int value) {
        long to = at(offset, length);
        int v = value;
        for (int i = length - 1; i >= 0; i--) {
            segment.set(JAVA_BYTE, to + i, (byte) ('0' + v % 10));
            v /= 10;
        }
        if (v != 0) {
            throw new NumberFormatException("Cannot write " + value + " in " + length + " bytes");
        }
    }

    @Override
    public int putNaturalIntAsciiFromEnd(int value, int endExclusive) {
        int digits = AsciiEncoding.digitCount(value);
        int start = endExclusive - digits;
        long to = at(start, digits);
        int v = value;
        for (int i = digits - 1; i >= 0; i--) {
            segment.set(JAVA_BYTE, to + i, (byte) ('0' + v % 10));
            v /= 10;
        }
        return start;
    }
}
