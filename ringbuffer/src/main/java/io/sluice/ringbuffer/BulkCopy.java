package io.sluice.ringbuffer;

import java.lang.foreign.MemorySegment;

/**
 * How a producer's {@code offer} copies a long payload into its ring. Injected, as {@link Futex}
 * is, so that the rings stay free of libc: the transport that maps the regions implements it with
 * the C library's {@code memmove}, which on this project's measurements copies 64 KiB about 1.8×
 * as fast as {@link MemorySegment#copy(MemorySegment, long, MemorySegment, long, long)}
 * (docs/benchmarks.md). Without one, every payload is copied with {@code MemorySegment.copy}.
 *
 * <p>A producer hands it only payloads of at least {@link #MIN_LENGTH} bytes; shorter ones are
 * copied with {@code MemorySegment.copy}, which is faster there than any call out of the JVM.
 */
public interface BulkCopy {
    /** The shortest payload {@code offer} hands to a bulk copy: 16 KiB, where the two copies cost the same. */
    int MIN_LENGTH = 16 * 1024;

    /**
     * Copies {@code length} bytes, with the contract of
     * {@link MemorySegment#copy(MemorySegment, long, MemorySegment, long, long)}: the ranges may
     * overlap; the same exceptions for a range outside a segment, a read-only destination, or a
     * segment whose arena is closed or confined to another thread.
     *
     * @param source            the segment copied from (native or heap)
     * @param sourceOffset      the first byte copied, in {@code source}
     * @param destination       the ring's segment
     * @param destinationOffset where the first byte goes, in {@code destination}
     * @param length            bytes to copy
     */
    void copy(MemorySegment source, long sourceOffset, MemorySegment destination, long destinationOffset, long length);
}
