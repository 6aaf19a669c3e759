package io.sluice.cache.snapshot;

import io.sluice.api.SluiceException;

/**
 * The bytes of a snapshot table are impossible: a bad magic or layout version, an offset or
 * length outside the region, a slot that points where no entry can be, a key stored in the wrong
 * slot. Thrown instead of reading outside the region or giving a silently wrong answer; the
 * message names the snapshot, the field and the values found.
 */
public class CorruptSnapshotException extends SluiceException {
    private static final long serialVersionUID = 1L;

    public CorruptSnapshotException(String message) {
        super(message);
    }
}
