package io.sluice.cache.snapshot;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The layout of a sealed snapshot table: an immutable open-addressing hash table from byte-string
 * keys to byte-string values, in one memfd. Every field is little-endian. The owner writes every
 * byte before it seals the region {@code SHRINK|GROW|WRITE}; after that nobody, the owner
 * included, can write it, so readers need no memory ordering at all: the socket message that
 * carries the fd happens after the last store. {@code docs/snapshot-layout.md} is the normative
 * text; this class mirrors it.
 *
 * <p>Header, at offset 0:
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                 Magic "SLUICESN" (u64, LE bytes)              |  0
 *  |                                                               |
 *  +-------------------------------+-------------------------------+
 *  |        Layout Version         |         Header Length         |  8
 *  +-------------------------------+-------------------------------+
 *  |                    Snapshot Version (u64)                     | 16
 *  |                                                               |
 *  +-------------------------------+-------------------------------+
 *  |          Entry Count          |          Slot Count           | 24
 *  +-------------------------------+-------------------------------+
 *  |       Max Probe Length        |         Reserved (0)          | 32
 *  +-------------------------------+-------------------------------+
 *  |                      Heap Offset (u64)                        | 40
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                      Heap Length (u64)                        | 48
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                      Reserved (u64, 0)                        | 56
 *  |                                                               |
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * <p>Slots: {@code Slot Count} (a power of two) slots of 16 bytes from offset {@code Header Length};
 * slot {@code i} is at {@code HEADER_LENGTH + 16 * i}:
 * <pre>
 *  +---------------------------------------------------------------+
 *  |                        Key Hash (u64)                         |  0
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |         Entry Offset (u64, from region start; 0 = empty)      |  8
 *  |                                                               |
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * <p>Heap: {@code Heap Length} bytes from {@code Heap Offset} (8-aligned, after the last slot),
 * holding the entries, each 8-aligned:
 * <pre>
 *  +-------------------------------+-------------------------------+
 *  |       Key Length (u32)        |      Value Length (u32)       |  0
 *  +-------------------------------+-------------------------------+
 *  |      Key bytes, then zeros up to a multiple of 8 bytes       ...  8
 *  +---------------------------------------------------------------+
 *  |     Value bytes (8-aligned), then zeros up to a multiple of 8 ...  8 + align8(Key Length)
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * <p>A key lives in the first free slot at or after its home slot {@code hash(key) & (Slot Count - 1)}
 * (linear probing, wrapping at the end). {@code Max Probe Length} is the largest number of slots
 * any lookup of a present key examines (its distance from home plus one), so a lookup stops
 * after that many slots, or at an empty slot, whichever comes first. The hash is
 * {@link #hash(MemorySegment, long, long)}: FNV-1a 64 over the key bytes, then the MurmurHash3
 * 64-bit finaliser.
 */
public final class SnapshotDescriptor {
    private SnapshotDescriptor() {
    }

    /** "SLUICESN" as a little-endian u64: the bytes {@code S L U I C E S N}. */
    public static final long MAGIC = 0x4E53_4543_4955_4C53L;
    public static final int LAYOUT_VERSION = 1;
    /** The header is one cache line; the slots start right after it. */
    public static final int HEADER_LENGTH = 64;

    public static final long MAGIC_OFFSET = 0;
    public static final long LAYOUT_VERSION_OFFSET = 8;
    public static final long HEADER_LENGTH_OFFSET = 12;
    public static final long SNAPSHOT_VERSION_OFFSET = 16;
    public static final long ENTRY_COUNT_OFFSET = 24;
    public static final long SLOT_COUNT_OFFSET = 28;
    public static final long MAX_PROBE_OFFSET = 32;
    public static final long RESERVED_U32_OFFSET = 36;
    public static final long HEAP_OFFSET_OFFSET = 40;
    public static final long HEAP_LENGTH_OFFSET = 48;
    public static final long RESERVED_U64_OFFSET = 56;

    public static final int SLOT_LENGTH = 16;
    public static final long SLOT_HASH_OFFSET = 0;
    public static final long SLOT_ENTRY_OFFSET = 8;

    public static final int ENTRY_HEADER_LENGTH = 8;
    public static final long ENTRY_KEY_LENGTH_OFFSET = 0;
    public static final long ENTRY_VALUE_LENGTH_OFFSET = 4;
    /** Alignment of the heap, of every entry, and of every value. */
    public static final int ALIGNMENT = 8;

    /** Largest slot count a table may declare (2^30 slots, 16 GiB of slots). */
    public static final int MAX_SLOT_COUNT = 1 << 30;

    // Unaligned views: the same code then works on a page-aligned mapping and on a heap
    // byte[] segment (tests), and a hostile offset cannot make an access throw an alignment
    // error instead of the CorruptSnapshotException that names it.
    static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED;
    static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;

    private static final long FNV_OFFSET_BASIS = 0xCBF2_9CE4_8422_2325L;
    private static final long FNV_PRIME = 0x0000_0100_0000_01B3L;

    /** Offset of slot {@code index}. */
    public static long slotOffset(long index) {
        return HEADER_LENGTH + SLOT_LENGTH * index;
    }

    /** {@code n} rounded up to a multiple of {@link #ALIGNMENT}; exact for any {@code n < 2^63 - 7}. */
    public static long align(long n) {
        return (n + ALIGNMENT - 1) & -ALIGNMENT;
    }

    /** Bytes an entry occupies in the heap, padding included. */
    public static long entryLength(long keyLength, long valueLength) {
        return ENTRY_HEADER_LENGTH + align(keyLength) + align(valueLength);
    }

    /**
     * The key hash: FNV-1a 64 over the {@code length} bytes at {@code offset}, then the MurmurHash3
     * {@code fmix64} finaliser (FNV alone leaves the low bits, which pick the home slot, weak).
     * In C:
     * <pre>
     *   uint64_t h = 0xcbf29ce484222325;
     *   for (size_t i = 0; i &lt; len; i++) { h ^= key[i]; h *= 0x100000001b3; }
     *   h ^= h &gt;&gt; 33; h *= 0xff51afd7ed558ccd; h ^= h &gt;&gt; 33; h *= 0xc4ceb9fe1a85ec53; h ^= h &gt;&gt; 33;
     * </pre>
     */
    public static long hash(MemorySegment bytes, long offset, long length) {
        long h = FNV_OFFSET_BASIS;
        for (long i = 0; i < length; i++) {
            h ^= bytes.get(ValueLayout.JAVA_BYTE, offset + i) & 0xFF;
            h *= FNV_PRIME;
        }
        return fmix64(h);
    }

    /** {@link #hash(MemorySegment, long, long)} of a whole key. */
    public static long hash(MemorySegment key) {
        return hash(key, 0, key.byteSize());
    }

    /** {@link #hash(MemorySegment, long, long)} of a key held in an array. */
    public static long hash(byte[] key) {
        long h = FNV_OFFSET_BASIS;
        for (byte b : key) {
            h ^= b & 0xFF;
            h *= FNV_PRIME;
        }
        return fmix64(h);
    }

    private static long fmix64(long h) {
        h ^= h >>> 33;
        h *= 0xFF51_AFD7_ED55_8CCDL;
        h ^= h >>> 33;
        h *= 0xC4CE_B9FE_1A85_EC53L;
        h ^= h >>> 33;
        return h;
    }
}
