package io.sluice.channel;

import io.sluice.api.ConnectionClosedException;
import io.sluice.api.ProtocolException;
import io.sluice.api.RefusalReason;
import io.sluice.api.RegionRefusedException;
import io.sluice.api.RingLayoutException;
import io.sluice.api.Role;
import io.sluice.fdpassing.PeerCredentials;
import io.sluice.fdpassing.ReceivedMessage;
import io.sluice.fdpassing.SeqPacketSocket;
import io.sluice.memfd.MemfdRegion;
import io.sluice.memfd.Seal;

import java.lang.System.Logger.Level;
import java.util.EnumSet;
import java.util.Set;

/**
 * The host's side of one connection, the mirror of {@link AttachSession}: a handshake that
 * advances one step per message, then the attachment it became. Driven by the host's thread
 * ({@link ChannelHost}) when the connection is readable or its step's deadline passes.
 *
 * <pre>
 *   HELLO ──admit──▶ WELCOME(fd) ─┬─ (MPMC) ──────────────────── join ─▶ READY ─▶ ATTACHED ─▶ ENDED
 *                                 └─ (consumer) POSITION(fd) ── join ─▶ READY ─▶ ATTACHED ─▶ ENDED
 * </pre>
 *
 * Every failure of a step ends the session with one REFUSE saying why, and closes everything the
 * step had received. A consumer takes its place in the channel only at {@code join}: a handshake
 * that stalls after WELCOME holds nothing, and times out.
 */
final class HostSession {
    private static final System.Logger LOG = System.getLogger(HostSession.class.getName());
    private static final Set<Seal> POSITION_SEALS = EnumSet.of(Seal.SHRINK, Seal.GROW, Seal.FUTURE_WRITE);

    enum Step { HELLO, POSITION, ATTACHED, ENDED }

    private final ChannelHost host;
    private final SeqPacketSocket connection;
    private final PeerCredentials peer;
    private final String from;
    private Step step = Step.HELLO;
    private long deadline;            // System.nanoTime() by which the current step must arrive
    private HostedChannel channel;
    private Role role;
    private Attachment attachment;    // from WELCOME on

    HostSession(ChannelHost host, SeqPacketSocket connection, PeerCredentials peer, long deadline) {
        this.host = host;
        this.connection = connection;
        this.peer = peer;
        this.from = "peer " + peer;
        this.deadline = deadline;
    }

    SeqPacketSocket connection() {
        return connection;
    }

    PeerCredentials peer() {
        return peer;
    }

    Step step() {
        return step;
    }

    /** The deadline of the current handshake step; {@code Long.MAX_VALUE} once attached. */
    long deadline() {
        return step == Step.HELLO || step == Step.POSITION ? deadline : Long.MAX_VALUE;
    }

    /** The connection is readable (a message, end of stream, or a close from another thread). */
    void onReadable() {
        if (connection.isClosed()) {
            end(); // closed on this side (its channel closed, or the host detached it): nothing to read
            return;
        }
        try {
            ReceivedMessage m = connection.tryReceive(HandshakeDescriptor.MAX_MESSAGE_BYTES, step == Step.POSITION ? 1 : 0);
            if (m == null) {
                return; // spurious
            }
            try (m) {
                switch (step) {
                    case HELLO -> hello(m);
                    case POSITION -> position(m);
                    case ATTACHED -> afterReady();
                    case ENDED -> { }
                }
            }
        } catch (ConnectionClosedException e) {
            end(); // the peer closed or died: during the handshake, or as its way to detach
        } catch (HostedChannel.Refused r) {
            refuse(r.reason(), r.getMessage());
        } catch (RingLayoutException e) { // a region the peer sent does not fit the ring
            refuse(RefusalReason.BAD_REGION, (channel == null ? "" : "channel '" + channel.name() + "': ") + e.getMessage());
        } catch (ProtocolException e) {
            if (step == Step.ATTACHED) {
                expel(RefusalReason.MALFORMED, e.getMessage());
            } else {
                refuse(RefusalReason.MALFORMED, e.getMessage());
            }
        } catch (RuntimeException e) {
            if (connection.isClosed()) {
                end();
            } else if (channel != null && channel.isClosed()) {
                // the channel closed under the handshake (its region unmapped, its fd closed)
                refuse(RefusalReason.CHANNEL_CLOSED, "channel '" + channel.name() + "' was closed");
            } else {
                host.noteFailure(from, e);
                refuse(RefusalReason.INTERNAL, "the host failed: " + e.getClass().getSimpleName());
            }
        }
    }

    /** The current step's deadline passed. */
    void onDeadline() {
        refuse(RefusalReason.TIMEOUT, "handshake step not completed within " + host.options().handshakeTimeout());
    }

