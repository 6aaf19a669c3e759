package io.sluice.cache.map;

import io.sluice.cache.snapshot.SnapshotDescriptor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * The layout of a shared map: a fixed-capacity open-addressing hash table from byte-string keys
 * to byte-string values in one memfd, written in place by exactly one process (the owner) and
 * read by any number of processes that map it read-only. Every field is little-endian.
 * {@code docs/cache-layout.md} is the normative text; this class mirrors it.
 *
 * <p>Region: the header, then {@code Slot Count} slots of {@code Slot Length} bytes; the region is
 * exactly {@code 128 + Slot Count x Slot Length} bytes.
 *
 * <p>Header, at offset 0 (written once by the owner before the fd leaves it, except the two
 * counters, which the owner updates with opaque stores and which are informational only):
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                 Magic "SLUICEMP" (u64, LE bytes)              |  0
 *  |                                                               |
 *  +-------------------------------+-------------------------------+
 *  |      Layout Version (1)       |      Header Length (128)      |  8
 *  +-------------------------------+-------------------------------+
 *  |          Slot Count           |          Slot Length          | 16
 *  +-------------------------------+-------------------------------+
 *  |        Max Key Length         |       Max Value Length        | 24
 *  +-------------------------------+-------------------------------+
 *  |     Capacity (max live)       |         Reserved (0)          | 32
 *  +-------------------------------+-------------------------------+
 *  |               Live Entries (u64, informational)               | 40
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |              Updates Applied (u64, informational)             | 48
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                      Reserved (72 bytes, 0)                   | 56
 *  ~                                                               ~
 *  +---------------------------------------------------------------+ 128
 * </pre>
 *
 * <p>Slot {@code i}, at {@code 128 + i x Slot Length}; {@code K = align8(Max Key Length)},
 * {@code V = align8(Max Value Length)}, {@code Slot Length = 32 + K + 2V}:
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |   Control (u64): bits 0-1 state (0 EMPTY, 1 LIVE, 2 DELETED), |  0
 *  |   bit 2 active value buffer, bits 3-63 change count           |
 *  +---------------------------------------------------------------+
 *  |                         Key Hash (u64)                        |  8
 *  |                                                               |
 *  +-------------------------------+-------------------------------+
 *  |          Key Length           |         Reserved (0)          | 16
 *  +-------------------------------+-------------------------------+
 *  |    Value Length, buffer 0     |    Value Length, buffer 1     | 24
 *  +-------------------------------+-------------------------------+
 *  |                  Key bytes (K bytes)                         ... 32
 *  +---------------------------------------------------------------+
 *  |                  Value buffer 0 (V bytes)                    ... 32 + K
 *  +---------------------------------------------------------------+
 *  |                  Value buffer 1 (V bytes)                    ... 32 + K + V
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * <p>The control word is the slot's seqlock: the owner writes a slot's other fields only where no
 * reader can trust them (an insert writes while the slot is EMPTY or DELETED; an update writes the
 * inactive value buffer), then release-stores a control word with a higher change count. A reader
 * acquire-loads the control, reads, and accepts what it read only if a second load of the control
 * (after a load-load fence) still returns the same word. The hash is the snapshot table's
 * ({@link SnapshotDescriptor#hash(MemorySegment, long, long)}).
 *
 * <p>The validation rules a reader applies to a header are {@link #validate}; a slot's fields are
 * checked on every read (key and value lengths within their maxima, the state one of the three).
 */
public final class SharedMapDescriptor {
    private SharedMapDescriptor() {
    }

    /** "SLUICEMP" as a little-endian u64: the bytes {@code S L U I C E M P}. */
    public static final long MAGIC = 0x504D_4543_4955_4C53L;
    public static final int LAYOUT_VERSION = 1;
    /** Two cache lines; the slots start right after it. */
    public static final int HEADER_LENGTH = 128;

    public static final long MAGIC_OFFSET = 0;
    public static final long LAYOUT_VERSION_OFFSET = 8;
    public static final long HEADER_LENGTH_OFFSET = 12;
    public static final long SLOT_COUNT_OFFSET = 16;
    public static final long SLOT_LENGTH_OFFSET = 20;
    public static final long MAX_KEY_LENGTH_OFFSET = 24;
    public static final long MAX_VALUE_LENGTH_OFFSET = 28;
    public static final long CAPACITY_OFFSET = 32;
    public static final long RESERVED_U32_OFFSET = 36;
    public static final long LIVE_ENTRIES_OFFSET = 40;
    public static final long UPDATES_APPLIED_OFFSET = 48;
    /** Reserved bytes 56..127, all zero. */
    public static final long RESERVED_TAIL_OFFSET = 56;

    public static final long SLOT_CONTROL_OFFSET = 0;
    public static final long SLOT_HASH_OFFSET = 8;
    public static final long SLOT_KEY_LENGTH_OFFSET = 16;
    public static final long SLOT_RESERVED_OFFSET = 20;
    /** Value length of buffer {@code b} is at {@code SLOT_VALUE_LENGTH_OFFSET + 4 * b}. */
    public static final long SLOT_VALUE_LENGTH_OFFSET = 24;
    public static final int SLOT_HEADER_LENGTH = 32;
    public static final long SLOT_KEY_OFFSET = SLOT_HEADER_LENGTH;

    /** Control word states (bits 0-1). 3 is never written: a reader that sees it reports corruption. */
    public static final int EMPTY = 0;
    public static final int LIVE = 1;
    public static final int DELETED = 2;
    static final long STATE_MASK = 0b11;
    static final long ACTIVE_BIT = 0b100;
    static final int COUNT_SHIFT = 3;

    /** Largest slot count a map may declare. */
    public static final int MAX_SLOT_COUNT = 1 << 30;
    /** Largest max key length a map may declare: 64 KiB. */
    public static final int MAX_KEY_LENGTH = 1 << 16;
    /** Largest max value length a map may declare: 16 MiB. */
    public static final int MAX_VALUE_LENGTH = 1 << 24;
    /** Alignment of the slots and of every area in a slot. */
    public static final int ALIGNMENT = 8;

    static final ByteOrder BYTE_ORDER = ByteOrder.LITTLE_ENDIAN;
    static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(BYTE_ORDER);
    static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(BYTE_ORDER);
    /**
     * The control word and the header counters: 8-aligned in every slot (the header and the slot
     * length are multiples of 8, the mapping is page-aligned), for acquire/release/opaque access.
     * Coordinates (segment, offset).
     */
    static final VarHandle ALIGNED_U64 = ValueLayout.JAVA_LONG.withOrder(BYTE_ORDER).varHandle().withInvokeExactBehavior();

    /** {@code n} rounded up to a multiple of 8; exact for any {@code n < 2^63 - 7}. */
    public static long align(long n) {
        return (n + ALIGNMENT - 1) & -ALIGNMENT;
    }

    /** The slot length of a map with these maxima: {@code 32 + align8(maxKey) + 2 x align8(maxValue)}. */
    public static long slotLength(long maxKeyLength, long maxValueLength) {
        return SLOT_HEADER_LENGTH + align(maxKeyLength) + 2 * align(maxValueLength);
    }

    /** Bytes of a region of {@code slotCount} slots of {@code slotLength} bytes. */
    public static long regionSize(long slotCount, long slotLength) {
        return HEADER_LENGTH + slotCount * slotLength;
    }

    /** The smallest power of two at least {@code capacity x 4 / 3} (load at most 3/4). */
    public static long slotCountFor(long capacity) {
        long atLeast = (capacity * 4 + 2) / 3; // ceil(4c/3)
        return atLeast <= 1 ? 1 : Long.highestOneBit(atLeast - 1) << 1;
    }

    /** Offset of slot {@code index} in a map of slots of {@code slotLength} bytes. */
    public static long slotOffset(long index, long slotLength) {
        return HEADER_LENGTH + index * slotLength;
    }

    /** Offset, within a slot, of value buffer {@code buffer} (0 or 1). */
    public static long valueOffset(long maxKeyLength, long maxValueLength, int buffer) {
        return SLOT_KEY_OFFSET + align(maxKeyLength) + buffer * align(maxValueLength);
    }

    /** The state (bits 0-1) of a control word. */
    public static int state(long control) {
        return (int) (control & STATE_MASK);
    }

    /** The active value buffer (bit 2) of a control word: 0 or 1. */
    public static int activeBuffer(long control) {
        return (int) ((control & ACTIVE_BIT) >>> 2);
    }

    /** The change count (bits 3-63) of a control word. */
    public static long changeCount(long control) {
        return control >>> COUNT_SHIFT;
    }

    /** A control word; the count wraps at 2^61 (which no writer reaches). */
    public static long control(long changeCount, int activeBuffer, int state) {
        return (changeCount << COUNT_SHIFT) | ((long) activeBuffer << 2) | state;
    }

    /** The key hash: {@link SnapshotDescriptor#hash(MemorySegment, long, long)}. */
    public static long hash(MemorySegment bytes, long offset, long length) {
        return SnapshotDescriptor.hash(bytes, offset, length);
    }

    /** The geometry a valid header declares. */
    public record Geometry(int slotCount, int slotLength, int maxKeyLength, int maxValueLength, int capacity) {
        /** Offset of slot {@code index}. */
        public long slotOffset(long index) {
            return SharedMapDescriptor.slotOffset(index, slotLength);
        }

        /** Offset, within a slot, of value buffer {@code buffer}. */
        public long valueOffset(int buffer) {
            return SharedMapDescriptor.valueOffset(maxKeyLength, maxValueLength, buffer);
        }

        /** The region size this geometry takes. */
        public long regionSize() {
            return SharedMapDescriptor.regionSize(slotCount, slotLength);
        }
    }

    /**
     * Checks a header against the rules, in order, each field before it is used: region at least a
     * header long; magic, layout version and header length; slot count a power of two in
     * 1..2^30; max key length in 1..64 KiB; max value length in 0..16 MiB; slot length exactly
     * {@link #slotLength}; capacity in 1..slot count; reserved fields 0; region size exactly
     * {@code 128 + slot count x slot length}. Reads only the header.
     *
     * @param region the mapped region (its size is the fd's, already checked against the owner's word)
     * @param what   names the map in messages, e.g. {@code "shared map 'prices'"}
     * @return the geometry
     * @throws CorruptMapException naming the first field that breaks a rule and its value
     */
    public static Geometry validate(MemorySegment region, String what) {
        long size = region.byteSize();
        if (size < HEADER_LENGTH) {
            throw new CorruptMapException(what + ": region of " + size + " bytes is smaller than the "
                    + HEADER_LENGTH + "-byte header");
        }
        long magic = region.get(U64, MAGIC_OFFSET);
        if (magic != MAGIC) {
            throw new CorruptMapException(what + ": bad magic 0x" + Long.toHexString(magic) + ", expected 0x"
                    + Long.toHexString(MAGIC) + " (\"SLUICEMP\")");
        }
        long version = u32(region, LAYOUT_VERSION_OFFSET);
        if (version != LAYOUT_VERSION) {
            throw new CorruptMapException(what + ": layout version " + version + ", this library reads " + LAYOUT_VERSION);
        }
        long headerLength = u32(region, HEADER_LENGTH_OFFSET);
        if (headerLength != HEADER_LENGTH) {
            throw new CorruptMapException(what + ": header length " + headerLength + ", expected " + HEADER_LENGTH);
        }
        long slotCount = u32(region, SLOT_COUNT_OFFSET);
        if (slotCount < 1 || slotCount > MAX_SLOT_COUNT || Long.bitCount(slotCount) != 1) {
            throw new CorruptMapException(what + ": slot count " + slotCount + " is not a power of two in 1.." + MAX_SLOT_COUNT);
        }
        long maxKey = u32(region, MAX_KEY_LENGTH_OFFSET);
        if (maxKey < 1 || maxKey > MAX_KEY_LENGTH) {
            throw new CorruptMapException(what + ": max key length " + maxKey + " is outside 1.." + MAX_KEY_LENGTH);
        }
        long maxValue = u32(region, MAX_VALUE_LENGTH_OFFSET);
        if (maxValue > MAX_VALUE_LENGTH) {
            throw new CorruptMapException(what + ": max value length " + maxValue + " is outside 0.." + MAX_VALUE_LENGTH);
        }
        long slotLength = u32(region, SLOT_LENGTH_OFFSET);
        long expectedSlotLength = slotLength(maxKey, maxValue);
        if (slotLength != expectedSlotLength) {
            throw new CorruptMapException(what + ": slot length " + slotLength + ", expected " + expectedSlotLength
                    + " for max key length " + maxKey + " and max value length " + maxValue);
        }
        long capacity = u32(region, CAPACITY_OFFSET);
        if (capacity < 1 || capacity > slotCount) {
            throw new CorruptMapException(what + ": capacity " + capacity + " is outside 1..slot count " + slotCount);
        }
        if (region.get(U32, RESERVED_U32_OFFSET) != 0) {
            throw new CorruptMapException(what + ": reserved header field at offset " + RESERVED_U32_OFFSET
                    + " must be 0, found 0x" + Integer.toHexString(region.get(U32, RESERVED_U32_OFFSET)));
        }
        for (long at = RESERVED_TAIL_OFFSET; at < HEADER_LENGTH; at += 8) {
            long word = region.get(U64, at);
            if (word != 0) {
                throw new CorruptMapException(what + ": reserved header bytes at offset " + at + " must be 0, found 0x"
                        + Long.toHexString(word));
            }
        }
        // Every factor is below 2^31 and slot length below 2^26: no overflow.
        long expectedSize = regionSize(slotCount, slotLength);
        if (size != expectedSize) {
            throw new CorruptMapException(what + ": " + slotCount + " slots of " + slotLength + " bytes need a region of "
                    + expectedSize + " bytes, the region has " + size);
        }
        return new Geometry((int) slotCount, (int) slotLength, (int) maxKey, (int) maxValue, (int) capacity);
    }

    static long u32(MemorySegment s, long offset) {
        return Integer.toUnsignedLong(s.get(U32, offset));
    }
}
