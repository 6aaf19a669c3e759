package io.sluice.cache.snapshot;

import io.sluice.memfd.OwnedFd;
import io.sluice.memfd.MemfdRegion;

/**
 * One version of a snapshot table as a reader holds it: the received memfd, checked before it
 * was mapped (a memfd, sealed {@code SHRINK|GROW|WRITE}, of the announced size), mapped
 * read-only, its header validated and its version the one announced. Closing it unmaps the
 * table and closes the fd; slices handed out by {@link #reader()} are unusable after that.
 */
public final class SealedSnapshot implements AutoCloseable {
    private final MemfdRegion region;
    private final SnapshotReader reader;

    private SealedSnapshot(MemfdRegion region, SnapshotReader reader) {
        this.region = region;
        this.reader = reader;
    }

    /**
     * Takes ownership of {@code fd} and opens the table in it. On any refusal the fd is closed
     * (and any mapping undone) before the exception leaves.
     *
     * @param size            the region size the owner announced
     * @param expectedVersion the snapshot version the owner announced; the header must agree
     * @throws io.sluice.api.RegionRefusedException if the fd is not a memfd, lacks a seal or has another size
     * @throws CorruptSnapshotException             if the table's header is wrong or names another version
     */
    public static SealedSnapshot adopt(OwnedFd fd, long size, long expectedVersion) {
        // Seals first, then size, then map: with WRITE on, nobody can change the bytes we are
        // about to validate, and with SHRINK|GROW on, nobody can truncate them into a SIGBUS.
        MemfdRegion region = MemfdRegion.adopt(fd, size, SnapshotWriter.SEALS);
        try {
            SnapshotReader reader = SnapshotReader.open(region.mapReadOnly(), region.name());
            if (reader.snapshotVersion() != expectedVersion) {
                throw new CorruptSnapshotException("snapshot '" + region.name() + "': header says version "
                        + reader.snapshotVersion() + ", the owner announced " + expectedVersion);
            }
            return new SealedSnapshot(region, reader);
        } catch (RuntimeException e) {
            region.close();
            throw e;
        }
    }

    /** Lookups over this version. */
    public SnapshotReader reader() {
        return reader;
    }

    public long version() {
        return reader.snapshotVersion();
    }

    /** The memfd region, e.g. to show what the kernel refuses. */
    public MemfdRegion region() {
        return region;
    }

    /** Unmaps the table and closes the fd. Idempotent. */
    @Override
    public void close() {
        region.close();
    }

    @Override
    public String toString() {
        return reader + " in " + region;
    }
}
