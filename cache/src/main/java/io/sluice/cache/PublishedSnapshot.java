package io.sluice.cache;

import io.sluice.api.SystemCallException;
import io.sluice.cache.snapshot.SnapshotWriter;
import io.sluice.memfd.MemfdRegion;

/**
 * A sealed snapshot a {@link CacheHost} serves under a name: each {@link #publish} lays a table
 * out in a new memfd, seals it {@code SHRINK|GROW|WRITE} (from then on not even this process can
 * change it), and sends it to every subscribed reader; a reader that subscribes later gets the
 * current version. The owner keeps only the newest version: the one it replaces is closed here
 * once sent, and lives on in the readers that still hold it.
 *
 * <p>Thread safety: any thread may publish and close; publications are serialised.
 */
public final class PublishedSnapshot implements AutoCloseable {
    private final ServedRegion region;
    private long lastVersion; // guarded by this

    PublishedSnapshot(ServedRegion region) {
        this.region = region;
    }

    /** The name readers subscribe by. */
    public String name() {
        return region.name();
    }

    /**
     * Builds the table {@code writer} holds as the next version (1, 2, 3...), seals it and sends
     * it to every reader.
     *
     * @param writer the table; it may be reused or changed afterwards, the version is a copy
     * @return the version published
     * @throws IllegalStateException if this snapshot or its host is closed
     */
    public synchronized long publish(SnapshotWriter writer) {
        long version = lastVersion + 1;
        MemfdRegion table;
        try {
            table = writer.build(region.name() + ".v" + version, version);
        } catch (SystemCallException e) {
            throw e.about("snapshot '" + region.name() + "' v" + version);
        }
        try {
            region.offer(new Publication(CacheMessages.KIND_SNAPSHOT, version, table.size(), table.readOnlyFd(), table));
        } catch (RuntimeException e) {
            table.close(); // offer closed it already if it refused; close is idempotent
            throw e;
        }
        lastVersion = version;
        return version;
    }

    /** The version readers get now; 0 before the first {@link #publish}. */
    public long version() {
        return region.version();
    }

    /** Readers subscribed now. */
    public int readerCount() {
        return region.readerCount();
    }

    /** Sends END to every reader and closes the owner's copy of the current version. Idempotent. */
    @Override
    public void close() {
        region.close();
    }

    @Override
    public String toString() {
        return "PublishedSnapshot[" + region.name() + ", v" + version() + ", " + readerCount() + " readers]";
    }
}
