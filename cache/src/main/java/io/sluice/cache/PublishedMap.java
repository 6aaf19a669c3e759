package io.sluice.cache;

import io.sluice.cache.map.SharedMapWriter;

/**
 * A shared map a {@link CacheHost} serves under a name: one memfd, written in place by this
 * process through {@link #writer()}, sealed {@code SHRINK|GROW|FUTURE_WRITE|SEAL} before any
 * reader sees it (every other mapping of it, in any process, can only be read-only). Unlike a
 * snapshot it is published once, as version 1, when it is made: a reader that subscribes gets the
 * map's read-only fd at once and from then on sees every change the writer makes, with no
 * message; {@link Caches#map} subscribes.
 *
 * <p>Closing it sends END to every reader, closes the writer (and the update channel it may
 * host) and frees the name; readers keep their own fd and mapping, and read the map as it was
 * last written, until they close.
 *
 * <p>Thread safety: the writer has one writing thread (see {@link SharedMapWriter}); any thread
 * may ask for the reader count and close.
 */
public final class PublishedMap implements AutoCloseable {
    private final ServedRegion region;
    private final SharedMapWriter writer;

    PublishedMap(ServedRegion region, SharedMapWriter writer) {
        this.region = region;
        this.writer = writer;
    }

    /** The name readers subscribe by. */
    public String name() {
        return region.name();
    }

    /**
     * The map's only writer: put, remove, and take updates from other processes
     * ({@link SharedMapWriter#hostUpdates}). Owned by this published map: close the published
     * map, not the writer (a writer closed on its own leaves the name served with no fd to give,
     * and each reader that subscribes then is dropped).
     */
    public SharedMapWriter writer() {
        return writer;
    }

    /** Readers subscribed now. */
    public int readerCount() {
        return region.readerCount();
    }

    /** Sends END to every reader, then closes the writer. Idempotent. */
    @Override
    public void close() {
        region.close(); // the region's publication owns the writer: closed with it
        writer.close(); // idempotent; closes it too if the region was closed by the host first
    }

    @Override
    public String toString() {
        return "PublishedMap[" + region.name() + ", " + readerCount() + " readers, " + writer + "]";
    }
}
