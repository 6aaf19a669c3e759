package io.sluice.channel;

import io.sluice.api.AttachRefusedException;
import io.sluice.api.ChannelNames;
import io.sluice.api.ConnectionClosedException;
import io.sluice.api.ProtocolException;
import io.sluice.api.RefusalReason;
import io.sluice.api.RingKind;
import io.sluice.api.Role;
import io.sluice.api.UntrustedText;
import io.sluice.fdpassing.ReceivedMessage;
import io.sluice.fdpassing.SeqPacketSocket;
import io.sluice.memfd.MemfdRegion;
import io.sluice.memfd.Seal;
import io.sluice.ringbuffer.BroadcastConsumerPositionDescriptor;
import io.sluice.ringbuffer.SpscConsumerPositionDescriptor;
import io.sluice.ringbuffer.RegionHeaderDescriptor;
import io.sluice.ringbuffer.SpscConsumerPositionDescriptor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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
final class AttachSession implements ChannelLink {
    private final SeqPacketSocket connection;
    private final Handshake.Welcome welcome;
    private final MemfdRegion data;
    private final MemfdRegion position; // consumers of SPSC and broadcast; null otherwise
    private final MemorySegment positionView; // writable, ours
    private final String channel;
    private final long registration;
    private final MemorySegment dataView; // read-only mapping of the data region
    private final ChannelInfo info;
    private volatile boolean hostGone;
    private volatile End end; // written before hostGone (the watcher), read after it
    private final Thread watcher;

