/**
 * The sealed snapshot demo: an owner serves versions of an immutable table with
 * {@code io.sluice.cache.CacheHost}; reader JVMs ({@code Caches.snapshot}) and a C reader (the
 * native client's cache subscription) look keys up in place and switch to each new version.
 *
 * <ul>
 *   <li>{@link io.sluice.examples.snapshot.SnapshotDemo}: the runnable demo ({@code -Ddemo=snapshot}), the owner;
 *       {@link io.sluice.examples.snapshot.SnapshotReaderProcess}: its reader JVMs;
 *       {@link io.sluice.examples.snapshot.NativeReader}: builds its C reader;
 *       {@link io.sluice.examples.snapshot.ReferenceData}: the demo's instruments.</li>
 * </ul>
 * The table's layout is specified in {@code docs/snapshot-layout.md}, the protocol in
 * {@code docs/cache-protocol.md}.
 */
package io.sluice.examples.snapshot;
