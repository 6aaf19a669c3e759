package io.sluice.channel;

import io.sluice.api.RefusalReason;
import io.sluice.api.UntrustedText;
import io.sluice.fdpassing.PeerCredentials;
import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

import java.lang.System.Logger.Level;

/**
 * The channel layer's control-path events, each told once in two forms: one log line on the
 * {@value #LOGGER} logger and one JFR event (see {@code docs/observability.md}). Called from the
 * host's session and detach code only, never from a claim, commit or poll.
 *
 * <p>Text a peer sent (a channel name it asked for, a refusal's text quoting it) is escaped with
 * {@link UntrustedText#escape(String)} before it goes to either. Nothing here throws: losing a
 * log line must not cost the host its recovery of a departed peer.
 */
final class ChannelEvents {
    /** The one logger of the channel layer: its events and its faults. */
    static final String LOGGER = "io.sluice.channel";
    static final System.Logger LOG = System.getLogger(LOGGER);
    /** {@link Detach}'s cause for an attached peer's end of stream: it closed its connection, or died. */
    static final String HANG_UP = "HANG_UP";

    private ChannelEvents() {
    }

    /** Loads the event classes while the process still has descriptors (see {@link RateLimitedLog#preload()}). */
    static void preload() {
        try {
            new Attach().shouldCommit();
            new Detach().shouldCommit();
            new Refusal().shouldCommit();
            new Recovery().shouldCommit();
            new Stall().shouldCommit();
            new Lap().shouldCommit();
        } catch (Throwable ignored) {
            // nothing to preload then
        }
    }

    /** A peer joined {@code channel}: it is in the channel's attachments, READY is on its way. */
    static void attached(HostedChannel channel, Attachment a) {
        try {
            LOG.log(Level.INFO, () -> "attach: " + describe(channel, a));
            Attach e = new Attach();
            if (e.shouldCommit()) {
                e.describe(channel, a);
                e.commit();
            }
        } catch (Throwable ignored) {
            // the line is lost; the attachment is not
        }
    }

    /**
     * A peer left {@code channel}: {@code cause} is {@link #HANG_UP}, or the reason of the
     * {@code DETACH} the host sent it ({@code CHANNEL_CLOSED}, or a fault: {@code BAD_POSITION},
     * {@code MALFORMED}, {@code CHANNEL_CORRUPT}, {@code STUCK}; a fault is logged as a warning).
     */
    static void detached(HostedChannel channel, Attachment a, String cause, String text) {
        try {
            boolean fault = !cause.equals(HANG_UP) && !cause.equals(RefusalReason.CHANNEL_CLOSED.name());
            String why = cause.equals(HANG_UP) ? "the peer closed its connection or died" : UntrustedText.escape(text);
            LOG.log(fault ? Level.WARNING : Level.INFO, () -> "detach: " + describe(channel, a) + " cause " + cause + ": " + why);
            Detach e = new Detach();
            if (e.shouldCommit()) {
                e.describe(channel, a);
                e.cause = cause;
                e.text = why;
                e.attachedMillis = (System.nanoTime() - a.attachedNanos()) / 1_000_000;
                e.commit();
            }
        } catch (Throwable ignored) {
            // the line is lost; the recovery is not
        }
    }

    /**
     * A handshake ended with a REFUSE. {@code channel} is the name the peer asked for (null when
     * its HELLO was not read); {@code text} what the peer was told. Logged through the host's
     * per-reason rate limit, so a peer that loops on garbage cannot flood the log; the JFR event
     * is recorded every time.
     */
    static void refused(RateLimitedLog log, RefusalReason reason, PeerCredentials peer, String channel, String text) {
        log.log(() -> "refusal: channel " + (channel == null ? "(none)" : "'" + UntrustedText.escape(channel) + "'")
                + " peer pid " + peer.pid() + " uid " + peer.uid() + " reason " + reason + ": " + UntrustedText.escape(text));
        try {
            Refusal e = new Refusal();
            if (e.shouldCommit()) {
                e.channel = channel == null ? null : UntrustedText.escape(channel);
                e.pid = peer.pid();
                e.uid = peer.uid();
                e.reason = reason.name();
                e.text = UntrustedText.escape(text);
                e.commit();
            }
        } catch (Throwable ignored) {
            // the event is lost; the refusal is not
        }
    }

