package io.sluice.api;

/**
 * Why a host refused an attachment (REFUSE) or ended one (DETACH), with the code both messages
 * carry. A peer that receives a code it does not know treats it as {@link #INTERNAL}.
 */
public enum RefusalReason {
    /** No channel of that name is hosted. */
    UNKNOWN_CHANNEL(1),
    /** The channel does not take that role (e.g. a producer on an SPSC channel). */
    ROLE_NOT_ALLOWED(2),
    /** The peer speaks another protocol version. */
    VERSION_MISMATCH(3),
    /** The peer's uid/gid/pid ({@code SO_PEERCRED}) is not admitted by the access policy. */
    ACCESS_DENIED(4),
    /** The channel has as many attachments of that role as it takes. */
    CHANNEL_FULL(5),
    /** A message broke the protocol: bad magic, truncated, unexpected fds or fields. */
    MALFORMED(6),
    /** A region the peer handed over is not what the protocol promised (seals, size, kind). */
    BAD_REGION(7),
    /** The peer did not complete the handshake in time. */
    TIMEOUT(8),
    /** The host failed for a reason of its own; the text says which. */
    INTERNAL(9),
    /** The host has as many connections as it takes, in all or from this peer's uid. */
    CONNECTION_LIMIT(10),
    /** The channel's ring is corrupt (a recovery could not complete); it takes nobody new. */
    CHANNEL_CORRUPT(11),
    /** The consumer published a position no honest consumer can have (DETACH only). */
    BAD_POSITION(12),
    /** The host closed the channel, or is shutting down. */
    CHANNEL_CLOSED(13),
    /**
     * The consumer did not move its position for the host's stuck-consumer timeout while the
     * producer waited for it (DETACH only; a host option, off by default).
     */
    STUCK(14);

    private final int code;

    RefusalReason(int code) {
        this.code = code;
    }

    /**
     * The value sent in REFUSE and DETACH messages (docs/protocol.md).
     *
     * @return the wire code
     */
    public int code() {
        return code;
    }

    /**
     * The reason for a protocol code, or null if unknown.
     *
     * @param code a value read from a peer or a region, any int
     * @return the matching constant, or null
     */
    public static RefusalReason fromCode(int code) {
        for (RefusalReason r : values()) {
            if (r.code == code) {
                return r;
            }
        }
        return null;
    }
}
