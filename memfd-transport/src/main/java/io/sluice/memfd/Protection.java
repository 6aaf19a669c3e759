package io.sluice.memfd;

/**
 * What any future mapping of a region may do, in the spirit of Android's
 * {@code ASharedMemory_setProt}. Execution is never allowed on Sluice regions.
 */
public enum Protection {
    /** Readable and writable (the state of a new region). */
    READ_WRITE,
    /** Readable only: the region is sealed {@code F_SEAL_FUTURE_WRITE}. Irreversible. */
    READ_ONLY
}
