/**
 * The sealed snapshot cache (Android's CursorWindow pattern): an owner lays an immutable
 * key&rarr;value table out in a memfd, seals it {@code F_SEAL_WRITE} so that nobody, the owner
 * included, can ever change it, and passes the fd to readers, who look keys up in place.
 * A new version is a new memfd.
 *
 * <ul>
 *   <li>{@link io.sluice.examples.snapshot.SnapshotDescriptor}: the layout, byte by byte, and the key hash.</li>
 *   <li>{@link io.sluice.examples.snapshot.SnapshotWriter}: builds a table into a memfd and seals it.</li>
 *   <li>{@link io.sluice.examples.snapshot.SnapshotReader}: validated, zero-copy lookups over a mapped table.</li>
 *   <li>{@link io.sluice.examples.snapshot.SealedSnapshot}: a received fd, checked, mapped read-only, ready to read.</li>
 *   <li>{@link io.sluice.examples.snapshot.SnapshotMessages}: the socket messages that announce a version.</li>
 *   <li>{@link io.sluice.examples.snapshot.SnapshotDemo}: the runnable demo ({@code -Ddemo=snapshot}), the owner;
 *       {@link io.sluice.examples.snapshot.SnapshotReaderProcess}: its reader JVMs;
 *       {@link io.sluice.examples.snapshot.ReferenceData}: the demo's instruments.</li>
 * </ul>
 * The layout and the messages are specified in {@code docs/snapshot-layout.md}.
 */
package io.sluice.examples.snapshot;
