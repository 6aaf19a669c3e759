package io.sluice.cache;

import io.sluice.api.ChannelNames;
import io.sluice.api.ConnectionClosedException;
import io.sluice.api.ProtocolException;
import io.sluice.api.RefusalReason;
import io.sluice.api.SluiceException;
import io.sluice.api.SystemCallException;
import io.sluice.api.UntrustedText;
import io.sluice.cache.map.SharedMapOptions;
import io.sluice.cache.map.SharedMapWriter;
import io.sluice.fdpassing.PeerCredentials;
import io.sluice.fdpassing.PollSet;
import io.sluice.fdpassing.ReceivedMessage;
import io.sluice.fdpassing.SeqPacketServer;
import io.sluice.fdpassing.SeqPacketSocket;

import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Serves named cache regions on a Unix socket: readers connect, say which region they want
 * ({@code HELLO}), and get its current version and every later one as an fd ({@code PUBLISH});
 * see {@code docs/cache-protocol.md}. Sealed snapshots are made with {@link #snapshot(String)},
 * shared maps with {@link #map(String, SharedMapOptions)}; names are shared by both kinds.
 *
 * <p>Threads: one. The host's thread waits on the listening socket and every connection at once
 * ({@code poll(2)}), admits readers (connection caps, then the access policy on the kernel's
 * {@code SO_PEERCRED}, then the name) and notices a reader's hang-up or death the moment it
 * comes. Versions are sent by the thread that publishes them, never blocking on a reader: host
 * sockets do not block on send, and a reader that does not read its socket is dropped.
 *
 * <p>A reader is not trusted: a HELLO that breaks the protocol, carries an fd, or does not come
 * within the HELLO timeout is answered {@code REFUSED} and the connection closed; anything a
 * subscribed reader sends ends its subscription. Nothing a reader does reaches another reader.
 */
public final class CacheHost implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("io.sluice.cache");
    /** Connections accepted per wake-up at most, so that established readers are never starved by a flood. */
    private static final int ACCEPT_BATCH = 64;
    /** Pause of accepting after running out of descriptors. */
    private static final long BACKOFF_NANOS = 50_000_000L;
    /** How long the host's thread waits for one already-readable message (it is there: poll said so). */
    private static final Duration READABLE_WAIT = Duration.ofMillis(100);

    private final SeqPacketServer server;
    private final CacheHostOptions options;
    private final Map<String, ServedRegion> regions = new ConcurrentHashMap<>();
    private final PollSet pollSet = new PollSet();
    private final Thread thread;
    private final Map<RefusalReason, AtomicLong> refusals = new EnumMap<>(RefusalReason.class);
    private final AtomicLong dropped = new AtomicLong();
    private volatile boolean closing; // close() has begun: no new region
    private volatile boolean closed;  // the host's thread stops

    // Host thread only.
    private final List<ReaderSession> sessions = new ArrayList<>();
    private final Map<Integer, Integer> connectionsPerUid = new HashMap<>();
    private long acceptPausedUntil;

    private CacheHost(SeqPacketServer server, CacheHostOptions options) {
        this.server = server;
        this.options = options;
        for (RefusalReason r : RefusalReason.values()) {
            refusals.put(r, new AtomicLong());
        }
        this.thread = Thread.ofPlatform().daemon().name("sluice-cache-host " + server.path()).unstarted(this::run);
    }

    /**
     * Serves on {@code socket} (mode 0600) with {@link CacheHostOptions#defaults()}: readers of this uid only.
     *
     * @param socket where the socket file goes
     * @return the host, serving on its own thread until closed
     * @throws io.sluice.api.SystemCallException if the socket cannot be bound
     */
    public static CacheHost bind(Path socket) {
        return bind(socket, CacheHostOptions.defaults());
    }

    /**
     * Serves on {@code socket} with {@code options}.
     *
     * @param socket  where the socket file goes
     * @param options who may read, the socket file's mode, the HELLO timeout and the connection caps
     * @return the host, serving on its own thread until closed
     */
    public static CacheHost bind(Path socket, CacheHostOptions options) {
        SeqPacketServer server = SeqPacketServer.bind(socket, options.socketPermissions());
        CacheHost host;
        try {
            host = new CacheHost(server, options);
        } catch (RuntimeException | Error e) {
            server.close();
            throw e;
        }
        host.thread.start();
        return host;
    }

    /** The socket path readers connect to. */
    public Path path() {
        return server.path();
    }

    public CacheHostOptions options() {
        return options;
    }

    /**
     * Serves a sealed snapshot under {@code name}; readers subscribe with
     * {@link Caches#snapshot(Path, String)} and get the versions {@link PublishedSnapshot#publish}
     * makes.
     *
     * @param name the name readers ask for (see {@link ChannelNames}); unique within the host
     * @return the snapshot, served until it or the host closes
     * @throws IllegalArgumentException if the name is not acceptable
     * @throws SluiceException          if the name is already served
     */
    public PublishedSnapshot snapshot(String name) {
        return new PublishedSnapshot(serve(name, CacheMessages.KIND_SNAPSHOT));
    }

    /**
     * Creates a shared map and serves it under {@code name}; readers subscribe with
     * {@link Caches#map(Path, String)} and get its read-only fd, as version 1, the only one. The
     * map is made at once, {@link SharedMapOptions#regionSize()} bytes (bounded by the options),
     * in a memfd named {@code sluice:<name>}, sealed before any reader can have it.
     *
     * @param name    the name readers ask for (see {@link ChannelNames}); unique within the host,
     *                whatever the kind (a name is one region)
     * @param options capacity and maxima, bounded when they were made
     * @return the map and its writer, served until it or the host closes
     * @throws IllegalArgumentException          if the name is not acceptable
     * @throws SluiceException                   if the name is already served
     * @throws io.sluice.api.SystemCallException if the memfd cannot be made, mapped or sealed
     */
    public PublishedMap map(String name, SharedMapOptions options) {
        java.util.Objects.requireNonNull(options, "options");
        ServedRegion region = serve(name, CacheMessages.KIND_SHARED_MAP); // the name first: nothing made if taken
        SharedMapWriter writer;
        try {
            writer = SharedMapWriter.create(name, options);
        } catch (SystemCallException e) {
            region.close();
            throw e.about("shared map '" + name + "'");
        } catch (RuntimeException | Error e) {
            region.close();
            throw e;
        }
        try {
            // The publication owns the writer: the region closes it when it closes.
            region.offer(new Publication(CacheMessages.KIND_SHARED_MAP, 1, writer.regionSize(), writer.readOnlyFd(), writer));
        } catch (RuntimeException | Error e) {
            writer.close(); // offer closed it already if it refused; close is idempotent
            region.close();
            throw e;
        }
        return new PublishedMap(region, writer);
    }

    /**
     * Registers a region of {@code kind} under {@code name}. Every kind is served the same way
     * (a {@link Publication} per version: kind, version, size, a read-only fd); a shared map
     * offers a single version 1 built from its writer's read-only fd and region size.
     */
    synchronized ServedRegion serve(String name, int kind) {
        ChannelNames.validate(name);
        if (closing) {
            throw new IllegalStateException("cache host on " + server.path() + " is closed");
        }
        ServedRegion region = new ServedRegion(this, name, kind);
        if (regions.putIfAbsent(name, region) != null) {
            throw new SluiceException("cache region '" + name + "' is already served on " + server.path());
        }
        return region;
    }

    /** A region closed: its name is free again (any thread). */
    void forget(ServedRegion region) {
        regions.remove(region.name(), region);
    }

    /** A reader was dropped because a send to it failed (publishing thread). */
    void noteDropped(String region, RuntimeException why) {
        dropped.incrementAndGet();
        log(Level.INFO, () -> "cache region '" + region + "': dropped a reader: " + why.getMessage());
    }

    /**
     * How many readers were refused for {@code reason} since the host started.
     *
     * @param reason the refusal reason to count
     * @return the count; safe to read from any thread
     */
    public long refusals(RefusalReason reason) {
        return refusals.get(reason).get();
    }

    /** Readers dropped because a version could not be sent to them (gone, or not reading). */
    public long droppedReaders() {
        return dropped.get();
    }

    // ---- the host's thread ----

    private void run() {
        while (!closed) {
            try {
                step();
            } catch (Throwable t) { // the host's thread never dies of a failure: it is every reader's liveness
                log(Level.WARNING, () -> "cache host on " + server.path() + ": its thread failed, and goes on: " + t);
                java.util.concurrent.locks.LockSupport.parkNanos(BACKOFF_NANOS); // after a failure only
            }
        }
        for (ReaderSession s : sessions) {
            s.connection.close();
        }
        sessions.clear();
        pollSet.close(); // only this thread polls; a late wake() finds it closed and does nothing
    }

    private void step() {
        long now = System.nanoTime();
        long wait = 1_000_000_000L;
        for (int i = sessions.size() - 1; i >= 0; i--) {
            ReaderSession s = sessions.get(i);
            if (!s.subscribed()) {
                if (s.deadline - now <= 0) {
                    refuse(s, RefusalReason.TIMEOUT, null, "no HELLO within " + options.helloTimeout());
                    remove(i);
                } else {
                    wait = Math.min(wait, s.deadline - now);
                }
            }
        }
        boolean accepting = acceptPausedUntil - now <= 0;
        if (!accepting) {
            wait = Math.min(wait, acceptPausedUntil - now);
        }
        List<SeqPacketSocket> sockets = new ArrayList<>(sessions.size());
        for (ReaderSession s : sessions) {
            sockets.add(s.connection);
        }
        int timeoutMillis = (int) Math.max(1, Math.min(1_000, (wait + 999_999) / 1_000_000));
        BitSet ready = pollSet.await(accepting ? server : null, sockets, timeoutMillis);
        // Highest index first: removing a session does not move the ones still to visit.
        for (int i = ready.previousSetBit(sessions.size()); i >= 1; i = ready.previousSetBit(i - 1)) {
            if (!onReadable(sessions.get(i - 1))) {
                remove(i - 1);
            }
        }
        if (accepting && ready.get(0) && !closed) {
            acceptSome();
        }
    }

    /** A session's socket is readable (or hung up, or closed); false if the session is over. */
    private boolean onReadable(ReaderSession s) {
        ReceivedMessage m;
        try {
            m = s.connection.receive(CacheMessages.MAX_HELLO_LENGTH, 0, READABLE_WAIT);
        } catch (ConnectionClosedException | IllegalStateException e) {
            return false; // the reader closed or died, or a publisher dropped it
        } catch (ProtocolException e) {
            return refuseIfWaiting(s, RefusalReason.MALFORMED, e.getMessage()); // too long, or fds: closed by receive
        } catch (RuntimeException e) {
            s.connection.close();
            return false;
        }
        try (m) {
            if (s.subscribed()) {
                // A subscribed reader has nothing more to say: anything it sends ends its subscription.
                log(Level.INFO, () -> "cache region '" + s.region.name() + "': reader " + s.peer
                        + " sent a message after subscribing; dropped");
                s.connection.close();
                return false;
            }
            return onHello(s, m);
        }
    }

    private boolean refuseIfWaiting(ReaderSession s, RefusalReason reason, String text) {
        if (s.subscribed()) {
            s.connection.close();
        } else {
            refuse(s, reason, null, text);
        }
        return false;
    }

    /** The first message of a connection: HELLO, checked field by field, then the policy and the name. */
    private boolean onHello(ReaderSession s, ReceivedMessage m) {
        CacheMessages.Hello hello;
        try {
            int version = CacheMessages.protocolVersion(m.data());
            if (version != CacheMessages.PROTOCOL_VERSION) {
                refuse(s, RefusalReason.VERSION_MISMATCH, null, "protocol version " + version + " is not this host's "
                        + CacheMessages.PROTOCOL_VERSION);
                return false;
            }
            short type = CacheMessages.type(m.data(), m.fdCount());
            if (type != CacheMessages.HELLO) {
                throw new ProtocolException(CacheMessages.typeName(type) + " where a HELLO was due");
            }
            hello = CacheMessages.decodeHello(m.data());
        } catch (ProtocolException e) {
            refuse(s, RefusalReason.MALFORMED, null, e.getMessage());
            return false;
        }
        if (!options.accessPolicy().admits(s.peer)) {
            refuse(s, RefusalReason.ACCESS_DENIED, hello.name(), options.accessPolicy().explain(s.peer));
            return false;
        }
        ServedRegion region = regions.get(hello.name());
        if (region == null) {
            refuse(s, RefusalReason.UNKNOWN_CHANNEL, hello.name(), "no " + CacheMessages.kindName(hello.kind())
                    + " named '" + hello.name() + "' on this host");
            return false;
        }
        if (region.kind() != hello.kind()) {
            // The same reason as an unknown name (there is no such region of that kind), with a
            // text that says what the name is: the reader asked with the wrong call.
            refuse(s, RefusalReason.UNKNOWN_CHANNEL, hello.name(), "'" + hello.name() + "' is a "
                    + CacheMessages.kindName(region.kind()) + ", not a " + CacheMessages.kindName(hello.kind()));
            return false;
        }
        if (!region.subscribe(s.connection)) {
            refuse(s, RefusalReason.CHANNEL_CLOSED, hello.name(), "'" + hello.name() + "' is closed");
            return false;
        }
        s.region = region;
        return true;
    }

    /** Sends REFUSED (best effort), closes the connection, counts and logs (escaped). */
    private void refuse(ReaderSession s, RefusalReason reason, String name, String text) {
        String full = name == null ? text : "cache region '" + name + "': " + text;
        refusals.get(reason).incrementAndGet();
        log(Level.INFO, () -> "refused reader " + s.peer + ": " + reason + ": " + UntrustedText.escape(full));
        try {
            s.connection.send(CacheMessages.refused(reason, full));
        } catch (RuntimeException ignored) {
            // gone already: it sees the end of stream anyway
        }
        s.connection.close();
    }

    private void remove(int index) {
        ReaderSession s = sessions.remove(index);
        s.connection.close();
        if (s.region != null) {
            s.region.unsubscribe(s.connection);
        }
        connectionsPerUid.merge(s.peer.uid(), -1, (a, b) -> a + b == 0 ? null : a + b);
    }

    private void acceptSome() {
        for (int n = 0; n < ACCEPT_BATCH; n++) {
            SeqPacketSocket conn;
            try {
                conn = server.tryAccept();
            } catch (IllegalStateException e) {
                return; // closed
            } catch (SystemCallException e) {
                acceptPausedUntil = System.nanoTime() + BACKOFF_NANOS; // out of fds: the pending one was shed
                log(Level.WARNING, () -> "cache host on " + server.path() + ": cannot accept: " + e.getMessage());
                return;
            }
            if (conn == null) {
                return;
            }
            admit(conn);
        }
    }

    private void admit(SeqPacketSocket conn) {
        PeerCredentials peer;
        try {
            peer = conn.peerCredentials();
        } catch (RuntimeException e) {
            conn.close();
            return;
        }
        ReaderSession s = new ReaderSession(conn, peer, System.nanoTime() + options.helloTimeout().toNanos());
        int ofUid = connectionsPerUid.getOrDefault(peer.uid(), 0);
        if (sessions.size() >= options.maxConnections()) {
            refuse(s, RefusalReason.CONNECTION_LIMIT, null, "the host has its " + options.maxConnections() + " connections");
            return;
        }
        if (ofUid >= options.maxConnectionsPerUid()) {
            refuse(s, RefusalReason.CONNECTION_LIMIT, null, "uid " + peer.uid() + " has its "
                    + options.maxConnectionsPerUid() + " connections to this host");
            return;
        }
        connectionsPerUid.put(peer.uid(), ofUid + 1);
        sessions.add(s);
    }

    private static void log(Level level, java.util.function.Supplier<String> message) {
        try {
            if (LOG.isLoggable(level)) {
                LOG.log(level, message.get());
            }
        } catch (Throwable ignored) {
            // logging must not take the host down (out of descriptors, a broken handler)
        }
    }

    /**
     * Stops accepting, sends END to every reader of every region and closes them, and closes the
     * host's copies of every version. Idempotent; safe from any thread.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closing) {
                return;
            }
            closing = true;
        }
        for (ServedRegion r : List.copyOf(regions.values())) {
            r.close();
        }
        closed = true;
        server.close();
        pollSet.wake();
        if (Thread.currentThread() != thread) {
            try {
                thread.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public String toString() {
        return "CacheHost[" + server.path() + ", " + regions.size() + " regions]";
    }
}