    private void hello(ReceivedMessage m) {
        Handshake.Hello hello = Handshake.decodeHello(m.data(), from);
        if (hello.version() != HandshakeDescriptor.PROTOCOL_VERSION) {
            throw new HostedChannel.Refused(RefusalReason.VERSION_MISMATCH, "host speaks protocol version "
                    + HandshakeDescriptor.PROTOCOL_VERSION + ", " + from + " sent version " + hello.version());
        }
        HostedChannel ch = host.channel(hello.channel());
        if (ch == null) {
            throw new HostedChannel.Refused(RefusalReason.UNKNOWN_CHANNEL, "no channel '" + hello.channel() + "' on this host"
                    + host.hostedNamesFor(peer));
        }
        AccessPolicy effective = ch.accessPolicy() != null ? ch.accessPolicy() : host.options().accessPolicy();
        if (!effective.admits(peer)) {
            throw new HostedChannel.Refused(RefusalReason.ACCESS_DENIED, "channel '" + ch.name() + "': " + effective.explain(peer));
        }
        ch.admit(hello.role());
        channel = ch;
        role = hello.role();
        int participantId = ch.assignParticipantId(role);
        attachment = new Attachment(host.nextAttachmentId(), connection, peer, role, participantId);
        long positionSize = ch.positionRegionSize(role);
        try {
            connection.send(Handshake.welcome(new Handshake.Welcome(ch.kind(), participantId, ch.dataRegionSize(),
                    positionSize, ch.maxMessageLength(), ch.welcomeFlags(), ch.startPosition(role))), ch.dataFdFor(role));
        } catch (IllegalStateException closed) {
            // the channel closed (its fd with it) between the lookup and the send
            throw new HostedChannel.Refused(RefusalReason.CHANNEL_CLOSED, "channel '" + ch.name() + "' was closed");
        }
        if (positionSize > 0) {
            step = Step.POSITION;
            deadline = System.nanoTime() + host.options().handshakeTimeout().toNanos();
        } else {
            join();
        }
    }

    private void position(ReceivedMessage m) {
        long positionSize = channel.positionRegionSize(role);
        long size = Handshake.decodePosition(m.data(), from);
        if (size != positionSize || m.fdCount() != 1) {
            throw new ProtocolException(from + ": POSITION names " + size + " bytes and " + m.fdCount()
                    + " fds, expected " + positionSize + " bytes and 1 fd");
        }
        MemfdRegion region;
        try {
            region = MemfdRegion.adopt(m.takeFd(0), positionSize, POSITION_SEALS);
        } catch (RegionRefusedException e) {
            throw new HostedChannel.Refused(RefusalReason.BAD_REGION, "channel '" + channel.name()
                    + "': position region refused: " + e.getMessage());
        }
        attachment.adoptPositionRegion(region); // the attachment owns it from here; release() closes it
        String bad = channel.checkPositionRegion(attachment);
        if (bad != null) {
            throw new HostedChannel.Refused(RefusalReason.BAD_REGION, "channel '" + channel.name() + "': " + bad);
        }
        join();
    }

    private void join() {
        long registration = channel.join(attachment); // a refusal here is ended by end(), which frees the id
        step = Step.ATTACHED;
        try {
            connection.send(Handshake.ready(registration));
        } catch (RuntimeException e) {
            end(); // gone already: it leaves at once, and the channel recovers whatever it held
            return;
        }
        LOG.log(Level.DEBUG, () -> "attached " + attachment + " to '" + channel.name() + "'");
    }

    /** After READY the peer has nothing to say: any message is a violation. */
    private void afterReady() {
        expel(RefusalReason.MALFORMED, from + " sent a message after READY");
    }

    private void expel(RefusalReason reason, String text) {
        step = Step.ENDED;
        channel.expel(attachment, reason, text);
        connection.close();
    }

    /** Refuses (during the handshake): one REFUSE, then everything the session holds is released. */
    private void refuse(RefusalReason reason, String text) {
        if (step == Step.ATTACHED || step == Step.ENDED) {
            if (step == Step.ATTACHED) {
                expel(reason, text);
            }
            return;
        }
        host.noteRefusal(reason, peer, text);
        try {
            connection.send(Handshake.refuse(reason, text));
        } catch (RuntimeException ignored) {
            // the peer may be gone already; the refusal is logged
        }
        end();
    }

    /**
     * The session is over: an attached peer leaves its channel (which recovers what it held); a
     * handshake in progress gives back its participant id; everything is closed. Idempotent.
     */
    void end() {
        Step was = step;
        step = Step.ENDED;
        if (was == Step.ATTACHED) {
            channel.detached(attachment); // recovers, releases, closes the connection
        } else if (was != Step.ENDED && attachment != null) {
            channel.releaseParticipantId(attachment.participantId()); // WELCOME was sent, join never happened
            attachment.release();
        }
        connection.close();
    }
}
