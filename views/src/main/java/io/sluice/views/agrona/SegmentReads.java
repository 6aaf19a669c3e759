package io.sluice.views.agrona;

import org.agrona.AsciiNumberFormatException;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * Every read of Agrona's {@link DirectBuffer} over a range of a {@link MemorySegment}: the code
 * the read-only and the mutable view share. It holds the segment, where the range starts in it
 * and how long it is, never a slice: re-pointing stores three fields and allocates nothing.
 *
 * <p>Reads go through {@code MemorySegment.get} with the unaligned layouts (a payload is only
 * 8-byte aligned, an SBE field anywhere), in native order unless a {@link ByteOrder} is given, as
 * Agrona's buffers do. Every index is bounds-checked against the view's capacity the way
 * Agrona's buffers check it ({@link Objects#checkFromIndexSize}: an
 * {@link IndexOutOfBoundsException} naming the range and the capacity), whatever
 * {@link DirectBuffer#SHOULD_BOUNDS_CHECK} says; the segment checks again, so no index reaches
 * outside it.
 *
 * <p>No method here hands out the memory's address: a raw address is how an Unsafe-based buffer
 * would write where this view cannot. {@link #addressOffset()} is the subclasses' decision.
 */
abstract sealed class SegmentReads implements DirectBuffer permits ReadOnlySegmentBuffer, MutableSegmentBuffer {
    static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort SHORT_BE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    static final ValueLayout.OfChar CHAR_LE = ValueLayout.JAVA_CHAR_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfChar CHAR_BE = ValueLayout.JAVA_CHAR_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    static final ValueLayout.OfInt INT_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt INT_BE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    static final ValueLayout.OfLong LONG_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong LONG_BE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat FLOAT_BE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    static final ValueLayout.OfDouble DOUBLE_LE = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfDouble DOUBLE_BE = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    /** The empty range a view starts on: every read is out of bounds until it is wrapped. */
    static final MemorySegment EMPTY = MemorySegment.ofArray(new byte[0]).asReadOnly();

    /** Bytes copied at a time between this view and a buffer of another kind (no address is shared). */
    private static final int COPY_CHUNK = 256;

    MemorySegment segment = EMPTY;
    long base;
    int capacity;
    private byte[] scratch; // made on the first copy into a foreign MutableDirectBuffer, then reused

    SegmentReads() {
    }

    /** Points this view at {@code [offset, offset + length)} of {@code segment}; the range must fit. */
    final void point(MemorySegment segment, long offset, int length) {
        Objects.requireNonNull(segment, "segment");
        if (length < 0) {
            throw new IllegalArgumentException("view length " + length + " is negative");
        }
        Objects.checkFromIndexSize(offset, length, segment.byteSize());
        this.segment = segment;
        this.base = offset;
        this.capacity = length;
    }

    /** Points at the whole of {@code segment}, which must be at most {@link Integer#MAX_VALUE} bytes long. */
    final void point(MemorySegment segment) {
        Objects.requireNonNull(segment, "segment");
        if (segment.byteSize() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("segment of " + segment.byteSize()
                    + " bytes is longer than an Agrona buffer can index (" + Integer.MAX_VALUE + ")");
        }
        point(segment, 0, (int) segment.byteSize());
    }

    /**
     * The segment a {@link DirectBuffer} of another kind views, for wrap(DirectBuffer): one of these
     * views (its range), a byte array or a ByteBuffer; never a raw address.
     */
    static MemorySegment segmentOf(DirectBuffer buffer) {
        Objects.requireNonNull(buffer, "buffer");
        if (buffer instanceof SegmentReads view) {
            return view.segment.asSlice(view.base, view.capacity);
        }
        if (buffer.byteArray() != null) {
            return MemorySegment.ofArray(buffer.byteArray()).asSlice(buffer.wrapAdjustment(), buffer.capacity());
        }
        if (buffer.byteBuffer() != null) {
            return MemorySegment.ofBuffer(buffer.byteBuffer()).asSlice(buffer.wrapAdjustment(), buffer.capacity());
        }
        throw new UnsupportedOperationException("cannot view a " + buffer.getClass().getName()
                + " over a raw address: an address carries neither bounds nor protection; wrap a MemorySegment");
    }

    static UnsupportedOperationException rawAddressRefused() {
        return new UnsupportedOperationException("a view does not wrap a raw address: an address carries neither bounds"
                + " nor protection (a read-only mapping cannot be told apart); wrap a MemorySegment");
    }

    /** The segment this view reads, for code that wants FFM access to the same bytes (no copy). */
    final MemorySegment segment() {
        return segment;
    }

    @Override
    public final void wrap(long address, int length) {
        throw rawAddressRefused();
    }

    @Override
    public final byte[] byteArray() {
        return null;
    }

    @Override
    public final ByteBuffer byteBuffer() {
        return null;
    }

    @Override
    public final int wrapAdjustment() {
        return 0;
    }

    @Override
    public final int capacity() {
        return capacity;
    }

    @Override
    public final void checkLimit(int limit) {
        if (limit > capacity) {
            throw new IndexOutOfBoundsException("limit=" + limit + " is beyond capacity=" + capacity);
        }
    }

    @Override
    public final void boundsCheck(int index, int length) {
        Objects.checkFromIndexSize(index, length, capacity);
    }

    /** Where {@code [index, index + length)} of this view is in the segment, after the bounds check. */
    final long at(int index, int length) {
        Objects.checkFromIndexSize(index, length, capacity);
        return base + index;
    }

    @Override
    public final long getLong(int index, ByteOrder byteOrder) {
        return segment.get(byteOrder == ByteOrder.BIG_ENDIAN ? LONG_BE : LONG_LE, at(index, Long.BYTES));
    }

    @Override
    public final long getLong(int index) {
        return segment.get(ValueLayout.JAVA_LONG_UNALIGNED, at(index, Long.BYTES));
    }

    @Override
    public final int getInt(int index, ByteOrder byteOrder) {
        return segment.get(byteOrder == ByteOrder.BIG_ENDIAN ? INT_BE : INT_LE, at(index, Integer.BYTES));
    }

    @Override
    public final int getInt(int index) {
        return segment.get(ValueLayout.JAVA_INT_UNALIGNED, at(index, Integer.BYTES));
    }

    @Override
    public final double getDouble(int index, ByteOrder byteOrder) {
        return segment.get(byteOrder == ByteOrder.BIG_ENDIAN ? DOUBLE_BE : DOUBLE_LE, at(index, Double.BYTES));
    }

    @Override
    public final double getDouble(int index) {
        return segment.get(ValueLayout.JAVA_DOUBLE_UNALIGNED, at(index, Double.BYTES));
    }

    @Override
    public final float getFloat(int index, ByteOrder byteOrder) {
        return segment.get(byteOrder == ByteOrder.BIG_ENDIAN ? FLOAT_BE : FLOAT_LE, at(index, Float.BYTES));
    }

    @Override
    public final float getFloat(int index) {
        return segment.get(ValueLayout.JAVA_FLOAT_UNALIGNED, at(index, Float.BYTES));
    }

    @Override
    public final short getShort(int index, ByteOrder byteOrder) {
        return segment.get(byteOrder == ByteOrder.BIG_ENDIAN ? SHORT_BE : SHORT_LE, at(index, Short.BYTES));
    }

    @Override
    public final short getShort(int index) {
        return segment.get(ValueLayout.JAVA_SHORT_UNALIGNED, at(index, Short.BYTES));
    }

    @Override
    public final char getChar(int index, ByteOrder byteOrder) {
        return segment.get(byteOrder == ByteOrder.BIG_ENDIAN ? CHAR_BE : CHAR_LE, at(index, Character.BYTES));
    }

    @Override
    public final char getChar(int index) {
        return segment.get(ValueLayout.JAVA_CHAR_UNALIGNED, at(index, Character.BYTES));
    }

    @Override
    public final byte getByte(int index) {
        return segment.get(JAVA_BYTE, at(index, 1));
    }

    @Override
    public final void getBytes(int index, byte[] dst) {
        getBytes(index, dst, 0, dst.length);
    }

    @Override
    public final void getBytes(int index, byte[] dst, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, dst.length);
        MemorySegment.copy(segment, JAVA_BYTE, at(index, length), dst, offset, length);
    }

    @Override
    public final void getBytes(int index, MutableDirectBuffer dstBuffer, int dstIndex, int length) {
        long from = at(index, length);
        dstBuffer.boundsCheck(dstIndex, length);
        if (dstBuffer instanceof MutableSegmentBuffer dst) {
            MemorySegment.copy(segment, from, dst.segment, dst.at(dstIndex, length), length);
            return;
        }
        // Another kind of buffer: through a small array, so that neither side needs the other's address.
        if (scratch == null) {
            scratch = new byte[COPY_CHUNK];
        }
        for (int done = 0; done < length; ) {
            int n = Math.min(COPY_CHUNK, length - done);
            MemorySegment.copy(segment, JAVA_BYTE, from + done, scratch, 0, n);
            dstBuffer.putBytes(dstIndex + done, scratch, 0, n);
            done += n;
        }
    }

    @Override
    public final void getBytes(int index, ByteBuffer dstBuffer, int length) {
        int dstOffset = dstBuffer.position();
        getBytes(index, dstBuffer, dstOffset, length);
        dstBuffer.position(dstOffset + length);
    }

    @Override
    public final void getBytes(int index, ByteBuffer dstBuffer, int dstOffset, int length) {
        Objects.checkFromIndexSize(dstOffset, length, dstBuffer.capacity());
        MemorySegment.copy(segment, at(index, length), MemorySegment.ofBuffer(dstBuffer.duplicate().clear()), dstOffset, length);
    }

    @Override
    public final String getStringAscii(int index) {
        return getStringAscii(index, ByteOrder.nativeOrder());
    }

    @Override
    public final int getStringAscii(int index, Appendable appendable) {
        return getStringAscii(index, appendable, ByteOrder.nativeOrder());
    }

    @Override
    public final String getStringAscii(int index, ByteOrder byteOrder) {
        int length = getInt(index, byteOrder);
        return getStringWithoutLengthAscii(index + STR_HEADER_LEN, length);
    }

    @Override
    public final int getStringAscii(int index, Appendable appendable, ByteOrder byteOrder) {
        int length = getInt(index, byteOrder);
        return getStringWithoutLengthAscii(index + STR_HEADER_LEN, length, appendable);
    }

    @Override
    public final String getStringAscii(int index, int length) {
        at(index, STR_HEADER_LEN);
        return getStringWithoutLengthAscii(index + STR_HEADER_LEN, length);
    }

    @Override
    public final int getStringAscii(int index, int length, Appendable appendable) {
        at(index, STR_HEADER_LEN);
        return getStringWithoutLengthAscii(index + STR_HEADER_LEN, length, appendable);
    }

    @Override
    public final String getStringWithoutLengthAscii(int index, int length) {
        return new String(bytes(index, length), StandardCharsets.US_ASCII);
    }

    @Override
    public final int getStringWithoutLengthAscii(int index, int length, Appendable appendable) {
        long from = at(index, length);
        try {
            for (int i = 0; i < length; i++) {
                byte b = segment.get(JAVA_BYTE, from + i);
                appendable.append(b < 0 ? '?' : (char) b); // not ASCII: '?', as Agrona's buffers do
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return length;
    }

    @Override
    public final String getStringUtf8(int index) {
        return getStringUtf8(index, ByteOrder.nativeOrder());
    }

    @Override
    public final String getStringUtf8(int index, ByteOrder byteOrder) {
        int length = getInt(index, byteOrder);
        return getStringWithoutLengthUtf8(index + STR_HEADER_LEN, length);
    }

    @Override
    public final String getStringUtf8(int index, int length) {
        at(index, STR_HEADER_LEN);
        return getStringWithoutLengthUtf8(index + STR_HEADER_LEN, length);
    }

    @Override
    public final String getStringWithoutLengthUtf8(int index, int length) {
        return new String(bytes(index, length), StandardCharsets.UTF_8);
    }

    private byte[] bytes(int index, int length) {
        long from = at(index, length);
        byte[] b = new byte[length];
        MemorySegment.copy(segment, JAVA_BYTE, from, b, 0, length);
        return b;
    }

    @Override
    public final int parseNaturalIntAscii(int index, int length) {
        long value = parseNatural(index, length, "int");
        if (value > Integer.MAX_VALUE) {
            throw new AsciiNumberFormatException("int overflow parsing: " + getStringWithoutLengthAscii(index, length));
        }
        return (int) value;
    }

    @Override
    public final long parseNaturalLongAscii(int index, int length) {
        return parseNatural(index, length, "long");
    }

    @Override
    public final int parseIntAscii(int index, int length) {
        long value = parseSigned(index, length, "int");
        if (value < Integer.MIN_VALUE || value > Integer.MAX_VALUE) {
            throw new AsciiNumberFormatException("int overflow parsing: " + getStringWithoutLengthAscii(index, length));
        }
        return (int) value;
    }

    @Override
    public final long parseLongAscii(int index, int length) {
        return parseSigned(index, length, "long");
    }

    private long parseSigned(int index, int length, String type) {
        at(index, length);
        if (length <= 0) {
            throw new AsciiNumberFormatException("empty string: index=" + index + " length=" + length);
        }
        boolean negative = segment.get(JAVA_BYTE, base + index) == '-';
        if (!negative) {
            return parseNatural(index, length, type);
        }
        if (length == 1) {
            throw new AsciiNumberFormatException("error parsing " + type + ": " + getStringWithoutLengthAscii(index, length));
        }
        // Accumulated negatively, so that Long.MIN_VALUE parses.
        long value = 0;
        for (int i = 1; i < length; i++) {
            int digit = digit(index, length, i, type);
            if (value < (Long.MIN_VALUE + digit) / 10) {
                throw new AsciiNumberFormatException(type + " overflow parsing: " + getStringWithoutLengthAscii(index, length));
            }
            value = value * 10 - digit;
        }
        return value;
    }

    private long parseNatural(int index, int length, String type) {
        at(index, length);
        if (length <= 0) {
            throw new AsciiNumberFormatException("empty string: index=" + index + " length=" + length);
        }
        long value = 0;
        for (int i = 0; i < length; i++) {
            int digit = digit(index, length, i, type);
            if (value > (Long.MAX_VALUE - digit) / 10) {
                throw new AsciiNumberFormatException(type + " overflow parsing: " + getStringWithoutLengthAscii(index, length));
            }
            value = value * 10 + digit;
        }
        return value;
    }

    private int digit(int index, int length, int i, String type) {
        byte b = segment.get(JAVA_BYTE, base + index + i);
        if (b < '0' || b > '9') {
            throw new AsciiNumberFormatException("error parsing " + type + ": " + getStringWithoutLengthAscii(index, length));
        }
        return b - '0';
    }

    /** Lexicographic, byte by byte unsigned, then the shorter first, as Agrona's buffers compare. */
    @Override
    public final int compareTo(DirectBuffer that) {
        int common = Math.min(capacity, that.capacity());
        for (int i = 0; i < common; i++) {
            int cmp = Integer.compare(getByte(i) & 0xFF, that.getByte(i) & 0xFF);
            if (cmp != 0) {
                return cmp;
            }
        }
        return Integer.compare(capacity, that.capacity());
    }

    /** Equal to any {@link DirectBuffer} with the same bytes, as Agrona's buffers are. */
    @Override
    public final boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof DirectBuffer that) || that.capacity() != capacity) {
            return false;
        }
        for (int i = 0; i < capacity; i++) {
            if (getByte(i) != that.getByte(i)) {
                return false;
            }
        }
        return true;
    }

    @Override
    public final int hashCode() {
        int h = 1;
        for (int i = 0; i < capacity; i++) {
            h = 31 * h + getByte(i);
        }
        return h;
    }

    @Override
    public final String toString() {
        return getClass().getSimpleName() + "{capacity=" + capacity + ", offset=" + base + " of a segment of "
                + segment.byteSize() + " bytes}";
    }
}
