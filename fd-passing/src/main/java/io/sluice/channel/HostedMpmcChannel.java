package io.sluice.channel;

import io.sluice.api.RefusalReason;
import io.sluice.api.RingKind;
import io.sluice.api.Role;
import io.sluice.memfd.MemfdRegion;
import io.sluice.memfd.Seal;
import io.sluice.ringbuffer.MpmcConsumer;
import io.sluice.ringbuffer.MpmcProducer;
import io.sluice.ringbuffer.MpmcRecovery;
import io.sluice.ringbuffer.MpmcRingDescriptor;

import java.lang.System.Logger.Level;
import java.lang.foreign.MemorySegment;
import java.util.BitSet;

/**
 * An MPMC channel: a trusted group of producers and consumers in several processes, all mapping
 * the ring read-write (it is sealed {@code SHRINK|GROW} only). The host assigns each attachment a
 * participant id that tags its claims; when the attachment's connection ends, the host recovers
 * every slot that id held (claimed-not-committed slots are skipped, taken-not-released slots are
 * freed) so the ring flows again, and only then reuses the id.
 */
public final class HostedMpmcChannel extends HostedChannel {
    private static final System.Logger LOG = System.getLogger(HostedMpmcChannel.class.getName());

    private final MemorySegment ring;
    private final int maxParticipantId;
    private final int maxPayload;
    private final BitSet usedIds = new BitSet(); // guarded by this; bit i: participant id i in use
    private volatile MpmcRecovery.Result lastRecovery;

    private HostedMpmcChannel(String name, MemfdRegion data, MemorySegment ring, int maxParticipantId, int maxPayload) {
        super(name, RingKind.MPMC, data);
        this.ring = ring;
        this.maxParticipantId = maxParticipantId;
        this.maxPayload = maxPayload;
    }

    static HostedMpmcChannel create(String name, int slotCount, int slotLength, int maxParticipantId) {
        MemfdRegion data = MemfdRegion.create(name, MpmcRingDescriptor.regionLength(slotCount, slotLength));
        try {
            MemorySegment ring = data.mapReadWrite();
            MpmcRingDescriptor.format(ring, slotCount, slotLength, maxParticipantId);
            data.addSeals(Seal.SHRINK, Seal.GROW); // every admitted participant writes it
            int maxPayload = MpmcRingDescriptor.validate(ring, name).maxPayloadLength();
            return new HostedMpmcChannel(name, data, ring, maxParticipantId, maxPayload);
        } catch (RuntimeException e) {
            data.close();
            throw e;
        }
    }

    /** A producer in the hosting process, with a participant id of its own. */
    public synchronized MpmcProducer localProducer() {
        return new MpmcProducer(ring, takeId(), name());
    }

    /** A consumer in the hosting process, with a participant id of its own. */
    public synchronized MpmcConsumer localConsumer() {
        return new MpmcConsumer(ring, takeId(), name());
    }

    /** What the last recovery of a departed participant gave back (for monitoring and tests). */
    public MpmcRecovery.Result lastRecovery() {
        return lastRecovery;
    }

    private int takeId() {
        int id = usedIds.nextClearBit(1);
        if (id > maxParticipantId) {
            throw new IllegalStateException("mpmc channel '" + name() + "': all " + maxParticipantId + " participant ids are in use");
        }
        usedIds.set(id);
        return id;
    }

    @Override
    synchronized Refusal admit(Role role) {
        if (usedIds.nextClearBit(1) > maxParticipantId) {
            return new Refusal(RefusalReason.CHANNEL_FULL, "mpmc channel '" + name() + "' has all "
                    + maxParticipantId + " participant ids in use");
        }
        return null;
    }

    @Override
    int assignParticipantId(Role role) {
        return takeId(); // called under the channel's lock, right after admit
    }

    @Override
    synchronized void cancelAdmission(Role role, int participantId) {
        if (participantId > 0) {
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

    @Override
    long joined(Attachment attachment) {
        return 0;
    }

    @Override
    void left(Attachment attachment) {
        int id = attachment.participantId();
        // The connection ended: the process is gone (or has let go of the ring), so nothing of
        // that id can still move; recover its slots, then free the id for reuse.
        MpmcRecovery.Result r;
        try {
            r = MpmcRecovery.recover(ring, id, name());
        } finally {
            synchronized (this) {
                usedIds.clear(id); // even if recovery found the ring corrupt: the id's owner is gone
            }
        }
        lastRecovery = r;
        if (r.recovered() > 0) {
            LOG.log(Level.INFO, () -> "mpmc channel '" + name() + "': recovered participant " + id + " (" + attachment.peer()
                    + "): " + r.claimsAborted() + " claims aborted, " + r.takesReleased() + " takes released");
        }
    }
}
