package io.sluice.views.agrona;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

/**
 * An Agrona {@link DirectBuffer} over a payload a consumer reads, in place: what an SBE decoder
 * wraps. A payload is a read-only slice of a mapping that may itself be {@code PROT_READ}, where
 * a single write would kill the process with {@code SIGSEGV}; this type therefore has no method
 * that writes. It is not a {@link MutableDirectBuffer}, it never exposes the memory's address
 * ({@link #addressOffset()} throws, so an Unsafe-based buffer cannot be made to alias it), and it
 * reads through the {@link MemorySegment}, which is bounds-checked.
 *
 * <p>Made once and re-pointed per message, without allocating:
 * <pre>{@code
 * ReadOnlySegmentBuffer view = new ReadOnlySegmentBuffer();
 * QuoteDecoder decoder = new QuoteDecoder();
 * MemorySegment ring = consumer.buffer();             // once: what every payload is a slice of
 * consumer.poll((type, payload) -> {
 *     view.wrapPayload(ring, payload);                // keeps ring and an offset: no allocation
 *     decoder.wrap(view, 0, QuoteDecoder.BLOCK_LENGTH, QuoteDecoder.SCHEMA_VERSION);
 *     onQuote(decoder);
 * }, 64);
 * }</pre>
 * The view is valid only while the payload is (during {@code onMessage}). Not thread-safe: one
 * view per thread.
 */
public final class ReadOnlySegmentBuffer extends SegmentReads {
    /** An empty view; {@link #wrap(MemorySegment)} points it at a payload. */
    public ReadOnlySegmentBuffer() {
    }

    /**
     * A view of the whole of {@code segment}.
     *
     * @param segment the bytes to view, at most {@link Integer#MAX_VALUE} long
     */
    public ReadOnlySegmentBuffer(MemorySegment segment) {
        point(segment);
    }

    /**
     * Points this view at the whole of {@code segment}. Allocates nothing itself, but the view
     * keeps {@code segment}: a payload slice wrapped this way escapes and costs the JIT an
     * allocation per message, which {@link #wrapPayload} avoids.
     *
     * @param segment the bytes to view, at most {@link Integer#MAX_VALUE} long
     * @throws IllegalArgumentException if the segment is longer than an {@code int} can index
     */
    public void wrap(MemorySegment segment) {
        point(segment);
    }

    /**
     * Points this view at {@code payload} through the long-lived segment it is a slice of (a
     * consumer's {@code buffer()}): the view keeps {@code ringBuffer} and the payload's offset in
     * it, never the payload slice, so the JIT can still scalar-replace the slice and a message
     * costs no allocation. {@link #wrap(MemorySegment) wrap(payload)} keeps the slice in this
     * view, which makes it escape: 40 bytes a message.
     *
     * @param ringBuffer the segment the consumer's payloads are slices of
     * @param payload    the payload the handler was given
     * @throws IllegalArgumentException if {@code payload} is not inside {@code ringBuffer}
     */
    public void wrapPayload(MemorySegment ringBuffer, MemorySegment payload) {
        if (!ringBuffer.isNative() || !payload.isNative()) {
            point(payload); // heap memory (tests, in-process rings over arrays): keep the slice
            return;
        }
        long offset = payload.address() - ringBuffer.address();
        long length = payload.byteSize();
        if (offset < 0 || offset > ringBuffer.byteSize() - length) {
            throw notInside(ringBuffer, payload);
        }
        point(ringBuffer, offset, (int) length);
    }

    private static IllegalArgumentException notInside(MemorySegment ringBuffer, MemorySegment payload) {
        return new IllegalArgumentException("payload " + payload + " is not inside the ring buffer " + ringBuffer
                + " (wrapPayload takes the consumer's buffer() and a payload it handed over)");
    }

    /**
     * Points this view at {@code [offset, offset + length)} of {@code segment}. Allocates nothing.
     *
     * @param segment the bytes
     * @param offset  where the view starts in {@code segment}
     * @param length  how many bytes it views
     * @throws IndexOutOfBoundsException if the range is not inside {@code segment}
     * @throws IllegalArgumentException  if {@code length} is negative
     */
    public void wrap(MemorySegment segment, long offset, int length) {
        point(segment, offset, length);
    }

    /**
     * The bytes this view reads, for FFM code over the same memory: a read-only slice (allocates).
     *
     * @return a read-only segment of exactly {@link #capacity()} bytes
     */
    public MemorySegment asSegment() {
        return segment().asSlice(base, capacity).asReadOnly();
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
        point(MemorySegment.ofBuffer(buffer.duplicate().clear()));
    }

    @Override
    public void wrap(ByteBuffer buffer, int offset, int length) {
        point(MemorySegment.ofBuffer(buffer.duplicate().clear()), offset, length);
    }

    @Override
    public void wrap(DirectBuffer buffer) {
        point(segmentOf(buffer));
    }

    @Override
    public void wrap(DirectBuffer buffer, int offset, int length) {
        point(segmentOf(buffer), offset, length);
    }

    /**
     * Refused: with the address, an Unsafe-based buffer (Agrona's {@code UnsafeBuffer.wrap}) would
     * make a writable alias of memory that may be mapped read-only. Copy with {@code getBytes}, or
     * use {@link #asSegment()}.
     *
     * @return never
     * @throws UnsupportedOperationException always
     */
    @Override
    public long addressOffset() {
        throw new UnsupportedOperationException("a read-only view does not give its address: an Unsafe-based buffer over it"
                + " could write a read-only mapping and crash the JVM; copy with getBytes or use asSegment()");
    }
}
