package io.sluice.channel;

import io.sluice.memfd.libc.MemoryCalls;
import io.sluice.ringbuffer.BulkCopy;

import java.lang.foreign.MemorySegment;

/** {@link BulkCopy} over the C library's {@code memmove}: how a channel's producers copy long payloads. */
final class LibcBulkCopy implements BulkCopy {
    static final LibcBulkCopy INSTANCE = new LibcBulkCopy();

    private LibcBulkCopy() {
    }

    @Override
    public void copy(MemorySegment source, long sourceOffset, MemorySegment destination, long destinationOffset,
                     long length) {
        MemoryCalls.memmove(destination.asSlice(destinationOffset, length), source.asSlice(sourceOffset, length), length);
    }
}
