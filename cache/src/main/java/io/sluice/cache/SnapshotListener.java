package io.sluice.cache;

import io.sluice.api.SluiceException;

/**
 * Told of what happens to a {@link SnapshotSubscription}, on its receiving thread: keep it
 * short, and do not block (the next version waits behind it).
 */
@FunctionalInterface
public interface SnapshotListener {
    /**
     * A new version is current: acquires from now on see it. Versions only increase.
     *
     * @param version the new version
     */
    void newVersion(long version);

    /**
     * No version will come any more: the host sent END (closed the snapshot or itself), or the
     * connection failed. The last version stays readable until the subscription closes.
     *
     * @param cause null after END; else why the subscription stopped (the host's connection
     *              ended, or it broke the protocol or sent a region that was refused)
     */
    default void ended(SluiceException cause) {
    }
}
