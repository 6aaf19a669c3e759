package io.sluice.ringbuffer;

import io.sluice.api.RingKind;
import io.sluice.api.RingLayoutException;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/**
 * The header that opens every ring region, whatever the kind, and the byte order of every
 * shared layout. Its fields are written once by the creator before the region is shared and
 * never changed after (plain stores; the hand-over of the region — a socket message, a thread
 * start — publishes them).
 *
 * <h2>Byte order</h2>
 * Every field of every shared layout (ring regions, records, slots, position regions) is
 * little-endian: {@link #BYTE_ORDER}. Every descriptor and every ring reads and writes through
 * the layouts declared here ({@code U32}, {@code U64}, {@code ALIGNED_U32}, {@code ALIGNED_U64}),
 * never through the platform's native order. On x86-64 and little-endian AArch64 this is the
 * native order, so the byte swap the JIT would otherwise insert is absent.
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
 * {@link #validate} is the one check of this header every ring runs before it attaches; the
 * position regions run its first half, {@link #checkIdentity}.
 */
public final class RegionHeaderDescriptor {
    private RegionHeaderDescriptor() {
    }

    /** The byte order of every field of every shared layout. */
    public static final ByteOrder BYTE_ORDER = ByteOrder.LITTLE_ENDIAN;

    /** A u64 field at any offset (header fields: plain access). */
    static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(BYTE_ORDER);
    /** A u32 field at any offset (header fields: plain access). */
    static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(BYTE_ORDER);
    /** An 8-byte aligned u64: a counter or a stamp, for acquire/release and compare-and-set. */
    static final ValueLayout.OfLong ALIGNED_U64 = ValueLayout.JAVA_LONG.withOrder(BYTE_ORDER);
    /** A 4-byte aligned u32: a flag or a futex word, for volatile access. */
    static final ValueLayout.OfInt ALIGNED_U32 = ValueLayout.JAVA_INT.withOrder(BYTE_ORDER);

