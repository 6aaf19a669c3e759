/**
 * Serving caches to other processes, and subscribing to them, over one Unix socket
 * ({@code docs/cache-protocol.md}). A {@link io.sluice.cache.CacheHost} serves named regions of
 * two kinds, and a name is one region whatever its kind:
 *
 * <ul>
 *   <li>sealed snapshots ({@link io.sluice.cache.CacheHost#snapshot}): immutable tables, one
 *   memfd per version, sealed {@code WRITE}; readers ({@link io.sluice.cache.Caches#snapshot})
 *   switch to each new version ({@code docs/snapshot-layout.md});</li>
 *   <li>shared maps ({@link io.sluice.cache.CacheHost#map}): one memfd written in place by its
 *   owner alone, sealed {@code FUTURE_WRITE}; readers ({@link io.sluice.cache.Caches#map}) map it
 *   read-only once and see every change as it is made ({@code docs/cache-layout.md}).</li>
 * </ul>
 *
 * <p>Readers trust nothing the host sends: every message field, then the fd (memfd, seals, size)
 * and the region's header are checked before anything is read, and every fd is closed on any
 * refusal.
 */
package io.sluice.cache;
