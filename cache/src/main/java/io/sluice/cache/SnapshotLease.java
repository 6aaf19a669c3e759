package io.sluice.cache;

import io.sluice.cache.snapshot.SealedSnapshot;
import io.sluice.cache.snapshot.SnapshotReader;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One version of a subscribed snapshot, held: what {@link SnapshotSubscription#acquire()}
 * returns. While any lease of a version is open the version stays mapped, even after a newer one
 * arrived; the last {@link #close()} of a version that is no longer current unmaps it and closes
 * its fd. Use it in try-with-resources:
 * <pre>{@code
 * try (SnapshotLease s = subscription.acquire()) {
 *     MemorySegment v = s.get(key);   // a read-only slice of the mapping, valid until close
 * }
 * }</pre>
 *
 * <p>There is one lease object per version, shared by every acquire of it (which is why
 * acquiring allocates nothing): close it exactly once per {@link SnapshotSubscription#acquire()}.
 * Closing more often than acquiring is caught ({@link IllegalStateException}) once the count
 * would go below zero; before that it unmaps the version early, and the next access through it
 * throws {@link IllegalStateException} (never touches unmapped memory: the mapping's arena is closed).
 */
public final class SnapshotLease implements AutoCloseable {
    private final SealedSnapshot snapshot;
    private final SnapshotReader reader;
    // Holders: each open acquire, plus one for the subscription while this version is current.
    // 0 is final: the version is unmapped and no acquire can succeed again.
    private final AtomicLong holders = new AtomicLong(1);

    SnapshotLease(SealedSnapshot snapshot) {
        this.snapshot = snapshot;
        this.reader = snapshot.reader();
    }

    /** One more holder, unless the version is already gone (count 0); CAS so that 0 stays 0. */
    boolean tryRetain() {
        long h;
        do {
            h = holders.get();
            if (h == 0) {
                return false;
            }
        } while (!holders.compareAndSet(h, h + 1));
        return true;
    }

    /** The snapshot version held. */
    public long version() {
        return reader.snapshotVersion();
    }

    /** The value of {@code key}: a read-only slice of the mapping, or null. Valid until this lease closes. */
    public MemorySegment get(MemorySegment key) {
        return reader.get(key);
    }

    /** {@link #get(MemorySegment)} for a key in an array. */
    public MemorySegment get(byte[] key) {
        return reader.get(key);
    }

    /** {@link #get(MemorySegment)} for the UTF-8 bytes of {@code key}. */
    public MemorySegment get(String key) {
        return reader.get(key);
    }

    /** The allocation-free lookup: see {@link SnapshotReader#findEntry}. */
    public long findEntry(MemorySegment key) {
        return reader.findEntry(key);
    }

    /** The whole table, read-only; with {@link #findEntry} and {@link #reader()} for reading values in place. */
    public MemorySegment segment() {
        return reader.segment();
    }

    /** The table's reader: counts, {@code valueOffset}, {@code valueLength}. */
    public SnapshotReader reader() {
        return reader;
    }

    /** Releases this holder; the last one out of a replaced version unmaps it and closes its fd. */
    @Override
    public void close() {
        long h;
        do {
            h = holders.get();
            if (h == 0) {
                throw new IllegalStateException("snapshot v" + version() + " released more often than acquired");
            }
        } while (!holders.compareAndSet(h, h - 1));
        if (h == 1) {
            snapshot.close();
        }
    }

    @Override
    public String toString() {
        return "SnapshotLease[v" + version() + ", " + holders.get() + " holders]";
    }
}
