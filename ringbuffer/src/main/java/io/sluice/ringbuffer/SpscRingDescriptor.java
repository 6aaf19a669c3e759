package io.sluice.ringbuffer;

import io.sluice.api.RingKind;
import io.sluice.api.RingLayoutException;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The region an SPSC ring lives in: the common {@link RegionHeaderDescriptor header}, the SPSC
 * fields, then the data area of {@code capacity} bytes holding records
 * ({@link SpscRecordDescriptor}). The producer maps it read-write; the consumer maps it read-only and
 * keeps its position in a region of its own ({@link SpscConsumerPositionDescriptor}). All fields
 * little-endian ({@link RegionHeaderDescriptor#BYTE_ORDER}).
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                 Magic "SLUICERB" (u64, LE bytes)              |  0
 *  |                                                               |
 *  +-------------------------------+-------------------------------+
 *  |      Layout Version (3)       |        Ring Kind (1 = SPSC)   |  8
 *  +-------------------------------+-------------------------------+
 *  |     Header Length (128)       |    Max Message Length (u32)   | 16
 *  +-------------------------------+-------------------------------+
 *  |                 Data Capacity (u64, bytes)                    | 24
 *  |                                                               |
 *  +-------------------------------+-------------------------------+
 *  |   Record Header Length (16)   |     Record Alignment (8)      | 32
 *  +-------------------------------+-------------------------------+
 *  |                  Reserved, zero (24 bytes)                   ... 40
 *  +-------------------------------+-------------------------------+
 *  |     Wake Sequence (u32)       |       Reserved, zero          | 64
 *  +-------------------------------+-------------------------------+
 *  |                Producer Position (u64)                        | 72
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                  Reserved, zero (48 bytes)                   ... 80
 *  +---------------------------------------------------------------+
 *  |                Data area (Data Capacity bytes)               ... 128
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * Every header field is written once by {@link SpscRing#format} before the region is shared and
 * never changed (plain stores; handing the region over publishes them), except the two below that
 * the producer keeps up to date. The data area is written only by the producer. The consumer reads
 * no producer counter: the position stamps in the records are all it needs, and a producer
 * attaching to a used ring finds its position by following the stamps from the consumer's
 * position.
 *
 * <ul>
 *   <li>Wake Sequence: the one header field that changes after format, and only when the
 *       channel wakes parked consumers: the producer increments it (atomic add) and then
 *       {@code futex(FUTEX_WAKE)}s on it after a commit that found the consumer's parked flag set;
 *       a consumer reads it (acquire) before it raises its parked flag and
 *       {@code futex(FUTEX_WAIT)}s on the value read, so a wake between the two makes the wait
 *       return at once ({@link SpscWakeup} holds both halves and the argument). Rarely written, so
 *       it shares the header's line.</li>
 *   <li>Producer Position: the position after the last committed record, release-stored by the
 *       producer at attach and after every commit (a {@code mov} on x86). Consumers do not read
 *       it; monitors do (lag, and a tap that reads records without taking the consumer's place,
 *       {@link SpscTap}). A record the tap read at {@code p} was intact if, loaded after the read,
 *       the producer position is at most {@code p + capacity - }{@link #inFlightReach}: the
 *       producer writes at most that far past the published position (a claim in flight, a
 *       padding record a commit writes before it publishes the position again, or the invalid
 *       stamp a commit stores a line ahead).</li>
 *   <li>Data Capacity: a power of two in [{@link #MIN_CAPACITY}, {@link #MAX_CAPACITY}] (64 bytes
 *       to 2<sup>30</sup> bytes, 1 GiB). A record at position {@code p} starts at data offset
 *       {@code p & (capacity - 1)}. The region therefore needs at most {@code 128 + 2^30} bytes;
 *       {@link SpscRing#regionSize} refuses any other capacity before anything is allocated.</li>
 *   <li>Max Message Length: {@code capacity / 8} ({@link #maxMessageLength}; at most
 *       2<sup>27</sup>); a longer message is refused by the producer and a longer record is
 *       corrupt.</li>
 *   <li>Record Header Length and Alignment: {@link SpscRecordDescriptor#HEADER_LENGTH} and
 *       {@link SpscRecordDescriptor#ALIGNMENT}, there for a peer to check.</li>
 * </ul>
 */
public final class SpscRingDescriptor {
    private SpscRingDescriptor() {
    }

    /** Bytes from the region start to the data area. */
    public static final int HEADER_LENGTH = RegionHeaderDescriptor.LINE;
    /** The common header's ring-specific u32 holds the maximum message length. */
    public static final long MAX_MESSAGE_LENGTH_OFFSET = RegionHeaderDescriptor.RING_SPECIFIC_U32_OFFSET;
    /** Offset of the u32 record header length the ring was formatted with. */
    public static final long RECORD_HEADER_LENGTH_OFFSET = RegionHeaderDescriptor.RING_FIELDS_OFFSET;
    /** Offset of the u32 record alignment the ring was formatted with. */
    public static final long RECORD_ALIGNMENT_OFFSET = RECORD_HEADER_LENGTH_OFFSET + Integer.BYTES;
    /** First reserved byte of the ring fields (zero). */
    public static final long RESERVED_OFFSET = RECORD_ALIGNMENT_OFFSET + Integer.BYTES;
    /** u32, 4-byte aligned: the futex word parked consumers sleep on; half-way into the header line. */
    public static final long WAKE_SEQUENCE_OFFSET = RegionHeaderDescriptor.LINE / 2;
    /** u64, 8-byte aligned: the position after the last committed record (producer, release). */
    public static final long PRODUCER_POSITION_OFFSET = WAKE_SEQUENCE_OFFSET + Long.BYTES;

    /** Smallest data capacity: room for one or two maximum-length records (8 bytes of payload). */
    public static final long MIN_CAPACITY = 64;
    /** Largest data capacity: 2<sup>30</sup> bytes (1 GiB), as for every ring ({@link RegionHeaderDescriptor#MAX_CAPACITY}). */
    public static final long MAX_CAPACITY = RegionHeaderDescriptor.MAX_CAPACITY;
    /**
     * Upper bound of the maximum message length, whatever the capacity. Kept for the formula
     * {@code min(capacity / 8, 2^30)}; with capacities bounded by {@link #MAX_CAPACITY} it never
     * binds (the longest message is at most 2<sup>27</sup> bytes).
     */
    public static final int MAX_MESSAGE_LENGTH_LIMIT = 1 << 30;

    private static final ValueLayout.OfInt U32 = RegionHeaderDescriptor.U32;

    /**
     * The longest message a ring of {@code capacity} bytes accepts.
     *
     * @param capacity data area bytes, a power of two
     * @return the longest payload, in bytes
     */
    public static int maxMessageLength(long capacity) {
        return (int) Math.min(capacity >> 3, MAX_MESSAGE_LENGTH_LIMIT);
    }

    /**
     * How far past the published producer position the producer may already have written: a claim
     * in flight writes a padding record to the end of the data area (shorter than a longest
     * record), a longest record, the gap to the next line (at most 16 bytes) and the next record's
     * stamp slot; the commit that published the position has stored an invalid stamp at the start
     * of the line after it (at most a line and a stamp slot past it, released after the position).
     *
     * @param capacity data area bytes, a power of two
     * @return bytes past the producer position the producer may already have overwritten
     */
    public static long inFlightReach(long capacity) {
        final long claim = 2L * SpscRecordDescriptor.recordLength(maxMessageLength(capacity)) + 16
                + SpscRecordDescriptor.STAMP_LENGTH;
        return Math.max(claim, SpscRecordDescriptor.LINE_LENGTH + SpscRecordDescriptor.STAMP_LENGTH);
    }

    /**
     * Region bytes a ring of {@code capacity} bytes needs: {@code 128 + capacity}.
     *
     * @throws IllegalArgumentException if the capacity is not a power of two in
     *                                  [{@link #MIN_CAPACITY}, {@link #MAX_CAPACITY}]
     */
    static long regionSize(long capacity) {
        checkCapacity(capacity);
        return HEADER_LENGTH + capacity;
    }

    static void checkCapacity(long capacity) {
        if (capacity < MIN_CAPACITY || capacity > MAX_CAPACITY || Long.bitCount(capacity) != 1) {
            throw new IllegalArgumentException("spsc capacity " + capacity + " is not a power of two in ["
                    + MIN_CAPACITY + ", " + MAX_CAPACITY + "]");
        }
    }

    /** Writes the header; the caller makes the data area safe (see {@link SpscRing#format}). */
    static void write(MemorySegment region, long capacity) {
        RegionHeaderDescriptor.write(region, RingKind.SPSC, HEADER_LENGTH, capacity, maxMessageLength(capacity));
        region.set(U32, RECORD_HEADER_LENGTH_OFFSET, SpscRecordDescriptor.HEADER_LENGTH);
        region.set(U32, RECORD_ALIGNMENT_OFFSET, SpscRecordDescriptor.ALIGNMENT);
        region.asSlice(RESERVED_OFFSET, HEADER_LENGTH - RESERVED_OFFSET).fill((byte) 0);
    }

    /**
     * Checks the common header and the SPSC fields.
     *
     * @return the data capacity
     * @throws RingLayoutException naming the first field that is wrong
     */
    static long validate(MemorySegment region, String what) {
        long capacity = RegionHeaderDescriptor.validate(region, what, HEADER_LENGTH, MIN_CAPACITY, RingKind.SPSC);
        int maxLength = region.get(U32, MAX_MESSAGE_LENGTH_OFFSET);
        if (maxLength != maxMessageLength(capacity)) {
            throw new RingLayoutException(what + ": max message length " + maxLength + ", expected "
                    + maxMessageLength(capacity) + " for capacity " + capacity);
        }
        int recordHeader = region.get(U32, RECORD_HEADER_LENGTH_OFFSET);
        if (recordHeader != SpscRecordDescriptor.HEADER_LENGTH) {
            throw new RingLayoutException(what + ": record header length " + recordHeader + ", expected "
                    + SpscRecordDescriptor.HEADER_LENGTH);
        }
        int alignment = region.get(U32, RECORD_ALIGNMENT_OFFSET);
        if (alignment != SpscRecordDescriptor.ALIGNMENT) {
            throw new RingLayoutException(what + ": record alignment " + alignment + ", expected " + SpscRecordDescriptor.ALIGNMENT);
        }
        return capacity;
    }
}