    /** The common header, the first 32 bytes of every ring region. */
    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            U64.withName("magic"),
            U32.withName("version"),
            U32.withName("kind"),
            U32.withName("headerLength"),
            U32.withName("ringSpecific"),
            U64.withName("capacity"));

    /** "SLUICERB" as a little-endian u64. */
    public static final long MAGIC = 0x4252_4543_4955_4C53L;
    /** Layout version of the common header; a region with another is refused. */
    public static final int LAYOUT_VERSION = 3;
    /** Spacing of hot counters and alignment of every area: two cache lines. */
    public static final int LINE = 128;

    /** Offset of the u64 magic naming the region's kind of layout. */
    public static final long MAGIC_OFFSET = LAYOUT.byteOffset(groupElement("magic"));
    /** Offset of the u32 layout version. */
    public static final long VERSION_OFFSET = LAYOUT.byteOffset(groupElement("version"));
    /** Offset of the u32 ring kind ({@link io.sluice.api.RingKind} code). */
    public static final long KIND_OFFSET = LAYOUT.byteOffset(groupElement("kind"));
    /** Offset of the u32 header length: bytes before the data area. */
    public static final long HEADER_LENGTH_OFFSET = LAYOUT.byteOffset(groupElement("headerLength"));
    /** Offset of the u32 each ring kind uses for itself (see its descriptor). */
    public static final long RING_SPECIFIC_U32_OFFSET = LAYOUT.byteOffset(groupElement("ringSpecific"));
    /** Offset of the u64 capacity: bytes (or slots' bytes) in the data area. */
    public static final long CAPACITY_OFFSET = LAYOUT.byteOffset(groupElement("capacity"));
    /** First offset a ring descriptor may use for its own header fields. */
    public static final long RING_FIELDS_OFFSET = LAYOUT.byteSize();
    /**
     * The largest data area of any ring, in bytes: 2<sup>30</sup> (1 GiB). With it a region size
     * (header plus data) never comes near overflowing a long or an int-indexed copy, and a peer
     * can refuse an absurd size before it maps anything.
     */
    public static final long MAX_CAPACITY = 1L << 30;

    /**
     * Writes the common header fields.
     *
     * @param region the region, writable, 8-byte aligned, at least a line long
     * @param kind the ring kind the region holds
     * @param headerLength bytes before the data area
     * @param capacity data area bytes
     * @param ringSpecific the u32 the ring kind uses for itself
     */
    public static void write(MemorySegment region, RingKind kind, int headerLength, long capacity, int ringSpecific) {
        region.set(U64, MAGIC_OFFSET, MAGIC);
        region.set(U32, VERSION_OFFSET, LAYOUT_VERSION);
        region.set(U32, KIND_OFFSET, kind.code());
        region.set(U32, HEADER_LENGTH_OFFSET, headerLength);
        region.set(U32, RING_SPECIFIC_U32_OFFSET, ringSpecific);
        region.set(U64, CAPACITY_OFFSET, capacity);
    }

    /**
     * The one check of a ring region's common header, run by every ring before it attaches, in
     * this order: segment size, 8-byte alignment, magic, version, kind, header length, capacity (a
     * power of two in [{@code minCapacity}, {@link #MAX_CAPACITY}] that fits the segment after the
     * header).
     *
     * @param what          names the ring in messages, e.g. {@code "spsc ring 'orders'"}
     * @param headerLength  the header length the ring's layout has
     * @param minCapacity   the ring's smallest capacity
     * @param expectedKinds the kinds the caller runs (broadcast: either policy)
     * @return the data capacity
     * @throws RingLayoutException naming the first field that is wrong
     */
    static long validate(MemorySegment region, String what, int headerLength, long minCapacity,
                         RingKind... expectedKinds) {
        checkIdentity(region, headerLength, MAGIC, "SLUICERB", LAYOUT_VERSION, what, "");
        int kindCode = region.get(U32, KIND_OFFSET);
        RingKind kind = RingKind.fromCode(kindCode);
        if (!contains(expectedKinds, kind)) {
            throw new RingLayoutException(what + ": ring kind " + (kind == null ? "code " + kindCode : kind)
                    + ", expected " + kindList(expectedKinds));
        }
        int actualHeaderLength = region.get(U32, HEADER_LENGTH_OFFSET);
        if (actualHeaderLength != headerLength) {
            throw new RingLayoutException(what + ": header length " + actualHeaderLength + ", expected " + headerLength);
        }
        long capacity = region.get(U64, CAPACITY_OFFSET);
        if (capacity <= 0 || Long.bitCount(capacity) != 1) {
            throw new RingLayoutException(what + ": capacity " + capacity + " is not a positive power of two");
        }
        if (capacity < minCapacity) {
            throw new RingLayoutException(what + ": capacity " + capacity + " is below the minimum " + minCapacity);
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

    /** The kind a validated region's header names. */
    static RingKind kind(MemorySegment region) {
        return RingKind.fromCode(region.get(U32, KIND_OFFSET));
    }

    /**
     * The first half of every header check, shared by ring regions and position regions (which
     * open with their own magic and a version field at the same offset): segment size, 8-byte
     * alignment (the counters need aligned access), magic, version.
     *
     * @param layoutVersion the version this kind of region must carry ({@link #LAYOUT_VERSION} for rings)
     * @param regionName the region in messages after {@code what}, e.g. {@code "consumer position region "}
     *                   (empty for the ring region itself)
     */
    static void checkIdentity(MemorySegment region, long minSize, long magic, String magicText, int layoutVersion,
                              String what, String regionName) {
        if (region.byteSize() < minSize) {
            throw new RingLayoutException(what + ": " + regionName + "segment of " + region.byteSize()
                    + " bytes is smaller than the " + minSize + "-byte header");
        }
        if (region.maxByteAlignment() < Long.BYTES) {
            throw new RingLayoutException(what + ": " + regionName + "segment is not 8-byte aligned"
                    + " (a heap segment must wrap a long[])");
        }
        long actualMagic = region.get(U64, MAGIC_OFFSET);
        if (actualMagic != magic) {
            throw new RingLayoutException(what + ": " + regionName + "bad magic 0x" + Long.toHexString(actualMagic)
                    + ", expected 0x" + Long.toHexString(magic) + " (\"" + magicText + "\")");
        }
        int version = region.get(U32, VERSION_OFFSET);
        if (version != layoutVersion) {
            throw new RingLayoutException(what + ": " + regionName + "layout version " + version
                    + ", this library reads " + layoutVersion);
        }
    }

    private static boolean contains(RingKind[] kinds, RingKind kind) {
        for (RingKind k : kinds) {
            if (k == kind) {
                return true;
            }
        }
        return false;
    }

    private static String kindList(RingKind[] kinds) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < kinds.length; i++) {
            sb.append(i == 0 ? "" : " or ").append(kinds[i]);
        }
        return sb.toString();
    }
}
