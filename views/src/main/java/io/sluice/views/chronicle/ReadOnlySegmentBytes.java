package io.sluice.views.chronicle;

import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.bytes.BytesIn;
import net.openhft.chronicle.bytes.BytesStore;
import net.openhft.chronicle.bytes.ReadBytesMarshallable;
import net.openhft.chronicle.bytes.util.DecoratedBufferUnderflowException;
import net.openhft.chronicle.core.io.ReferenceChangeListener;
import net.openhft.chronicle.core.io.ReferenceOwner;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * A Chronicle Bytes {@link BytesIn} over a payload a consumer reads, in place: what a
 * {@code BytesMarshallable}'s {@code readMarshallable(BytesIn)} decodes from. A payload is a
 * read-only slice of a mapping that may be {@code PROT_READ}, where one write kills the process
 * with {@code SIGSEGV}; so this type has no write method, and reads every byte through the
 * {@link MemorySegment} (bounds-checked, no Unsafe).
 *
 * <p>Chronicle's read interfaces offer a few ways to write, or to hand out what writes; each is
 * refused with an {@link UnsupportedOperationException} saying why: the address
 * ({@code addressForRead}, {@code addressForWrite}), a {@link Bytes} over the same memory
 * ({@code bytesForRead}, {@code bytesForWrite}, {@code subBytes}), copies to a raw address or an
 * object's raw offsets ({@code nativeRead}, {@code unsafeRead}, {@code unsafeReadObject}), and a
 * {@link ByteBuffer} over the address ({@code toTemporaryDirectByteBuffer}).
 * {@link #isDirectMemory()} says {@code false}, which keeps Chronicle's own helpers
 * ({@code readUtf8}, {@code readStopBit}, the reflective {@code BytesMarshallable} reader) on
 * their byte-by-byte paths through this view's getters.
 *
 * <p>{@code BytesIn} extends {@code StreamingDataInput<Bytes<U>>}: its chaining methods
 * ({@code readPosition(long)}, {@code readSkip}, {@code readLimit(long)}, {@code clear}) claim to
 * return a {@link Bytes}, which a read-only type cannot be. This class implements the raw
 * {@code BytesIn}, and they return this view. Code that only calls them, as decoders do, works;
 * code that keeps their result as a {@code Bytes} fails at its own call site with a
 * {@link ClassCastException}, never with a write.
 *
 * <p>Made once and re-pointed per message, without allocating:
 * <pre>{@code
 * ReadOnlySegmentBytes view = new ReadOnlySegmentBytes();
 * Quote quote = new Quote();                          // a BytesMarshallable
 * MemorySegment ring = consumer.buffer();             // once: what every payload is a slice of
 * consumer.poll((type, payload) -> {
 *     view.wrapPayload(ring, payload);                // keeps ring and an offset: no allocation
 *     quote.readMarshallable(view);
 *     onQuote(quote);
 * }, 64);
 * }</pre>
 * Offsets of the random-access reads ({@code readLong(long)}) count from the payload's first
 * byte; streaming reads ({@code readLong()}) start at 0 and stop at the payload's end. Reading
 * outside the payload throws {@link BufferUnderflowException} (Chronicle's
 * {@code DecoratedBufferUnderflowException}, naming the offset, the size and the capacity), or
 * in {@linkplain #lenient(boolean) lenient} mode a streaming read past the end gives 0. Native
 * byte order, as Chronicle's Bytes. Valid only while the payload is (during
 * {@code onMessage}). Not thread-safe: one view per thread.
 */
@SuppressWarnings("rawtypes") // BytesIn raw: see the class comment (a read-only type cannot be a Bytes)
public final class ReadOnlySegmentBytes implements BytesIn {
    private static final MemorySegment EMPTY = MemorySegment.ofArray(new byte[0]);
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfDouble DOUBLE = ValueLayout.JAVA_DOUBLE_UNALIGNED;
    // Volatile reads need natural alignment (the FFM API refuses a misaligned one).
    private static final VarHandle VOLATILE_BYTE = JAVA_BYTE.varHandle();
    private static final VarHandle VOLATILE_SHORT = ValueLayout.JAVA_SHORT.varHandle();
    private static final VarHandle VOLATILE_INT = ValueLayout.JAVA_INT.varHandle();
    private static final VarHandle VOLATILE_LONG = ValueLayout.JAVA_LONG.varHandle();
    /** Copies to an OutputStream or a BytesStore go through an array of this size. */
    private static final int COPY_CHUNK = 256;

    private MemorySegment segment = EMPTY;
    private long base;
    private long capacity;
    private long readPosition;
    private long readLimit;
    private boolean lenient;
    private int lastDecimalPlaces;
    private boolean lastNumberHadDigits;
    private byte[] scratch; // made on the first copy out to a stream or a store, then reused

    /** An empty view; {@link #wrapPayload} or {@link #wrap(MemorySegment)} points it at a payload. */
    public ReadOnlySegmentBytes() {
    }

    /**
     * A view of the whole of {@code segment}.
     *
     * @param segment the bytes to view
     */
    public ReadOnlySegmentBytes(MemorySegment segment) {
        wrap(segment);
    }

    /**
     * Points this view at {@code payload} through the long-lived segment it is a slice of (a
     * consumer's {@code buffer()}), and rewinds it (read position 0, limit the payload's length).
     * The view keeps {@code ringBuffer} and the payload's offset in it, never the payload slice,
     * so the JIT can scalar-replace the slice and a message costs no allocation.
     *
     * @param ringBuffer the segment the consumer's payloads are slices of
     * @param payload    the payload the handler was given
     * @throws IllegalArgumentException if {@code payload} is not inside {@code ringBuffer}
     */
    public void wrapPayload(MemorySegment ringBuffer, MemorySegment payload) {
        if (!ringBuffer.isNative() || !payload.isNative()) {
            wrap(payload); // heap memory (tests, in-process rings over arrays): keep the slice
            return;
        }
        long offset = payload.address() - ringBuffer.address();
        long length = payload.byteSize();
        if (offset < 0 || offset > ringBuffer.byteSize() - length) {
            throw new IllegalArgumentException("payload " + payload + " is not inside the ring buffer " + ringBuffer
                    + " (wrapPayload takes the consumer's buffer() and a payload it handed over)");
        }
        point(ringBuffer, offset, length);
    }

    /**
     * Points this view at the whole of {@code segment} and rewinds it. Allocates nothing itself,
     * but keeps {@code segment}: a payload slice wrapped this way escapes, which
     * {@link #wrapPayload} avoids.
     *
     * @param segment the bytes to view
     */
    public void wrap(MemorySegment segment) {
        point(Objects.requireNonNull(segment, "segment"), 0, segment.byteSize());
    }

    /**
     * Points this view at {@code [offset, offset + length)} of {@code segment} and rewinds it.
     *
     * @param segment the bytes
     * @param offset  where the view starts in {@code segment}
     * @param length  how many bytes it views
     * @throws IllegalArgumentException  if {@code length} is negative
     * @throws IndexOutOfBoundsException if the range is not inside {@code segment}
     */
    public void wrap(MemorySegment segment, long offset, long length) {
        point(segment, offset, length);
    }

    private void point(MemorySegment segment, long offset, long length) {
        Objects.requireNonNull(segment, "segment");
        if (length < 0) {
            throw new IllegalArgumentException("view length " + length + " is negative");
        }
        Objects.checkFromIndexSize(offset, length, segment.byteSize());
        this.segment = segment;
        this.base = offset;
        this.capacity = length;
        this.readPosition = 0;
        this.readLimit = length;
    }

    /**
     * The bytes this view reads, for FFM code over the same memory: a read-only slice (allocates).
     *
     * @return a read-only segment of exactly {@link #capacity()} bytes
     */
    public MemorySegment asSegment() {
        return segment.asSlice(base, capacity).asReadOnly();
    }

    // ---- bounds: every read goes through one of these two ----

    /** Where {@code [offset, offset + size)} of this view is in the segment, after the bounds check. */
    private long at(long offset, int size) {
        if (offset < 0 || offset > capacity - size) {
            throw new DecoratedBufferUnderflowException("offset " + offset + " + " + size + " is outside the view [0, "
                    + capacity + ")");
        }
        return base + offset;
    }

    /**
     * Where the next {@code size} bytes of the stream are in the segment, advancing the read
     * position; -1 in lenient mode when fewer remain (the position then moves to the limit).
     */
    private long next(int size) {
        long p = readPosition;
        if (p > readLimit - size) {
            if (lenient) {
                readPosition = readLimit;
                return -1;
            }
            throw new DecoratedBufferUnderflowException("read of " + size + " at position " + p + " is past the read limit "
                    + readLimit);
        }
        readPosition = p + size;
        return base + p;
    }

    private static UnsupportedOperationException refused(String what, String why) {
        return new UnsupportedOperationException(what + " is refused by a read-only view: " + why);
    }

    private static final String NO_ADDRESS = "with the address, Unsafe-based code could write memory that may be"
            + " mapped read-only and crash the JVM; read through this view, or use asSegment()";
    private static final String NO_BYTES = "a Bytes over the same memory has write methods, and a write to a read-only"
            + " mapping crashes the JVM; copy out with read(byte[]) or copyTo, or use asSegment()";

    // ---- RandomCommon ----

    @Override
    public long start() {
        return 0;
    }

    @Override
    public long capacity() {
        return capacity;
    }

    @Override
    public long realCapacity() {
        return capacity;
    }

    @Override
    public long readPosition() {
        return readPosition;
    }

    /** Everything in the view was written by the producer: the end of what may be read. */
    @Override
    public long writePosition() {
        return readLimit;
    }

    @Override
    public long readLimit() {
        return readLimit;
    }

    @Override
    public long writeLimit() {
        return capacity;
    }

    @Override
    public long readRemaining() {
        return readLimit - readPosition;
    }

    @Override
    public long realReadRemaining() {
        return readLimit - readPosition;
    }

    /** Nothing may be written. */
    @Override
    public long writeRemaining() {
        return 0;
    }

    @Override
    public long realWriteRemaining() {
        return 0;
    }

    @Override
    public ByteOrder byteOrder() {
        return ByteOrder.nativeOrder();
    }

    /** Refused: see {@link #NO_ADDRESS}. */
    @Override
    public long addressForRead(long offset) {
        throw refused("addressForRead", NO_ADDRESS);
    }

    @Override
    public long addressForRead(long offset, int buffer) {
        throw refused("addressForRead", NO_ADDRESS);
    }

    @Override
    public long addressForWrite(long offset) {
        throw refused("addressForWrite", NO_ADDRESS);
    }

    @Override
    public long addressForWritePosition() {
        throw refused("addressForWritePosition", NO_ADDRESS);
    }

    @Override
    public Bytes<?> bytesForRead() {
        throw refused("bytesForRead", NO_BYTES);
    }

    @Override
    public Bytes<?> bytesForWrite() {
        throw refused("bytesForWrite", NO_BYTES);
    }

    /** A consumer's ring is shared memory; a heap segment is not. */
    @Override
    public boolean sharedMemory() {
        return segment.isNative();
    }

    /** False, whatever the memory: Chronicle's helpers then read through this view, never through an address. */
    @Override
    public boolean isDirectMemory() {
        return false;
    }

    // ---- ReferenceCounted: the view owns nothing (the memory is the ring's), so there is nothing to count ----

    @Override
    public void reserve(ReferenceOwner owner) {
    }

    @Override
    public boolean tryReserve(ReferenceOwner owner) {
        return true;
    }

    @Override
    public void release(ReferenceOwner owner) {
    }

    @Override
    public void releaseLast(ReferenceOwner owner) {
    }

    @Override
    public int refCount() {
        return 1;
    }

    @Override
    public void addReferenceChangeListener(ReferenceChangeListener listener) {
    }

    @Override
    public void removeReferenceChangeListener(ReferenceChangeListener listener) {
    }

    // ---- RandomDataInput: offsets count from the view's first byte ----

    @Override
    public byte readByte(long offset) {
        return segment.get(JAVA_BYTE, at(offset, 1));
    }

    @Override
    public int peekUnsignedByte(long offset) {
        return offset < 0 || offset >= readLimit ? -1 : segment.get(JAVA_BYTE, base + offset) & 0xFF;
    }

    @Override
    public short readShort(long offset) {
        return segment.get(SHORT, at(offset, Short.BYTES));
    }

    @Override
    public int readInt(long offset) {
        return segment.get(INT, at(offset, Integer.BYTES));
    }

    @Override
    public long readLong(long offset) {
        return segment.get(LONG, at(offset, Long.BYTES));
    }

    @Override
    public float readFloat(long offset) {
        return segment.get(FLOAT, at(offset, Float.BYTES));
    }

    @Override
    public double readDouble(long offset) {
        return segment.get(DOUBLE, at(offset, Double.BYTES));
    }

    // Volatile reads: an acquire-or-stronger load through the segment, for fields a producer
    // publishes with a release store; the FFM API refuses one that is not naturally aligned.

    @Override
    public byte readVolatileByte(long offset) {
        return (byte) VOLATILE_BYTE.getVolatile(segment, at(offset, 1));
    }

    @Override
    public short readVolatileShort(long offset) {
        return (short) VOLATILE_SHORT.getVolatile(segment, at(offset, Short.BYTES));
    }

    @Override
    public int readVolatileInt(long offset) {
        return (int) VOLATILE_INT.getVolatile(segment, at(offset, Integer.BYTES));
    }

    @Override
    public long readVolatileLong(long offset) {
        return (long) VOLATILE_LONG.getVolatile(segment, at(offset, Long.BYTES));
    }

    /** Refused: it copies to a raw address, which this view cannot bound. */
    @Override
    public void nativeRead(long position, long address, long size) {
        throw refused("nativeRead", "it writes to a raw address, which carries no bounds; use read(byte[]) or asSegment()");
    }

    /** Up to 8 bytes from {@code offset}, little-endian, zeros past the end of the view. */
    @Override
    public long readIncompleteLong(long offset) {
        long remaining = readLimit - offset;
        if (remaining >= Long.BYTES) {
            return readLong(offset);
        }
        long value = 0;
        for (int i = 0; i < remaining; i++) {
            value |= (readByte(offset + i) & 0xFFL) << (8 * i);
        }
        return value;
    }

    @Override
    public long read(long offsetInRDI, byte[] bytes, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, bytes.length);
        long n = Math.min(length, readLimit - offsetInRDI);
        if (n <= 0) {
            return -1;
        }
        MemorySegment.copy(segment, JAVA_BYTE, at(offsetInRDI, (int) n), bytes, offset, (int) n);
        return n;
    }

    /** Copies from the read position (without moving it), as many bytes as fit; returns how many. */
    @Override
    public int copyTo(byte[] bytes) {
        int n = (int) Math.min(bytes.length, readRemaining());
        MemorySegment.copy(segment, JAVA_BYTE, base + readPosition, bytes, 0, n);
        return n;
    }

    @Override
    public int copyTo(ByteBuffer bb) {
        int position = bb.position();
        int n = (int) Math.min(bb.remaining(), readRemaining());
        MemorySegment.copy(segment, base + readPosition, MemorySegment.ofBuffer(bb.duplicate().clear()), position, n);
        bb.position(position + n);
        return n;
    }

    /** Refused: Chronicle's sub-store is a BytesStore, which has write methods. */
    @Override
    public BytesStore subBytes(long start, long length) {
        throw refused("subBytes", NO_BYTES);
    }

    @Override
    public ByteBuffer toTemporaryDirectByteBuffer() {
        throw refused("toTemporaryDirectByteBuffer", NO_ADDRESS);
    }

    @Override
    public boolean canReadDirect(long length) {
        return false;
    }

    // ---- StreamingDataInput: a read position and a limit inside the view ----

    @Override
    public ReadOnlySegmentBytes readPosition(long position) {
        if (position < 0 || position > readLimit) {
            throw new DecoratedBufferUnderflowException("read position " + position + " is outside [0, " + readLimit + "]");
        }
        readPosition = position;
        return this;
    }

    /** Sets the limit anywhere in the view; a read position past it moves back to it. */
    @Override
    public ReadOnlySegmentBytes readLimit(long limit) {
        if (limit < 0 || limit > capacity) {
            throw new DecoratedBufferUnderflowException("read limit " + limit + " is outside [0, " + capacity + "]");
        }
        readLimit = limit;
        readPosition = Math.min(readPosition, limit);
        return this;
    }

    @Override
    public ReadOnlySegmentBytes readSkip(long bytesToSkip) {
        long p = readPosition + bytesToSkip;
        if (bytesToSkip < -readPosition || p > readLimit) {
            if (lenient && p > readLimit) {
                readPosition = readLimit;
                return this;
            }
            throw new DecoratedBufferUnderflowException("skip of " + bytesToSkip + " from position " + readPosition
                    + " leaves [0, " + readLimit + "]");
        }
        readPosition = p;
        return this;
    }

    /** Rewinds: the read position to 0 and the limit to the whole view (nothing is emptied; nothing can be written). */
    @Override
    public ReadOnlySegmentBytes clear() {
        readPosition = 0;
        readLimit = capacity;
        return this;
    }

    /** Checked all the same: this view never reads outside its range. */
    @Override
    public void uncheckedReadSkipOne() {
        readSkip(1);
    }

    @Override
    public void uncheckedReadSkipBackOne() {
        readSkip(-1);
    }

    @Override
    public byte readByte() {
        long at = next(1);
        return at < 0 ? 0 : segment.get(JAVA_BYTE, at);
    }

    @Override
    public int readUnsignedByte() {
        long at = next(1);
        return at < 0 ? 0 : segment.get(JAVA_BYTE, at) & 0xFF;
    }

    /** Checked all the same: -1 at the end, as {@link #peekUnsignedByte()}. */
    @Override
    public int uncheckedReadUnsignedByte() {
        if (readPosition >= readLimit) {
            return -1;
        }
        return segment.get(JAVA_BYTE, base + readPosition++) & 0xFF;
    }

    @Override
    public short readShort() {
        long at = next(Short.BYTES);
        return at < 0 ? 0 : segment.get(SHORT, at);
    }

    @Override
    public int readInt() {
        long at = next(Integer.BYTES);
        return at < 0 ? 0 : segment.get(INT, at);
    }

    @Override
    public long readLong() {
        long at = next(Long.BYTES);
        return at < 0 ? 0 : segment.get(LONG, at);
    }

    @Override
    public float readFloat() {
        long at = next(Float.BYTES);
        return at < 0 ? 0 : segment.get(FLOAT, at);
    }

    @Override
    public double readDouble() {
        long at = next(Double.BYTES);
        return at < 0 ? 0 : segment.get(DOUBLE, at);
    }

    @Override
    public int readVolatileInt() {
        long at = next(Integer.BYTES);
        return at < 0 ? 0 : (int) VOLATILE_INT.getVolatile(segment, at);
    }

    @Override
    public long readVolatileLong() {
        long at = next(Long.BYTES);
        return at < 0 ? 0 : (long) VOLATILE_LONG.getVolatile(segment, at);
    }

    @Override
    public int peekUnsignedByte() {
        return readPosition >= readLimit ? -1 : segment.get(JAVA_BYTE, base + readPosition) & 0xFF;
    }

    @Override
    public int read(byte[] bytes, int off, int len) {
        Objects.checkFromIndexSize(off, len, bytes.length);
        long remaining = readRemaining();
        if (len > 0 && remaining <= 0) {
            return -1;
        }
        int n = (int) Math.min(len, remaining);
        MemorySegment.copy(segment, JAVA_BYTE, next(n), bytes, off, n);
        return n;
    }

    /** Refused: it copies to raw memory at an address, which this view cannot bound. */
    @Override
    public ReadOnlySegmentBytes unsafeRead(long address, int length) {
        throw refused("unsafeRead", "it writes to a raw address, which carries no bounds; use read(byte[])");
    }

    /** Refused: it writes an object's fields through their raw offsets. */
    @Override
    public void unsafeReadObject(Object o, int offset, int length) {
        throw refused("unsafeReadObject", "it writes an object's memory through raw offsets; read its fields one by one");
    }

    /** Copies what remains to read (without moving the read position). */
    @Override
    public void copyTo(OutputStream out) throws IOException {
        byte[] chunk = scratch();
        for (long p = readPosition; p < readLimit; ) {
            int n = (int) Math.min(COPY_CHUNK, readLimit - p);
            MemorySegment.copy(segment, JAVA_BYTE, base + p, chunk, 0, n);
            out.write(chunk, 0, n);
            p += n;
        }
    }

    /** Copies what remains to read, as much as fits, to the start of {@code store}; returns how many bytes. */
    @Override
    public long copyTo(BytesStore store) {
        long n = Math.min(readRemaining(), store.capacity());
        byte[] chunk = scratch();
        for (long done = 0; done < n; ) {
            int k = (int) Math.min(COPY_CHUNK, n - done);
            MemorySegment.copy(segment, JAVA_BYTE, base + readPosition + done, chunk, 0, k);
            store.write(store.start() + done, chunk, 0, k);
            done += k;
        }
        return n;
    }

    private byte[] scratch() {
        if (scratch == null) {
            scratch = new byte[COPY_CHUNK];
        }
        return scratch;
    }

    @Override
    public void lenient(boolean lenient) {
        this.lenient = lenient;
    }

    @Override
    public boolean lenient() {
        return lenient;
    }

    // ---- ByteStringParser: what its number parsers leave behind ----

    @Override
    public int lastDecimalPlaces() {
        return lastDecimalPlaces;
    }

    @Override
    public void lastDecimalPlaces(int lastDecimalPlaces) {
        this.lastDecimalPlaces = lastDecimalPlaces;
    }

    @Override
    public boolean lastNumberHadDigits() {
        return lastNumberHadDigits;
    }

    @Override
    public void lastNumberHadDigits(boolean lastNumberHadDigits) {
        this.lastNumberHadDigits = lastNumberHadDigits;
    }

    // ---- BytesIn ----

    /**
     * Reads a message written with {@code writeMarshallableLength16}: an unsigned 16-bit length,
     * then that many bytes, which {@code using.readMarshallable(this)} decodes with the limit set
     * to their end (so it cannot read the next message's bytes).
     *
     * @param clazz what to make when {@code using} is null
     * @param using the object to read into, or null
     * @return {@code using}, or a new {@code clazz}
     */
    @Override
    public ReadBytesMarshallable readMarshallableLength16(Class clazz, ReadBytesMarshallable using) {
        int length = readUnsignedShort();
        long end = readPosition + length;
        if (end > readLimit) { // the length is the peer's: checked before anything is made or read
            throw new DecoratedBufferUnderflowException("message of " + length + " bytes at position " + readPosition
                    + " is past the read limit " + readLimit);
        }
        ReadBytesMarshallable into = using;
        if (into == null) {
            try {
                into = (ReadBytesMarshallable) ((Class<?>) clazz).getDeclaredConstructor().newInstance();
            } catch (ReflectiveOperationException e) {
                throw new IllegalArgumentException("cannot make a " + clazz.getName() + " to read into: " + e, e);
            }
        }
        long limit = readLimit;
        readLimit = end;
        try {
            into.readMarshallable(this);
        } finally {
            readLimit = limit;
            readPosition = end;
        }
        return into;
    }

    @Override
    public String toString() {
        return "ReadOnlySegmentBytes{readPosition=" + readPosition + ", readLimit=" + readLimit + ", capacity=" + capacity
                + ", offset=" + base + " of a segment of " + segment.byteSize() + " bytes}";
    }
}