    /**
     * An MPMC participant's in-flight slots were recovered: claims it never committed were
     * aborted, takes it never released were released. {@code who} says whose (the departed
     * attachment, or a participant of the hosting process); {@code when}, what prompted it.
     */
    static void recovered(HostedChannel channel, int participant, String who, String when, int claimsAborted,
            int takesReleased) {
        try {
            LOG.log(Level.WARNING, () -> "recovery: channel '" + channel.name() + "' " + channel.kind() + " participant "
                    + participant + " (" + who + ") " + when + ": " + claimsAborted + " claims aborted, " + takesReleased
                    + " takes released");
            Recovery e = new Recovery();
            if (e.shouldCommit()) {
                e.channel = channel.name();
                e.kind = channel.kind().name();
                e.participant = participant;
                e.who = who;
                e.cause = when;
                e.claimsAborted = claimsAborted;
                e.takesReleased = takesReleased;
                e.commit();
            }
        } catch (Throwable ignored) {
            // the line is lost; the recovery is done
        }
    }

    /**
     * A producer of {@code channel} has been held back (back-pressure) beyond the host's stall
     * threshold: one warning per stall, naming the consumer that holds it as the host last saw it.
     */
    static void stalling(HostedChannel channel, StallWatch.Holder holder, long stalledNanos, long refusedClaims) {
        try {
            LOG.log(Level.WARNING, () -> "stall: channel '" + channel.name() + "' " + channel.kind() + " producer held back for "
                    + stalledNanos / 1_000_000 + " ms by " + describe(holder) + "; " + refusedClaims + " claims refused");
        } catch (Throwable ignored) {
            // the line is lost; the watch goes on
        }
    }

    /**
     * A stall that was reported ({@link #stalling}) ended: the producer committed again
     * ({@code closed} false), or the channel closed under it. One line and one JFR event.
     */
    static void stallEnded(HostedChannel channel, StallWatch.Holder holder, long stalledNanos, long refusedClaims,
            boolean closed) {
        try {
            LOG.log(Level.INFO, () -> "stall ended: channel '" + channel.name() + "' " + channel.kind() + " producer was held back for "
                    + stalledNanos / 1_000_000 + " ms by " + describe(holder) + "; " + refusedClaims + " claims refused"
                    + (closed ? "; the channel closed" : ""));
            Stall e = new Stall();
            if (e.shouldCommit()) {
                e.channel = channel.name();
                e.kind = channel.kind().name();
                e.stalled = stalledNanos;
                Attachment a = holder.consumer();
                if (a != null) {
                    e.attachment = a.id();
                    e.pid = a.peer().pid();
                    e.uid = a.peer().uid();
                }
                e.position = holder.position();
                e.lag = holder.lag();
                e.refusedClaims = refusedClaims;
                e.end = closed ? RefusalReason.CHANNEL_CLOSED.name() : "COMMIT";
                e.commit();
            }
        } catch (Throwable ignored) {
            // the line is lost; the watch goes on
        }
    }

    /**
     * A broadcast consumer's published lap count rose: the producer overwrote records it had not
     * read. JFR only: laps are an overwrite ring's normal business, and a log line per lap could
     * flood the log. The counts are the consumer's own, untrusted: shown as they are.
     */
    static void lapped(HostedChannel channel, Attachment a, long laps, long lost, long totalLaps, long totalLost) {
        try {
            Lap e = new Lap();
            if (e.shouldCommit()) {
                e.describe(channel, a);
                e.laps = laps;
                e.lost = lost;
                e.totalLaps = totalLaps;
                e.totalLost = totalLost;
                e.commit();
            }
        } catch (Throwable ignored) {
            // the event is lost
        }
    }

    /** How a stall line names what holds the producer. */
    private static String describe(StallWatch.Holder holder) {
        Attachment a = holder.consumer();
        String who = a == null ? "no consumer attached"
                : a.role() + " #" + a.id() + " peer pid " + a.peer().pid() + " uid " + a.peer().uid();
        return who + " at position " + holder.position() + ", " + holder.lag() + " bytes behind the producer";
    }

    /** How a log line names a peer of a channel: the same words in every line about it. */
    private static String describe(HostedChannel channel, Attachment a) {
        return "channel '" + channel.name() + "' " + channel.kind() + " " + a.role() + " #" + a.id()
                + " peer pid " + a.peer().pid() + " uid " + a.peer().uid();
    }

