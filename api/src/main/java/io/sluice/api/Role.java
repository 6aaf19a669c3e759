package io.sluice.api;

/**
 * What an attaching process wants to be on a channel, with its protocol code.
 */
public enum Role {
    /** Reads the channel (SPSC, broadcast or MPMC). */
    CONSUMER(1),
    /** Writes the channel (MPMC only: SPSC and broadcast producers live in the hosting process). */
    PRODUCER(2),
    /** Both writes and reads an MPMC channel. */
    PARTICIPANT(3),
    /**
     * Watches without taking part: on a channel, reads its ring through a read-only fd beside the
     * consumers, holding no place and never holding a producer back ({@code sluice tail}); on the
     * host's status channel ({@code *}), reads the host's counters ({@code sluice stat}).
     */
    MONITOR(4);

    private final int code;

    Role(int code) {
        this.code = code;
    }

    /**
     * The value sent in the hello message.
     *
     * @return the wire code
     */
    public int code() {
        return code;
    }

    /**
     * The role for a protocol code, or null if unknown.
     *
     * @param code a value read from a peer or a region, any int
     * @return the matching constant, or null
     */
    public static Role fromCode(int code) {
        for (Role r : values()) {
            if (r.code == code) {
                return r;
            }
        }
        return null;
    }
}
