package io.sluice.cache.map;

import io.sluice.api.LimitExceededException;
import io.sluice.api.MessageHandler;
import io.sluice.api.Role;
import io.sluice.channel.ChannelHost;
import io.sluice.channel.HostedMpmcChannel;
import io.sluice.channel.MpmcAttachment;
import io.sluice.channel.MpmcOptions;
import io.sluice.memfd.MemfdRegion;
import io.sluice.memfd.OwnedFd;
import io.sluice.memfd.Seal;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.Set;
import java.util.function.BiConsumer;

import static io.sluice.cache.map.SharedMapDescriptor.*;

/**
 * The owner of a shared map, and its only writer: creates the memfd, maps it writable, seals it
 * {@code SHRINK|GROW|FUTURE_WRITE|SEAL} (every later mapping, in any process, this one included,
 * can only be read-only: the kernel enforces the single writer), and puts and removes entries in
 * place with the slot protocol of {@link SharedMapDescriptor}. Readers in other processes receive
 * {@link #readOnlyFd()} and {@link SharedMapReader#adopt} it.
 *
 * <p>Other processes that must change the map send their updates to the owner through an MPMC
 * channel ({@link #hostUpdates}, {@link SharedMapUpdater}); the owner applies them with
 * {@link #applyUpdates}, so the map keeps exactly one writer.
 *
 * <p>Not thread-safe: exactly one thread calls the methods that write (put, remove, applyUpdates);
 * reads by other threads go through a {@link SharedMapReader} ({@link #reader()}), like any
 * other process's. Deleted slots stay tombstones (they are reused by inserts, never emptied), so
 * a lookup of an absent key may examine every slot once the map has seen many deletes.
 */
public final class SharedMapWriter implements AutoCloseable {
    /** The seals every map region carries before its fd leaves the owner (plus {@code SEAL}). */
    public static final Set<Seal> SEALS = Set.of(Seal.SHRINK, Seal.GROW, Seal.FUTURE_WRITE);

    private static final System.Logger LOG = System.getLogger("io.sluice.cache.map");

    private final MemfdRegion region; // null over a caller's segment
    private final MemorySegment map;
    private final Geometry geometry;
    private final String name;
    private final String what;
    private final int mask;
    private final long keyAtInSlot;
    private int live;
    private long updatesApplied;

    // Updates from other processes (hostUpdates): the owner's consumer of the MPMC channel.
    private HostedMpmcChannel updateChannel;
    private MpmcAttachment updates;
    private long rejectedUpdates;
    private MemorySegment updateRing; // the consumer's read-only view of the whole ring
    /*
     * Hands on the payload's place in the ring, never the payload slice: the slice then stays
     * inside this inlined handler and the JIT scalar-replaces it; passed into put (too big to
     * inline) it escaped, and every update allocated 40 bytes.
     */
    private final MessageHandler applier = (type, payload) -> {
        MemorySegment ring = updateRing;
        if (payload.isNative() && ring.isNative()) {
            applyUpdate(type, ring, payload.address() - ring.address(), payload.byteSize());
        } else {
            applyUpdate(type, payload, 0, payload.byteSize());
        }
    };

    private SharedMapWriter(MemfdRegion region, MemorySegment map, Geometry geometry, String name) {
        this.region = region;
        this.map = map;
        this.geometry = geometry;
        this.name = name;
        this.what = "shared map '" + name + "'";
        this.mask = geometry.slotCount() - 1;
        this.keyAtInSlot = SLOT_KEY_OFFSET;
    }

