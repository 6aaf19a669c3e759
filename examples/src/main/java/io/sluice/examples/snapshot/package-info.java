/**
 * The sealed snapshot demo: an owner publishes versions of an immutable table with
 * {@code io.sluice.cache.snapshot}, and reader JVMs look keys up in place.
 *
 * <ul>
 *   <li>{@link io.sluice.examples.snapshot.SnapshotDemo}: the runnable demo ({@code -Ddemo=snapshot}), the owner;
 *       {@link io.sluice.examples.snapshot.SnapshotReaderProcess}: its reader JVMs;
 *       {@link io.sluice.examples.snapshot.ReferenceData}: the demo's instruments.</li>
 * </ul>
 * The layout and the messages are specified in {@code docs/snapshot-layout.md}.
 */
package io.sluice.examples.snapshot;
