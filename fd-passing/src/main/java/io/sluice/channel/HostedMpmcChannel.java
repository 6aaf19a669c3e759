package io.sluice.channel;

import io.sluice.api.AttachRefusedException;
import io.sluice.api.CorruptRingException;
import io.sluice.api.RefusalReason;
import io.sluice.api.RingKind;
import io.sluice.api.RingLayoutException;
import io.sluice.api.Role;
import io.sluice.memfd.MemfdRegion;
import io.sluice.memfd.OwnedFd;
import io.sluice.memfd.Seal;
import io.sluice.ringbuffer.MpmcRecovery;
import io.sluice.ringbuffer.MpmcRing;
import io.sluice.ringbuffer.MpmcRingDescriptor;
import io.sluice.ringbuffer.MpmcRingInspector;
import io.sluice.ringbuffer.MpmcSlotDescriptor;
import io.sluice.ringbuffer.MpmcWakeup;
import java.util.Objects;

import java.lang.System.Logger.Level;
import java.lang.foreign.MemorySegment;
import java.util.BitSet;

/**
 * An MPMC channel: a <b>trusted group</b> of producers and consumers in several processes, all
 * mapping the ring read-write (it is sealed {@code SHRINK|GROW|SEAL}: nobody can resize it or add
 * a seal, but every participant can write every slot). The access policy decides who is in the
 * group; inside it, a participant that writes garbage can stop the ring for everyone, and the
 * host's job is to make that loud, never silent.
 *
 * <p>The host assigns each attachment a participant id that tags its claims; when the
 * attachment's connection ends, the host recovers every slot that id held (claimed-not-committed
 * slots are skipped, taken-not-released slots are freed) so the ring flows again, and only then
 * reuses the id. Before it hands an id out it recovers that id too, so that claims forged under
 * a free id by some participant cannot block the ring for longer than it takes the next
 * participant to attach.
 *
 * <p>If a recovery cannot complete (a slot word that no participant can have written), the ring
 * is beyond repair: the channel is marked corrupt, the host logs it, every attached participant
 * gets {@code DETACH(CHANNEL_CORRUPT)} (its {@link MpmcAttachment} then throws
 * {@link CorruptRingException} on every call), local participants the same, new participants are
 * refused with {@code CHANNEL_CORRUPT}, and no id is ever handed out again.
 */
public final class HostedMpmcChannel extends HostedChannel {
    private static final System.Logger LOG = System.getLogger(ChannelEvents.LOGGER);

    private final MemorySegment ring;
    private final int maxParticipantId;
    private final int maxPayload;
    private final BitSet usedIds = new BitSet(); // guarded by this; bit i: participant id i in use
    private volatile MpmcRecovery.Result lastRecovery;
    private volatile String corruption;          // null while the ring is sound; else what broke it
    private final MpmcRingInspector inspector;
    // The host thread's watch on the head slot (watch()): host thread only.
    private long watchedPosition = -1;
    private long watchedWord;
    private long watchedSince;
    private boolean stallReported;
    private String suspectedGap;      // a counter that skipped a position, seen at the last look; null if none
    private long suspectedSince;
    // The host's own wake-up (recoveries, close); null unless participants wake parked consumers.
    private final MpmcWakeup waker;
    private int localConsumers;       // guarded by this: local participants that consume

    private HostedMpmcChannel(String name, long capacity, MemfdRegion data, MemorySegment ring, int maxParticipantId,
                              int maxPayload, boolean wakes) {
        super(name, RingKind.MPMC, capacity, data);
        this.ring = ring;
        this.maxParticipantId = maxParticipantId;
        this.maxPayload = maxPayload;
        this.inspector = MpmcRingInspector.of(ring, name);
        this.waker = wakes ? MpmcWakeup.forParticipant(ring, LibcFutex.INSTANCE) : null;
    }

    @Override
    int welcomeFlags() {
        return waker != null ? HandshakeDescriptor.WELCOME_FLAG_BLOCKING_WAKE : 0;
    }

    @Override
    void wakeParkedConsumers() {
        if (waker != null) {
            waker.wake();
        }
    }

    /**
     * How many times the host itself woke parked consumers: after recoveries that gave slots
     * back, and on close (0 if this channel does not wake). Participants' own wakes are theirs.
     *
     * @return the count so far
     */
    public long wakeups() {
        return waker == null ? 0 : waker.wakes();
    }

