package io.sluice.channel;

import io.sluice.api.ConnectionClosedException;
import io.sluice.api.ProtocolException;
import io.sluice.api.RefusalReason;
import io.sluice.api.RingKind;
import io.sluice.api.RegionRefusedException;
import io.sluice.api.Role;
import io.sluice.api.SluiceException;
import io.sluice.fdpassing.PeerCredentials;
import io.sluice.fdpassing.ReceiveTimeoutException;
import io.sluice.fdpassing.ReceivedMessage;
import io.sluice.fdpassing.SeqPacketServer;
import io.sluice.fdpassing.SeqPacketSocket;
import io.sluice.memfd.MemfdRegion;
import io.sluice.memfd.Seal;

import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Hosts named channels on a Unix socket; other processes attach to them by socket path and
 * channel name (see {@code docs/protocol.md}).
 *
 * <p>Threads: one acceptor, and one platform thread per connection, which runs the handshake
 * (bounded by {@link #handshakeTimeout}) and then waits on the connection for its end: the peer's
 * {@code close()} or death both show as end of stream within microseconds, and the channel then
 * recovers what the peer held. A peer that misbehaves is refused (or dropped) on its own thread;
 * the host keeps serving everyone else.
 */
public final class ChannelHost implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ChannelHost.class.getName());
    /** How long a connecting peer has to complete each step of the handshake. */
    public static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(5);
    private static final Set<Seal> POSITION_SEALS = EnumSet.of(Seal.SHRINK, Seal.GROW, Seal.FUTURE_WRITE);

    private final SeqPacketServer server;
    private final AccessPolicy policy;
    private final Duration handshakeTimeout;
    private final Map<String, HostedChannel> channels = new ConcurrentHashMap<>();
    private final Map<SeqPacketSocket, Thread> connections = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();
    private final Thread acceptor;
    private volatile boolean closed;

    private ChannelHost(SeqPacketServer server, AccessPolicy policy, Duration handshakeTimeout) {
        this.server = server;
        this.policy = policy;
        this.handshakeTimeout = handshakeTimeout;
        this.acceptor = Thread.ofPlatform().daemon().name("sluice-host-accept " + server.path()).unstarted(this::acceptLoop);
    }

    /** Hosts on {@code socket} (mode 0600), admitting only processes of this host's uid. */
    public static ChannelHost bind(Path socket) {
        return bind(socket, AccessPolicy.sameUser(), DEFAULT_HANDSHAKE_TIMEOUT);
    }

    /** Hosts on {@code socket} (mode 0600) with an access policy and a handshake timeout of your choice. */
    public static ChannelHost bind(Path socket, AccessPolicy policy, Duration handshakeTimeout) {
        return bind(socket, policy, handshakeTimeout, SeqPacketServer.OWNER_ONLY);
    }

    /**
     * Hosts on {@code socket} whose file gets {@code socketPermissions}: loosen them (e.g.
     * {@code rw-rw----}) when other users are to attach; the access policy then decides who may.
     */
    public static ChannelHost bind(Path socket, AccessPolicy policy, Duration handshakeTimeout,
                                   java.util.Set<java.nio.file.attribute.PosixFilePermission> socketPermissions) {
        SeqPacketServer server = SeqPacketServer.bind(socket, socketPermissions);
        ChannelHost host = new ChannelHost(server, policy, handshakeTimeout);
        host.acceptor.start();
        return host;
    }

    /** The socket path peers attach to. */
    public Path path() {
        return server.path();
    }

    /** The handshake timeout. */
    public Duration handshakeTimeout() {
        return handshakeTimeout;
    }

    /** The hosted channel of that name, or null. */
    public HostedChannel channel(String name) {
        return channels.get(name);
    }

    /**
     * Hosts an SPSC channel of {@code capacity} data bytes (a power of two): its producer is
     * {@link HostedSpscChannel#producer()}, in this process; one consumer at a time attaches.
     */
    public HostedSpscChannel spsc(String name, long capacity) {
        return spsc(name, capacity, false);
    }

    /**
     * As {@link #spsc(String, long)}; with {@code wakeParkedConsumers} the producer wakes a
     * consumer that sleeps in {@link ConsumerAttachment#pollBlocking} (a full fence per commit, and
     * a system call only when the consumer is asleep).
     */
    public HostedSpscChannel spsc(String name, long capacity, boolean wakeParkedConsumers) {
        return register(HostedSpscChannel.create(name, capacity, wakeParkedConsumers));
    }

    /**
     * Hosts a broadcast channel of {@code capacity} data bytes (a power of two) for up to
     * {@code maxConsumers} consumers. {@code kind} chooses the overflow policy:
     * {@link RingKind#BROADCAST_BACKPRESSURE} (the producer never overtakes the slowest attached
     * consumer) or {@link RingKind#BROADCAST_OVERWRITE} (it never waits; lapped consumers are told).
     * The producer is {@link HostedBroadcastChannel#producer()}, in this process.
     */
    public HostedBroadcastChannel broadcast(String name, RingKind kind, long capacity, int maxMessageLength, int maxConsumers) {
        return register(HostedBroadcastChannel.create(name, kind, capacity, maxMessageLength, maxConsumers));
    }

    /**
     * Hosts an MPMC channel of {@code slotCount} slots of {@code slotLength} bytes (powers of two;
     * the payload is 16 bytes less), for up to {@code maxParticipants} producers and consumers
     * across processes, this one included ({@link HostedMpmcChannel#localProducer()}).
     */
    public HostedMpmcChannel mpmc(String name, int slotCount, int slotLength, int maxParticipants) {
        return register(HostedMpmcChannel.create(name, slotCount, slotLength, maxParticipants));
    }

    private <C extends HostedChannel> C register(C channel) {
        if (closed) {
            channel.close();
            throw new IllegalStateException("host on " + server.path() + " is closed");
        }
        if (channels.putIfAbsent(channel.name(), channel) != null) {
            channel.close();
            throw new SluiceException("channel '" + channel.name() + "' is already hosted on " + server.path());
        }
        return channel;
    }

    private void acceptLoop() {
        while (!closed) {
            SeqPacketSocket conn;
            try {
                conn = server.accept();
            } catch (IllegalStateException e) {
                return; // closed
            } catch (RuntimeException e) {
                if (!closed) {
                    LOG.log(Level.WARNING, "accept failed on " + server.path() + ": " + e.getMessage());
                }
                continue;
            }
            Thread t = Thread.ofPlatform().daemon().name("sluice-host-peer " + server.path()).unstarted(() -> serve(conn));
            connections.put(conn, t);
            if (closed) {
                conn.close();
            }
            t.start();
        }
    }

    private void serve(SeqPacketSocket conn) {
        HostedChannel channel = null;
        Attachment attachment = null;
        Role reserved = null;
        String from = "peer on " + server.path();
        try {
            PeerCredentials peer = conn.peerCredentials();
            from = "peer " + peer;
            Handshake.Hello hello;
            try (ReceivedMessage m = conn.receive(HandshakeDescriptor.MAX_MESSAGE_BYTES, 0, handshakeTimeout)) {
                hello = Handshake.decodeHello(m.data(), from);
            }
            if (hello.version() != HandshakeDescriptor.PROTOCOL_VERSION) {
                refuse(conn, RefusalReason.VERSION_MISMATCH, "host speaks protocol version "
                        + HandshakeDescriptor.PROTOCOL_VERSION + ", " + from + " sent version " + hello.version());
                return;
            }
            channel = channels.get(hello.channel());
            if (channel == null) {
                refuse(conn, RefusalReason.UNKNOWN_CHANNEL, "no channel '" + hello.channel() + "' on " + server.path()
                        + " (hosted: " + String.join(", ", channels.keySet().stream().sorted().toList()) + ")");
                return;
            }
            AccessPolicy effective = channel.accessPolicy() != null ? channel.accessPolicy() : policy;
            if (!effective.admits(peer)) {
                refuse(conn, RefusalReason.ACCESS_DENIED, "channel '" + channel.name() + "': " + effective.explain(peer));
                return;
            }
            HostedChannel.Refusal refusal;
            int participantId;
            synchronized (channel) {
                refusal = channel.admit(hello.role());
                participantId = refusal == null ? channel.assignParticipantId(hello.role()) : 0;
            }
            if (refusal != null) {
                refuse(conn, refusal.reason(), refusal.text());
                return;
            }
            reserved = hello.role();
            attachment = new Attachment(ids.incrementAndGet(), conn, peer, hello.role(), participantId);
            long positionSize = channel.positionRegionSize(hello.role());
            conn.send(Handshake.welcome(new Handshake.Welcome(channel.kind(), participantId, channel.dataRegionSize(),
                    positionSize, channel.maxMessageLength(), channel.welcomeFlags(), channel.startPosition(hello.role()))),
                    channel.dataFd());
            if (positionSize > 0) {
                try (ReceivedMessage m = conn.receive(HandshakeDescriptor.MAX_MESSAGE_BYTES, 1, handshakeTimeout)) {
                    long size = Handshake.decodePosition(m.data(), from);
                    if (size != positionSize || m.fdCount() != 1) {
                        throw new ProtocolException(from + ": POSITION names " + size + " bytes and " + m.fdCount()
                                + " fds, expected " + positionSize + " bytes and 1 fd");
                    }
                    MemfdRegion region;
                    try {
                        region = MemfdRegion.adopt(m.takeFd(0), positionSize, POSITION_SEALS);
                    } catch (RegionRefusedException e) {
                        refuse(conn, RefusalReason.BAD_REGION, "channel '" + channel.name() + "': position region refused: " + e.getMessage());
                        return;
                    }
                    attachment.adoptPositionRegion(region);
                }
                String bad = channel.checkPositionRegion(attachment);
                if (bad != null) {
                    refuse(conn, RefusalReason.BAD_REGION, "channel '" + channel.name() + "': " + bad);
                    return;
                }
            }
            long registration = channel.attached(attachment);
            reserved = null;
            conn.send(Handshake.ready(registration));
            LOG.log(Level.DEBUG, () -> "attached " + "to '" + hello.channel() + "': " + connections.size() + " connections");
            awaitEnd(conn, from);
        } catch (ReceiveTimeoutException e) {
            refuse(conn, RefusalReason.TIMEOUT, "handshake not completed within " + handshakeTimeout);
        } catch (ProtocolException e) {
            refuse(conn, RefusalReason.MALFORMED, e.getMessage());
        } catch (ConnectionClosedException e) {
            // the peer left during the handshake (or after it: awaitEnd returns normally)
        } catch (RuntimeException e) {
            if (!closed) {
                LOG.log(Level.WARNING, "serving " + from + " failed", e);
                refuse(conn, RefusalReason.INTERNAL, e.toString());
            }
        } finally {
            if (channel != null && attachment != null && reserved == null) {
                try {
                    channel.detached(attachment); // recovers what the peer held; closes its connection
                } catch (RuntimeException e) {
                    // e.g. recovery met a corrupt slot word: say so, but still let go of the peer
                    LOG.log(Level.ERROR, "channel '" + channel.name() + "': recovering " + attachment + " failed", e);
                    attachment.release();
                }
            } else {
                if (channel != null && reserved != null) {
                    synchronized (channel) {
                        channel.cancelAdmission(reserved, attachment != null ? attachment.participantId() : 0);
                    }
                }
                if (attachment != null) {
                    attachment.release();
                }
                conn.close();
            }
            connections.remove(conn);
        }
    }

    /** After the handshake the peer has nothing to say: any message is a violation, EOF is its exit. */
    private void awaitEnd(SeqPacketSocket conn, String from) {
        while (true) {
            try (ReceivedMessage m = conn.receive(HandshakeDescriptor.MAX_MESSAGE_BYTES, 0, null)) {
                LOG.log(Level.WARNING, from + " sent a message after the handshake; dropping it");
                return;
            } catch (ConnectionClosedException e) {
                return;
            } catch (ProtocolException e) {
                LOG.log(Level.WARNING, from + ": " + e.getMessage() + "; dropping it");
                return;
            }
        }
    }

    private void refuse(SeqPacketSocket conn, RefusalReason reason, String text) {
        LOG.log(Level.INFO, () -> "refused (" + reason + "): " + text);
        try {
            conn.send(Handshake.refuse(reason, text));
        } catch (RuntimeException ignored) {
            // the peer may be gone already; the refusal is logged
        }
    }

    /** Stops accepting, detaches every peer (each sees end of stream), frees every channel. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        server.close();
        for (SeqPacketSocket c : connections.keySet()) {
            c.close();
        }
        for (HostedChannel ch : channels.values()) {
            ch.close();
        }
        try {
            acceptor.join(5_000);
            for (Thread t : connections.values()) {
                t.join(5_000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

}
