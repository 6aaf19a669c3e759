package io.sluice.cache;

import io.sluice.api.ProtocolException;
import io.sluice.api.SluiceException;
import io.sluice.cache.map.SharedMapReader;
import io.sluice.fdpassing.ReceiveTimeoutException;
import io.sluice.fdpassing.ReceivedMessage;
import io.sluice.fdpassing.SeqPacketSocket;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A reader's subscription to a shared map a {@link CacheHost} serves ({@link Caches#map}): the
 * map's read-only mapping, looked up through {@link #reader()}, and the connection on which the
 * host says when it withdraws the map (END).
 *
 * <p>A shared map is published once: every change the owner makes is in the pages this
 * subscription maps, and nothing but END may follow the first PUBLISH. So, unlike a
 * {@link SnapshotSubscription}, it has no receiving thread: the host sends nothing a reader must
 * keep up with, and {@link #isEnded()} (which looks at the socket without blocking: one system
 * call, not for a lookup loop) or {@link #awaitEnd} tell of the end when asked.
 *
 * <p>After END the map no longer changes (its owner closed it), and it stays readable, as it
 * was last written, until this subscription is closed: the memfd lives as long as our fd and
 * mapping do. If the host breaks the protocol, or goes away without END, the subscription ends
 * too, and {@link #failure()} says why.
 *
 * <p>Thread safety: lookups through {@link #reader()} from any number of threads; any thread may
 * ask whether it ended and close. A lookup racing {@link #close()} throws
 * {@link IllegalStateException} (the mapping is gone), never reads freed memory.
 */
public final class MapSubscription implements AutoCloseable {
    private final SeqPacketSocket connection;
    private final String name;
    private final SharedMapReader reader;
    private final ReentrantLock receiving = new ReentrantLock(); // one thread reads the socket at a time
    // Written under receiving (or by close), read by any thread.
    private volatile boolean ended;
    private volatile SluiceException failure;

    private MapSubscription(SeqPacketSocket connection, String name, SharedMapReader reader) {
        this.connection = connection;
        this.name = name;
        this.reader = reader;
    }

    /**
     * Connects, sends HELLO, and adopts the map of the first PUBLISH; see {@link Caches#map}. On
     * any failure the connection and any fd received are closed before the exception leaves.
     */
    static MapSubscription open(SeqPacketSocket connection, String name, Duration timeout) {
        try {
            SharedMapReader reader;
            try (ReceivedMessage m = CacheHandshake.subscribe(connection, CacheMessages.KIND_SHARED_MAP, name, timeout)) {
                CacheMessages.Publish p = CacheHandshake.publish(m, CacheMessages.KIND_SHARED_MAP, name, 0);
                if (p.version() != 1) {
                    throw new ProtocolException("shared map '" + name + "': PUBLISH of version " + p.version()
                            + " (a shared map is published once, as version 1)");
                }
                // Seals (SHRINK|GROW|FUTURE_WRITE) before the size, the size before mapping it
                // read-only, the header after: the fd is closed if any check fails.
                reader = SharedMapReader.adopt(m.takeFd(0), p.regionSize());
            }
            return new MapSubscription(connection, name, reader);
        } catch (RuntimeException e) {
            connection.close();
            throw e;
        }
    }

    /**
     * The map, read-only: lookups by copy or in place, allocating nothing (see
     * {@link SharedMapReader}). Owned by this subscription: close the subscription, not the reader.
     */
    public SharedMapReader reader() {
        return reader;
    }

    /** The name subscribed to. */
    public String name() {
        return name;
    }

    /**
     * Whether the map was withdrawn (END), the subscription failed, or it was closed. Looks at
     * the socket without blocking if no end was seen yet (one system call), unless another
     * thread is reading it at that moment (in {@link #awaitEnd}).
     */
    public boolean isEnded() {
        if (!ended && receiving.tryLock()) {
            try {
                if (!ended) {
                    ReceivedMessage m;
                    try {
                        m = connection.tryReceive(CacheMessages.MAX_LENGTH, 1);
                    } catch (RuntimeException e) {
                        end(e);
                        return true;
                    }
                    if (m != null) {
                        take(m);
                    }
                }
            } finally {
                receiving.unlock();
            }
        }
        return ended;
    }

    /**
     * Waits until the subscription ends (see {@link #isEnded()}), at most {@code timeout}.
     *
     * @return true if it ended, false on timeout
     * @throws InterruptedException if interrupted while another thread was reading the socket
     */
    public boolean awaitEnd(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        if (ended || !receiving.tryLock(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
            return ended;
        }
        try {
            if (!ended) {
                ReceivedMessage m;
                try {
                    m = connection.receive(CacheMessages.MAX_LENGTH, 1,
                            Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
                } catch (ReceiveTimeoutException e) {
                    return false;
                } catch (RuntimeException e) {
                    end(e);
                    return true;
                }
                take(m);
            }
        } finally {
            receiving.unlock();
        }
        return ended;
    }

    /** A message after the PUBLISH: END, or a breach of the protocol. Under {@code receiving}. */
    private void take(ReceivedMessage m) {
        try (m) { // closes any fd that came with it
            short type = CacheMessages.type(m.data(), m.fdCount());
            if (type != CacheMessages.END) {
                throw new ProtocolException("shared map '" + name + "': " + CacheMessages.typeName(type)
                        + " after the PUBLISH (a shared map is published once: only END may follow)");
            }
            end(null);
        } catch (RuntimeException e) {
            end(e);
        }
    }

    /** Records the end and closes the connection; the mapping stays (the last state stays readable). */
    private void end(RuntimeException cause) {
        if (cause == null || connection.isClosed()) {
            failure = null; // END, or our own close(): not a failure
        } else if (cause instanceof SluiceException s) {
            failure = s;
        } else {
            failure = new SluiceException("shared map '" + name + "': receiving failed: " + cause, cause);
        }
        ended = true;
        connection.close();
    }

    /**
     * Why the subscription ended, if it failed (the host broke the protocol, or went away without
     * END); null while it runs, after END, or after close.
     */
    public SluiceException failure() {
        return failure;
    }

    /**
     * Closes the connection (the host forgets this reader), then unmaps the map and closes its
     * fd. Idempotent.
     */
    @Override
    public void close() {
        ended = true;
        connection.close(); // wakes a thread in awaitEnd
        reader.close();
    }

    @Override
    public String toString() {
        return "MapSubscription[" + name + (ended ? ", ended" : "") + "]";
    }
}