    static HostedMpmcChannel create(String name, MpmcOptions options) {
        int slotCount = options.slotCount();
        int slotLength = options.slotLength();
        int maxParticipantId = options.maxParticipants(); // ids 1..maxParticipants
        MemfdRegion data = MemfdRegion.create(name, MpmcRing.regionSize(slotCount, slotLength));
        try {
            MemorySegment ring = data.mapReadWrite();
            MpmcRing.format(ring, slotCount, slotLength, maxParticipantId);
            // Every admitted participant writes it, so no FUTURE_WRITE; but nobody may add a seal
            // (a FUTURE_WRITE added by one participant would lock every later one out).
            data.addSeals(Seal.SHRINK, Seal.GROW, Seal.SEAL);
            data.readOnlyFd(); // what monitors receive: opened now, so that a failure shows here
            int maxPayload = MpmcRingDescriptor.validate(ring, name).maxMessageLength();
            return new HostedMpmcChannel(name, (long) slotCount * slotLength, data, ring, maxParticipantId, maxPayload,
                    options.wakeParkedConsumers());
        } catch (RuntimeException e) {
            data.close();
            throw e;
        }
    }

    /**
     * Joins the ring from the hosting process as {@code role}, with a participant id of its own:
     * the same {@link MpmcAttachment} another process gets, refused for the same reasons. Closing
     * it recovers whatever its id still holds and frees the id.
     *
     * @throws AttachRefusedException {@code CHANNEL_FULL} if every participant id is taken,
     *                                {@code CHANNEL_CLOSED} if the channel is closed,
     *                                {@code CHANNEL_CORRUPT} if the ring is corrupt
     * @param role {@link Role#PRODUCER}, {@link Role#CONSUMER} or {@link Role#PARTICIPANT}
     * @return the attachment, owned by the caller (close it to leave)
     */
    public MpmcAttachment attachLocal(Role role) {
        Objects.requireNonNull(role, "role");
        int id;
        synchronized (this) {
            try {
                if (isClosed()) {
                    throw new Refused(RefusalReason.CHANNEL_CLOSED, "mpmc channel '" + name() + "' was closed");
                }
                id = assignParticipantId(role);
            } catch (Refused r) {
                throw r.toException();
            }
            if (role != Role.PRODUCER) {
                localConsumers++;
            }
        }
        LocalLink link = new LocalLink(this, id, role != Role.PRODUCER);
        return MpmcAttachment.of(link, role, id, ring);
    }

    /**
     * What the last recovery of a departed participant gave back (for monitoring and tests).
     *
     * @return the result, or null before the first recovery
     */
    public MpmcRecovery.Result lastRecovery() {
        return lastRecovery;
    }

    /**
     * Why the ring is corrupt, or null while it is sound.
     *
     * @return the description of what was found, or null
     */
    public String corruption() {
        return corruption;
    }

    @Override
    synchronized void admit(Role role) {
        if (corruption != null) {
            throw new Refused(RefusalReason.CHANNEL_CORRUPT, "mpmc channel '" + name() + "' is corrupt: " + corruption);
        }
        if (usedIds.nextClearBit(1) > maxParticipantId) {
            throw new Refused(RefusalReason.CHANNEL_FULL, "mpmc channel '" + name() + "' has all "
                    + maxParticipantId + " participant ids in use");
        }
    }

    @Override
    synchronized int assignParticipantId(Role role) {
        admit(role);
        int id = usedIds.nextClearBit(1);
        // Claims tagged with a free id can only be forgeries (or leftovers of a recovery that
        // raced): recover them before the id means someone again.
        recoverOrMarkCorrupt(id, "before handing it out");
        if (corruption != null) {
            throw new Refused(RefusalReason.CHANNEL_CORRUPT, "mpmc channel '" + name() + "' is corrupt: " + corruption);
        }
        usedIds.set(id);
        return id;
    }

    @Override
    synchronized void releaseParticipantId(int participantId) {
        if (participantId > 0 && corruption == null) {
            usedIds.clear(participantId); // nothing was claimed under it: the handshake never completed
        }
    }

    @Override
    long positionRegionSize(Role role) {
        return 0;
    }

    @Override
    int maxMessageLength() {
        return maxPayload;
    }

    /** The ring's inspector (host thread: the status region's figures). */
    MpmcRingInspector inspector() {
        return inspector;
    }

