package io.sluice.channel;

import io.sluice.api.ChannelNames;
import io.sluice.api.LimitExceededException;
import io.sluice.api.RefusalReason;
import io.sluice.api.SluiceException;
import io.sluice.api.SystemCallException;
import io.sluice.fdpassing.PeerCredentials;
import io.sluice.fdpassing.PollSet;
import io.sluice.fdpassing.SeqPacketServer;
import io.sluice.fdpassing.SeqPacketSocket;

import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * Hosts named channels on a Unix socket; other processes attach to them by socket path and
 * channel name (see {@code docs/protocol.md}).
 *
 * <p>Threads: one. The host's thread waits on the listening socket and every connection at once
 * ({@code poll(2)}): it accepts, runs each handshake one step per message (every step bounded by
 * the handshake timeout), and sees an attached peer's end of stream — its {@code close()} or its
 * death — the moment it comes, and then has the channel recover what the peer held. However many
 * peers connect, the host has one thread; how many connections it keeps is capped, in all and per
 * uid ({@link HostOptions}), and a connection beyond a cap is refused as soon as it is accepted.
 * When the process runs out of descriptors the host sheds the pending connection, backs off and
 * says so (once per interval, not once per attempt); nothing ends its thread but {@link #close()}.
 *
 * <p>Memory: every channel's data region is counted against the host's memory budget before
 * anything is allocated, and every size is checked against its documented bound first, so a size
 * that is a typo is an exception naming the channel, never an allocation the kernel must refuse
 * or the OOM killer must settle.
 */
public final class ChannelHost implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ChannelEvents.LOGGER);
    /** Connections accepted per wake-up at most, so that established peers are never starved by a flood. */
    private static final int ACCEPT_BATCH = 64;
    /** First (shortest) pause of accepting after running out of descriptors; each further one doubles, up to the max. */
    private static final long MIN_BACKOFF_NANOS = 10_000_000L;
    // Short enough that an honest peer is served well within a second once descriptors are free
    // again; each pause ends in one accept attempt (which sheds one connection), so this costs
    // nothing measurable while the process stays out of descriptors.
    private static final long MAX_BACKOFF_NANOS = 200_000_000L;
    /**
     * How often the host looks at its channels at most (stalls, stuck consumers, laps, an MPMC head
     * stuck behind a claim); shorter when a threshold asks for it ({@link #watchInterval}).
     */
    private static final long WATCH_INTERVAL_NANOS = 1_000_000_000L;
    /** How long consumers may wait behind one claim before the host says so. */
    static final long MPMC_STALL_NANOS = 5_000_000_000L;
    // How often the status region is rewritten: often enough for a live table, rarely enough that
    // the host's reads of counters and positions never show on the rings.
    static final long STATUS_INTERVAL_NANOS = 100_000_000L;
    /** How often a repeated warning (out of fds, connection limits) is logged at most. */
    private static final long WARNING_INTERVAL_NANOS = 10_000_000_000L;

    private final SeqPacketServer server;
    private final HostOptions options;
    private final Map<String, HostedChannel> channels = new ConcurrentHashMap<>();
    private final PollSet pollSet = new PollSet();
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final AtomicLong attachmentIds = new AtomicLong();
    private final Thread thread;
    private final long watchInterval; // nanos between two looks at the channels
    private volatile boolean closing; // close() has begun: no new channel
    private volatile boolean closed;  // the host's thread stops

    // Host thread only.
    private final List<HostSession> sessions = new ArrayList<>();
    private final Map<Integer, Integer> connectionsPerUid = new HashMap<>();
    private long acceptPausedUntil;
    private long lastWatch = System.nanoTime();
    private long backoffNanos;
    private final RateLimitedLog outOfFds = new RateLimitedLog(Level.WARNING, WARNING_INTERVAL_NANOS);
    private final RateLimitedLog loopFailure = new RateLimitedLog(Level.WARNING, WARNING_INTERVAL_NANOS);
    private final RateLimitedLog sessionFailure = new RateLimitedLog(Level.WARNING, WARNING_INTERVAL_NANOS);
    // One line per reason per second at most: a peer that loops on garbage must not flood the log.
    // CONNECTION_LIMIT (a flood, or limits set too low) once per warning interval.
    private final Map<RefusalReason, RateLimitedLog> refusalLogs = new EnumMap<>(RefusalReason.class);

    // Counters, any thread reads.
    private final Map<RefusalReason, AtomicLong> refusals = new EnumMap<>(RefusalReason.class);
    private final HostCounters statusCounters = new HostCounters();
    // The status region monitors map; rewritten by the host's thread every STATUS_INTERVAL_NANOS.
    private final HostStatus status;
    private final List<Attachment> hostMonitors = new CopyOnWriteArrayList<>(); // monitors of the whole host
    private long lastStatus;
    private long budgetUsed; // guarded by channels' registration lock (this)

    private ChannelHost(SeqPacketServer server, HostOptions options, HostStatus status) {
        this.server = server;
        this.options = options;
        this.status = status;
        for (RefusalReason r : RefusalReason.values()) {
            refusals.put(r, new AtomicLong());
            refusalLogs.put(r, new RateLimitedLog(Level.WARNING,
                    r == RefusalReason.CONNECTION_LIMIT ? WARNING_INTERVAL_NANOS : 1_000_000_000L));
        }
        this.watchInterval = watchInterval(options);
        this.thread = Thread.ofPlatform().daemon().name("sluice-host " + server.path()).unstarted(this::run);
    }

    /**
     * A quarter of the shortest threshold the watch serves, at most {@link #WATCH_INTERVAL_NANOS}:
     * a stall or a stuck consumer is then acted on within a quarter more than its threshold.
     */
    static long watchInterval(HostOptions options) {
        long shortest = options.stallLogThreshold().toNanos();
        if (!options.stuckConsumerTimeout().isZero()) {
            shortest = Math.min(shortest, options.stuckConsumerTimeout().toNanos());
        }
        return Math.max(1_000_000L, Math.min(WATCH_INTERVAL_NANOS, shortest / 4));
    }

    /**
     * Hosts on {@code socket} (mode 0600) with {@link HostOptions#defaults()}: processes of this host's uid only.
     *
     * @param socket where the socket file goes
     * @return the host, serving on its own thread until closed
     * @throws io.sluice.api.SystemCallException if the socket cannot be bound (e.g. {@code EADDRINUSE} for a live host)
     */
    public static ChannelHost bind(Path socket) {
        return bind(socket, HostOptions.defaults());
    }

    /**
     * Hosts on {@code socket} with {@code options}: who may attach, the socket file's mode, the
     * handshake timeout and the limits (see {@link HostOptions}).
     *
     * @param socket  where the socket file goes
     * @param options who may attach, the file mode, the timeout and the limits
     * @return the host, serving on its own thread until closed
     * @throws io.sluice.api.SystemCallException if the socket cannot be bound (e.g. {@code EADDRINUSE} for a live host)
     */
    public static ChannelHost bind(Path socket, HostOptions options) {
        // Everything the host thread may need on a failure path is loaded now, while descriptors
        // are plentiful: at EMFILE, loading a class from a jar fails, and must not end the host.
        RateLimitedLog.preload();
        ChannelEvents.preload();
        SeqPacketServer server = SeqPacketServer.bind(socket, options.socketPermissions());
        ChannelHost host;
        HostStatus status = null;
        try {
            status = HostStatus.create("host." + ProcessHandle.current().pid(), options.maxConnections());
            host = new ChannelHost(server, options, status);
        } catch (RuntimeException | Error e) {
            if (status != null) {
                status.close();
            }
            server.close();
            throw e;
        }
        host.thread.start();
        return host;
    }

    /**
     * The socket path peers attach to.
     *
     * @return the absolute path
     */
    public Path path() {
        return server.path();
    }

    /**
     * The options this host was bound with.
     *
     * @return the options, immutable
     */
    public HostOptions options() {
        return options;
    }

    /**
     * The hosted channel of that name, or null (also once it was closed).
     *
     * @param name a channel name
     * @return the channel, or null
     */
    public HostedChannel channel(String name) {
        return channels.get(name);
    }

    /**
     * Bytes of the memory budget the hosted channels take now.
     *
     * @return bytes, at most {@link HostOptions#memoryBudget()}
     */
    public synchronized long memoryUsed() {
        return budgetUsed;
    }

    /**
     * How many connections were refused for {@code reason} since the host started.
     *
     * @param reason the refusal reason to count
     * @return the count; safe to read from any thread
     */
    public long refusals(RefusalReason reason) {
        return refusals.get(reason).get();
    }

    /**
     * Hosts an SPSC channel: its producer is {@link HostedSpscChannel#producer()}, in this
     * process; one consumer at a time attaches ({@link Channels#spsc}).
     *
     * @throws IllegalArgumentException if the name is not acceptable
     * @throws LimitExceededException   if the channel does not fit in the host's memory budget
     * @param name    the channel name peers attach by (see {@link io.sluice.api.ChannelNames}); unique within the host
     * @param options the ring's geometry and limits
     * @return the channel, open until closed or the host closes
     */
    public HostedSpscChannel spsc(String name, SpscOptions options) {
        ChannelNames.validate(name);
        return host(name, options.regionSize(), () -> HostedSpscChannel.create(name, options));
    }

    /**
     * Hosts a broadcast channel: its producer is {@link HostedBroadcastChannel#producer()}, in
     * this process; up to {@link BroadcastOptions#maxConsumers()} consumers attach
     * ({@link Channels#broadcast}).
     *
     * @throws IllegalArgumentException if the name is not acceptable
     * @throws LimitExceededException   if the channel does not fit in the host's memory budget
     * @param name    the channel name peers attach by (see {@link io.sluice.api.ChannelNames}); unique within the host
     * @param options the ring's geometry and limits
     * @return the channel, open until closed or the host closes
     */
    public HostedBroadcastChannel broadcast(String name, BroadcastOptions options) {
        ChannelNames.validate(name);
        return host(name, options.regionSize(), () -> HostedBroadcastChannel.create(name, options));
    }

    /**
     * Hosts an MPMC channel for up to {@link MpmcOptions#maxParticipants()} producers and
     * consumers across processes ({@link Channels#mpmc}), this one included
     * ({@link HostedMpmcChannel#attachLocal}).
     *
     * @throws IllegalArgumentException if the name is not acceptable
     * @throws LimitExceededException   if the channel does not fit in the host's memory budget
     * @param name    the channel name peers attach by (see {@link io.sluice.api.ChannelNames}); unique within the host
     * @param options the ring's geometry and limits
     * @return the channel, open until closed or the host closes
     */
    public HostedMpmcChannel mpmc(String name, MpmcOptions options) {
        ChannelNames.validate(name);
        return host(name, options.regionSize(), () -> HostedMpmcChannel.create(name, options));
    }

    /** Checks the name and the budget, then creates the channel, all before any peer can see it. */
    private synchronized <C extends HostedChannel> C host(String name, long size, Supplier<C> create) {
        if (closing) {
            throw new IllegalStateException("host on " + server.path() + " is closed");
        }
        if (name.equals(HostStatusDescriptor.HOST_CHANNEL)) {
            throw new IllegalArgumentException("channel name '" + name + "' is reserved: monitors ask for it to read the"
                    + " host's status region");
        }
        if (channels.containsKey(name)) {
            throw new SluiceException("channel '" + name + "' is already hosted on " + server.path());
        }
        if (size > options.memoryBudget() - budgetUsed) {
            throw new LimitExceededException("channel '" + name + "': needs " + size + " bytes of shared memory; the host's"
                    + " memory budget of " + options.memoryBudget() + " bytes has " + (options.memoryBudget() - budgetUsed)
                    + " left (HostOptions.memoryBudget)");
        }
        C channel;
        try {
            channel = create.get();
        } catch (SystemCallException e) {
            throw e.about("channel '" + name + "'");
        }
        budgetUsed += channel.dataRegionSize();
        channel.registeredWith(this);
        channels.put(name, channel);
        return channel;
    }

    /** A channel closed: its name leaves the table at once, its memory returns to the budget. */
    synchronized void forget(HostedChannel channel) {
        if (channels.remove(channel.name(), channel)) {
            budgetUsed -= channel.dataRegionSize();
        }
    }

    /** The counts published in the status region; any thread adds to them. */
    HostCounters statusCounters() {
        return statusCounters;
    }

    /** The status region, for monitors of the whole host. */
    HostStatus status() {
        return status;
    }

    /** A monitor of the whole host joined ({@code true}) or left (host thread). */
    void hostMonitor(Attachment monitor, boolean joined) {
        if (joined) {
            hostMonitors.add(monitor);
            statusCounters.attaches.incrementAndGet();
        } else if (hostMonitors.remove(monitor)) {
            statusCounters.detached(ChannelEvents.HANG_UP);
        }
    }

    long nextAttachmentId() {
        return attachmentIds.incrementAndGet();
    }

    /** For UNKNOWN_CHANNEL: the hosted names, if the host opted in and its policy admits the peer. */
    String hostedNamesFor(PeerCredentials peer) {
        if (!options.listChannelsInRefusals() || !options.accessPolicy().admits(peer)) {
            return "";
        }
        return " (hosted: " + String.join(", ", channels.keySet().stream().sorted().toList()) + ")";
    }

    /**
     * How many consumers the stuck-consumer policy detached ({@code DETACH(STUCK)}) since the
     * host started ({@link HostOptions#stuckConsumerTimeout}); any thread.
     */
    long stuckConsumerDetaches() {
        return statusCounters.stuckDetaches.get();
    }

    /** A channel detaches a stuck consumer (under that channel's lock). */
    void noteStuckDetach() {
        statusCounters.stuckDetaches.incrementAndGet();
    }

    /** Counts, logs and records a refusal; {@code channel}: the name asked for, null if unknown (host thread). */
    void noteRefusal(RefusalReason reason, PeerCredentials peer, String channel, String text) {
        refusals.get(reason).incrementAndGet();
        statusCounters.refused(reason);
        ChannelEvents.refused(refusalLogs.get(reason), reason, peer, channel, text);
    }

    /**
     * A session failed in a way the host did not foresee (a defect, not a peer's fault): logged
     * with its stack trace, at most once per interval, so a peer that can trigger it cannot flood
     * the log (host thread).
     */
    void noteFailure(String serving, RuntimeException e) {
        sessionFailure.log(() -> "serving " + serving + " failed: " + e, e);
    }

    /** Runs {@code task} on the host's thread (soon); any thread. */
    void execute(Runnable task) {
        tasks.add(task);
        pollSet.wake();
    }

    // ---- the host's thread ----

    private void run() {
        while (!closed) {
            try {
                step();
            } catch (Throwable t) { // the host's thread never dies of a failure: it is every peer's liveness
                loopFailure.log(() -> "host on " + server.path() + ": its thread failed, and goes on: " + t);
                pause(MIN_BACKOFF_NANOS);
            }
        }
        for (HostSession s : sessions) {
            s.end();
        }
        sessions.clear();
        pollSet.close(); // only this thread polls; a late wake() finds it closed and does nothing
        status.close(); // monitors keep their own mappings; the memfd goes when the last one unmaps
    }

    private void step() {
        runTasks();
        long now = System.nanoTime();
        if (now - lastWatch >= watchInterval) {
            lastWatch = now;
            for (HostedChannel ch : channels.values()) {
                ch.tidy();
                ch.watch(now);
            }
        }
        if (now - lastStatus >= STATUS_INTERVAL_NANOS) {
            lastStatus = now;
            publishStatus();
        }
        long nextDeadline = lastStatus + STATUS_INTERVAL_NANOS; // the next status update
        for (int i = sessions.size() - 1; i >= 0; i--) {
            HostSession s = sessions.get(i);
            if (s.step() != HostSession.Step.ENDED && s.deadline() - now <= 0) {
                s.onDeadline();
            }
            if (s.step() == HostSession.Step.ENDED) {
                remove(i);
            } else {
                nextDeadline = Math.min(nextDeadline, s.deadline());
            }
        }
        boolean accepting = acceptPausedUntil - now <= 0;
        long wait = Math.min(nextDeadline == Long.MAX_VALUE ? 1_000_000_000L : nextDeadline - now,
                accepting ? 1_000_000_000L : acceptPausedUntil - now);
        wait = Math.min(wait, lastWatch + watchInterval - now);
        int timeoutMillis = (int) Math.max(1, Math.min(1_000, (wait + 999_999) / 1_000_000));
        List<SeqPacketSocket> sockets = new ArrayList<>(sessions.size());
        for (HostSession s : sessions) {
            sockets.add(s.connection());
        }
        BitSet ready = pollSet.await(accepting ? server : null, sockets, timeoutMillis);
        for (int i = ready.nextSetBit(1); i >= 0; i = ready.nextSetBit(i + 1)) {
            sessions.get(i - 1).onReadable();
        }
        if (accepting && ready.get(0)) {
            acceptSome();
        }
    }

    private void publishStatus() {
        try {
            status.publish(new TreeMap<>(channels).values(), hostMonitors, statusCounters);
        } catch (RuntimeException e) {
            loopFailure.log(() -> "host on " + server.path() + ": publishing its status failed: " + e);
        }
    }

    private void runTasks() {
        Runnable task;
        while ((task = tasks.poll()) != null) {
            try {
                task.run();
            } catch (RuntimeException e) {
                log(Level.WARNING, () -> "host on " + server.path() + ": a task failed: " + e);
            }
        }
    }

    private void remove(int index) {
        HostSession s = sessions.remove(index);
        connectionsPerUid.merge(s.peer().uid(), -1, (a, b) -> a + b == 0 ? null : a + b);
    }

    private void acceptSome() {
        for (int n = 0; n < ACCEPT_BATCH; n++) {
            SeqPacketSocket conn;
            try {
                conn = server.tryAccept();
            } catch (IllegalStateException e) {
                return; // closed
            } catch (SystemCallException e) {
                backOff(e);
                return;
            }
            if (conn == null) {
                backoffNanos = 0; // drained the backlog: accepting works again
                return;
            }
            admit(conn);
        }
    }

    /** Out of descriptors (or memory): the pending connection was shed; pause accepting, say so once. */
    private void backOff(SystemCallException e) {
        backoffNanos = backoffNanos == 0 ? MIN_BACKOFF_NANOS : Math.min(MAX_BACKOFF_NANOS, backoffNanos * 2);
        acceptPausedUntil = System.nanoTime() + backoffNanos;
        outOfFds.log(() -> "host on " + server.path() + ": cannot accept (" + e.getMessage() + "); connections are shed"
                + " and accepting pauses up to " + backoffNanos / 1_000_000 + " ms at a time (" + sessions.size()
                + " connections open)");
    }

    private void admit(SeqPacketSocket conn) {
        PeerCredentials peer;
        try {
            peer = conn.peerCredentials();
        } catch (RuntimeException e) {
            conn.close();
            return;
        }
        int ofUid = connectionsPerUid.getOrDefault(peer.uid(), 0);
        String limit = null;
        if (sessions.size() >= options.maxConnections()) {
            limit = "the host has its " + options.maxConnections() + " connections";
        } else if (ofUid >= options.maxConnectionsPerUid()) {
            limit = "uid " + peer.uid() + " has its " + options.maxConnectionsPerUid() + " connections to this host";
        }
        if (limit != null) {
            noteRefusal(RefusalReason.CONNECTION_LIMIT, peer, null, limit);
            try {
                conn.send(Handshake.refuse(RefusalReason.CONNECTION_LIMIT, limit));
            } catch (RuntimeException ignored) {
                // it will see the end of stream anyway
            }
            conn.close();
            return;
        }
        connectionsPerUid.put(peer.uid(), ofUid + 1);
        sessions.add(new HostSession(this, conn, peer, System.nanoTime() + options.handshakeTimeout().toNanos()));
    }

    private void pause(long nanos) {
        java.util.concurrent.locks.LockSupport.parkNanos(nanos); // after a failure only: no spinning on it
    }

    private void log(Level level, Supplier<String> message) {
        try {
            if (LOG.isLoggable(level)) {
                LOG.log(level, message.get());
            }
        } catch (Throwable ignored) {
            // logging must not take the host down (out of descriptors, a broken handler)
        }
    }

    /**
     * Stops accepting, detaches every peer (each sees end of stream), closes every channel.
     * Idempotent; safe from any thread, in any order with its channels' close.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closing) {
                return;
            }
            closing = true;
        }
        // Channels first, while the host's thread still runs: each attached peer is told why
        // (DETACH(CHANNEL_CLOSED)) before its connection closes.
        for (HostedChannel ch : List.copyOf(channels.values())) {
            ch.close();
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
        return "ChannelHost[" + server.path() + ", " + channels.size() + " channels]";
    }
}
