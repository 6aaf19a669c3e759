package io.sluice.channel;

import io.sluice.api.AttachRefusedException;
import io.sluice.api.RefusalReason;
import io.sluice.api.RingKind;
import io.sluice.api.Role;
import io.sluice.memfd.MemfdRegion;
import io.sluice.memfd.OwnedFd;

import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * A channel as its host sees it: the data region, the attachments, and what the ring kind does
 * when a peer arrives or goes. Subclasses bind a ring kind; the handshake and liveness are
 * {@link ChannelHost}'s ({@link HostSession}).
 *
 * <p>Lifecycle: {@link #close()} is idempotent and safe from any thread, concurrently with
 * anything, before or after its host's close. It takes the name out of the host's table at once
 * (a peer asking for it from then on is told {@code UNKNOWN_CHANNEL}, and the name may be hosted
 * again), tells every attached peer why ({@code DETACH(CHANNEL_CLOSED)}), and releases the data
 * region, whose fd nothing can reach any more.
 *
 * <p>Threads: the join and leave hooks run on the host's thread, under this object's lock;
 * {@link #close()} takes the same lock, so a peer never joins a closed channel.
 */
public abstract sealed class HostedChannel implements AutoCloseable
        permits HostedSpscChannel, HostedBroadcastChannel, HostedMpmcChannel {
    private static final System.Logger LOG = System.getLogger(ChannelEvents.LOGGER);

    private final String name;
    private final RingKind kind;
    private final long capacity;
    /** The ring's data region, owned by this channel: closed when the channel closes. */
    protected final MemfdRegion data;
    private final List<Attachment> attachments = new CopyOnWriteArrayList<>();
    private final List<Consumer<Attachment>> detachListeners = new CopyOnWriteArrayList<>();
    private volatile AccessPolicy accessPolicy; // null: the host's
    private volatile ChannelHost host;          // set when registered; told when this channel closes
    // Written under this object's lock (close); read under it where a decision must hold (join),
    // and without it by isClosed (volatile), which local participants call on their hot path.
    private volatile boolean closed;
    // A watch that fails (a defect) says so at most once per interval: the tick comes several times a second.
    private final RateLimitedLog watchFailure = new RateLimitedLog(Level.WARNING, 10_000_000_000L);

    HostedChannel(String name, RingKind kind, long capacity, MemfdRegion data) {
        this.name = name;
        this.kind = kind;
        this.capacity = capacity;
        this.data = data;
    }

    /**
     * The name peers attach by.
     *
     * @return the name, unique within the host
     */
    public String name() {
        return name;
    }

    /**
     * The ring kind: what the data region's header says and WELCOME announces.
     *
     * @return the kind
     */
    public RingKind kind() {
        return kind;
    }

    /**
     * What the channel is: what its attachments see in their {@code info()}.
     *
     * @return the description, immutable
     */
    public ChannelInfo info() {
        return new ChannelInfo(name, kind, capacity, maxMessageLength(),
                (welcomeFlags() & HandshakeDescriptor.WELCOME_FLAG_BLOCKING_WAKE) != 0);
    }

    /**
     * Attachments alive now.
     *
     * @return a snapshot; attachments may detach at any moment after
     */
    public List<Attachment> attachments() {
        return List.copyOf(attachments);
    }

    /**
     * Restricts this channel to a policy of its own instead of the host's.
     *
     * @param policy who may attach from now on (attached peers stay); null returns to the host's policy
     */
    public void accessPolicy(AccessPolicy policy) {
        this.accessPolicy = policy;
    }

    AccessPolicy accessPolicy() {
        return accessPolicy;
    }

    /**
     * Called after a peer detached and its resources were recovered; for tests and monitoring.
     *
     * @param listener called with the departed attachment, under this channel's lock: must not block
     */
    public void onDetach(Consumer<Attachment> listener) {
        detachListeners.add(listener);
    }

    /**
     * Whether {@link #close()} has run.
     *
     * @return true once closed; a volatile read, cheap enough for a hot path
     */
    public boolean isClosed() {
        return closed;
    }

    void registeredWith(ChannelHost owner) {
        this.host = owner;
    }

    /**
     * Runs {@code task} on the host's thread (soon; any thread may call this, a producer thread
     * included: it only queues the task and wakes the host).
     */
    final void onHostThread(Runnable task) {
        ChannelHost owner = host;
        if (owner != null) {
            owner.execute(task);
        } else {
            task.run();
        }
    }

    // ---- the handshake's hooks (host thread) ----

    // ---- monitors: a read-only fd of the ring, no place, no position region, nothing to recover ----

    /** {@link #admit}, except that a monitor is always admitted (it takes no place). */
    final void admitRole(Role role) {
        if (role != Role.MONITOR) {
            admit(role);
        }
    }

    /** {@link #assignParticipantId}; 0 for a monitor. */
    final int participantIdFor(Role role) {
        return role == Role.MONITOR ? 0 : assignParticipantId(role);
    }

    /** {@link #positionRegionSize}; 0 for a monitor. */
    final long positionRegionSizeFor(Role role) {
        return role == Role.MONITOR ? 0 : positionRegionSize(role);
    }

    /** {@link #dataFdFor}; for a monitor the ring's read-only fd, whatever the kind. */
    final OwnedFd fdFor(Role role) {
        return role == Role.MONITOR ? readOnlyFd() : dataFdFor(role);
    }

    /** {@link #startPosition}; 0 for a monitor (a tap starts where the producer is). */
    final long startPositionFor(Role role) {
        return role == Role.MONITOR ? 0 : startPosition(role);
    }

    /** The data region's fd opened {@code O_RDONLY}. */
    abstract OwnedFd readOnlyFd();

    /**
     * Whether this role may attach now; throws {@link Refused} if not. Reserves nothing: a peer
     * takes its place only when it completes the handshake ({@link #join}), so handshakes that
     * stall after WELCOME hold nothing.
     */
    abstract void admit(Role role);

    /** The participant id a new MPMC attachment tags its claims with (0 for other kinds). */
    int assignParticipantId(Role role) {
        return 0;
    }

    /** Gives back an id from {@link #assignParticipantId} whose handshake failed before joining. */
    void releaseParticipantId(int participantId) {
    }

    /** Size of the position region a consumer must hand over; 0 if this role hands none. */
    abstract long positionRegionSize(Role role);

    /** The WELCOME flags (e.g. blocking wake support). */
    int welcomeFlags() {
        return 0;
    }

    /** Largest message (or slot payload) in bytes. */
    abstract int maxMessageLength();

    /**
     * The fd a peer of this role receives: read-only roles get one opened {@code O_RDONLY}, so
     * that they cannot add seals, {@code fallocate} or {@code write(2)} whatever the seals say.
     */
    abstract OwnedFd dataFdFor(Role role);

    /**
     * Checks a consumer's position region (mapped read-only in {@code attachment}) before it
     * joins; returns a refusal text, or null if acceptable.
     */
    String checkPositionRegion(Attachment attachment) {
        return null;
    }

    /** Where a consumer of this role starts (SPSC: where the last consumer stopped); else 0. */
    long startPosition(Role role) {
        return 0;
    }

    /**
     * The attachment completed its handshake: it joins, or is refused (the channel closed, or
     * filled up since {@link #admit}).
     *
     * @return the registration number sent in READY (broadcast back-pressure consumers), else 0
     * @throws Refused if it cannot join
     */
    final synchronized long join(Attachment attachment) {
        if (closed) {
            throw new Refused(RefusalReason.CHANNEL_CLOSED, "channel '" + name + "' was closed");
        }
        long registration = attachment.role() == Role.MONITOR ? 0 : joined(attachment);
        attachments.add(attachment);
        ChannelHost owner = host;
        if (owner != null) {
            owner.statusCounters().attaches.incrementAndGet();
        }
        return registration;
    }

    /**
     * The attachment's process is gone (EOF) or detached: recover what it held, then release it.
     * Does nothing for an attachment that already left.
     *
     * @param cause {@link ChannelEvents#HANG_UP}, or the reason of the DETACH the host sent
     * @param text  what the DETACH said (null for a hang-up)
     */
    final synchronized void detached(Attachment attachment, String cause, String text) {
        if (!attachments.remove(attachment)) {
            return;
        }
        ChannelEvents.detached(this, attachment, cause, text);
        ChannelHost owner = host;
        if (owner != null) {
            owner.statusCounters().detached(cause);
        }
        try {
            if (attachment.role() != Role.MONITOR) {
                left(attachment);
            }
        } catch (RuntimeException e) {
            LOG.log(Level.ERROR, "channel '" + name + "': recovering " + attachment + " failed", e);
        } finally {
            attachment.release();
            for (Consumer<Attachment> l : detachListeners) {
                try {
                    l.accept(attachment);
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "channel '" + name + "': a detach listener failed", e);
                }
            }
        }
    }

    /**
     * Ends an attachment on the host's initiative: tells the peer why ({@code DETACH}), closes
     * its connection, recovers what it held. Any thread.
     */
    final void expel(Attachment attachment, RefusalReason reason, String text) {
        attachment.sendDetach(reason, text);
        detached(attachment, reason.name(), text);
    }

    /** Ring-specific: the attachment joins (under this object's lock); may throw {@link Refused}. */
    abstract long joined(Attachment attachment);

    /** Ring-specific: recover what the attachment held (under this object's lock). */
    abstract void left(Attachment attachment);

    /**
     * Host thread, now and then: let go of what the ring no longer uses (departed consumers'
     * position regions that the producer was still reading when they left).
     */
    final synchronized void tidy() {
        RetiredRegions retired = retiredRegions();
        if (!closed && retired != null) {
            retired.closeDone();
        }
    }

    /**
     * Host thread, every watch tick of the host: the ring looks at its producer and consumers
     * (back-pressure stalls, stuck consumers, laps; MPMC: a head stuck behind a claim). A failure
     * is logged, and the next tick tries again.
     */
    final synchronized void watch(long now) {
        ChannelHost owner = host;
        if (closed || owner == null) {
            return;
        }
        try {
            watchRing(now, owner.options());
        } catch (RuntimeException e) {
            watchFailure.log(() -> "channel '" + name + "': watching the ring failed: " + e, e);
        }
    }

    /** Ring-specific: one look at the ring (under this object's lock, the channel open). */
    void watchRing(long now, HostOptions options) {
    }

    /** Ring-specific: the channel closes (under this object's lock, once, before anything is released). */
    void ringClosing(long now) {
    }

    /**
     * Detaches a consumer the stuck-consumer policy found stuck: counted by the host, then ended
     * as any expelled peer is ({@code DETACH(STUCK)}, logged, JFR {@code io.sluice.Detach}), and
     * its place in the ring recovered ({@link #left}). Under this object's lock.
     */
    final void expelStuck(Attachment consumer, long position, long unmovedNanos, long stalledNanos, Duration timeout) {
        ChannelHost owner = host;
        if (owner != null) {
            owner.noteStuckDetach();
        }
        expel(consumer, RefusalReason.STUCK, "channel '" + name + "': consumer #" + consumer.id()
                + " has not moved from position " + position + " for " + unmovedNanos / 1_000_000
                + " ms while the producer waited " + stalledNanos / 1_000_000 + " ms for room (stuck consumer timeout "
                + timeout.toMillis() + " ms)");
    }

    /**
     * Ring-specific: the departed consumers' position regions that wait for the producer (guarded
     * by this object's lock), or null if the ring has none (MPMC: no position regions).
     */
    RetiredRegions retiredRegions() {
        return null;
    }

    /**
     * Ring-specific: the channel closes and its peers are told; wake every consumer asleep on the
     * ring's wake sequence, so that none sleeps on past the close (under this object's lock, once,
     * before the data region is released). Nothing to do on a channel that does not wake.
     */
    void wakeParkedConsumers() {
    }

    /**
     * Ring-specific: release what the ring holds besides the data region and the retired position
     * regions (under this object's lock, once).
     */
    void closeRing() {
    }

    long dataRegionSize() {
        return data.size();
    }

    /**
     * Closes the channel: the name leaves its host's table at once, every attached peer gets
     * {@code DETACH(CHANNEL_CLOSED)} and its connection closed, and the data region is released.
     * Idempotent; safe from any thread, in any order with its host's close.
     */
    @Override
    public final void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        ChannelHost owner = host;
        if (owner != null) {
            owner.forget(this);
        }
        synchronized (this) {
            try {
                ringClosing(System.nanoTime());
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "channel '" + name + "': closing its watch failed", e);
            }
            for (Attachment a : attachments) {
                attachments.remove(a);
                String text = "channel '" + name + "' was closed by its host";
                ChannelEvents.detached(this, a, RefusalReason.CHANNEL_CLOSED.name(), text);
                a.sendDetach(RefusalReason.CHANNEL_CLOSED, text);
                a.release(); // the ring goes away with the channel: nothing to recover
            }
            try {
                // After every connection is closed: a woken consumer that polls finds its host
                // gone (or will at its next check) instead of sleeping on past the close.
                wakeParkedConsumers();
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "channel '" + name + "': waking parked consumers on close failed", e);
            }
            try {
                RetiredRegions retired = retiredRegions();
                if (retired != null) {
                    retired.closeAll();
                }
                closeRing();
            } finally {
                data.close();
            }
        }
    }

    /** A refusal the host sends (REFUSE), thrown by the hooks above. */
    static final class Refused extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final transient RefusalReason reason;

        Refused(RefusalReason reason, String text) {
            super(text, null, false, false);
            this.reason = reason;
        }

        RefusalReason reason() {
            return reason;
        }

        /** The refusal as a caller in this process gets it: as a peer would, in its REFUSE. */
        AttachRefusedException toException() {
            return new AttachRefusedException(reason, getMessage());
        }
    }
}