    private AttachSession(SeqPacketSocket connection, Handshake.Welcome welcome, MemfdRegion data,
                          MemfdRegion position, MemorySegment positionView, String channel, long registration,
                          MemorySegment dataView) {
        this.registration = registration;
        this.dataView = dataView;
        this.connection = connection;
        this.welcome = welcome;
        this.data = data;
        this.position = position;
        this.positionView = positionView;
        this.channel = channel;
        // The capacity is read once, here; the ring's attach validates it before anyone uses it.
        this.info = new ChannelInfo(channel, welcome.kind(),
                dataView.get(ValueLayout.JAVA_LONG_UNALIGNED, RegionHeaderDescriptor.CAPACITY_OFFSET),
                welcome.maxMessageLength(), (welcome.flags() & HandshakeDescriptor.WELCOME_FLAG_BLOCKING_WAKE) != 0);
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
        ChannelNames.validate(channel);
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
                boolean status = welcome.kind() == null;
                if (status ? !channel.equals(HostStatusDescriptor.HOST_CHANNEL) || role != Role.MONITOR
                        : !expected.contains(welcome.kind())) {
                    throw new ProtocolException(from + ": channel '" + channel + "' is " + welcome.kind()
                            + ", this side expects " + expected);
                }
                if (m.fdCount() != 1) {
                    throw new ProtocolException(from + ": WELCOME carried " + m.fdCount() + " fds, expected 1");
                }
                long positionSize = role == Role.MONITOR ? 0 : expectedPositionRegionSize(welcome.kind());
                if (welcome.positionRegionSize() != positionSize) {
                    throw new ProtocolException(from + ": WELCOME asks a position region of " + welcome.positionRegionSize()
                            + " bytes; a " + welcome.kind() + " " + role + " hands over " + positionSize);
                }
                EnumSet<Seal> seals = EnumSet.of(Seal.SHRINK, Seal.GROW);
                if (status || welcome.kind() != RingKind.MPMC) {
                    seals.add(Seal.FUTURE_WRITE); // single writer: the kernel keeps us read-only
                }
                data = MemfdRegion.adopt(m.takeFd(0), welcome.dataRegionSize(), seals);
            }
            MemorySegment positionView = null;
            MemorySegment dataView = null;
            if (welcome.positionRegionSize() > 0) {
                if (positionWriter == null) {
                    throw new ProtocolException(from + ": channel '" + channel + "' asks a position region of a "
                            + role + ", which this side does not keep");
                }
                position = MemfdRegion.create(channel + ".consumer." + ProcessHandle.current().pid(), welcome.positionRegionSize());
                positionView = position.mapReadWrite();
                dataView = data.mapReadOnly();
                positionWriter.write(dataView, positionView, welcome);
                position.addSeals(Seal.SHRINK, Seal.GROW, Seal.FUTURE_WRITE); // only our mapping may write it
                position.addSeals(Seal.SEAL);
                conn.send(Handshake.position(welcome.positionRegionSize()), position.fd());
            }
            try (ReceivedMessage m = conn.receive(HandshakeDescriptor.MAX_MESSAGE_BYTES, 0, timeout)) {
                ByteBuffer b = Handshake.checkHeader(m.data(), from);
                // A DETACH in READY's place: the host had joined us, then ended it before READY
                // went out (the channel closed meanwhile). To this side it is a refusal.
                if (Handshake.type(b) == HandshakeDescriptor.REFUSE || Handshake.type(b) == HandshakeDescriptor.DETACH) {
                    throw refused(b, from);
                }
                registration = Handshake.decodeReady(b, from);
            }
            AttachSession s = new AttachSession(conn, welcome, data, position, positionView, channel, registration,
                    dataView != null ? dataView : data.mapReadOnly());
            s.watcher.start();
            return s;
        } catch (RuntimeException e) {
            RuntimeException failure = e;
            if (e instanceof ConnectionClosedException) {
                // The host may have refused and closed before reading us (a connection limit):
                // its REFUSE is still queued here, and says more than the end of stream.
                failure = pendingRefusal(conn, from);
                if (failure == null) {
                    failure = new ConnectionClosedException(from + " closed the connection during the handshake for '" + channel + "'");
                }
            }
            conn.close();
            if (data != null) {
                data.close();
            }
            if (position != null) {
                position.close();
            }
            throw failure;
        }
    }

    /** A REFUSE (or DETACH) already received but not read yet, as an exception; null if there is none. */
    private static AttachRefusedException pendingRefusal(SeqPacketSocket conn, String from) {
        try (ReceivedMessage m = conn.tryReceive(HandshakeDescriptor.MAX_MESSAGE_BYTES, 0)) {
            if (m != null) {
                ByteBuffer b = Handshake.checkHeader(m.data(), from);
                if (Handshake.type(b) == HandshakeDescriptor.REFUSE || Handshake.type(b) == HandshakeDescriptor.DETACH) {
                    return refused(b, from);
                }
            }
        } catch (RuntimeException ignored) {
            // nothing readable: the end of stream is all there is
        }
        return null;
    }

    private static long expectedPositionRegionSize(RingKind kind) {
        return switch (kind) {
            case SPSC -> SpscConsumerPositionDescriptor.REGION_SIZE;
            case BROADCAST_BACKPRESSURE, BROADCAST_OVERWRITE -> BroadcastConsumerPositionDescriptor.REGION_SIZE;
            case MPMC -> 0;
        };
    }

    /** A REFUSE (or a DETACH where READY was due) as the exception the caller gets. */
    private static AttachRefusedException refused(ByteBuffer b, String from) {
        Handshake.Refuse r = Handshake.type(b) == HandshakeDescriptor.DETACH
                ? Handshake.decodeDetach(b, from) : Handshake.decodeRefuse(b, from);
        RefusalReason reason = r.reason() != null ? r.reason() : RefusalReason.INTERNAL;
        // The text is the host's: printable only, so it cannot forge lines in our logs.
        return new AttachRefusedException(reason, UntrustedText.escape(r.text())
                + (r.reason() == null ? " (reason code " + r.rawCode() + ")" : ""));
    }

    /** Initializes a consumer's position region before it is sealed and handed to the host. */
    @FunctionalInterface
    interface PositionWriter {
        void write(MemorySegment dataReadOnly, MemorySegment position, Handshake.Welcome welcome);
    }

    private void watch() {
        while (true) {
            try (ReceivedMessage m = connection.receive(HandshakeDescriptor.MAX_MESSAGE_BYTES, 0, null)) {
                // After READY the host only ever says why it ends the attachment (DETACH); any
                // other message is ignored rather than tearing down the ring.
                ByteBuffer b = m.data();
                if (b.remaining() >= HandshakeDescriptor.HEADER_LENGTH && Handshake.type(b) == HandshakeDescriptor.DETACH) {
                    Handshake.Refuse r = Handshake.decodeDetach(Handshake.checkHeader(b, "host"), "host");
                    end = new End(r.reason() != null ? r.reason() : RefusalReason.INTERNAL, "channel '" + channel
                            + "': the host ended this attachment (" + (r.reason() != null ? r.reason() : "reason code " + r.rawCode())
                            + "): " + UntrustedText.escape(r.text()));
                }
            } catch (ProtocolException e) {
                // a malformed DETACH: the end of stream that follows still ends the attachment
            } catch (RuntimeException e) {
                hostGone = true; // end of stream, or our own close()
                return;
            }
        }
    }

    @Override
    public String channel() {
        return channel;
    }

    @Override
    public ChannelInfo info() {
        return info;
    }

    @Override
    public End end() {
        return hostGone ? end : null;
    }

    @Override
    public void awaitEnd(Duration timeout) throws InterruptedException {
        watcher.join(timeout);
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

    /** The data region, mapped read-only (MPMC participants map it writable themselves). */
    MemorySegment dataView() {
        return dataView;
    }

    /** Our position region, mapped read-write (consumers only). */
    MemorySegment positionView() {
        return positionView;
    }

    /** Whether the host closed the connection, died, or ended this attachment. */
    @Override
    public boolean hostGone() {
        return hostGone;
    }

    /** Detaches: closes the connection (the host sees end of stream) and both regions. Idempotent. */
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
