package io.sluice.cache;

import io.sluice.fdpassing.PeerCredentials;
import io.sluice.fdpassing.SeqPacketSocket;

/**
 * A reader's connection to a {@link CacheHost}, host thread only: first waiting for its HELLO
 * (until {@code deadline}), then subscribed to one region until either side closes.
 */
final class ReaderSession {
    final SeqPacketSocket connection;
    final PeerCredentials peer;
    final long deadline;      // System.nanoTime() by which the HELLO must have come
    ServedRegion region;      // null while the HELLO is awaited

    ReaderSession(SeqPacketSocket connection, PeerCredentials peer, long deadline) {
        this.connection = connection;
        this.peer = peer;
        this.deadline = deadline;
    }

    boolean subscribed() {
        return region != null;
    }
}
