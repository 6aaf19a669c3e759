package io.sluice.ringbuffer;

import io.sluice.api.RingKind;
import io.sluice.api.RingLayoutException;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Layout of a broadcast ring region: one producer, many read-only consumers. The overflow policy
 * is the region's {@link RingKind}: {@link RingKind#BROADCAST_BACKPRESSURE} or
 * {@link RingKind#BROADCAST_OVERWRITE}. All fields little-endian ({@link RegionHeaderDescriptor#BYTE_ORDER}); positions are byte counts since
 * the ring was formatted (64-bit, they never wrap), a position's offset in the data area is
 * {@code position & (capacity - 1)}. The capacity is a power of two in [{@link #MIN_CAPACITY},
 * {@link #MAX_CAPACITY}] (128 bytes to 2<sup>30</sup> bytes, 1 GiB), so a region needs at most
 * {@code 384 + 2^30} bytes; {@link #regionSize} refuses any other capacity before anything is
 * allocated, and attaching refuses a header that says otherwise.
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |          Common region header, see RegionHeaderDescriptor     |  0
 *  |   (magic, version, kind, header length 384, capacity); its    |
 *  |     ring-specific u32 at 20 holds the Max Message Length      |
 *  +---------------------------------------------------------------+
 *  |                  Record Header Length (u32) = 16              | 32
 *  +---------------------------------------------------------------+
 *  |                   Record Alignment (u32) = 8                  | 36
 *  +---------------------------------------------------------------+
 *  |                    Reserved, zero, up to 128                 ... 40
 *  +===============================================================+
 *  |                       Tail Intent (i64)                       | 128  producer line
 *  +---------------------------------------------------------------+
 *  |                          Tail (i64)                           | 136
 *  +---------------------------------------------------------------+
 *  |                          Head (i64)                           | 144
 *  +---------------------------------------------------------------+
 *  |                         Latest (i64)                          | 152
 *  +---------------------------------------------------------------+
 *  |                      Next Sequence (i64)                      | 160
 *  +---------------------------------------------------------------+
 *  |                    Reserved, zero, up to 256                 ... 168
 *  +===============================================================+
 *  |                  Gated Registration (i64)                     | 256  gate line
 *  +---------------------------------------------------------------+
 *  |                    Reserved, zero, up to 320                 ... 264
 *  +-------------------------------+-------------------------------+
 *  |      Wake Sequence (u32)      |   Reserved, zero, up to 384  ... 320
 *  +===============================================================+
 *  |           Data: Capacity bytes of records, see               ... 384
 *  |                 BroadcastRecordDescriptor                     |
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * <p>Every field below is written by the producer only; consumers map the region read-only.
 * The five counters share one 128-byte line on purpose: one writer, and a consumer reads them
 * only off its fast path (which follows the records' commit words, see
 * {@link BroadcastRecordDescriptor}), usually several at once — splitting them would cost those
 * readers more misses without removing any false sharing (there is no second writer).
 * <ul>
 *   <li><b>Tail Intent</b>: how far the in-flight claim writes: its record's end plus the header
 *       of the slot after it, whose Sequence the claim marks not committed
 *       ({@link BroadcastRecordDescriptor#reach}); equal to {@code reach(Tail)} when no claim is in
 *       flight (16 at format). Written with a release store <em>followed by a store-store fence</em>
 *       before any byte of the claim (padding, record or mark) is written: whoever
 *       reads a byte the producer wrote at position {@code q} and then (after a load-load fence)
 *       reads Tail Intent sees a value {@code > q}. Hence data read at positions {@code >= p} was
 *       intact if Tail Intent, loaded after the data, is {@code <= p + capacity} (the seqlock
 *       check behind {@link BroadcastConsumer#isStillValid()}). Monotonic.</li>
 *   <li><b>Tail</b>: end of the last committed record; release-stored after the record's commit
 *       word (and the Next Sequence), so an acquire load of it makes every record before it
 *       visible. Readers that read up to the Tail never read at or past it; readers that follow
 *       commit words may read a record a moment before the Tail covers it.</li>
 *   <li><b>Head</b>: start of the oldest record still intact, i.e. the first record start
 *       {@code >= TailIntent - capacity}. Release-stored before Tail Intent, so a reader that
 *       acquire-loads Tail Intent and then Head gets a Head no older than that intent.
 *       {@code Head <= Tail}. May point into the implicit 8-byte gap at the end of the data area,
 *       in which case the record starts at the next lap.</li>
 *   <li><b>Latest</b>: start of the newest committed <em>message</em> (padding and aborted claims do
 *       not count), or {@link #NO_MESSAGE} before the first. Release-stored after Tail.</li>
 *   <li><b>Next Sequence</b>: the sequence the next message will carry. Release-stored after
 *       Tail Intent and before Tail, so a reader that loads Tail, Next Sequence, then Tail Intent
 *       (each acquire) and finds Tail Intent == {@code reach(Tail)} has a matching pair.</li>
 *   <li><b>Gated Registration</b> (backpressure only, else 0): the version of the consumer set the
 *       producer gates on. The producer release-stores it after it has acquire-loaded the
 *       position of every consumer in that set; from then on it never writes past any of those
 *       positions plus the capacity. See {@link BroadcastProducer#addConsumer}.</li>
 *   <li><b>Wake Sequence</b> (u32, both policies): the futex word consumers parked in a blocking
 *       poll sleep on; 0 at format. The producer (or its host, closing the channel) adds 1
 *       atomically and then calls {@code FUTEX_WAKE} for all waiters, after a commit whose full
 *       fence was followed by a volatile load that found some consumer's Parked Flag raised; a
 *       consumer acquire-loads it before it raises its flag and waits on the value it loaded, so a
 *       wake between its last check and its sleep makes the wait return at once (the argument is
 *       in {@link BroadcastWakeup}). On the gate line's second 64-byte half: rarely written, and
 *       away from the counters consumers load on every poll.</li>
 * </ul>
 */
public final class BroadcastRingDescriptor {
    private BroadcastRingDescriptor() {
    }

    /** Offset of the u32 record header length the ring was formatted with (16). */
    public static final long RECORD_HEADER_LENGTH_FIELD_OFFSET = RegionHeaderDescriptor.RING_FIELDS_OFFSET;
    /** Offset of the u32 record alignment the ring was formatted with (8). */
    public static final long RECORD_ALIGNMENT_FIELD_OFFSET = RECORD_HEADER_LENGTH_FIELD_OFFSET + Integer.BYTES;
    /** The common header's ring-specific u32 holds the max message length. */
    public static final long MAX_MESSAGE_LENGTH_OFFSET = RegionHeaderDescriptor.RING_SPECIFIC_U32_OFFSET;

    // The producer line (second 128-byte line): five consecutive u64 counters.
    /** Offset of the u64 Tail Intent: the end of the claim in flight (producer line). */
    public static final long TAIL_INTENT_OFFSET = RegionHeaderDescriptor.LINE;
    /** Offset of the u64 Tail: the end of the last committed record. */
    public static final long TAIL_OFFSET = TAIL_INTENT_OFFSET + Long.BYTES;
    /** Offset of the u64 Head: the start of the oldest record still intact. */
    public static final long HEAD_OFFSET = TAIL_OFFSET + Long.BYTES;
    /** Offset of the u64 Latest: the start of the newest message, or {@link #NO_MESSAGE}. */
    public static final long LATEST_OFFSET = HEAD_OFFSET + Long.BYTES;
    /** Offset of the u64 Next Sequence: the number the next committed message carries. */
    public static final long NEXT_SEQUENCE_OFFSET = LATEST_OFFSET + Long.BYTES;
    // The gate line (third).
    /** Offset of the u64 Gated Registration: the consumer-set version the producer adopted (gate line). */
    public static final long GATED_REGISTRATION_OFFSET = 2 * RegionHeaderDescriptor.LINE;
    /** Offset of the u32 Wake Sequence: the futex word parked consumers sleep on (gate line, second half). */
    public static final long WAKE_SEQUENCE_OFFSET = GATED_REGISTRATION_OFFSET + RegionHeaderDescriptor.LINE / 2;

    /** Bytes before the data area (three 128-byte lines); also the header length field's value. */
    public static final int HEADER_LENGTH = 3 * RegionHeaderDescriptor.LINE;
    /** Offset of the data area in the region. */
    public static final long DATA_OFFSET = HEADER_LENGTH;

    /** Value of Latest before any message was committed. */
    public static final long NO_MESSAGE = -1;

    /** Smallest data capacity. */
    public static final long MIN_CAPACITY = 128;
    /** Largest data capacity: 2<sup>30</sup> bytes (1 GiB), as for every ring ({@link RegionHeaderDescriptor#MAX_CAPACITY}). */
    public static final long MAX_CAPACITY = RegionHeaderDescriptor.MAX_CAPACITY;

    static final ValueLayout.OfLong U64 = RegionHeaderDescriptor.U64;
    static final ValueLayout.OfInt U32 = RegionHeaderDescriptor.U32;

    /**
     * Region bytes needed for a ring of {@code capacity} data bytes: {@code 384 + capacity}. Call
     * it before creating the region: an absurd capacity fails here, not in the kernel.
     *
     * @throws IllegalArgumentException if the capacity is not a power of two in
     *                                  [{@link #MIN_CAPACITY}, {@link #MAX_CAPACITY}] (128 to 2^30)
     */
    static long regionSize(long capacity) {
        checkCapacity(capacity);
        return HEADER_LENGTH + capacity;
    }

    /**
     * The largest max message length a ring of {@code capacity} accepts: half the capacity minus two
     * headers. A record (with its header) then spans at most half the ring less 16 bytes, so a wrap
     * padding, the record that follows it and the next slot's header the claim marks
     * ({@link BroadcastRecordDescriptor#reach}) always fit in less than one capacity — the
     * producer's head walk relies on that.
     */
    static int maxMessageLengthLimit(long capacity) {
        return (int) (capacity / 2 - 2 * BroadcastRecordDescriptor.HEADER_LENGTH);
    }

    /** The default max message length: an eighth of the capacity (as Agrona's broadcast buffer). */
    static int defaultMaxMessageLength(long capacity) {
        return (int) (capacity / 8);
    }

    /** {@link #format(MemorySegment, RingKind, long, int)} with the default max message length. */
    static void format(MemorySegment region, RingKind kind, long capacity) {
        checkCapacity(capacity);
        format(region, kind, capacity, defaultMaxMessageLength(capacity));
    }

    /**
     * Lays out an empty broadcast ring at the start of {@code region}: zeroes the header lines,
     * writes the header fields and marks the first record slot not committed (nothing depends on
     * the data area being zero).
     * Must happen before the region is shared; the hand-over publishes these plain stores.
     *
     * @throws IllegalArgumentException if the kind is not a broadcast kind, the capacity is not a
     *                                  power of two in [{@link #MIN_CAPACITY}, {@link #MAX_CAPACITY}],
     *                                  the region is too small or not 8-byte aligned, or
     *                                  {@code maxMessageLength} is outside [0, {@link #maxMessageLengthLimit}]
     */
    static void format(MemorySegment region, RingKind kind, long capacity, int maxMessageLength) {
        if (kind != RingKind.BROADCAST_BACKPRESSURE && kind != RingKind.BROADCAST_OVERWRITE) {
            throw new IllegalArgumentException("not a broadcast kind: " + kind);
        }
        checkCapacity(capacity);
        if (maxMessageLength < 0 || maxMessageLength > maxMessageLengthLimit(capacity)) {
            throw new IllegalArgumentException("max message length " + maxMessageLength + " outside [0, "
                    + maxMessageLengthLimit(capacity) + "] for capacity " + capacity);
        }
        Misuse.checkFormatTarget(region, regionSize(capacity), Misuse.what("broadcast", null),
                "a ring of capacity " + capacity);
        region.asSlice(0, HEADER_LENGTH).fill((byte) 0);
        RegionHeaderDescriptor.write(region, kind, HEADER_LENGTH, capacity, maxMessageLength);
        region.set(U32, RECORD_HEADER_LENGTH_FIELD_OFFSET, BroadcastRecordDescriptor.HEADER_LENGTH);
        region.set(U32, RECORD_ALIGNMENT_FIELD_OFFSET, BroadcastRecordDescriptor.ALIGNMENT);
        region.set(U64, LATEST_OFFSET, NO_MESSAGE);
        // The first record slot is not committed, whatever the data area held; the Tail Intent
        // covers that write, as it does the mark every claim leaves after its record.
        region.set(U64, DATA_OFFSET + BroadcastRecordDescriptor.SEQUENCE_OFFSET, BroadcastRecordDescriptor.NOT_COMMITTED);
        region.set(U64, TAIL_INTENT_OFFSET, BroadcastRecordDescriptor.reach(0, capacity));
    }

    private static void checkCapacity(long capacity) {
        if (capacity < MIN_CAPACITY || capacity > MAX_CAPACITY || Long.bitCount(capacity) != 1) {
            throw new IllegalArgumentException("broadcast capacity " + capacity + " is not a power of two in ["
                    + MIN_CAPACITY + ", " + MAX_CAPACITY + "]");
        }
    }

    /**
     * What {@link #validate} found in a region's header.
     *
     * @param kind {@link RingKind#BROADCAST_BACKPRESSURE} or {@link RingKind#BROADCAST_OVERWRITE}
     * @param capacity data area bytes, a power of two
     * @param maxMessageLength the longest payload, in bytes
     */
    public record Header(RingKind kind, long capacity, int maxMessageLength) {
    }

    /**
     * Checks a region before attaching to it: the common header (magic, version, kind one of the
     * two broadcast kinds, header length), capacity within bounds, the record header length and
     * alignment fields, the max message length, and 8-byte alignment of the segment.
     *
     * @param what names the ring in messages, e.g. {@code "broadcast ring 'md.eurusd'"}
     * @param region the whole ring region (read-only is enough)
     * @return the header fields a producer or consumer needs
     * @throws RingLayoutException naming the first field that is wrong
     */
    public static Header validate(MemorySegment region, String what) {
        long capacity = RegionHeaderDescriptor.validate(region, what, HEADER_LENGTH, MIN_CAPACITY,
                RingKind.BROADCAST_BACKPRESSURE, RingKind.BROADCAST_OVERWRITE);
        RingKind kind = RegionHeaderDescriptor.kind(region);
        int recordHeaderLength = region.get(U32, RECORD_HEADER_LENGTH_FIELD_OFFSET);
        if (recordHeaderLength != BroadcastRecordDescriptor.HEADER_LENGTH) {
            throw new RingLayoutException(what + ": record header length " + recordHeaderLength
                    + ", expected " + BroadcastRecordDescriptor.HEADER_LENGTH);
        }
        int alignment = region.get(U32, RECORD_ALIGNMENT_FIELD_OFFSET);
        if (alignment != BroadcastRecordDescriptor.ALIGNMENT) {
            throw new RingLayoutException(what + ": record alignment " + alignment
                    + ", expected " + BroadcastRecordDescriptor.ALIGNMENT);
        }
        int maxMessageLength = region.get(U32, MAX_MESSAGE_LENGTH_OFFSET);
        if (maxMessageLength < 0 || maxMessageLength > maxMessageLengthLimit(capacity)) {
            throw new RingLayoutException(what + ": max message length " + maxMessageLength + " outside [0, "
                    + maxMessageLengthLimit(capacity) + "] for capacity " + capacity);
        }
        return new Header(kind, capacity, maxMessageLength);
    }
}