    /**
     * Creates the map: a memfd named {@code sluice:<name>} of exactly {@link SharedMapOptions#regionSize()}
     * bytes, mapped read-write in this process, the header written, then sealed
     * {@code SHRINK|GROW|FUTURE_WRITE} and {@code SEAL}. The seals come after the mapping:
     * {@code FUTURE_WRITE} refuses every later writable mapping, and keeps this one.
     *
     * @param name    the map's name (a channel name: see {@link io.sluice.api.ChannelNames})
     * @param options capacity and maxima, already bounded
     * @return the owner, owning the region (close it)
     * @throws IllegalArgumentException          if the name is not acceptable
     * @throws io.sluice.api.SystemCallException if the memfd cannot be made, mapped or sealed
     */
    public static SharedMapWriter create(String name, SharedMapOptions options) {
        Objects.requireNonNull(options, "options");
        MemfdRegion region = MemfdRegion.create(name, options.regionSize());
        try {
            MemorySegment map = region.mapReadWrite(); // zero-filled: every slot EMPTY
            Geometry g = writeHeader(map, options);
            region.addSeals(SEALS);
            region.addSeals(Seal.SEAL); // final: no holder of the fd can add a seal of its own
            return new SharedMapWriter(region, map, g, name);
        } catch (RuntimeException e) {
            region.close();
            throw e;
        }
    }

    /**
     * Formats a map in a caller's segment (zero-filled, at least {@link SharedMapOptions#regionSize()}
     * bytes, 8-aligned) and writes it; for tests and for memory the caller shares by other means.
     * Only the first {@code regionSize()} bytes are used.
     *
     * @param segment zero-filled, writable, 8-aligned
     * @param options capacity and maxima
     * @param name    names the map in messages
     * @return the writer over {@code segment}; closing it does nothing to the segment
     */
    public static SharedMapWriter format(MemorySegment segment, SharedMapOptions options, String name) {
        long size = options.regionSize();
        if (segment.byteSize() < size) {
            throw new IllegalArgumentException("shared map '" + name + "': segment of " + segment.byteSize()
                    + " bytes is smaller than the " + size + " bytes the map needs");
        }
        MemorySegment map = segment.asSlice(0, size);
        return new SharedMapWriter(null, map, writeHeader(map, options), name);
    }

    private static Geometry writeHeader(MemorySegment map, SharedMapOptions o) {
        // Plain stores: the socket message that carries the fd publishes them.
        map.set(U64, MAGIC_OFFSET, MAGIC);
        map.set(U32, LAYOUT_VERSION_OFFSET, LAYOUT_VERSION);
        map.set(U32, HEADER_LENGTH_OFFSET, HEADER_LENGTH);
        map.set(U32, SLOT_COUNT_OFFSET, o.slotCount());
        map.set(U32, SLOT_LENGTH_OFFSET, o.slotLength());
        map.set(U32, MAX_KEY_LENGTH_OFFSET, o.maxKeyLength());
        map.set(U32, MAX_VALUE_LENGTH_OFFSET, o.maxValueLength());
        map.set(U32, CAPACITY_OFFSET, o.capacity());
        return new Geometry(o.slotCount(), o.slotLength(), o.maxKeyLength(), o.maxValueLength(), o.capacity());
    }

    // ---------------------------------------------------------------- writing

    /**
     * Maps {@code key} to {@code value}: an update of a live key writes the inactive value buffer
     * and then flips the slot's control word, an insert fills a free slot and then makes it live.
     * A reader sees the old value or the new one, never a mix, even if this process dies midway.
     *
     * @param key   1 to max key length bytes (0 allowed too)
     * @param value 0 to max value length bytes
     * @return true if the key was new, false if its value was replaced
     * @throws IllegalArgumentException if the key or value is longer than the map's maximum
     * @throws LimitExceededException   if the key is new and the map already holds {@code capacity} entries
     */
    public boolean put(MemorySegment key, MemorySegment value) {
        return put(key, 0, key.byteSize(), value, 0, value.byteSize());
    }

    /** {@link #put(MemorySegment, MemorySegment)} for arrays. */
    public boolean put(byte[] key, byte[] value) {
        return put(MemorySegment.ofArray(key), MemorySegment.ofArray(value));
    }

    /** {@link #put(MemorySegment, MemorySegment)} for a UTF-8 key. */
    public boolean put(String key, byte[] value) {
        return put(key.getBytes(StandardCharsets.UTF_8), value);
    }

