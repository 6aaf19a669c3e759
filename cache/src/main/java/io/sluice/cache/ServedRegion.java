package io.sluice.cache;

import io.sluice.fdpassing.SeqPacketSocket;

import java.util.ArrayList;
import java.util.List;

/**
 * One named region a {@link CacheHost} serves, whatever its kind: the current version and the
 * readers subscribed to it. A reader that subscribes gets the current version at once (if there
 * is one yet); {@link #offer} sends a newer version to every reader, then closes the owner's
 * hold on the one it replaces (each reader holds its own fd). A reader whose send fails (gone,
 * or not reading its socket: host sockets never block on send) is dropped, and nobody else is
 * held up by it.
 *
 * <p>Threads: the host's thread subscribes readers and drops the ones that hang up; the owner's
 * thread offers versions and closes. Everything is under this object's lock, so that a reader
 * subscribing while a version is offered gets each version exactly once, in order.
 */
final class ServedRegion {
    private final CacheHost host;
    private final String name;
    private final int kind;
    private final List<SeqPacketSocket> readers = new ArrayList<>(); // guarded by this
    private Publication current; // guarded by this; null until the first offer
    private boolean closed;      // guarded by this

    ServedRegion(CacheHost host, String name, int kind) {
        this.host = host;
        this.name = name;
        this.kind = kind;
    }

    String name() {
        return name;
    }

    int kind() {
        return kind;
    }

    /** Adds a reader and sends it the current version; false if the region is closed (host thread). */
    synchronized boolean subscribe(SeqPacketSocket reader) {
        if (closed) {
            return false;
        }
        readers.add(reader);
        if (current != null) {
            sendOrDrop(reader, current);
        }
        return true;
    }

    /** Forgets a reader whose connection ended (host thread). */
    synchronized void unsubscribe(SeqPacketSocket reader) {
        readers.remove(reader);
    }

    synchronized int readerCount() {
        return readers.size();
    }

    synchronized long version() {
        return current == null ? 0 : current.version();
    }

    /**
     * Makes {@code next} the current version and sends it to every reader; the previous one is
     * closed once sent. On any refusal {@code next} is closed before the exception leaves.
     *
     * @throws IllegalStateException if the region is closed, or a shared map is offered a second version
     */
    synchronized void offer(Publication next) {
        try {
            if (closed) {
                throw new IllegalStateException(CacheMessages.kindName(kind) + " '" + name + "' is closed");
            }
            if (next.kind() != kind) {
                throw new IllegalArgumentException(CacheMessages.kindName(next.kind()) + " offered to "
                        + CacheMessages.kindName(kind) + " '" + name + "'");
            }
            if (kind == CacheMessages.KIND_SHARED_MAP && current != null) {
                throw new IllegalStateException("shared map '" + name + "' is published once");
            }
            if (current != null && next.version() <= current.version()) {
                throw new IllegalArgumentException("version " + next.version() + " of '" + name
                        + "' does not follow version " + current.version());
            }
        } catch (RuntimeException e) {
            next.close();
            throw e;
        }
        Publication previous = current;
        current = next;
        for (SeqPacketSocket reader : List.copyOf(readers)) {
            sendOrDrop(reader, next);
        }
        if (previous != null) {
            previous.close(); // sent: every reader that had it holds its own fd
        }
    }

    private void sendOrDrop(SeqPacketSocket reader, Publication p) {
        try {
            reader.send(CacheMessages.publish(p.kind(), p.version(), p.size()), p.readOnlyFd());
        } catch (RuntimeException e) {
            // Gone, or its receive queue is full. Closing it here is enough: the host's thread
            // sees the closed connection on its next poll and forgets the session.
            readers.remove(reader);
            reader.close();
            host.noteDropped(name, e);
        }
    }

    /** Sends END to every reader, closes their connections and the current version. Idempotent. */
    void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            for (SeqPacketSocket reader : readers) {
                try {
                    reader.send(CacheMessages.end());
                } catch (RuntimeException ignored) {
                    // gone already: it sees the end of stream anyway
                }
                reader.close();
            }
            readers.clear();
            if (current != null) {
                current.close();
                current = null;
            }
        }
        host.forget(this);
    }
}
