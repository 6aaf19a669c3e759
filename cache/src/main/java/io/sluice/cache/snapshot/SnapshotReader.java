package io.sluice.cache.snapshot;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static io.sluice.cache.snapshot.SnapshotDescriptor.*;

/**
 * Looks keys up in a snapshot table ({@link SnapshotDescriptor}) in place: a hit is a read-only
 * slice of the mapped value, nothing is copied and nothing but the slice is allocated.
 *
 * <p>The bytes are distrusted. {@link #open} checks every header field against the segment;
 * every lookup checks each offset and length it follows against the heap before touching the
 * bytes there, and examines at most {@code Max Probe Length} (at most {@code Slot Count}) slots.
 * Whatever the bytes, a lookup ends with a value inside the heap, {@code null}, or a
 * {@link CorruptSnapshotException} naming the slot and the field, never with a read outside the
 * segment or an endless probe.
 *
 * <p>Per-lookup checks cannot see every lie: a slot whose entry was swapped with another's makes
 * its key look absent. {@link #verify()} walks the whole table once and proves that every entry
 * is reachable by its own key and that the entry count is right. Over a region sealed
 * {@code F_SEAL_WRITE} (see {@link SealedSnapshot}) the bytes can never change afterwards, so one
 * {@code verify()} holds for every later lookup.
 *
 * <p>Thread safety: immutable; any number of threads may look up concurrently. The segment must
 * stay mapped while lookups run and while returned slices are used: close the region only once
 * nothing reads it (the demo's reader swaps versions on its lookup thread for that reason).
 */
public final class SnapshotReader {
    private final MemorySegment table;
    private final String what;
    private final long snapshotVersion;
    private final int entryCount;
    private final int slotCount;
    private final int mask;
    private final int maxProbe;
    private final long heapOffset;
    private final long heapEnd;

    private SnapshotReader(MemorySegment table, String what, long snapshotVersion, int entryCount, int slotCount,
                           int maxProbe, long heapOffset, long heapEnd) {
        this.table = table;
        this.what = what;
        this.snapshotVersion = snapshotVersion;
        this.entryCount = entryCount;
        this.slotCount = slotCount;
        this.mask = slotCount - 1;
        this.maxProbe = maxProbe;
        this.heapOffset = heapOffset;
        this.heapEnd = heapEnd;
    }