    boolean put(MemorySegment src, long keyAt, long keyLength, MemorySegment valueSrc, long valueAt, long valueLength) {
        if (keyLength > geometry.maxKeyLength()) {
            throw new IllegalArgumentException(what + ": key of " + keyLength + " bytes is longer than the max key length "
                    + geometry.maxKeyLength());
        }
        if (valueLength > geometry.maxValueLength()) {
            throw new IllegalArgumentException(what + ": value of " + valueLength + " bytes is longer than the max value length "
                    + geometry.maxValueLength());
        }
        long hash = SharedMapDescriptor.hash(src, keyAt, keyLength);
        int found = locate(src, keyAt, keyLength, hash);
        if (found >= 0) {
            update(geometry.slotOffset(found), valueSrc, valueAt, valueLength);
            return false;
        }
        if (live >= geometry.capacity()) {
            throw new LimitExceededException(what + ": full (" + live + " live entries, the capacity); new key "
                    + describe(src, keyAt, keyLength) + " refused");
        }
        if (found == NO_FREE_SLOT) { // cannot happen with at most capacity <= 3/4 slot count live entries
            throw new LimitExceededException(what + ": no free slot for new key " + describe(src, keyAt, keyLength));
        }
        insert(geometry.slotOffset(~found), hash, src, keyAt, keyLength, valueSrc, valueAt, valueLength);
        return true;
    }

    private static final int NO_FREE_SLOT = Integer.MIN_VALUE;

    /**
     * The slot holding {@code key} live, or {@code ~slot} of the slot an insert takes (the first
     * DELETED one on the chain, else the EMPTY one that ends it), or {@link #NO_FREE_SLOT}.
     * Plain loads of the control words: this thread is their only writer.
     */
    private int locate(MemorySegment src, long keyAt, long keyLength, long hash) {
        int firstFree = -1;
        int slot = (int) hash & mask;
        for (int probe = 0; probe < geometry.slotCount(); probe++) {
            long at = geometry.slotOffset(slot);
            long control = map.get(U64, at + SLOT_CONTROL_OFFSET);
            int state = state(control);
            if (state == EMPTY) {
                return ~(firstFree >= 0 ? firstFree : slot);
            }
            if (state == DELETED) {
                if (firstFree < 0) {
                    firstFree = slot;
                }
            } else if (map.get(U64, at + SLOT_HASH_OFFSET) == hash
                    && u32(map, at + SLOT_KEY_LENGTH_OFFSET) == keyLength
                    && MemorySegment.mismatch(src, keyAt, keyAt + keyLength, map, at + keyAtInSlot, at + keyAtInSlot + keyLength) == -1) {
                return slot;
            }
            slot = (slot + 1) & mask;
        }
        return firstFree >= 0 ? ~firstFree : NO_FREE_SLOT;
    }

    private void insert(long at, long hash, MemorySegment src, long keyAt, long keyLength,
                        MemorySegment valueSrc, long valueAt, long valueLength) {
        long control = map.get(U64, at + SLOT_CONTROL_OFFSET);
        // The slot is EMPTY or DELETED: a reader stops at it or skips it, whatever these plain
        // stores leave half-written; a reader still inside it under an earlier LIVE word sees
        // the word changed (the delete advanced it) and retries.
        map.set(U64, at + SLOT_HASH_OFFSET, hash);
        map.set(U32, at + SLOT_KEY_LENGTH_OFFSET, (int) keyLength);
        MemorySegment.copy(src, keyAt, map, at + keyAtInSlot, keyLength);
        MemorySegment.copy(valueSrc, valueAt, map, at + geometry.valueOffset(0), valueLength);
        map.set(U32, at + SLOT_VALUE_LENGTH_OFFSET, (int) valueLength);
        // Release: every store above is visible to a reader that acquire-loads this word.
        ALIGNED_U64.setRelease(map, at + SLOT_CONTROL_OFFSET, control(changeCount(control) + 1, 0, LIVE));
        // StoreStore: the new word is visible before any store of a later update of this slot,
        // so a reader that sees such a store sees the word changed when it re-checks.
        VarHandle.storeStoreFence();
        live++;
        changed();
    }

