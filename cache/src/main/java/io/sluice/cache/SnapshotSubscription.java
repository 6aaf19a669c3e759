package io.sluice.cache;

import io.sluice.api.ProtocolException;
import io.sluice.api.SluiceException;
import io.sluice.cache.snapshot.SealedSnapshot;
import io.sluice.fdpassing.ReceivedMessage;
import io.sluice.fdpassing.SeqPacketSocket;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A reader's subscription to a sealed snapshot a {@link CacheHost} serves
 * ({@link Caches#snapshot}): it holds the current version and switches to each new one.
 *
 * <p>Lookups go through {@link #acquire()}, which holds the current version until the lease is
 * closed: a version in use is never unmapped under a lookup, whatever arrives meanwhile. Acquiring
 * and looking up allocate nothing ({@link SnapshotLease#findEntry}) and copy nothing.
 *
 * <p>New versions are received by a daemon thread of this subscription, not by an explicit
 * {@code poll()}: a version is checked (memfd, seals, size, then the whole table is verified
 * once) off the lookup path, and the host, which never blocks on a reader, drops a reader that
 * leaves versions unread in its socket; a thread that always reads keeps lookups free of that
 * duty. The thread swaps the new version in atomically, drops the subscription's hold on the
 * old one (unmapped at once, or when its last lease closes), then tells the listeners.
 *
 * <p>If the host sends something that breaks the protocol, or a region that fails its checks,
 * the subscription stops ({@link #failure()}, {@link SnapshotListener#ended}), closes the
 * connection and the refused fd, and keeps serving the last good version: it is sealed, so
 * nothing the host does afterwards can change it.
 */
public final class SnapshotSubscription implements AutoCloseable {
    private final SeqPacketSocket connection;
    private final String name;
    private final List<SnapshotListener> listeners = new CopyOnWriteArrayList<>();
    private final Thread receiver;
    // The current version. Written by the receiver (swap) and close(); read by acquire().
    private volatile SnapshotLease current;
    private volatile SluiceException failure; // why the receiver stopped, null if it did not or on END
    private volatile boolean ended;           // the receiver stopped (END, failure or close)
    private long lastVersion;                 // receiver only (after construction)

    private SnapshotSubscription(SeqPacketSocket connection, String name, SnapshotLease first) {
        this.connection = connection;
        this.name = name;
        this.current = first;
        this.lastVersion = first.version();
        this.receiver = Thread.ofPlatform().daemon().name("sluice-cache-reader " + name).unstarted(this::receive);
    }

    /**
     * Connects, sends HELLO and waits for the first version; see {@link Caches#snapshot}. On any
     * failure the connection and any fd received are closed before the exception leaves.
     */
    static SnapshotSubscription open(SeqPacketSocket connection, String name, Duration timeout) {
        try {
            SnapshotLease first;
            try (ReceivedMessage m = CacheHandshake.subscribe(connection, CacheMessages.KIND_SNAPSHOT, name, timeout)) {
                first = adopt(name, m, 0);
            }
            SnapshotSubscription s = new SnapshotSubscription(connection, name, first);
            s.receiver.start();
            return s;
        } catch (RuntimeException e) {
            connection.close();
            throw e;
        }
    }

    /**
     * Checks a PUBLISH (kind, version after {@code after}) and adopts its fd: memfd, seals,
     * size, header, version, then the whole table verified once. The fd is closed on refusal.
     */
    private static SnapshotLease adopt(String name, ReceivedMessage m, long after) {
        CacheMessages.Publish p = CacheHandshake.publish(m, CacheMessages.KIND_SNAPSHOT, name, after);
        SealedSnapshot snapshot = SealedSnapshot.adopt(m.takeFd(0), p.regionSize(), p.version());
        try {
            // Sealed WRITE: the bytes can never change, so one full check covers every later lookup.
            snapshot.reader().verify();
        } catch (RuntimeException e) {
            snapshot.close();
            throw e;
        }
        return new SnapshotLease(snapshot);
    }

    private void receive() {
        SluiceException cause = null;
        try {
            while (true) {
                try (ReceivedMessage m = connection.receive(CacheMessages.MAX_LENGTH, 1, null)) {
                    short type = CacheMessages.type(m.data(), m.fdCount());
                    if (type == CacheMessages.END) {
                        return;
                    }
                    if (type != CacheMessages.PUBLISH) {
                        throw new ProtocolException("snapshot '" + name + "': " + CacheMessages.typeName(type)
                                + " after the first PUBLISH (only PUBLISH or END may come)");
                    }
                    SnapshotLease next = adopt(name, m, lastVersion);
                    lastVersion = next.version();
                    if (!swap(next)) {
                        return; // closed meanwhile: swap released next
                    }
                    for (SnapshotListener l : listeners) {
                        try {
                            l.newVersion(next.version());
                        } catch (RuntimeException e) {
                            System.getLogger("io.sluice.cache").log(System.Logger.Level.WARNING,
                                    "snapshot '" + name + "': a listener failed: " + e, e);
                        }
                    }
                }
            }
        } catch (SluiceException e) {
            cause = connection.isClosed() ? null : e; // after close(): not a failure
        } catch (RuntimeException e) {
            cause = new SluiceException("snapshot '" + name + "': receiving failed: " + e, e);
        } finally {
            connection.close();
            failure = cause;
            synchronized (this) {
                ended = true;
                notifyAll();
            }
            for (SnapshotListener l : listeners) {
                try {
                    l.ended(cause);
                } catch (RuntimeException ignored) {
                    // a listener's failure changes nothing here
                }
            }
        }
    }

    /**
     * Makes {@code next} current, then drops the subscription's hold on the old one. An acquire
     * that read the old reference and finds its count at 0 reads {@code current} again; the count
     * reaches 0 only after this volatile write, so that second read sees {@code next} (or later).
     * False if the subscription was closed (then {@code next} is released here).
     */
    private boolean swap(SnapshotLease next) {
        SnapshotLease old;
        synchronized (this) {
            old = current;
            if (old == null) {
                next.close();
                return false;
            }
            current = next;
            notifyAll();
        }
        old.close();
        return true;
    }

    /**
     * Holds the current version for lookups; close the lease when done (try-with-resources).
     * Allocates nothing.
     *
     * @return the held version
     * @throws IllegalStateException if the subscription is closed
     */
    public SnapshotLease acquire() {
        while (true) {
            SnapshotLease l = current;
            if (l == null) {
                throw new IllegalStateException("snapshot subscription '" + name + "' is closed");
            }
            if (l.tryRetain()) {
                return l;
            }
            // l was replaced and fully released between our read and our retain: read again.
        }
    }

    /** The current version; 0 once closed. */
    public long version() {
        SnapshotLease l = current;
        return l == null ? 0 : l.version();
    }

    /** The name subscribed to. */
    public String name() {
        return name;
    }

    /** Tells {@code listener} of every later version and of the end, on the receiving thread. */
    public void addListener(SnapshotListener listener) {
        listeners.add(listener);
    }

    /**
     * Waits until version {@code version} or a later one is current, or the subscription ended.
     *
     * @return true if it is current (or a later one), false on timeout or end
     */
    public synchronized boolean awaitVersion(long version, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (version() < version && !ended) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            wait(Math.max(1, left / 1_000_000));
        }
        return version() >= version;
    }

    /** Whether no version will come any more (END, a failure, or close). */
    public boolean isEnded() {
        return ended;
    }

    /** Why the subscription stopped, if it failed; null while it runs, after END, or after close. */
    public SluiceException failure() {
        return failure;
    }

    /**
     * Closes the connection, stops the receiving thread, and drops the hold on the current
     * version: unmapped now, or when its last open lease closes. Idempotent.
     */
    @Override
    public void close() {
        SnapshotLease last;
        synchronized (this) {
            last = current;
            current = null;
        }
        connection.close(); // wakes the receiver
        if (Thread.currentThread() != receiver) {
            try {
                receiver.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (last != null) {
            last.close();
        }
    }

    @Override
    public String toString() {
        return "SnapshotSubscription[" + name + ", v" + version() + (ended ? ", ended" : "") + "]";
    }
}
