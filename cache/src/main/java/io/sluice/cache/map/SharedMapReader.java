package io.sluice.cache.map;

import io.sluice.api.LimitExceededException;
import io.sluice.api.RegionRefusedException;
import io.sluice.memfd.MemfdRegion;
import io.sluice.memfd.OwnedFd;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.util.function.BiConsumer;

import static io.sluice.cache.map.SharedMapDescriptor.*;

/**
 * Reads a shared map that another process (or thread) writes, through a read-only mapping,
 * without a lock and without writing anything: each slot's control word is a seqlock (see
 * {@link SharedMapDescriptor}). Every read is checked after the fact, and only a value that was
 * stable while it was read is returned; a read that raced the writer is retried, at most
 * {@link #MAX_RETRIES} times per lookup, after which the lookup throws
 * {@link LimitExceededException} (the writer changed the key faster than this reader could read
 * it). A lookup examines at most {@code Slot Count} slots, and never reads outside the region,
 * whatever the bytes say: a slot whose stable fields are impossible throws
 * {@link CorruptMapException}.
 *
 * <p>Lookups allocate nothing ({@link #get(MemorySegment, MemorySegment)} copies into the caller's
 * segment, {@link #read} runs the caller's code on the value in place). Thread-safe: a reader
 * keeps no state between calls.
 */
public final class SharedMapReader implements AutoCloseable {
    /** Re-reads of a slot one lookup may make after a race with the writer, before it gives up. */
    public static final int MAX_RETRIES = 64;
    /** Returned by {@link #get(MemorySegment, MemorySegment)} for an absent key. */
    public static final int ABSENT = -1;

    private static final int NO_MATCH = 0;
    private static final int MATCH = 1;
    private static final int TORN = 2;

    private final MemfdRegion region; // null over a caller's segment
    private final MemorySegment map;  // read-only
    private final Geometry geometry;
    private final String what;
    private final int mask;
    private final int slotCount;
    private final int maxKeyLength;
    private final int maxValueLength;

    private SharedMapReader(MemfdRegion region, MemorySegment map, Geometry geometry, String what) {
        this.region = region;
        this.map = map;
        this.geometry = geometry;
        this.what = what;
        this.slotCount = geometry.slotCount();
        this.mask = slotCount - 1;
        this.maxKeyLength = geometry.maxKeyLength();
        this.maxValueLength = geometry.maxValueLength();
    }

    /**
     * Takes ownership of {@code fd} (a map's {@link SharedMapWriter#readOnlyFd()} as received) and
     * opens the map, checking in this order: the size is one a map can have; the fd is a memfd
     * sealed {@code SHRINK|GROW|FUTURE_WRITE} (so nobody can map it writable any more, nor change
     * its size); its size is {@code size}; only then is it mapped, read-only, and its header
     * validated ({@link SharedMapDescriptor#validate}). On any refusal the fd is closed (and any
     * mapping undone) before the exception leaves.
     *
     * @param fd   the received fd; owned by the reader, or closed on refusal
     * @param size the region size the owner announced ({@link SharedMapWriter#regionSize()})
     * @return the reader, owning the fd and the mapping (close it)
     * @throws RegionRefusedException if the fd is not a memfd, lacks a seal or has another size
     * @throws CorruptMapException    if the header breaks a rule
     */
    public static SharedMapReader adopt(OwnedFd fd, long size) {
        if (size < HEADER_LENGTH || size > MemfdRegion.MAX_SIZE) {
            fd.close();
            throw new RegionRefusedException("shared map: announced size " + size + " is outside " + HEADER_LENGTH
                    + ".." + MemfdRegion.MAX_SIZE);
        }
        // Seals first, then size, then map: with SHRINK|GROW on, nobody can truncate the region
        // under our mapping (SIGBUS), and with FUTURE_WRITE on, no process can gain write access
        // it does not have now.
        MemfdRegion region = MemfdRegion.adopt(fd, size, SharedMapWriter.SEALS);
        try {
            MemorySegment map = region.mapReadOnly();
            String what = "shared map '" + region.name() + "'";
            return new SharedMapReader(region, map, SharedMapDescriptor.validate(map, what), what);
        } catch (RuntimeException e) {
            region.close();
            throw e;
        }
    }

    /**
     * Opens a map in a segment the caller maps by other means (the owner's own, a test's), read-only.
     *
     * @param map  the whole region, 8-aligned
     * @param name names the map in messages
     * @return the reader; closing it does nothing to the segment
     * @throws CorruptMapException if the header breaks a rule
     */
    public static SharedMapReader open(MemorySegment map, String name) {
        String what = "shared map '" + name + "'";
        MemorySegment ro = map.asReadOnly();
        return new SharedMapReader(null, ro, SharedMapDescriptor.validate(ro, what), what);
    }