    private void update(long at, MemorySegment valueSrc, long valueAt, long valueLength) {
        long control = map.get(U64, at + SLOT_CONTROL_OFFSET);
        int inactive = 1 - activeBuffer(control);
        // The inactive buffer: readers that trust the current word read the other one; a reader
        // still on this buffer from two updates ago sees the word changed and retries.
        MemorySegment.copy(valueSrc, valueAt, map, at + geometry.valueOffset(inactive), valueLength);
        map.set(U32, at + SLOT_VALUE_LENGTH_OFFSET + 4L * inactive, (int) valueLength);
        ALIGNED_U64.setRelease(map, at + SLOT_CONTROL_OFFSET, control(changeCount(control) + 1, inactive, LIVE));
        VarHandle.storeStoreFence(); // as in insert: before the next update's data stores
        changed();
    }

    /**
     * Removes {@code key}: its slot becomes a tombstone (DELETED, change count advanced), skipped
     * by lookups and reused by a later insert; tombstones never become EMPTY again.
     *
     * @param key the key
     * @return true if the key was present
     */
    public boolean remove(MemorySegment key) {
        return remove(key, 0, key.byteSize());
    }

    /** {@link #remove(MemorySegment)} for an array. */
    public boolean remove(byte[] key) {
        return remove(MemorySegment.ofArray(key));
    }

    /** {@link #remove(MemorySegment)} for a UTF-8 key. */
    public boolean remove(String key) {
        return remove(key.getBytes(StandardCharsets.UTF_8));
    }

    boolean remove(MemorySegment src, long keyAt, long keyLength) {
        if (keyLength > geometry.maxKeyLength()) {
            return false; // never stored
        }
        int found = locate(src, keyAt, keyLength, SharedMapDescriptor.hash(src, keyAt, keyLength));
        if (found < 0) {
            return false;
        }
        long at = geometry.slotOffset(found);
        long control = map.get(U64, at + SLOT_CONTROL_OFFSET);
        // Release then StoreStore, as in insert: the tombstone is visible before the key bytes
        // of a later insert into this slot change.
        ALIGNED_U64.setRelease(map, at + SLOT_CONTROL_OFFSET, control(changeCount(control) + 1, 0, DELETED));
        VarHandle.storeStoreFence();
        live--;
        changed();
        return true;
    }

    private void changed() {
        updatesApplied++;
        // Opaque: informational counters for monitors; nobody orders anything on them.
        ALIGNED_U64.setOpaque(map, LIVE_ENTRIES_OFFSET, (long) live);
        ALIGNED_U64.setOpaque(map, UPDATES_APPLIED_OFFSET, updatesApplied);
    }

    // ---------------------------------------------------------------- the owner's own reads

    /**
     * The value of {@code key}, as a read-only slice of the map, or null. The slice shows the
     * slot's value buffer: valid until the next update of this key (by this thread), after which
     * it may hold another value.
     *
     * @param key the key
     * @return the value in place, or null if absent
     */
    public MemorySegment get(MemorySegment key) {
        long keyLength = key.byteSize();
        if (keyLength > geometry.maxKeyLength()) {
            return null;
        }
        int found = locate(key, 0, keyLength, SharedMapDescriptor.hash(key, 0, keyLength));
        if (found < 0) {
            return null;
        }
        long at = geometry.slotOffset(found);
        int active = activeBuffer(map.get(U64, at + SLOT_CONTROL_OFFSET));
        long length = u32(map, at + SLOT_VALUE_LENGTH_OFFSET + 4L * active);
        return map.asSlice(at + geometry.valueOffset(active), length).asReadOnly();
    }

    /** {@link #get(MemorySegment)} for an array. */
    public MemorySegment get(byte[] key) {
        return get(MemorySegment.ofArray(key));
    }

