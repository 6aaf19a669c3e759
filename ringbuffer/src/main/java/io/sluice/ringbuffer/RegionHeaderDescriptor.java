package io.sluice.ringbuffer;

import io.sluice.api.RingKind;
import io.sluice.api.RingLayoutException;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The header that opens every ring region, whatever the kind. All fields little-endian, written
 * once by the creator before the region is shared and never changed after (plain stores; the
 * hand-over of the region — a socket message, a thread start — publishes them).
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                 Magic "SLUICERB" (u64, LE bytes)              |  0
 *  |                                                               |
 *  +-------------------------------+-------------------------------+
 *  |        Layout Version         |           Ring Kind           |  8
 *  +-------------------------------+-------------------------------+
 *  |         Header Length         |       Ring-specific u32       | 16
 *  +-------------------------------+-------------------------------+
 *  |                 Data Capacity (u64, bytes)                    | 24
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |              Ring-specific fields, up to offset 128          ... 32
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * <ul>
 *   <li>Magic: the bytes {@code S L U I C E R B}, i.e. {@link #MAGIC} read as a little-endian long.</li>
 *   <li>Layout Version: {@link #LAYOUT_VERSION}; a reader refuses any other.</li>
 *   <li>Ring Kind: {@link RingKind#code()}.</li>
 *   <li>Header Length: bytes from the region start to the first byte after all header and
 *       counter lines, a multiple of 128; the ring's data starts there.</li>
 *   <li>Data Capacity: the ring's data area in bytes, a power of two, at most
 *       {@link #MAX_CAPACITY} (2<sup>30</sup> bytes, 1 GiB) on every ring: SPSC and broadcast
 *       capacity, MPMC slot count &times; slot length. Creating a larger ring is refused
 *       ({@code IllegalArgumentException}) before anything is allocated, and a region whose header
 *       says more is refused on attach ({@link RingLayoutException}).</li>
 * </ul>
 * Each ring's own descriptor defines the ring-specific fields and its counter lines, each hot
 * counter on a 128-byte line of its own (two cache lines, against adjacent-line prefetch).
 */
public final class RegionHeaderDescriptor {
    private RegionHeaderDescriptor() {
    }

    /** "SLUICERB" as a little-endian u64. */
    public static final long MAGIC = 0x4252_4543_4955_4C53L;
    public static final int LAYOUT_VERSION = 1;
    /** Spacing of hot counters and alignment of every area: two cache lines. */
    public static final int LINE = 128;

    public static final long MAGIC_OFFSET = 0;
    public static final long VERSION_OFFSET = 8;
    public static final long KIND_OFFSET = 12;
    public static final long HEADER_LENGTH_OFFSET = 16;
    public static final long RING_SPECIFIC_U32_OFFSET = 20;
    public static final long CAPACITY_OFFSET = 24;
    /** First offset a ring descriptor may use for its own header fields. */
    public static final long RING_FIELDS_OFFSET = 32;
    /**
     * The largest data area of any ring, in bytes: 2<sup>30</sup> (1 GiB). With it a region size
     * (header plus data) never comes near overflowing a long or an int-indexed copy, and a peer
     * can refuse an absurd size before it maps anything.
     */
    public static final long MAX_CAPACITY = 1L << 30;

    static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED;
    static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;

    /** Writes the common header fields. */
    public static void write(MemorySegment region, RingKind kind, int headerLength, long capacity, int ringSpecific) {
        region.set(U64, MAGIC_OFFSET, MAGIC);
        region.set(U32, VERSION_OFFSET, LAYOUT_VERSION);
        region.set(U32, KIND_OFFSET, kind.code());
        region.set(U32, HEADER_LENGTH_OFFSET, headerLength);
        region.set(U32, RING_SPECIFIC_U32_OFFSET, ringSpecific);
        region.set(U64, CAPACITY_OFFSET, capacity);
    }

    /**
     * Checks magic, version and kind, and that header length and capacity fit the segment.
     *
     * @param what names the ring in messages, e.g. {@code "spsc ring 'orders'"}
     * @return the data capacity
     * @throws RingLayoutException naming the first field that is wrong
     */
    public static long validate(MemorySegment region, RingKind expectedKind, int expectedHeaderLength, String what) {
        if (region.byteSize() < LINE) {
            throw new RingLayoutException(what + ": segment of " + region.byteSize()
                    + " bytes is smaller than the " + LINE + "-byte header");
        }
        long magic = region.get(U64, MAGIC_OFFSET);
        if (magic != MAGIC) {
            throw new RingLayoutException(what + ": bad magic 0x" + Long.toHexString(magic)
                    + ", expected 0x" + Long.toHexString(MAGIC) + " (\"SLUICERB\")");
        }
        int version = region.get(U32, VERSION_OFFSET);
        if (version != LAYOUT_VERSION) {
            throw new RingLayoutException(what + ": layout version " + version + ", this library reads " + LAYOUT_VERSION);
        }
        int kindCode = region.get(U32, KIND_OFFSET);
        RingKind kind = RingKind.fromCode(kindCode);
        if (kind != expectedKind) {
            throw new RingLayoutException(what + ": ring kind " + (kind == null ? "code " + kindCode : kind)
                    + ", expected " + expectedKind);
        }
        int headerLength = region.get(U32, HEADER_LENGTH_OFFSET);
        if (headerLength != expectedHeaderLength) {
            throw new RingLayoutException(what + ": header length " + headerLength + ", expected " + expectedHeaderLength);
        }
        long capacity = region.get(U64, CAPACITY_OFFSET);
        if (capacity <= 0 || Long.bitCount(capacity) != 1) {
            throw new RingLayoutException(what + ": capacity " + capacity + " is not a positive power of two");
        }
        if (capacity > MAX_CAPACITY) {
            throw new RingLayoutException(what + ": capacity " + capacity + " is above the maximum " + MAX_CAPACITY);
        }
        if (capacity > region.byteSize() - headerLength) {
            throw new RingLayoutException(what + ": capacity " + capacity + " plus header " + headerLength
                    + " exceeds the segment's " + region.byteSize() + " bytes");
        }
        return capacity;
    }
}
