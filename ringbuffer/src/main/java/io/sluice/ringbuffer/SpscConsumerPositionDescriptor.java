package io.sluice.ringbuffer;

import io.sluice.api.RingKind;
import io.sluice.api.RingLayoutException;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * A consumer's own small region: where it publishes how far it has read, and whether
 * it is parked. The consumer creates it, maps it read-write and is its only writer; the producer
 * maps it read-only and reads the position to know which space it may reuse. It follows one ring:
 * kind and capacity say which. All fields little-endian.
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                 Magic "SLUICECP" (u64, LE bytes)              |  0
 *  |                                                               |
 *  +-------------------------------+-------------------------------+
 *  |      Layout Version (1)       |   Ring Kind of the followed   |  8
 *  +-------------------------------+-------------------------------+
 *  |     Header Length (128)       |        Reserved, zero         | 16
 *  +-------------------------------+-------------------------------+
 *  |          Data Capacity of the followed ring (u64)             | 24
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                  Reserved, zero (96 bytes)                   ... 32
 *  +---------------------------------------------------------------+
 *  |                   Consumer Position (u64)                     | 128
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                  Messages Consumed (u64)                      | 136
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |           Unused to the end of the 128-byte line             ... 144
 *  +-------------------------------+-------------------------------+
 *  |  Parked Flag (u32, reserved)  |   Unused to the end of line  ... 256
 *  +-------------------------------+-------------------------------+
 *                                                                    384
 * </pre>
 *
 * <ul>
 *   <li>Header fields (0..127): written once by the consumer when it formats the region, before
 *       it hands the region to the producer (plain stores; the hand-over publishes them).</li>
 *   <li>Consumer Position: the position up to which the consumer has finished with the ring
 *       (every record before it was handed to the handler and the handler returned). Written
 *       only by the consumer, with a <b>release</b> store, once per poll that advanced, after
 *       its last read of those records. The producer <b>acquire</b>-loads it and only then
 *       writes into space below {@code position + capacity}: release/acquire orders the
 *       consumer's reads of the old bytes before the producer's overwrites. A multiple of 8,
 *       never decreasing, never beyond the producer's own position, always where a record
 *       starts. The producer checks all of that every time it reads it; anything else is that
 *       consumer's fault, not the ring's: the producer stops reading the region and reports it
 *       ({@link SpscProducer}, {@link ConsumerFault}). Alone on its 128-byte line (two cache
 *       lines, against adjacent-line prefetch), so the producer's polling does not disturb
 *       anything else.</li>
 *   <li>Messages Consumed: messages (not padding) this consumer has been handed since it
 *       formatted the region; 0 at format. Written only by the consumer, opaque, right after
 *       each store of the position. For monitors (lag in messages); the producer never reads it,
 *       and a monitor that does trusts nothing it says (a count, shown as it is).</li>
 *   <li>Parked Flag: 1 while the consumer is parked (asleep on the ring's Wake Sequence futex
 *       word), else 0. Written only by the consumer: 1 then a full fence before its last check
 *       of the ring, 0 (release) when it wakes. A producer that wakes consumers reads it
 *       (volatile) after a full fence following each commit: of the consumer's store-then-check
 *       and the producer's commit-then-check, at least one sees the other's store (the Dekker
 *       argument, written out with both halves in {@link SpscWakeup}), so a consumer never
 *       sleeps through a commit. 4-byte aligned, alone on its
 *       128-byte line.</li>
 * </ul>
 */
public final class SpscConsumerPositionDescriptor {
    private SpscConsumerPositionDescriptor() {
    }

    /** "SLUICECP" as a little-endian u64. */
    public static final long MAGIC = 0x5043_4543_4955_4C53L;
    /** Layout version of an SPSC consumer position region; a region with another is refused. */
    public static final int LAYOUT_VERSION = 1;
    /** Bytes of the header line; the position follows it. */
    public static final int HEADER_LENGTH = RegionHeaderDescriptor.LINE;

    // The header has the common region header's shape (its ring-specific u32 reserved, zero).
    /** Offset of the u64 magic. */
    public static final long MAGIC_OFFSET = RegionHeaderDescriptor.MAGIC_OFFSET;
    /** Offset of the u32 layout version. */
    public static final long VERSION_OFFSET = RegionHeaderDescriptor.VERSION_OFFSET;
    /** Offset of the u32 kind of the ring this region belongs to. */
    public static final long KIND_OFFSET = RegionHeaderDescriptor.KIND_OFFSET;
    /** Offset of the u32 header length ({@link #HEADER_LENGTH}). */
    public static final long HEADER_LENGTH_OFFSET = RegionHeaderDescriptor.HEADER_LENGTH_OFFSET;
    /** Offset of the u64 capacity of the ring this region belongs to. */
    public static final long CAPACITY_OFFSET = RegionHeaderDescriptor.CAPACITY_OFFSET;
    /** Offset of the u64 consumer position, alone on the second line (release-stored by the consumer). */
    public static final long POSITION_OFFSET = HEADER_LENGTH;
    /** Offset of the u64 count of messages consumed (consumer, opaque; monitors only). */
    public static final long MESSAGES_CONSUMED_OFFSET = POSITION_OFFSET + Long.BYTES;
    /** Offset of the u32 Parked Flag: 1 while the consumer sleeps on the wake-up futex (third line). */
    public static final long PARKED_FLAG_OFFSET = POSITION_OFFSET + RegionHeaderDescriptor.LINE;
    /** Bytes the region needs. */
    public static final long REGION_SIZE = PARKED_FLAG_OFFSET + RegionHeaderDescriptor.LINE;

