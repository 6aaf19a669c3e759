/**
 * Sealed snapshots (Android's CursorWindow pattern): an owner lays an immutable table out in a
 * memfd, seals it so that nobody, the owner included, can change it, and publishes it; readers
 * look keys up in place and switch to each new version atomically.
 */
package io.sluice.cache.snapshot;
