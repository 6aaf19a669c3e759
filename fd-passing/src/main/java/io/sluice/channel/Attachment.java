package io.sluice.channel;

import io.sluice.api.RefusalReason;
import io.sluice.api.Role;
import io.sluice.fdpassing.PeerCredentials;
import io.sluice.fdpassing.SeqPacketSocket;
import io.sluice.memfd.MemfdRegion;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One process attached to one hosted channel: its connection (whose end of stream is its death
 * notice), who it is, its role, and what it handed over.
 */
public final class Attachment {
    private final long id;
    private final SeqPacketSocket connection;
    private final PeerCredentials peer;
    private final Role role;
    private final int participantId;
    private volatile MemfdRegion positionRegion; // consumers of SPSC/broadcast: theirs, sealed, mapped read-only here
    private volatile MemorySegment positionView;
    private final long attachedNanos = System.nanoTime();
    private final long attachedAtMillis = System.currentTimeMillis();
    private final AtomicBoolean detachSent = new AtomicBoolean(); // any thread may end an attachment

    Attachment(long id, SeqPacketSocket connection, PeerCredentials peer, Role role, int participantId) {
        this.id = id;
        this.connection = connection;
        this.peer = peer;
        this.role = role;
        this.participantId = participantId;
    }

    /**
     * A number unique within the host.
     *
     * @return the id, assigned in order of connection
     */
    public long id() {
        return id;
    }

    /**
     * The attached process, per {@code SO_PEERCRED}.
     *
     * @return its pid, uid and gid
     */
    public PeerCredentials peer() {
        return peer;
    }

    /**
     * The role the peer asked for in its HELLO and was admitted in.
     *
     * @return the role
     */
    public Role role() {
        return role;
    }

    /**
     * The MPMC participant id that tags this attachment's claims; 0 for other kinds.
     *
     * @return the id, 1 or more for MPMC, else 0
     */
    public int participantId() {
        return participantId;
    }

    /**
     * The consumer's position region (read-only here), or null.
     *
     * @return a read-only view of the region (SPSC and broadcast consumers), or null
     */
    public MemorySegment positionView() {
        return positionView;
    }

    void adoptPositionRegion(MemfdRegion region) {
        this.positionRegion = region;
        this.positionView = region.mapReadOnly();
    }

    SeqPacketSocket connection() {
        return connection;
    }

    long attachedNanos() {
        return attachedNanos;
    }

    long attachedAtMillis() {
        return attachedAtMillis;
    }

    /** Hands the position region to the caller (who closes it when safe); null if none (or taken). */
    synchronized MemfdRegion takePositionRegion() {
        MemfdRegion r = positionRegion;
        positionRegion = null;
        return r;
    }

    /** Tells the peer why the host ends this attachment (DETACH); best effort, the peer may be gone. */
    void sendDetach(RefusalReason reason, String text) {
        if (!detachSent.compareAndSet(false, true)) {
            return; // one DETACH per attachment: the first reason found is the one the peer gets
        }
        try {
            connection.send(Handshake.detach(reason, text));
        } catch (RuntimeException e) {
            // gone already, or not reading: closing the connection tells it anyway
        }
    }

    /** Closes the connection (the peer sees end of stream) and the position region. Idempotent. */
    void release() {
        connection.close();
        MemfdRegion r = takePositionRegion();
        if (r != null) {
            r.close();
        }
    }

    @Override
    public String toString() {
        return role.name().toLowerCase() + " #" + id + " (" + peer + ")";
    }
}