    /** {@link #get(MemorySegment)} for a UTF-8 key. */
    public MemorySegment get(String key) {
        return get(key.getBytes(StandardCharsets.UTF_8));
    }

    /** Whether {@code key} is live. */
    public boolean contains(MemorySegment key) {
        return get(key) != null;
    }

    /**
     * Calls {@code action} with every live entry (key, value: read-only slices of the map, valid
     * during the call), in slot order. The action must not change the map.
     *
     * @param action called once per live entry
     * @return how many entries it was called with
     */
    public int forEach(BiConsumer<MemorySegment, MemorySegment> action) {
        int n = 0;
        for (int slot = 0; slot < geometry.slotCount(); slot++) {
            long at = geometry.slotOffset(slot);
            long control = map.get(U64, at + SLOT_CONTROL_OFFSET);
            if (state(control) != LIVE) {
                continue;
            }
            int active = activeBuffer(control);
            MemorySegment key = map.asSlice(at + keyAtInSlot, u32(map, at + SLOT_KEY_LENGTH_OFFSET)).asReadOnly();
            MemorySegment value = map.asSlice(at + geometry.valueOffset(active),
                    u32(map, at + SLOT_VALUE_LENGTH_OFFSET + 4L * active)).asReadOnly();
            action.accept(key, value);
            n++;
        }
        return n;
    }

    /** Live entries now. */
    public int size() {
        return live;
    }

    /** Puts and removes applied since creation (each that changed the map). */
    public long updatesApplied() {
        return updatesApplied;
    }

    // ---------------------------------------------------------------- updates from other processes

    /**
     * Hosts the channel other processes send updates through ({@link SharedMapUpdater#attach}),
     * an MPMC channel of {@code host}, and joins it as this map's only consumer. The options'
     * messages must hold the map's largest update ({@link SharedMapUpdates#channelOptions}
     * makes fitting ones). The channel is closed with this writer.
     *
     * @param host    the host other processes attach to
     * @param channel the channel's name on that host
     * @param options the ring; its longest message must hold {@link SharedMapUpdates#maxMessageLength}
     * @return the hosted channel
     * @throws IllegalArgumentException if the ring's messages are too short for the map's updates
     * @throws IllegalStateException    if this writer already hosts an update channel
     */
    public HostedMpmcChannel hostUpdates(ChannelHost host, String channel, MpmcOptions options) {
        if (updates != null) {
            throw new IllegalStateException(what + " already takes updates from channel '" + updateChannel.name() + "'");
        }
        long needed = SharedMapUpdates.maxMessageLength(geometry.maxKeyLength(), geometry.maxValueLength());
        long fits = (long) options.slotLength() - SharedMapUpdates.MPMC_SLOT_OVERHEAD;
        if (fits < needed) {
            throw new IllegalArgumentException(what + ": update channel slots of " + options.slotLength()
                    + " bytes carry " + fits + "-byte messages; the map's largest update takes " + needed);
        }
        HostedMpmcChannel hosted = host.mpmc(channel, options);
        try {
            updates = hosted.attachLocal(Role.CONSUMER);
            updateRing = updates.consumer().buffer();
        } catch (RuntimeException e) {
            hosted.close();
            throw e;
        }
        updateChannel = hosted;
        return hosted;
    }

    /**
     * Applies at most {@code limit} updates waiting in the channel of {@link #hostUpdates}, in the
     * order the channel delivers them (each sender's in the order it sent them). An update whose
     * bytes break the rules of {@link SharedMapUpdates} (unknown type, lengths above the map's
     * maxima or not adding up), or a PUT of a new key into a full map, is not applied at all: it
     * is counted ({@link #rejectedUpdates()}) and logged.
     *
     * @param limit the most updates to take, at least 1
     * @return how many were taken (applied or rejected); 0 if none was waiting
     * @throws IllegalStateException if no update channel is hosted
     */
    public int applyUpdates(int limit) {
        if (updates == null) {
            throw new IllegalStateException(what + " hosts no update channel (hostUpdates)");
        }
        return updates.poll(applier, limit);
    }

