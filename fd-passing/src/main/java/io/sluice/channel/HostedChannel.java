package io.sluice.channel;

import io.sluice.api.RefusalReason;
import io.sluice.api.RingKind;
import io.sluice.api.Role;
import io.sluice.memfd.MemfdRegion;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A channel as its host sees it: the data region, the attachments, and what the ring kind does
 * when a peer arrives or goes. Subclasses bind a ring kind; the handshake and liveness are
 * {@link ChannelHost}'s.
 */
public abstract class HostedChannel implements AutoCloseable {
    private final String name;
    private final RingKind kind;
    protected final MemfdRegion data;
    private final List<Attachment> attachments = new CopyOnWriteArrayList<>();
    private volatile AccessPolicy accessPolicy; // null: the host's
    private final DetachListener detachListener = new DetachListener();

    HostedChannel(String name, RingKind kind, MemfdRegion data) {
        this.name = name;
        this.kind = kind;
        this.data = data;
    }

    public String name() {
        return name;
    }

    public RingKind kind() {
        return kind;
    }

    /** Attachments alive now. */
    public List<Attachment> attachments() {
        return List.copyOf(attachments);
    }

    /** Restricts this channel to a policy of its own instead of the host's. */
    public void accessPolicy(AccessPolicy policy) {
        this.accessPolicy = policy;
    }

    AccessPolicy accessPolicy() {
        return accessPolicy;
    }

    /** Called after a peer detached and its resources were recovered; for tests and monitoring. */
    public void onDetach(java.util.function.Consumer<Attachment> listener) {
        detachListener.add(listener);
    }

    /**
     * Whether this role may attach now; null if so, else the refusal. Called under the host's
     * lock, so the answer stays true until {@link #attached} or the handshake fails.
     */
    abstract Refusal admit(Role role);

    /**
     * Gives back what {@link #admit} (and {@link #assignParticipantId}) reserved, when the
     * handshake failed after it.
     */
    abstract void cancelAdmission(Role role, int participantId);

    /** The participant id for a new MPMC attachment (0 for other kinds). */
    int assignParticipantId(Role role) {
        return 0;
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
     * The attachment completed its handshake and is live.
     *
     * @return the registration number sent in READY (broadcast back-pressure consumers), else 0
     */
    long attached(Attachment attachment) {
        long registration = joined(attachment);
        attachments.add(attachment);
        return registration;
    }

    /**
     * The attachment's process is gone (EOF) or detached: recover what it held. Serialized with
     * {@link #close()}: a connection thread that ends after the channel closed finds nothing to do.
     */
    synchronized void detached(Attachment attachment) {
        if (attachments.remove(attachment)) {
            try {
                left(attachment);
            } finally {
                attachment.release();
                detachListener.fire(attachment);
            }
        }
    }

    abstract long joined(Attachment attachment);

    abstract void left(Attachment attachment);

    /** The data region's fd, to pass to a peer. */
    int dataFd() {
        return data.fd();
    }

    long dataRegionSize() {
        return data.size();
    }

    @Override
    public synchronized void close() {
        for (Attachment a : attachments) {
            detached(a);
        }
        data.close();
    }

    /** A refusal the host sends. */
    record Refusal(RefusalReason reason, String text) {
    }

    private static final class DetachListener {
        private final List<java.util.function.Consumer<Attachment>> listeners = new CopyOnWriteArrayList<>();

        void add(java.util.function.Consumer<Attachment> l) {
            listeners.add(l);
        }

        void fire(Attachment a) {
            for (var l : listeners) {
                l.accept(a);
            }
        }
    }
}