    // ---------------------------------------------------------------- lookups

    /**
     * Copies the value of {@code key} into {@code dst} (from offset 0) and returns its length, or
     * {@link #ABSENT}. The copy is checked after it is made: what {@code dst} holds on return is one
     * whole value the owner wrote.
     *
     * @param key the key
     * @param dst where the value goes; must hold it (the map's max value length always does)
     * @return the value's length, or {@link #ABSENT}
     * @throws IllegalArgumentException if the value is longer than {@code dst}
     * @throws LimitExceededException   after {@link #MAX_RETRIES} races with the writer on this key
     * @throws CorruptMapException      if a slot holds impossible stable fields
     */
    public int get(MemorySegment key, MemorySegment dst) {
        long keyLength = key.byteSize();
        if (keyLength > maxKeyLength) {
            return ABSENT;
        }
        long hash = SharedMapDescriptor.hash(key, 0, keyLength);
        int retries = 0;
        int slot = (int) hash & mask;
        for (int probe = 0; probe < slotCount; ) {
            long at = geometry.slotOffset(slot);
            // Acquire: the fields the writer stored before releasing this word are visible.
            long c1 = (long) ALIGNED_U64.getAcquire(map, at + SLOT_CONTROL_OFFSET);
            int state = state(c1);
            if (state == EMPTY) {
                return ABSENT; // an empty slot ends every chain through it
            }
            if (state == LIVE) {
                int match = match(at, c1, key, keyLength, hash);
                if (match == MATCH) {
                    int buffer = activeBuffer(c1);
                    long length = u32(map, at + SLOT_VALUE_LENGTH_OFFSET + 4L * buffer);
                    if (length <= maxValueLength && length <= dst.byteSize()) {
                        MemorySegment.copy(map, at + geometry.valueOffset(buffer), dst, 0, length);
                    }
                    if (stable(at, c1)) {
                        if (length > maxValueLength) {
                            throw corrupt(slot, "value length " + length + " exceeds the max value length " + maxValueLength);
                        }
                        if (length > dst.byteSize()) {
                            throw new IllegalArgumentException(what + ": value of " + length + " bytes does not fit the "
                                    + dst.byteSize() + "-byte destination");
                        }
                        return (int) length;
                    }
                    match = TORN;
                }
                if (match == TORN) {
                    retries = retry(retries, slot, key);
                    continue; // the same slot again
                }
            } else if (state != DELETED) {
                throw corrupt(slot, "control word 0x" + Long.toHexString(c1) + " has state 3, which no writer writes");
            }
            slot = (slot + 1) & mask;
            probe++;
        }
        return ABSENT;
    }

    /** {@link #get(MemorySegment, MemorySegment)} for an array key. */
    public int get(byte[] key, MemorySegment dst) {
        return get(MemorySegment.ofArray(key), dst);
    }

    /** {@link #get(MemorySegment, MemorySegment)} for a UTF-8 key (encoding it allocates). */
    public int get(String key, MemorySegment dst) {
        return get(key.getBytes(StandardCharsets.UTF_8), dst);
    }

    /**
     * Runs {@code reader} on the value of {@code key} in place (no copy) and returns its result, or
     * null if the key is absent. The result is returned only if the value did not change while
     * {@code reader} ran; otherwise it runs again on the new value (see {@link ValueReader}).
     *
     * @throws LimitExceededException after {@link #MAX_RETRIES} races with the writer on this key
     * @throws CorruptMapException    if a slot holds impossible stable fields
     */
    public <T> T read(MemorySegment key, ValueReader<T> reader) {
        long keyLength = key.byteSize();
        if (keyLength > maxKeyLength) {
            return null;
        }
        long hash = SharedMapDescriptor.hash(key, 0, keyLength);
        int retries = 0;
        int slot = (int) hash & mask;
        for (int probe = 0; probe < slotCount; ) {
            long at = geometry.slotOffset(slot);
            long c1 = (long) ALIGNED_U64.getAcquire(map, at + SLOT_CONTROL_OFFSET);
            int state = state(c1);
            if (state == EMPTY) {
                return null;
            }
            if (state == LIVE) {
                int match = match(at, c1, key, keyLength, hash);
                if (match == MATCH) {
                    int buffer = activeBuffer(c1);
                    long length = u32(map, at + SLOT_VALUE_LENGTH_OFFSET + 4L * buffer);
                    T result = null;
                    RuntimeException failure = null;
                    if (length <= maxValueLength) {
                        try {
                            result = reader.read(map, at + geometry.valueOffset(buffer), (int) length);
                        } catch (RuntimeException e) {
                            failure = e; // maybe of torn bytes: decided below
                        }
                    }
                    if (stable(at, c1)) {
                        if (length > maxValueLength) {
                            throw corrupt(slot, "value length " + length + " exceeds the max value length " + maxValueLength);
                        }
                        if (failure != null) {
                            throw failure; // the reader's own failure on a whole value
                        }
                        return result;
                    }
                    match = TORN;
                }
                if (match == TORN) {
                    retries = retry(retries, slot, key);
                    continue;
                }
            } else if (state != DELETED) {
                throw corrupt(slot, "control word 0x" + Long.toHexString(c1) + " has state 3, which no writer writes");
            }
            slot = (slot + 1) & mask;
            probe++;
        }
        return null;
    }