    private static final ValueLayout.OfLong U64 = RegionHeaderDescriptor.U64;
    private static final ValueLayout.OfInt U32 = RegionHeaderDescriptor.U32;

    /** Coordinates (MemorySegment region, long offset); aligned, for acquire/release. */
    static final VarHandle POSITION = RegionHeaderDescriptor.ALIGNED_U64.varHandle().withInvokeExactBehavior();

    /**
     * Formats a consumer position region that follows a ring of {@code kind} and
     * {@code capacity}: header, position 0, parked flag 0.
     *
     * @param region the consumer's position region, writable
     * @param kind the kind of the ring it follows
     * @param capacity the capacity of the ring it follows
     * @throws IllegalArgumentException if the segment is read-only, too small or not 8-byte aligned
     */
    public static void format(MemorySegment region, RingKind kind, long capacity) {
        checkUsable(region, "consumer position region");
        if (region.isReadOnly()) {
            throw new IllegalArgumentException("consumer position region is read-only: the consumer formats its own region");
        }
        region.asSlice(0, REGION_SIZE).fill((byte) 0);
        region.set(U64, MAGIC_OFFSET, MAGIC);
        region.set(U32, VERSION_OFFSET, LAYOUT_VERSION);
        region.set(U32, KIND_OFFSET, kind.code());
        region.set(U32, HEADER_LENGTH_OFFSET, HEADER_LENGTH);
        region.set(U64, CAPACITY_OFFSET, capacity);
        // position and parked flag: 0 from the fill
    }

    /**
     * Checks magic, version, kind, header length and that it follows a ring of {@code capacity}.
     *
     * @param region the position region (read-only is enough)
     * @param expectedKind the kind of the ring it must follow
     * @param expectedCapacity the capacity of the ring it must follow
     * @param what names the region in messages
     * @throws RingLayoutException naming the first field that is wrong
     */
    public static void validate(MemorySegment region, RingKind expectedKind, long expectedCapacity, String what) {
        RegionHeaderDescriptor.checkIdentity(region, REGION_SIZE, MAGIC, "SLUICECP", LAYOUT_VERSION, what, "consumer position region ");
        int kindCode = region.get(U32, KIND_OFFSET);
        RingKind kind = RingKind.fromCode(kindCode);
        if (kind != expectedKind) {
            throw new RingLayoutException(what + ": consumer position region follows a ring of kind "
                    + (kind == null ? "code " + kindCode : kind) + ", expected " + expectedKind);
        }
        int headerLength = region.get(U32, HEADER_LENGTH_OFFSET);
        if (headerLength != HEADER_LENGTH) {
            throw new RingLayoutException(what + ": consumer position region header length " + headerLength
                    + ", expected " + HEADER_LENGTH);
        }
        long capacity = region.get(U64, CAPACITY_OFFSET);
        if (capacity != expectedCapacity) {
            throw new RingLayoutException(what + ": consumer position region follows a ring of capacity " + capacity
                    + ", this ring's is " + expectedCapacity);
        }
    }

    /**
     * The consumer position (acquire load): how far the consumer has finished reading.
     *
     * @param region a validated position region
     * @return the position, in ring bytes
     */
    public static long position(MemorySegment region) {
        return (long) POSITION.getAcquire(region, POSITION_OFFSET);
    }

    /**
     * Publishes a position (release store). Only the region's owner writes it: the consumer, or
     * — for a standby region of its own — the host of a channel between consumers.
     *
     * @param region the owner's position region, writable
     * @param position the new position, not behind the previous one
     */
    public static void publishPosition(MemorySegment region, long position) {
        if (position < 0 || (position & (SpscRecordDescriptor.ALIGNMENT - 1)) != 0) {
            throw new IllegalArgumentException("position " + position + " is not a non-negative multiple of "
                    + SpscRecordDescriptor.ALIGNMENT);
        }
        POSITION.setRelease(region, POSITION_OFFSET, position);
    }

    static void checkUsable(MemorySegment region, String what) {
        if (region.byteSize() < REGION_SIZE) {
            throw new IllegalArgumentException(what + " of " + region.byteSize() + " bytes is smaller than " + REGION_SIZE);
        }
        if (region.maxByteAlignment() < Long.BYTES) {
            throw new IllegalArgumentException(what + " is not 8-byte aligned (a heap segment must wrap a long[])");
        }
    }
}