    /** The fields every event about one attached peer carries; JFR records a subclass's inherited fields. */
    abstract static class PeerEvent extends Event {
        @Label("Channel")
        String channel;
        @Label("Kind")
        @Description("SPSC, BROADCAST or MPMC")
        String kind;
        @Label("Role")
        String role;
        @Label("Attachment")
        @Description("The attachment's id, unique within the host")
        long attachment;
        @Label("Peer PID")
        @Description("The peer's pid, per SO_PEERCRED")
        int pid;
        @Label("Peer UID")
        int uid;

        final void describe(HostedChannel of, Attachment a) {
            channel = of.name();
            kind = of.kind().name();
            role = a.role().name();
            attachment = a.id();
            pid = a.peer().pid();
            uid = a.peer().uid();
        }
    }

    @Name("io.sluice.Attach")
    @Label("Sluice Attach")
    @Category("Sluice")
    @Description("A peer completed the handshake and joined a hosted channel")
    @StackTrace(false)
    static final class Attach extends PeerEvent {
    }

    @Name("io.sluice.Detach")
    @Label("Sluice Detach")
    @Category("Sluice")
    @Description("A peer left a hosted channel: it hung up (closed or died), the channel closed, or the host expelled it")
    @StackTrace(false)
    static final class Detach extends PeerEvent {
        @Label("Cause")
        @Description("HANG_UP (end of stream: the peer closed its connection or died), or the reason of the DETACH the host sent")
        String cause;
        @Label("Text")
        String text;
        @Label("Attached For (ms)")
        long attachedMillis;
    }

    @Name("io.sluice.Refusal")
    @Label("Sluice Refusal")
    @Category("Sluice")
    @Description("The host refused a connection or a handshake (REFUSE)")
    @StackTrace(false)
    static final class Refusal extends Event {
        @Label("Channel")
        @Description("The channel name the peer asked for, escaped; null if its HELLO was not read")
        String channel;
        @Label("Peer PID")
        int pid;
        @Label("Peer UID")
        int uid;
        @Label("Reason")
        String reason;
        @Label("Text")
        @Description("What the peer was told, escaped")
        String text;
    }

    @Name("io.sluice.Recovery")
    @Label("Sluice Recovery")
    @Category("Sluice")
    @Description("The host recovered the slots an MPMC participant left in flight")
    @StackTrace(false)
    static final class Recovery extends Event {
        @Label("Channel")
        String channel;
        @Label("Kind")
        String kind;
        @Label("Participant")
        int participant;
        @Label("Whose")
        String who;
        @Label("Cause")
        String cause;
        @Label("Claims Aborted")
        int claimsAborted;
        @Label("Takes Released")
        int takesReleased;
    }

    @Name("io.sluice.Stall")
    @Label("Sluice Stall")
    @Category("Sluice")
    @Description("A producer was held back by its consumers (back-pressure) beyond the host's stall threshold;"
            + " committed when the stall ends or the channel closes")
    @StackTrace(false)
    static final class Stall extends Event {
        @Label("Channel")
        String channel;
        @Label("Kind")
        String kind;
        @Label("Stalled")
        @Description("From the first refused claim to the commit that ended the stall (or the channel's close),"
                + " to within the host's watch interval")
        @Timespan(Timespan.NANOSECONDS)
        long stalled;
        @Label("Attachment")
        @Description("The consumer the producer waited for, as the host saw it when it reported the stall; 0 if none was attached")
        long attachment;
        @Label("Peer PID")
        @Description("That consumer's pid, per SO_PEERCRED; 0 if none")
        int pid;
        @Label("Peer UID")
        int uid;
        @Label("Consumer Position")
        @Description("That consumer's published position (untrusted)")
        long position;
        @Label("Lag")
        @Description("Bytes between the producer's position and that consumer's")
        long lag;
        @Label("Refused Claims")
        @Description("Claims the producer had refused since the host last saw it unstalled")
        long refusedClaims;
        @Label("End")
        @Description("COMMIT (the producer committed again) or CHANNEL_CLOSED")
        String end;
    }

    @Name("io.sluice.Lap")
    @Label("Sluice Lap")
    @Category("Sluice")
    @Description("A broadcast consumer's published lap count rose: the producer overwrote records it had not read")
    @StackTrace(false)
    static final class Lap extends PeerEvent {
        @Label("Laps")
        @Description("Laps since the host last looked")
        long laps;
        @Label("Lost")
        @Description("Messages those laps took from the consumer")
        long lost;
        @Label("Total Laps")
        @Description("The consumer's published lap count (untrusted)")
        long totalLaps;
        @Label("Total Lost")
        long totalLost;
    }
}