    /**
     * Whether {@code key} is live.
     *
     * @throws LimitExceededException after {@link #MAX_RETRIES} races with the writer on this key
     * @throws CorruptMapException    if a slot holds impossible stable fields
     */
    public boolean contains(MemorySegment key) {
        long keyLength = key.byteSize();
        if (keyLength > maxKeyLength) {
            return false;
        }
        long hash = SharedMapDescriptor.hash(key, 0, keyLength);
        int retries = 0;
        int slot = (int) hash & mask;
        for (int probe = 0; probe < slotCount; ) {
            long at = geometry.slotOffset(slot);
            long c1 = (long) ALIGNED_U64.getAcquire(map, at + SLOT_CONTROL_OFFSET);
            int state = state(c1);
            if (state == EMPTY) {
                return false;
            }
            if (state == LIVE) {
                int match = match(at, c1, key, keyLength, hash);
                if (match == MATCH) {
                    if (stable(at, c1)) {
                        return true;
                    }
                    match = TORN;
                }
                if (match == TORN) {
                    retries = retry(retries, slot, key);
                    continue;
                }
            } else if (state != DELETED) {
                throw corrupt(slot, "control word 0x" + Long.toHexString(c1) + " has state 3, which no writer writes");
            }
            slot = (slot + 1) & mask;
            probe++;
        }
        return false;
    }

    /** {@link #contains(MemorySegment)} for an array key. */
    public boolean contains(byte[] key) {
        return contains(MemorySegment.ofArray(key));
    }

