package io.sluice.views.chronicle;

import io.sluice.api.MessageProducer;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.bytes.PointerBytesStore;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * A Chronicle {@link Bytes} over a claimed slot, in place: what a {@code BytesMarshallable}'s
 * {@code writeMarshallable(BytesOut)} (or a Chronicle Wire over it) encodes into between
 * {@code tryClaim} and {@code commit}. The slot is in the producer's writable mapping, so
 * Chronicle's own types serve here: a {@link PointerBytesStore} over the slot's address and one
 * {@link Bytes} over that store, both made once; re-pointing sets the store's address and length
 * and clears the Bytes, which allocates nothing.
 *
 * <pre>{@code
 * MutableSegmentBytes claim = new MutableSegmentBytes();
 * long at = producer.tryClaim(QUOTE, Quote.LENGTH);
 * if (at >= 0) {
 *     quote.writeMarshallable(claim.wrapClaim(producer, at, Quote.LENGTH));
 *     producer.commit(at);
 * }
 * }</pre>
 * Chronicle writes through Unsafe at the address, bounded by the Bytes' write limit, the claim's
 * length: a write past it throws {@code BufferOverflowException} and writes nothing. The Bytes
 * is not elastic. Only native, writable memory is accepted (a consumer's read-only payload is
 * refused here, when it is wrapped, rather than crashing on the first write). The Bytes is valid
 * until {@code commit} and the next wrap; not thread-safe: one view per thread.
 */
public final class MutableSegmentBytes {
    private final PointerBytesStore store = new PointerBytesStore();
    private final Bytes<Void> bytes = store.bytesForWrite();

    /** An empty view; {@link #wrapClaim} points it at a claim. */
    public MutableSegmentBytes() {
    }

    /**
     * Points the Bytes at the payload of the claim {@code at} of {@code producer}:
     * {@code [at, at + length)} of {@link MessageProducer#buffer()}, with the write position at its
     * start and the write limit at its end. Allocates nothing.
     *
     * @param producer the producer that returned {@code at}
     * @param at       the offset {@link MessageProducer#tryClaim} returned
     * @param length   the length claimed
     * @return the Bytes to encode into (the same object at every call)
     * @throws IllegalArgumentException  if {@code at} is negative (a failed claim) or {@code length} is
     * @throws IndexOutOfBoundsException if the range is not inside the producer's buffer
     */
    public Bytes<Void> wrapClaim(MessageProducer producer, long at, int length) {
        if (at < 0) {
            throw new IllegalArgumentException("claim offset " + at + " is not a claim (tryClaim returns a negative"
                    + " value when the ring has no room)");
        }
        return wrap(producer.buffer(), at, length);
    }

    /**
     * Points the Bytes at {@code [offset, offset + length)} of {@code segment}, cleared. Allocates nothing.
     *
     * @param segment native, writable memory
     * @param offset  where the range starts in {@code segment}
     * @param length  how many bytes
     * @return the Bytes to encode into (the same object at every call)
     * @throws IllegalArgumentException  if the segment is read-only or on the heap, or {@code length} is negative
     * @throws IndexOutOfBoundsException if the range is not inside {@code segment}
     */
    public Bytes<Void> wrap(MemorySegment segment, long offset, long length) {
        Objects.requireNonNull(segment, "segment");
        if (segment.isReadOnly()) {
            throw new IllegalArgumentException("a mutable view needs a writable segment; this one is read-only"
                    + " (a consumer's payload: view it with ReadOnlySegmentBytes)");
        }
        if (!segment.isNative()) {
            throw new IllegalArgumentException("a Chronicle Bytes over a claim needs native memory (it writes through"
                    + " the address); this segment is on the heap");
        }
        if (length < 0) {
            throw new IllegalArgumentException("view length " + length + " is negative");
        }
        Objects.checkFromIndexSize(offset, length, segment.byteSize());
        store.set(segment.address() + offset, length);
        bytes.clear(); // write position to 0, write limit to the store's new capacity
        return bytes;
    }

    /**
     * The Bytes as last wrapped (empty until the first wrap).
     *
     * @return the Bytes the wraps return
     */
    public Bytes<Void> bytes() {
        return bytes;
    }

    @Override
    public String toString() {
        return "MutableSegmentBytes{writePosition=" + bytes.writePosition() + ", writeLimit=" + bytes.writeLimit() + "}";
    }
}
