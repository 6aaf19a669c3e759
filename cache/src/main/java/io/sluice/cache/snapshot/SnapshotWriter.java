package io.sluice.cache.snapshot;

import io.sluice.memfd.MemfdRegion;
import io.sluice.memfd.Seal;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import static io.sluice.cache.snapshot.SnapshotDescriptor.*;

/**
 * Collects key&rarr;value pairs on the heap, then lays them out as one snapshot table
 * ({@link SnapshotDescriptor}) in a new memfd and seals it {@code SHRINK|GROW|WRITE}: from then
 * on the table is immutable for every process, this one included.
 *
 * <p>The table is sized for a load factor of at most 1/2 (the slot count is the smallest power
 * of two at least twice the entry count), which keeps linear probes short. Entries go into the
 * heap in the order they were put. Building is a setup path: it allocates freely.
 */
public final class SnapshotWriter {
    /** The seals every snapshot region carries before its fd leaves the owner. */
    public static final Set<Seal> SEALS = Set.of(Seal.SHRINK, Seal.GROW, Seal.WRITE);

    private final Map<Key, byte[]> entries = new LinkedHashMap<>();
    private long heapLength;

    /** An empty table to {@link #put} pairs into. */
    public SnapshotWriter() {
    }

    /** Adds a pair; keys are compared byte for byte, and a key may be put only once. */
    public SnapshotWriter put(byte[] key, byte[] value) {
        if (entries.size() == MAX_SLOT_COUNT / 2) {
            throw new IllegalStateException("a snapshot holds at most " + MAX_SLOT_COUNT / 2 + " entries");
        }
        Key k = new Key(key.clone());
        if (entries.putIfAbsent(k, value.clone()) != null) {
            throw new IllegalArgumentException("duplicate key " + k);
        }
        heapLength += entryLength(key.length, value.length);
        return this;
    }

    /** Adds a pair whose key is the UTF-8 bytes of {@code key}. */
    public SnapshotWriter put(String key, byte[] value) {
        return put(key.getBytes(StandardCharsets.UTF_8), value);
    }

    public int entryCount() {
        return entries.size();
    }

    /** The smallest power of two at least twice the entry count; 1 for an empty table. */
    public int slotCount() {
        int n = entries.size();
        return n == 0 ? 1 : Integer.highestOneBit(2 * n - 1) << 1;
    }

    /** Bytes the table needs: header, slots, heap. */
    public long regionSize() {
        return heapOffset() + heapLength;
    }

    private long heapOffset() {
        return slotOffset(slotCount()); // 64 + 16 * n: already 8-aligned
    }

    /**
     * Lays the table out in {@code target}, writing every byte of its first {@link #regionSize()}
     * bytes (padding and empty slots as zeros).
     */
    public void writeTo(MemorySegment target, long snapshotVersion) {
        if (snapshotVersion < 1) {
            throw new IllegalArgumentException("snapshot version must be at least 1, was " + snapshotVersion);
        }
        long size = regionSize();
        if (target.byteSize() < size) {
            throw new IllegalArgumentException("target of " + target.byteSize() + " bytes is smaller than the "
                    + size + " bytes the table needs");
        }
        target.asSlice(0, size).fill((byte) 0);
        int slotCount = slotCount();
        int mask = slotCount - 1;
        long heapOffset = heapOffset();
        long entryOffset = heapOffset;
        int maxProbe = 0;
        for (Map.Entry<Key, byte[]> e : entries.entrySet()) {
            byte[] key = e.getKey().bytes;
            byte[] value = e.getValue();
            long hash = hash(key);
            int slot = (int) hash & mask;
            int probe = 1;
            while (target.get(U64, slotOffset(slot) + SLOT_ENTRY_OFFSET) != 0) {
                slot = (slot + 1) & mask;
                probe++;
            }
            maxProbe = Math.max(maxProbe, probe);
            target.set(U64, slotOffset(slot) + SLOT_HASH_OFFSET, hash);
            target.set(U64, slotOffset(slot) + SLOT_ENTRY_OFFSET, entryOffset);

            target.set(U32, entryOffset + ENTRY_KEY_LENGTH_OFFSET, key.length);
            target.set(U32, entryOffset + ENTRY_VALUE_LENGTH_OFFSET, value.length);
            long keyAt = entryOffset + ENTRY_HEADER_LENGTH;
            MemorySegment.copy(key, 0, target, ValueLayout.JAVA_BYTE, keyAt, key.length);
            MemorySegment.copy(value, 0, target, ValueLayout.JAVA_BYTE, keyAt + align(key.length), value.length);
            entryOffset += entryLength(key.length, value.length);
        }
        target.set(U64, MAGIC_OFFSET, MAGIC);
        target.set(U32, LAYOUT_VERSION_OFFSET, LAYOUT_VERSION);
        target.set(U32, HEADER_LENGTH_OFFSET, HEADER_LENGTH);
        target.set(U64, SNAPSHOT_VERSION_OFFSET, snapshotVersion);
        target.set(U32, ENTRY_COUNT_OFFSET, entries.size());
        target.set(U32, SLOT_COUNT_OFFSET, slotCount);
        target.set(U32, MAX_PROBE_OFFSET, maxProbe);
        target.set(U64, HEAP_OFFSET_OFFSET, heapOffset);
        target.set(U64, HEAP_LENGTH_OFFSET, heapLength);
    }

    /**
     * Creates a memfd named {@code sluice:<name>} of exactly {@link #regionSize()} bytes, lays the
     * table out through a mapping that exists only during {@link MemfdRegion#fill}, and seals the
     * region {@code SHRINK|GROW|WRITE}, then {@code SEAL}. {@code F_SEAL_WRITE} is refused (EBUSY) while any writable
     * mapping exists, which is why the table is written through {@code fill} and not through a
     * mapping kept open. The caller owns the returned region; its fd is what readers receive.
     */
    public MemfdRegion build(String name, long snapshotVersion) {
        MemfdRegion region = MemfdRegion.create(name, regionSize());
        try {
            region.fill(segment -> writeTo(segment, snapshotVersion));
            region.addSeals(SEALS);
            region.addSeals(Seal.SEAL); // final: no reader can add a seal of its own
            return region;
        } catch (RuntimeException e) {
            region.close();
            throw e;
        }
    }

    /** A key compared by content. */
    private record Key(byte[] bytes) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && Arrays.equals(bytes, k.bytes);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(bytes);
        }

        @Override
        public String toString() {
            return SnapshotReader.describeKey(MemorySegment.ofArray(bytes));
        }
    }
}