    /**
     * Validates the header of the table in {@code table} and returns a reader over it. Lookups
     * return slices of {@code table.asReadOnly()}.
     *
     * @param name names the table in exception messages, e.g. the memfd name
     * @throws CorruptSnapshotException naming the first header field that is wrong
     */
    public static SnapshotReader open(MemorySegment table, String name) {
        String what = "snapshot '" + name + "'";
        long size = table.byteSize();
        if (size < HEADER_LENGTH) {
            throw new CorruptSnapshotException(what + ": segment of " + size + " bytes is smaller than the "
                    + HEADER_LENGTH + "-byte header");
        }
        long magic = table.get(U64, MAGIC_OFFSET);
        if (magic != MAGIC) {
            throw new CorruptSnapshotException(what + ": bad magic 0x" + Long.toHexString(magic)
                    + ", expected 0x" + Long.toHexString(MAGIC) + " (\"SLUICESN\")");
        }
        int layoutVersion = table.get(U32, LAYOUT_VERSION_OFFSET);
        if (layoutVersion != LAYOUT_VERSION) {
            throw new CorruptSnapshotException(what + ": layout version " + Integer.toUnsignedString(layoutVersion)
                    + ", this library reads " + LAYOUT_VERSION);
        }
        int headerLength = table.get(U32, HEADER_LENGTH_OFFSET);
        if (headerLength != HEADER_LENGTH) {
            throw new CorruptSnapshotException(what + ": header length " + Integer.toUnsignedString(headerLength)
                    + ", expected " + HEADER_LENGTH);
        }
        long version = table.get(U64, SNAPSHOT_VERSION_OFFSET);
        if (version < 1) { // u64 values of 2^63 and more read as negative: refused too
            throw new CorruptSnapshotException(what + ": snapshot version " + Long.toUnsignedString(version)
                    + " is outside 1.." + Long.MAX_VALUE);
        }
        what = what + " v" + version;
        long slots = u32(table, SLOT_COUNT_OFFSET);
        if (slots < 1 || slots > MAX_SLOT_COUNT || Long.bitCount(slots) != 1) {
            throw new CorruptSnapshotException(what + ": slot count " + slots + " is not a power of two in 1.." + MAX_SLOT_COUNT);
        }
        long entries = u32(table, ENTRY_COUNT_OFFSET);
        if (entries > slots) {
            throw new CorruptSnapshotException(what + ": entry count " + entries + " exceeds the slot count " + slots);
        }
        long maxProbe = u32(table, MAX_PROBE_OFFSET);
        if (maxProbe > slots) {
            throw new CorruptSnapshotException(what + ": max probe length " + maxProbe + " exceeds the slot count " + slots);
        }
        if ((entries == 0) != (maxProbe == 0)) {
            throw new CorruptSnapshotException(what + ": max probe length " + maxProbe + " with " + entries
                    + " entries (0 exactly when the table is empty)");
        }
        int reserved32 = table.get(U32, RESERVED_U32_OFFSET);
        long reserved64 = table.get(U64, RESERVED_U64_OFFSET);
        if (reserved32 != 0 || reserved64 != 0) {
            throw new CorruptSnapshotException(what + ": reserved header fields at offsets " + RESERVED_U32_OFFSET
                    + " and " + RESERVED_U64_OFFSET + " must be 0, found 0x" + Integer.toHexString(reserved32)
                    + " and 0x" + Long.toHexString(reserved64));
        }
        long slotsEnd = slotOffset(slots);
        long heapOffset = table.get(U64, HEAP_OFFSET_OFFSET);
        long heapLength = table.get(U64, HEAP_LENGTH_OFFSET);
        if (slotsEnd > size) {
            throw new CorruptSnapshotException(what + ": " + slots + " slots end at " + slotsEnd
                    + ", past the segment's " + size + " bytes");
        }
        // heapOffset and heapLength are u64: a value of 2^63 or more reads negative and fails
        // these tests too, and no sum below can overflow.
        if (heapOffset < slotsEnd || heapOffset > size || heapOffset % ALIGNMENT != 0) {
            throw new CorruptSnapshotException(what + ": heap offset " + Long.toUnsignedString(heapOffset)
                    + " must be " + ALIGNMENT + "-aligned, at or after the slots' end " + slotsEnd
                    + " and within the segment's " + size + " bytes");
        }
        if (heapLength < 0 || heapLength > size - heapOffset) {
            throw new CorruptSnapshotException(what + ": heap of " + Long.toUnsignedString(heapLength) + " bytes at "
                    + heapOffset + " runs past the segment's " + size + " bytes");
        }
        if (entries * ENTRY_HEADER_LENGTH > heapLength) {
            throw new CorruptSnapshotException(what + ": " + entries + " entries cannot fit a heap of " + heapLength + " bytes");
        }
        return new SnapshotReader(table.asReadOnly(), what, version, (int) entries, (int) slots, (int) maxProbe,
                heapOffset, heapOffset + heapLength);
    }

    /**
     * The value of {@code key}, as a read-only slice of the table, or {@code null} if the table
     * does not hold the key.
     *
     * @throws CorruptSnapshotException if a slot this lookup examines points outside the heap or
     *                                  holds a hash that its entry's key does not have
     */
    public MemorySegment get(MemorySegment key) {
        long entry = findEntry(key);
        return entry < 0 ? null : table.asSlice(valueOffset(entry), valueLength(entry));
    }

    /**
     * The offset of {@code key}'s entry in {@link #segment()}, or -1 if the table does not hold
     * the key: the lookup without even a slice, for callers that read the value through
     * {@link #valueOffset(long)} and {@link #valueLength(long)} and allocate nothing.
     *
     * @throws CorruptSnapshotException as {@link #get(MemorySegment)}
     */
    public long findEntry(MemorySegment key) {
        long hash = SnapshotDescriptor.hash(key);
        long keyLength = key.byteSize();
        int slot = (int) hash & mask;
        for (int probe = 0; probe < maxProbe; probe++) {
            long slotAt = slotOffset(slot);
            long entryOffset = table.get(U64, slotAt + SLOT_ENTRY_OFFSET);
            if (entryOffset == 0) {
                return -1; // an empty slot ends every probe sequence that passes it
            }
            if (table.get(U64, slotAt + SLOT_HASH_OFFSET) == hash) {
                long storedKeyLength = checkedKeyLength(slot, entryOffset);
                long keyAt = entryOffset + ENTRY_HEADER_LENGTH;
                if (storedKeyLength == keyLength
                        && MemorySegment.mismatch(key, 0, keyLength, table, keyAt, keyAt + keyLength) == -1) {
                    return entryOffset; // checkedKeyLength proved key and value inside the heap
                }
                // Equal 64-bit hashes of different keys are possible but so rare that checking
                // costs nothing in practice, and it catches a slot whose hash was forged.
                checkSlotHash(slot, hash, keyAt, storedKeyLength);
            }
            slot = (slot + 1) & mask;
        }
        return -1;
    }