    @Override
    OwnedFd readOnlyFd() {
        return data.readOnlyFd();
    }

    @Override
    OwnedFd dataFdFor(Role role) {
        return data.fd(); // a trusted group: every participant maps it read-write
    }

    @Override
    long joined(Attachment attachment) {
        return 0;
    }

    @Override
    void left(Attachment attachment) {
        participantLeft(attachment.participantId(), attachment.toString());
    }

    /** A participant is gone (its connection ended, or a local one closed): recover its id, then free it. */
    synchronized void participantLeft(int id, String who) {
        if (isClosed() || !usedIds.get(id)) {
            return;
        }
        // The connection ended: the process is gone (or has let go of the ring), so nothing of
        // that id can still move; recover its slots, then free the id for reuse.
        MpmcRecovery.Result r = recoverOrMarkCorrupt(id, "after " + who + " left");
        if (r == null) {
            return; // corrupt: the id stays taken, the channel takes nobody new
        }
        usedIds.clear(id);
        lastRecovery = r;
        if (r.recovered() > 0) {
            ChannelEvents.recovered(this, id, who, "after it left", r.claimsAborted(), r.takesReleased());
            wakeAfterRecovery();
        }
        if (waker != null && !consumerAttached()) {
            // Nobody can be asleep now: drop what consumers killed while asleep left counted, so
            // producers stop paying a wake per commit for them. A consumer that parks later counts
            // itself from zero; one expelled but still running cannot take the count below zero.
            MpmcWakeup.resetParkedCount(ring);
        }
    }

    /** A recovery aborted a claim (consumers may now pass it) or freed a slot: wake any sleeper. */
    private void wakeAfterRecovery() {
        if (waker != null) {
            waker.wake();
        }
    }

    /** Whether a participant that consumes is attached, here or in another process (under this lock). */
    private boolean consumerAttached() {
        if (localConsumers > 0) {
            return true;
        }
        for (Attachment a : attachments()) {
            if (a.role() == Role.CONSUMER || a.role() == Role.PARTICIPANT) {
                return true;
            }
        }
        return false;
    }

    /** Recovers {@code id}; on a corrupt ring marks the channel corrupt and returns null. */
    private MpmcRecovery.Result recoverOrMarkCorrupt(int id, String when) {
        if (corruption != null) {
            return null;
        }
        try {
            return MpmcRecovery.recover(ring, id, name());
        } catch (CorruptRingException | RingLayoutException | IllegalArgumentException e) {
            // IllegalArgumentException: an id read from a slot word (watch) outside the ring's range
            markCorrupt("recovering participant " + id + " " + when + " failed: " + e.getMessage());
            return null;
        }
    }

    /**
     * The host's periodic look at the head (host thread): a head that has not moved for
     * {@code stallNanos} behind a claim is reported once, naming the claimant; a claim held by an
     * id nobody has (a forgery, or a leftover) is recovered at once, so the ring flows again.
     */
    @Override
    void watchRing(long now, HostOptions options) {
        watch(now, ChannelHost.MPMC_STALL_NANOS);
    }

    synchronized void watch(long now, long stallNanos) {
        if (corruption != null || isClosed()) {
            return;
        }
        MpmcRingInspector.Slot head;
        MpmcRingInspector.Slot tail;
        try {
            head = inspector.headSlot();
            tail = inspector.tailSlot();
        } catch (IllegalStateException e) {
            return; // the ring is being closed (its mapping is gone)
        }
        watchForGaps(head, tail, now, stallNanos);
        if (corruption != null) {
            return;
        }
        if (head.state() != MpmcSlotDescriptor.CLAIMED || head.lapsAhead() != 0) {
            watchedPosition = -1;
            return;
        }
        if (head.position() != watchedPosition || head.word() != watchedWord) {
            watchedPosition = head.position();
            watchedWord = head.word();
            watchedSince = now;
            stallReported = false;
            return;
        }
        if (stallReported || now - watchedSince < stallNanos) {
            return;
        }
        stallReported = true;
        int holder = head.holder();
        String who = attachments().stream().filter(a -> a.participantId() == holder).map(Attachment::toString)
                .findFirst().orElse(null);
        if (who == null && !usedIds.get(holder)) {
            LOG.log(Level.WARNING, () -> "mpmc channel '" + name() + "': consumers have waited " + (now - watchedSince) / 1_000_000
                    + " ms behind a claim of participant " + holder + ", which no participant has: recovering it (" + head + ")");
            MpmcRecovery.Result r = recoverOrMarkCorrupt(holder, "after its claim stalled the ring");
            if (r != null && r.recovered() > 0) {
                ChannelEvents.recovered(this, holder, "no participant", "after its claim stalled the ring",
                        r.claimsAborted(), r.takesReleased());
                wakeAfterRecovery();
            }
        } else {
            String claimant = who != null ? who : "a participant of the hosting process";
            LOG.log(Level.WARNING, () -> "mpmc channel '" + name() + "': consumers have waited " + (now - watchedSince) / 1_000_000
                    + " ms behind a claim of participant " + holder + " (" + claimant + "), which has not committed it ("
                    + head + ")");
        }
    }