    /** {@link #contains(MemorySegment)} for a UTF-8 key. */
    public boolean contains(String key) {
        return contains(key.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Compares the key of a LIVE slot (word {@code c1}) with {@code key}: MATCH (to be confirmed by
     * the caller's own check after it reads the value), NO_MATCH (confirmed: the slot was stable),
     * or TORN (the slot changed while we looked).
     */
    private int match(long at, long c1, MemorySegment key, long keyLength, long hash) {
        // Plain loads: possibly racing the writer, confirmed by stable() below or by the caller.
        if (map.get(U64, at + SLOT_HASH_OFFSET) != hash) {
            return stable(at, c1) ? NO_MATCH : TORN;
        }
        long storedLength = u32(map, at + SLOT_KEY_LENGTH_OFFSET);
        if (storedLength > maxKeyLength) {
            if (stable(at, c1)) {
                throw corrupt((int) ((at - HEADER_LENGTH) / geometry.slotLength()),
                        "key length " + storedLength + " exceeds the max key length " + maxKeyLength);
            }
            return TORN;
        }
        long keyAt = at + SLOT_KEY_OFFSET;
        if (storedLength != keyLength || MemorySegment.mismatch(key, 0, keyLength, map, keyAt, keyAt + keyLength) != -1) {
            return stable(at, c1) ? NO_MATCH : TORN;
        }
        return MATCH;
    }

    /**
     * Whether the slot's control word is still {@code c1}: every plain load made since the
     * acquire load of {@code c1} then read bytes the writer wrote before releasing {@code c1},
     * and none it wrote after (it changes the word before it writes any byte a reader of
     * {@code c1} may read, and fences the word ahead of those stores).
     */
    private boolean stable(long at, long c1) {
        // LoadLoad: the data loads above complete before the second load of the word. Opaque:
        // a real load (not one the compiler reuses), with no ordering needed beyond the fence.
        VarHandle.loadLoadFence();
        return (long) ALIGNED_U64.getOpaque(map, at + SLOT_CONTROL_OFFSET) == c1;
    }

    private int retry(int retries, int slot, MemorySegment key) {
        if (retries == MAX_RETRIES) {
            throw new LimitExceededException(what + ": key " + SharedMapWriter.describe(key, 0, key.byteSize())
                    + " in slot " + slot + " changed during each of " + (MAX_RETRIES + 1)
                    + " reads: the writer updated it faster than this reader could read it");
        }
        return retries + 1;
    }

    private CorruptMapException corrupt(int slot, String detail) {
        return new CorruptMapException(what + ": slot " + slot + ": " + detail);
    }

    // ---------------------------------------------------------------- iteration

    /**
     * Calls {@code action} with every entry that was live and stable when its slot was read, in
     * slot order: each key and value is a copy of one whole entry (segments valid during the call,
     * reused for the next). Entries put or removed during the walk may or may not be seen; an
     * entry is never seen twice, nor half-written. Allocates two buffers of the map's maxima per
     * call.
     *
     * @param action called once per entry
     * @return how many entries it was called with
     * @throws LimitExceededException after {@link #MAX_RETRIES} races with the writer on one slot
     * @throws CorruptMapException    if a slot holds impossible stable fields
     */
    public int forEach(BiConsumer<MemorySegment, MemorySegment> action) {
        MemorySegment keyCopy = MemorySegment.ofArray(new byte[maxKeyLength]);
        MemorySegment valueCopy = MemorySegment.ofArray(new byte[maxValueLength]);
        int n = 0;
        for (int slot = 0; slot < slotCount; slot++) {
            long at = geometry.slotOffset(slot);
            for (int retries = 0; ; ) {
                long c1 = (long) ALIGNED_U64.getAcquire(map, at + SLOT_CONTROL_OFFSET);
                int state = state(c1);
                if (state == EMPTY || state == DELETED) {
                    break;
                }
                if (state != LIVE) {
                    throw corrupt(slot, "control word 0x" + Long.toHexString(c1) + " has state 3, which no writer writes");
                }
                long keyLength = u32(map, at + SLOT_KEY_LENGTH_OFFSET);
                int buffer = activeBuffer(c1);
                long valueLength = u32(map, at + SLOT_VALUE_LENGTH_OFFSET + 4L * buffer);
                boolean inRange = keyLength <= maxKeyLength && valueLength <= maxValueLength;
                if (inRange) {
                    MemorySegment.copy(map, at + SLOT_KEY_OFFSET, keyCopy, 0, keyLength);
                    MemorySegment.copy(map, at + geometry.valueOffset(buffer), valueCopy, 0, valueLength);
                }
                if (stable(at, c1)) {
                    if (!inRange) {
                        throw corrupt(slot, "key length " + keyLength + " or value length " + valueLength
                                + " exceeds the maxima " + maxKeyLength + " and " + maxValueLength);
                    }
                    action.accept(keyCopy.asSlice(0, keyLength), valueCopy.asSlice(0, valueLength));
                    n++;
                    break;
                }
                if (retries++ == MAX_RETRIES) {
                    throw new LimitExceededException(what + ": slot " + slot + " changed during each of "
                            + (MAX_RETRIES + 1) + " reads: the writer updated it faster than this reader could read it");
                }
            }
        }
        return n;
    }

    // ---------------------------------------------------------------- the header

    /** Live entries, as the owner last published them (informational: opaque, unchecked). */
    public long size() {
        return (long) ALIGNED_U64.getOpaque(map, LIVE_ENTRIES_OFFSET);
    }

    /** Updates the owner has applied, as it last published them (informational). */
    public long updatesApplied() {
        return (long) ALIGNED_U64.getOpaque(map, UPDATES_APPLIED_OFFSET);
    }

    public Geometry geometry() {
        return geometry;
    }

    /** The whole map, read-only. */
    public MemorySegment segment() {
        return map;
    }

    /** The memfd region this reader adopted (e.g. to show what the kernel refuses). */
    public MemfdRegion region() {
        if (region == null) {
            throw new IllegalStateException(what + " was opened over a segment, not adopted");
        }
        return region;
    }

    /** Unmaps the map and closes the fd (if adopted). Idempotent. */
    @Override
    public void close() {
        if (region != null) {
            region.close();
        }
    }

    @Override
    public String toString() {
        return what + " (" + geometry.slotCount() + " slots, capacity " + geometry.capacity() + ", "
                + map.byteSize() + " bytes, read-only)";
    }
}