    /** Where the value of the entry {@link #findEntry} returned starts in {@link #segment()}. */
    public long valueOffset(long entry) {
        return entry + ENTRY_HEADER_LENGTH + align(u32(table, entry + ENTRY_KEY_LENGTH_OFFSET));
    }

    /** The value length of the entry {@link #findEntry} returned. */
    public long valueLength(long entry) {
        return u32(table, entry + ENTRY_VALUE_LENGTH_OFFSET);
    }

    /** {@link #get(MemorySegment)} for a key held in an array. */
    public MemorySegment get(byte[] key) {
        return get(MemorySegment.ofArray(key));
    }

    /** {@link #get(MemorySegment)} for the UTF-8 bytes of {@code key}. */
    public MemorySegment get(String key) {
        return get(key.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Walks every slot and proves the table consistent: each occupied slot points at an entry
     * wholly inside the heap and carries its key's hash; every key sits within
     * {@code Max Probe Length} of its home slot with no empty slot in between, and no key is
     * stored twice, so a lookup of each key finds exactly its entry; empty slots are all zeros;
     * the number of occupied slots is the entry count. One pass over the slots and keys, plus a
     * sort of the hashes (it allocates {@code 8 * entryCount} bytes).
     *
     * @throws CorruptSnapshotException naming the first slot found wrong
     */
    public void verify() {
        // Start right after an empty slot, so that each run of occupied slots is seen whole.
        int start = 0;
        boolean full = true;
        for (int slot = 0; slot < slotCount; slot++) {
            if (table.get(U64, slotOffset(slot) + SLOT_ENTRY_OFFSET) == 0) {
                start = (slot + 1) & mask;
                full = false;
                break;
            }
        }
        long[] hashes = new long[entryCount];
        int occupied = 0;
        int run = 0; // occupied slots since the last empty one, this one included
        for (int i = 0; i < slotCount; i++) {
            int slot = (start + i) & mask;
            long slotAt = slotOffset(slot);
            long hash = table.get(U64, slotAt + SLOT_HASH_OFFSET);
            long entryOffset = table.get(U64, slotAt + SLOT_ENTRY_OFFSET);
            if (entryOffset == 0) {
                if (hash != 0) {
                    throw corrupt("empty slot " + slot + " has hash 0x" + Long.toHexString(hash) + ", must be 0");
                }
                run = 0;
                continue;
            }
            run++;
            if (occupied == entryCount) {
                throw corrupt("header says " + entryCount + " entries, the slots hold more");
            }
            hashes[occupied++] = hash;
            long keyLength = checkedKeyLength(slot, entryOffset);
            long keyAt = entryOffset + ENTRY_HEADER_LENGTH;
            checkSlotHash(slot, hash, keyAt, keyLength);
            int home = (int) hash & mask;
            int distance = (slot - home) & mask;
            if (distance >= maxProbe) {
                throw corrupt("slot " + slot + ": key " + describeKey(table.asSlice(keyAt, keyLength)) + " is "
                        + distance + " slots after its home slot " + home + ", beyond the max probe length " + maxProbe);
            }
            if (!full && distance >= run) {
                throw corrupt("slot " + slot + ": an empty slot lies between it and the home slot " + home
                        + " of its key " + describeKey(table.asSlice(keyAt, keyLength)) + ", so lookups stop before reaching it");
            }
        }
        if (occupied != entryCount) {
            throw corrupt("header says " + entryCount + " entries, the slots hold " + occupied);
        }
        Arrays.sort(hashes);
        for (int i = 1; i < hashes.length; i++) {
            if (hashes[i] == hashes[i - 1]) {
                checkNoDuplicateKey(hashes[i]); // equal hashes: almost surely a copied slot
            }
        }
    }

    /** Compares the keys of every pair of slots holding {@code hash}; entries already checked. */
    private void checkNoDuplicateKey(long hash) {
        for (int a = 0; a < slotCount; a++) {
            long aOffset = table.get(U64, slotOffset(a) + SLOT_ENTRY_OFFSET);
            if (aOffset == 0 || table.get(U64, slotOffset(a) + SLOT_HASH_OFFSET) != hash) {
                continue;
            }
            long aKeyAt = aOffset + ENTRY_HEADER_LENGTH;
            long aLength = u32(table, aOffset + ENTRY_KEY_LENGTH_OFFSET);
            for (int b = a + 1; b < slotCount; b++) {
                long bOffset = table.get(U64, slotOffset(b) + SLOT_ENTRY_OFFSET);
                if (bOffset == 0 || table.get(U64, slotOffset(b) + SLOT_HASH_OFFSET) != hash) {
                    continue;
                }
                long bKeyAt = bOffset + ENTRY_HEADER_LENGTH;
                if (u32(table, bOffset + ENTRY_KEY_LENGTH_OFFSET) == aLength
                        && MemorySegment.mismatch(table, aKeyAt, aKeyAt + aLength, table, bKeyAt, bKeyAt + aLength) == -1) {
                    throw corrupt("slots " + a + " and " + b + " both hold key " + describeKey(table.asSlice(aKeyAt, aLength)));
                }
            }
        }
    }

    /**
     * Checks that the entry at {@code entryOffset}, which slot {@code slot} points at, lies wholly
     * inside the heap: aligned, header, key and value within bounds. Returns its key length.
     */
    private long checkedKeyLength(int slot, long entryOffset) {
        // entryOffset is a u64: 2^63 and above read negative and fail the first test.
        if (entryOffset < heapOffset || entryOffset > heapEnd - ENTRY_HEADER_LENGTH || entryOffset % ALIGNMENT != 0) {
            throw corrupt("slot " + slot + ": entry offset " + Long.toUnsignedString(entryOffset) + " is not an "
                    + ALIGNMENT + "-aligned entry inside the heap [" + heapOffset + ", " + heapEnd + ")");
        }
        long keyLength = u32(table, entryOffset + ENTRY_KEY_LENGTH_OFFSET);
        long valueLength = u32(table, entryOffset + ENTRY_VALUE_LENGTH_OFFSET);
        // Every term is below 2^63 (offsets inside the segment, lengths below 2^32): no overflow.
        long valueAt = entryOffset + ENTRY_HEADER_LENGTH + align(keyLength);
        if (valueAt > heapEnd || valueLength > heapEnd - valueAt) {
            throw corrupt("slot " + slot + ": entry at " + entryOffset + " with key length " + keyLength
                    + " and value length " + valueLength + " runs past the heap's end " + heapEnd);
        }
        return keyLength;
    }

    private void checkSlotHash(int slot, long slotHash, long keyAt, long keyLength) {
        long actual = SnapshotDescriptor.hash(table, keyAt, keyLength);
        if (actual != slotHash) {
            throw corrupt("slot " + slot + " holds hash 0x" + Long.toHexString(slotHash) + " but its key "
                    + describeKey(table.asSlice(keyAt, keyLength)) + " hashes to 0x" + Long.toHexString(actual));
        }
    }

    private CorruptSnapshotException corrupt(String detail) {
        return new CorruptSnapshotException(what + ": " + detail);
    }

    private static long u32(MemorySegment s, long offset) {
        return Integer.toUnsignedLong(s.get(U32, offset));
    }

    /** A key for messages: quoted if printable ASCII, hex otherwise; at most 64 bytes shown. */
    static String describeKey(MemorySegment key) {
        long n = Math.min(key.byteSize(), 64);
        boolean printable = true;
        for (long i = 0; i < n && printable; i++) {
            byte b = key.get(ValueLayout.JAVA_BYTE, i);
            printable = b >= 0x20 && b < 0x7F;
        }
        StringBuilder sb = new StringBuilder(printable ? "\"" : "0x");
        for (long i = 0; i < n; i++) {
            byte b = key.get(ValueLayout.JAVA_BYTE, i);
            if (printable) {
                sb.append((char) b);
            } else {
                sb.append(Character.forDigit((b >> 4) & 0xF, 16)).append(Character.forDigit(b & 0xF, 16));
            }
        }
        if (printable) {
            sb.append('"');
        }
        return key.byteSize() > n ? sb + "... (" + key.byteSize() + " bytes)" : sb.toString();
    }

    /** The version the owner wrote into the header. */
    public long snapshotVersion() {
        return snapshotVersion;
    }

    public int entryCount() {
        return entryCount;
    }

    public int slotCount() {
        return slotCount;
    }

    /** The most slots any lookup examines. */
    public int maxProbeLength() {
        return maxProbe;
    }

    /** The whole table, read-only. */
    public MemorySegment segment() {
        return table;
    }

    @Override
    public String toString() {
        return what + " (" + entryCount + " entries, " + slotCount + " slots, " + table.byteSize() + " bytes)";
    }
}
