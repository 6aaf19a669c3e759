package io.sluice.channel;

import io.sluice.api.AttachRefusedException;
import io.sluice.api.ConnectionClosedException;
import io.sluice.api.ProtocolException;
import io.sluice.api.RefusalReason;
import io.sluice.api.RingKind;
import io.sluice.api.Role;
import io.sluice.fdpassing.ReceivedMessage;
import io.sluice.fdpassing.SeqPacketSocket;
import io.sluice.memfd.MemfdRegion;
import io.sluice.memfd.Seal;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;

/**
 * The attaching side of one attachment: the handshake with the host, the verified data region,
 * the consumer's own position region, and a watch on the connection that notices the host's end.
 * Ring-specific attach classes build on it; closing it detaches (the host sees end of stream).
 */
final class AttachSession implements AutoCloseable {
    private final SeqPacketSocket connection;
    private final Handshake.Welcome welcome;
    private final MemfdRegion data;
    private final MemfdRegion position; // consumers of SPSC and broadcast; null otherwise
    private final MemorySegment positionView; // writable, ours
    private final String channel;
    private final long registration;
    private volatile boolean hostGone;
    private final Thread watcher;

    private AttachSession(SeqPacketSocket connection, Handshake.Welcome welcome, MemfdRegion data,
                          MemfdRegion position, MemorySegment positionView, String channel, long registration) {
        this.registration = registration;
        this.connection = connection;
        this.welcome = welcome;
        this.data = data;
        this.position = position;
        this.positionView = positionView;
        this.channel = channel;
        this.watcher = Thread.ofPlatform().daemon().name("sluice-attach-watch " + channel).unstarted(this::watch);
    }

    /**
     * Attaches to {@code channel} on the host at {@code socket}.
     *
     * @param expected       the ring kinds this caller can work with (the host's must be one)
     * @param positionWriter for consumers: initializes the position region (mapped read-write)
     *                       given the data region (mapped read-only) before it is sealed and sent
     * @throws AttachRefusedException the host's refusal, with its reason
     */
    static AttachSession attach(Path socket, String channel, Role role, Set<RingKind> expected, Duration timeout,
                                PositionWriter positionWriter) {
        SeqPacketSocket conn = SeqPacketSocket.connect(socket);
        MemfdRegion data = null;
        MemfdRegion position = null;
        String from = "host " + socket;
        long registration;
        try {
            conn.send(Handshake.hello(role, channel));
            Handshake.Welcome welcome;
            try (ReceivedMessage m = conn.receive(HandshakeDescriptor.MAX_MESSAGE_BYTES, 1, timeout)) {
                ByteBuffer b = Handshake.checkHeader(m.data(), from);
                if (Handshake.type(b) == HandshakeDescriptor.REFUSE) {
                    throw refused(b, from);
                }
                welcome = Handshake.decodeWelcome(b, from);
                if (!expected.contains(welcome.kind())) {
                    throw new ProtocolException(from + ": channel '" + channel + "' is " + welcome.kind()
                            + ", this side expects " + expected);
                }
                if (m.fdCount() != 1) {
                    throw new ProtocolException(from + ": WELCOME carried " + m.fdCount() + " fds, expected 1");
                }
                EnumSet<Seal> seals = EnumSet.of(Seal.SHRINK, Seal.GROW);
                if (welcome.kind() != RingKind.MPMC) {
                    seals.add(Seal.FUTURE_WRITE); // single writer: the kernel keeps us read-only
                }
                data = MemfdRegion.adopt(m.takeFd(0), welcome.dataRegionSize(), seals);
            }
            MemorySegment positionView = null;
            if (welcome.positionRegionSize() > 0) {
                if (positionWriter == null) {
                    throw new ProtocolException(from + ": channel '" + channel + "' asks a position region of a "
                            + role + ", which this side does not keep");
                }
                position = MemfdRegion.create(channel + ".consumer." + ProcessHandle.current().pid(), welcome.positionRegionSize());
                positionView = position.mapReadWrite();
                positionWriter.write(data.mapReadOnly(), positionView, welcome);
                position.addSeals(Seal.SHRINK, Seal.GROW, Seal.FUTURE_WRITE); // only our mapping may write it
                conn.send(Handshake.position(welcome.positionRegionSize()), position.fd());
            }
            try (ReceivedMessage m = conn.receive(HandshakeDescriptor.MAX_MESSAGE_BYTES, 0, timeout)) {
                ByteBuffer b = Handshake.checkHeader(m.data(), from);
                if (Handshake.type(b) == HandshakeDescriptor.REFUSE) {
                    throw refused(b, from);
                }
                registration = Handshake.decodeReady(b, from);
            }
            AttachSession s = new AttachSession(conn, welcome, data, position, positionView, channel, registration);
            s.watcher.start();
            return s;
        } catch (RuntimeException e) {
            conn.close();
            if (data != null) {
                data.close();
            }
            if (position != null) {
                position.close();
            }
            if (e instanceof ConnectionClosedException) {
                throw new ConnectionClosedException(from + " closed the connection during the handshake for '" + channel + "'");
            }
            throw e;
        }
    }

    private static AttachRefusedException refused(ByteBuffer b, String from) {
        Handshake.Refuse r = Handshake.decodeRefuse(b, from);
        RefusalReason reason = r.reason() != null ? r.reason() : RefusalReason.INTERNAL;
        return new AttachRefusedException(reason, r.text() + (r.reason() == null ? " (reason code " + r.rawCode() + ")" : ""));
    }

    /** Initializes a consumer's position region before it is sealed and handed to the host. */
    @FunctionalInterface
    interface PositionWriter {
        void write(MemorySegment dataReadOnly, MemorySegment position, Handshake.Welcome welcome);
    }

    private void watch() {
        while (true) {
            try (ReceivedMessage m = connection.receive(HandshakeDescriptor.MAX_MESSAGE_BYTES, 0, null)) {
                // The host has nothing to say after READY; ignore rather than tear down the ring.
            } catch (RuntimeException e) {
                hostGone = true; // end of stream, or our own close()
                return;
            }
        }
    }

    /** READY's registration number (broadcast back-pressure consumers; else 0). */
    long registration() {
        return registration;
    }

    Handshake.Welcome welcome() {
        return welcome;
    }

    MemfdRegion data() {
        return data;
    }

    /** Our position region, mapped read-write (consumers only). */
    MemorySegment positionView() {
        return positionView;
    }

    String channel() {
        return channel;
    }

    /** Whether the host closed the connection or died. */
    boolean hostGone() {
        return hostGone;
    }

    /** Waits until the host is gone, at most {@code timeout}. */
    void awaitHostGone(Duration timeout) throws InterruptedException {
        watcher.join(timeout);
    }

    @Override
    public void close() {
        connection.close();
        try {
            watcher.join(1_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        data.close();
        if (position != null) {
            position.close();
        }
    }

}