    /**
     * Counters only ever move past a position through its slot (a claim, a take), so two states
     * are impossible in a sound ring, and mean a participant wrote a counter: the head's slot still
     * FREE for the head's lap while the tail is already past it (a position nobody will ever claim:
     * consumers would wait at it forever), and the tail's slot still holding a COMMITTED message of
     * the previous lap that the head has already passed (a message nobody will ever take: producers
     * would find the ring full forever). The two loads of each look are not one snapshot, so the
     * same finding must stand for {@code stallNanos} before the ring is declared corrupt.
     */
    private void watchForGaps(MpmcRingInspector.Slot head, MpmcRingInspector.Slot tail, long now, long stallNanos) {
        String gap = null;
        if (head.state() == MpmcSlotDescriptor.FREE && head.lapsAhead() == 0 && tail.position() > head.position()) {
            gap = "position " + head.position() + " was skipped: the tail is at " + tail.position()
                    + " but nobody claimed the head's slot (" + head + "); consumers would wait there forever";
        } else if (tail.state() == MpmcSlotDescriptor.COMMITTED && tail.lapsAhead() == -1
                && head.position() > tail.position() - inspector.geometry().slotCount()) {
            gap = "the message at position " + (tail.position() - inspector.geometry().slotCount())
                    + " was skipped: the head is at " + head.position() + " but nobody took it (" + tail
                    + "); producers would find the ring full forever";
        }
        if (gap == null || !gap.equals(suspectedGap)) {
            suspectedGap = gap;
            suspectedSince = now;
            return;
        }
        if (now - suspectedSince >= stallNanos) {
            markCorrupt("a participant wrote a counter: " + gap);
        }
    }

    /** The ring cannot be trusted any more: say so to everyone, take nobody new. */
    synchronized void markCorrupt(String why) {
        if (corruption != null) {
            return;
        }
        corruption = why;
        LOG.log(Level.ERROR, "mpmc channel '" + name() + "' is corrupt and takes no new participants: " + why);
        for (Attachment a : attachments()) {
            expel(a, RefusalReason.CHANNEL_CORRUPT, "mpmc channel '" + name() + "' is corrupt: " + why);
        }
    }

    /** The link of a participant in the hosting process: ends with the channel. */
    private static final class LocalLink implements ChannelLink {
        private final HostedMpmcChannel channel;
        private final int id;
        private final boolean consumes;
        private volatile boolean closed;

        LocalLink(HostedMpmcChannel channel, int id, boolean consumes) {
            this.channel = channel;
            this.id = id;
            this.consumes = consumes;
        }

        @Override
        public String channel() {
            return channel.name();
        }

        @Override
        public ChannelInfo info() {
            return channel.info();
        }

        @Override
        public boolean hostGone() {
            return closed || channel.isClosed() || channel.corruption != null;
        }

        @Override
        public End end() {
            String corrupt = channel.corruption;
            if (corrupt != null) {
                return new End(RefusalReason.CHANNEL_CORRUPT, "mpmc channel '" + channel.name() + "' is corrupt: " + corrupt);
            }
            if (closed) {
                return new End(null, "this participant of mpmc channel '" + channel.name() + "' was closed");
            }
            return channel.isClosed() ? new End(RefusalReason.CHANNEL_CLOSED, "mpmc channel '" + channel.name()
                    + "' was closed by its host") : null;
        }

        @Override
        public void awaitEnd(java.time.Duration timeout) {
            // a local participant ends only by a close in this process: nothing to wait for
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                synchronized (channel) {
                    if (consumes) {
                        channel.localConsumers--;
                    }
                    channel.participantLeft(id, "local participant " + id);
                }
            }
        }
    }
}
