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
    private String requested;         // the channel name the HELLO asked for (peer text), from HELLO on
    private Attachment attachment;    // from WELCOME on
    private boolean watchingHost;     // a monitor of the host's status (no channel), from WELCOME on

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

    /**
     * The connection is readable (a message, end of stream, or a close from another thread): the
     * current step takes the message. A step that fails ends the session as {@link #failed} says.
     */
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
        } catch (RuntimeException e) {
            failed(e);
        }
    }

    /** A refusal to send: REFUSE during the handshake, DETACH after READY. */
    private record Refusal(RefusalReason reason, String text) {
    }

    /** A step failed: the peer is told why (if it is still there to hear it), and the session ends. */
    private void failed(RuntimeException e) {
        Refusal refusal = refusalFor(e);
        if (refusal == null) {
            end();
        } else {
            refuse(refusal.reason(), refusal.text());
        }
    }

    /**
     * What a failed step tells the peer, decided by the exception's type alone: the types below
     * are disjoint, so no case depends on the order of the others. Null: nobody to tell.
     */
    private Refusal refusalFor(RuntimeException e) {
        return switch (e) {
            // the peer closed or died: during the handshake, or as its way to detach
            case ConnectionClosedException closed -> null;
            // a hook of the channel, or a step here, said no, and why
            case HostedChannel.Refused refused -> new Refusal(refused.reason(), refused.getMessage());
            // a region the peer sent: not a sealed memfd of the size promised, or not fit for the ring
            case RegionRefusedException bad -> new Refusal(RefusalReason.BAD_REGION, inChannel("position region refused: "
                    + bad.getMessage()));
            case RingLayoutException bad -> new Refusal(RefusalReason.BAD_REGION, inChannel(bad.getMessage()));
            // a message that breaks the protocol (before READY or after it)
            case ProtocolException bad -> new Refusal(RefusalReason.MALFORMED, bad.getMessage());
            default -> unforeseen(e);
        };
    }

    /** A failure that is no peer's doing: the connection or the channel went away under the step, or a defect. */
    private Refusal unforeseen(RuntimeException e) {
        if (connection.isClosed()) {
            return null;
        }
        if (channel != null && channel.isClosed()) { // its region unmapped, its fd closed, under the handshake
            return new Refusal(RefusalReason.CHANNEL_CLOSED, "channel '" + channel.name() + "' was closed");
        }
        host.noteFailure(from, e);
        return new Refusal(RefusalReason.INTERNAL, "the host failed: " + e.getClass().getSimpleName());
    }

    private String inChannel(String text) {
        return channel == null ? text : "channel '" + channel.name() + "': " + text;
    }

    /** The current step's deadline passed. */
    void onDeadline() {
        refuse(RefusalReason.TIMEOUT, "handshake step not completed within " + host.options().handshakeTimeout());
    }

    /** HELLO: the peer is admitted to the channel and role it asks for, and welcomed with the data region. */
    private void hello(ReceivedMessage m) {
        Handshake.Hello hello = Handshake.decodeHello(m.data(), from);
        requested = hello.channel();
        if (HostStatusDescriptor.HOST_CHANNEL.equals(hello.channel())) {
            watchHost(hello);
            return;
        }
        channel = admit(hello);
        role = hello.role();
        attachment = new Attachment(host.nextAttachmentId(), connection, peer, role, channel.participantIdFor(role));
        welcome();
        if (channel.positionRegionSizeFor(role) > 0) {
            step = Step.POSITION;
            deadline = System.nanoTime() + host.options().handshakeTimeout().toNanos();
        } else {
            join();
        }
    }

    /**
     * HELLO for the host's status channel: a monitor admitted by the host's access policy gets the
     * status region, read-only, then READY at once; it takes no place in any channel.
     */
    private void watchHost(Handshake.Hello hello) {
        checkVersion(hello);
        if (hello.role() != Role.MONITOR) {
            throw new HostedChannel.Refused(RefusalReason.ROLE_NOT_ALLOWED, "'" + HostStatusDescriptor.HOST_CHANNEL
                    + "' is the host's status, for monitors only; " + from + " asked to be " + hello.role());
        }
        AccessPolicy policy = host.options().accessPolicy();
        if (!policy.admits(peer)) {
            throw new HostedChannel.Refused(RefusalReason.ACCESS_DENIED, "host status: " + policy.explain(peer));
        }
        role = Role.MONITOR;
        attachment = new Attachment(host.nextAttachmentId(), connection, peer, role, 0);
        HostStatus status = host.status();
        connection.send(Handshake.welcome(new Handshake.Welcome(null, 0, status.size(), 0, 0, 0, 0)),
                status.readOnlyFd());
        watchingHost = true;
        step = Step.ATTACHED;
        host.hostMonitor(attachment, true);
        try {
            connection.send(Handshake.ready(0));
        } catch (RuntimeException e) {
            end();
        }
    }

    private void checkVersion(Handshake.Hello hello) {
        if (hello.version() != HandshakeDescriptor.PROTOCOL_VERSION) {
            throw new HostedChannel.Refused(RefusalReason.VERSION_MISMATCH, "host speaks protocol version "
                    + HandshakeDescriptor.PROTOCOL_VERSION + ", " + from + " sent version " + hello.version());
        }
    }

    /** The channel a HELLO asks for, if this peer may have that role on it; else a refusal saying why. */
    private HostedChannel admit(Handshake.Hello hello) {
        checkVersion(hello);
        HostedChannel ch = host.channel(hello.channel());
        if (ch == null) {
            throw new HostedChannel.Refused(RefusalReason.UNKNOWN_CHANNEL, "no channel '" + hello.channel() + "' on this host"
                    + host.hostedNamesFor(peer));
        }
        AccessPolicy effective = ch.accessPolicy() != null ? ch.accessPolicy() : host.options().accessPolicy();
        if (!effective.admits(peer)) {
            throw new HostedChannel.Refused(RefusalReason.ACCESS_DENIED, "channel '" + ch.name() + "': " + effective.explain(peer));
        }
        ch.admitRole(hello.role());
        return ch;
    }

    /** WELCOME: the channel's descriptor and the data region's fd (read-only for read-only roles). */
    private void welcome() {
        HostedChannel ch = channel;
        try {
            connection.send(Handshake.welcome(new Handshake.Welcome(ch.kind(), attachment.participantId(),
                    ch.dataRegionSize(), ch.positionRegionSizeFor(role), ch.maxMessageLength(), ch.welcomeFlags(),
                    ch.startPositionFor(role))), ch.fdFor(role));
        } catch (IllegalStateException closed) {
            // the channel closed (its fd with it) between the lookup and the send
            throw new HostedChannel.Refused(RefusalReason.CHANNEL_CLOSED, "channel '" + ch.name() + "' was closed");
        }
    }

    /** POSITION: the consumer's sealed position region, checked, then the consumer joins. */
    private void position(ReceivedMessage m) {
        long positionSize = channel.positionRegionSizeFor(role);
        long size = Handshake.decodePosition(m.data(), from);
        if (size != positionSize || m.fdCount() != 1) {
            throw new ProtocolException(from + ": POSITION names " + size + " bytes and " + m.fdCount()
                    + " fds, expected " + positionSize + " bytes and 1 fd");
        }
        MemfdRegion region = MemfdRegion.adopt(m.takeFd(0), positionSize, POSITION_SEALS); // RegionRefusedException: BAD_REGION
        attachment.adoptPositionRegion(region); // the attachment owns it from here; release() closes it
        String bad = channel.checkPositionRegion(attachment);
        if (bad != null) {
            throw new HostedChannel.Refused(RefusalReason.BAD_REGION, "channel '" + channel.name() + "': " + bad);
        }
        join();
    }

    /** The attachment takes its place in the channel, and READY tells the peer so. */
    private void join() {
        long registration = channel.join(attachment); // a refusal here is ended by end(), which frees the id
        step = Step.ATTACHED;
        ChannelEvents.attached(channel, attachment);
        try {
            connection.send(Handshake.ready(registration));
        } catch (RuntimeException e) {
            end(); // gone already: it leaves at once, and the channel recovers whatever it held
        }
    }

    /** After READY the peer has nothing to say: any message is a violation. */
    private void afterReady() {
        expel(RefusalReason.MALFORMED, from + " sent a message after READY");
    }

    private void expel(RefusalReason reason, String text) {
        if (watchingHost) {
            attachment.sendDetach(reason, text);
            end();
            return;
        }
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
        host.noteRefusal(reason, peer, requested, text);
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
        if (was == Step.ATTACHED && watchingHost) {
            host.hostMonitor(attachment, false);
            attachment.release();
        } else if (was == Step.ATTACHED) {
            channel.detached(attachment, ChannelEvents.HANG_UP, null); // recovers, releases, closes the connection
        } else if (was != Step.ENDED && attachment != null) {
            if (role != Role.MONITOR) {
                channel.releaseParticipantId(attachment.participantId()); // WELCOME was sent, join never happened
            }
            attachment.release();
        }
        connection.close();
    }
}
