package io.sluice.ringbuffer;

import io.sluice.api.RingLayoutException;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Layout of a broadcast consumer's position region: a small region the consumer owns and alone
 * writes (sealed against everyone else's writes before it is handed over), which the producer of
 * a backpressure ring maps read-only to learn how far the consumer has read. All fields
 * little-endian.
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |              Magic "SLUICEBP" (u64, LE bytes)                 |  0
 *  |                                                               |
 *  +-------------------------------+-------------------------------+
 *  |        Layout Version         |         Region Length         |  8
 *  +-------------------------------+-------------------------------+
 *  |                    Reserved, zero, up to 128                 ... 16
 *  +===============================================================+
 *  |                        Position (i64)                         | 128  position line
 *  +---------------------------------------------------------------+
 *  |                   Messages Delivered (u64)                    | 136
 *  +---------------------------------------------------------------+
 *  |                 Next Sequence Expected (i64)                  | 144
 *  +---------------------------------------------------------------+
 *  |                          Laps (u64)                           | 152
 *  +---------------------------------------------------------------+
 *  |                     Messages Lost (u64)                       | 160
 *  +---------------------------------------------------------------+
 *  |                    Reserved, zero, up to 256                 ... 168
 *  +===============================================================+
 *  |                       Parked Flag (u32)                       | 256  parked line
 *  +---------------------------------------------------------------+
 *  |                    Reserved, zero, up to 384                 ... 260
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * <ul>
 *   <li><b>Magic</b>, <b>Layout Version</b> ({@link #LAYOUT_VERSION}), <b>Region Length</b>
 *       ({@link #REGION_SIZE}): written once by the consumer before the region is shared
 *       (plain stores, published by the hand-over).</li>
 *   <li><b>Position</b>: the ring position up to which the consumer has finished reading — the start
 *       of the next record it will read. Written by the consumer with a release store after its
 *       handler calls for the records before it have returned; read by the producer with an
 *       acquire load. Release/acquire is what lets the producer reuse the space: every read the
 *       consumer made of those records happens-before the producer's next write there.
 *       Non-decreasing, except when a lapped consumer jumps forward.</li>
 *   <li><b>Messages Delivered</b>, <b>Next Sequence Expected</b> (the sequence number of the
 *       next message the consumer will deliver, -1 before it knows), <b>Laps</b> (times the
 *       producer overwrote records it had not read) and <b>Messages Lost</b> (messages those laps
 *       took from it): the consumer's own counts, 0 at format, written only by the consumer,
 *       opaque; the first two right after each store of the position, the last two when a lap
 *       is counted (they change only then), before that poll's position store. For monitors (lag in messages, laps);
 *       the producer never reads them, and a monitor trusts nothing they say.</li>
 *   <li><b>Parked Flag</b>: 1 while the consumer sleeps (or is about to) on the ring's Wake
 *       Sequence ({@link BroadcastRingDescriptor#WAKE_SEQUENCE_OFFSET}), else 0; 0 at format.
 *       Written only by the consumer: a release store of 1, then a full fence before it checks
 *       the ring once more, and a release store of 0 once awake. Read by a producer that wakes
 *       parked consumers: after each commit a full fence, then a volatile load; if it is 1 the
 *       producer bumps the Wake Sequence and wakes every sleeper. Dekker's protocol, argued in
 *       {@link BroadcastWakeup}: either the consumer's last check sees the commit or the producer
 *       sees the flag. A flag the producer cannot trust costs it a needless wake, nothing more.
 *       4-byte aligned on a line of its own so that futex traffic does not disturb the position
 *       line.</li>
 * </ul>
 */
public final class BroadcastConsumerPositionDescriptor {
    private BroadcastConsumerPositionDescriptor() {
    }

    /** "SLUICEBP" as a little-endian u64. */
    public static final long MAGIC = 0x5042_4543_4955_4C53L;
    /** Layout version of a broadcast consumer position region; a region with another is refused. */
    public static final int LAYOUT_VERSION = 1;

    // Magic and version where every region has them; the u32 after them holds the region length.
    /** Offset of the u64 magic ({@link #MAGIC}). */
    public static final long MAGIC_OFFSET = RegionHeaderDescriptor.MAGIC_OFFSET;
    /** Offset of the u32 layout version ({@link #LAYOUT_VERSION}). */
    public static final long VERSION_OFFSET = RegionHeaderDescriptor.VERSION_OFFSET;
    /** Offset of the u32 region length in bytes. */
    public static final long REGION_LENGTH_OFFSET = VERSION_OFFSET + Integer.BYTES;
    /** The position, on the second 128-byte line. */
    public static final long POSITION_OFFSET = RegionHeaderDescriptor.LINE;
    /** Offset of the u64 count of messages delivered (consumer, opaque; monitors only). */
    public static final long DELIVERED_OFFSET = POSITION_OFFSET + Long.BYTES;
    /** Offset of the i64 sequence of the next message the consumer expects, -1 if unknown. */
    public static final long NEXT_SEQUENCE_OFFSET = DELIVERED_OFFSET + Long.BYTES;
    /** Offset of the u64 count of laps (consumer, opaque; monitors only). */
    public static final long LAPS_OFFSET = NEXT_SEQUENCE_OFFSET + Long.BYTES;
    /** Offset of the u64 count of messages lost to laps (consumer, opaque; monitors only). */
    public static final long LOST_OFFSET = LAPS_OFFSET + Long.BYTES;
    /** Offset of the u32 Parked Flag: 1 while the consumer sleeps on the ring's Wake Sequence (third line). */
    public static final long PARKED_FLAG_OFFSET = POSITION_OFFSET + RegionHeaderDescriptor.LINE;
    /** Bytes of a position region (the value of its Region Length field). */
    public static final int REGION_SIZE = (int) PARKED_FLAG_OFFSET + RegionHeaderDescriptor.LINE;

    static final ValueLayout.OfLong U64 = RegionHeaderDescriptor.U64;
    static final ValueLayout.OfInt U32 = RegionHeaderDescriptor.U32;

    /**
     * Zeroes the first {@link #REGION_SIZE} bytes and writes the header and {@code position}.
     *
     * @param region the consumer's position region, writable, at least {@link #REGION_SIZE} bytes
     * @param position the ring position the consumer starts at
     * @throws IllegalArgumentException if the region is too small or not 8-byte aligned
     */
    public static void format(MemorySegment region, long position) {
        if (region.byteSize() < REGION_SIZE) {
            throw new IllegalArgumentException("position region of " + region.byteSize()
                    + " bytes is smaller than " + REGION_SIZE);
        }
        if (region.maxByteAlignment() < Long.BYTES) {
            throw new IllegalArgumentException("position region must be 8-byte aligned (use a native segment or a long[])");
        }
        region.asSlice(0, REGION_SIZE).fill((byte) 0);
        region.set(U64, MAGIC_OFFSET, MAGIC);
        region.set(U32, VERSION_OFFSET, LAYOUT_VERSION);
        region.set(U32, REGION_LENGTH_OFFSET, REGION_SIZE);
        region.set(U64, POSITION_OFFSET, position);
    }

    /**
     * Checks a position region before the producer reads it.
     *
     * @param what names the region in messages
     * @param region the position region, as mapped by the producer (read-only is enough)
     * @throws RingLayoutException naming the first field that is wrong
     */
    public static void validate(MemorySegment region, String what) {
        RegionHeaderDescriptor.checkIdentity(region, REGION_SIZE, MAGIC, "SLUICEBP", LAYOUT_VERSION, what, "position region ");
        int length = region.get(U32, REGION_LENGTH_OFFSET);
        if (length != REGION_SIZE) {
            throw new RingLayoutException(what + ": region length " + length + ", expected " + REGION_SIZE);
        }
    }

    /**
     * The position a consumer published (acquire): for its producer's host and for monitors.
     *
     * @param region a position region, at least {@link #REGION_SIZE} bytes, 8-byte aligned
     * @return the position, as the consumer wrote it (unvalidated)
     */
    public static long position(MemorySegment region) {
        return (long) POSITION.getAcquire(region, POSITION_OFFSET);
    }

    private static final java.lang.invoke.VarHandle POSITION =
            RegionHeaderDescriptor.ALIGNED_U64.varHandle().withInvokeExactBehavior();
}