    private void applyUpdate(int type, MemorySegment source, long at, long size) {
        String problem = SharedMapUpdates.check(type, source, at, size, geometry.maxKeyLength(), geometry.maxValueLength());
        if (problem == null) {
            try {
                if (type == SharedMapUpdates.PUT) {
                    long keyLength = SharedMapUpdates.keyLength(source, at);
                    long keyAt = at + SharedMapUpdates.PUT_HEADER_LENGTH;
                    put(source, keyAt, keyLength, source, keyAt + keyLength, SharedMapUpdates.valueLength(source, at));
                } else {
                    remove(source, at + SharedMapUpdates.REMOVE_HEADER_LENGTH, SharedMapUpdates.keyLength(source, at));
                }
                return;
            } catch (LimitExceededException e) {
                problem = e.getMessage(); // checked before any store: nothing was applied
            }
        }
        rejectedUpdates++;
        // Powers of two only: a sender cannot flood the log.
        if (Long.bitCount(rejectedUpdates) == 1) {
            LOG.log(System.Logger.Level.WARNING, what + ": update rejected (" + rejectedUpdates + " so far): " + problem);
        }
    }

    /** Updates from the channel that were rejected and not applied. */
    public long rejectedUpdates() {
        return rejectedUpdates;
    }

    // ---------------------------------------------------------------- hand-over

    /** The map's name, without the {@code sluice:} prefix. */
    public String name() {
        return name;
    }

    /** The region's size in bytes: what a reader passes to {@link SharedMapReader#adopt}. */
    public long regionSize() {
        return map.byteSize();
    }

    public Geometry geometry() {
        return geometry;
    }

    /**
     * An {@code O_RDONLY} fd of the map's memfd, for readers: send it (the socket call duplicates
     * it for each reader); owned by this writer, do not close it.
     *
     * @throws IllegalStateException if the map was made by {@link #format} (no memfd)
     */
    public OwnedFd readOnlyFd() {
        return region().readOnlyFd();
    }

    /** The memfd region (for its seals and fds). */
    public MemfdRegion region() {
        if (region == null) {
            throw new IllegalStateException(what + " lives in a caller's segment, not in a memfd");
        }
        return region;
    }

    /** A reader over this writer's own mapping, for other threads of this process. */
    public SharedMapReader reader() {
        return SharedMapReader.open(map, name);
    }

    /** The writable mapping (tests: to damage it on purpose). */
    MemorySegment segment() {
        return map;
    }

    /**
     * Leaves the update channel, closes it, unmaps the map and closes its fds. Readers keep their
     * own mappings (the memfd lives while any fd or mapping does). Idempotent.
     */
    @Override
    public void close() {
        try {
            if (updates != null) {
                updates.close();
                updateChannel.close();
            }
        } finally {
            if (region != null) {
                region.close();
            }
        }
    }

    static String describe(MemorySegment src, long at, long length) {
        long n = Math.min(length, 64);
        boolean printable = true;
        for (long i = 0; i < n && printable; i++) {
            byte b = src.get(ValueLayout.JAVA_BYTE, at + i);
            printable = b >= 0x20 && b < 0x7F;
        }
        StringBuilder sb = new StringBuilder(printable ? "\"" : "0x");
        for (long i = 0; i < n; i++) {
            byte b = src.get(ValueLayout.JAVA_BYTE, at + i);
            if (printable) {
                sb.append((char) b);
            } else {
                sb.append(Character.forDigit((b >> 4) & 0xF, 16)).append(Character.forDigit(b & 0xF, 16));
            }
        }
        if (printable) {
            sb.append('"');
        }
        return length > n ? sb + "... (" + length + " bytes)" : sb.toString();
    }

    @Override
    public String toString() {
        return what + " (" + live + "/" + geometry.capacity() + " live, " + geometry.slotCount() + " slots, "
                + map.byteSize() + " bytes)";
    }
}
