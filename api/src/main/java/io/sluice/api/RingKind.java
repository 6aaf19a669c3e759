package io.sluice.api;

/**
 * The kinds of ring, with the code each writes into its region header.
 */
public enum RingKind {
    /** One producer, one read-only consumer, variable-length records. */
    SPSC(1),
    /** One producer, many read-only consumers; the producer waits for the slowest. */
    BROADCAST_BACKPRESSURE(2),
    /** One producer, many read-only consumers; the producer overwrites, lapped consumers are told. */
    BROADCAST_OVERWRITE(3),
    /** Many producers, many consumers, fixed-size slots (a trusted group). */
    MPMC(4);

    private final int code;

    RingKind(int code) {
        this.code = code;
    }

    /**
     * The value stored in the region header's kind field.
     *
     * @return the wire code
     */
    public int code() {
        return code;
    }

    /**
     * The kind for a header code, or null if unknown.
     *
     * @param code a value read from a peer or a region, any int
     * @return the matching constant, or null
     */
    public static RingKind fromCode(int code) {
        for (RingKind k : values()) {
            if (k.code == code) {
                return k;
            }
        }
        return null;
    }
}
