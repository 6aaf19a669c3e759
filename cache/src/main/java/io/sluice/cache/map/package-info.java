/**
 * A live shared map with exactly one writer: an off-heap open-addressing hash table in one
 * memfd, written by its owner only and mapped read-only by readers in other processes. A
 * {@link io.sluice.cache.CacheHost} serves it by name ({@link io.sluice.cache.CacheHost#map}) and
 * readers subscribe with {@link io.sluice.cache.Caches#map}; the classes here are the map itself,
 * usable over any way of passing its fd ({@code docs/cache-layout.md}).
 */
package io.sluice.cache.map;
