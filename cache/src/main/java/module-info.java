/**
 * Caches shared between processes, built on Sluice's public API alone: sealed snapshots
 * (immutable tables, one memfd per version) and a shared map with a single writer.
 */
module io.sluice.cache {
    requires transitive io.sluice.api;
    requires transitive io.sluice.memfd;
    requires transitive io.sluice.fdpassing;
    exports io.sluice.cache;
    exports io.sluice.cache.snapshot;
    exports io.sluice.cache.map;
}
