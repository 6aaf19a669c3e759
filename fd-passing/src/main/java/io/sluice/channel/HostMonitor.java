package io.sluice.channel;

import java.lang.foreign.MemorySegment;
import java.time.Duration;

/**
 * A read-only view of a host's status region: what {@code sluice stat} shows. Attaching takes no
 * place in any channel and is invisible to every producer and consumer; the host admits a monitor
 * by its access policy like any other peer. Get one from {@link Channels#monitor}; close it to
 * detach.
 */
public final class HostMonitor implements AutoCloseable {
    private final AttachSession session;
    private final MemorySegment region;

    HostMonitor(AttachSession session) {
        this.session = session;
        this.region = session.dataView();
    }

    /**
     * Reads the host's figures as of its last update (a few times a second).
     *
     * @return one update's figures, whole
     * @throws io.sluice.api.RingLayoutException if the region is not a status region, or is corrupt
     * @throws IllegalStateException             if the host kept rewriting it through every attempt
     */
    public HostStatusSnapshot snapshot() {
        return HostStatusSnapshot.read(region);
    }

    /**
     * Whether the host is still there.
     *
     * @return false once the host closed the connection or died (the last figures stay readable)
     */
    public boolean isHostAlive() {
        return !session.hostGone();
    }

    /**
     * Waits until the host is gone, at most {@code timeout}; returns whether it is.
     *
     * @param timeout how long to wait at most
     * @return true if the host is gone
     * @throws InterruptedException if the thread is interrupted while waiting
     */
    public boolean awaitHostGone(Duration timeout) throws InterruptedException {
        session.awaitEnd(timeout);
        return session.hostGone();
    }

    @Override
    public void close() {
        session.close();
    }
}
