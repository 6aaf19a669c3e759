package io.sluice.cache;

import io.sluice.memfd.OwnedFd;

/**
 * One version of a served region, as the host sends it: its kind, version and size, and the
 * read-only fd every reader gets its own copy of ({@code SCM_RIGHTS} duplicates it). Whatever
 * kind of region it is, this is all the host needs to serve it; {@code owner} is what holds the
 * fd (a snapshot's {@code MemfdRegion}, a shared map's writer), closed when a newer version
 * replaces this one or the region closes.
 */
record Publication(int kind, long version, long size, OwnedFd readOnlyFd, AutoCloseable owner) {
    /** Closes what holds the fd; readers keep their own copies. */
    void close() {
        try {
            owner.close();
        } catch (Exception e) {
            throw new IllegalStateException("closing version " + version + " of a served region: " + e, e);
        }
    }
}
