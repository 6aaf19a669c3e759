package io.sluice.api;

import java.lang.foreign.MemorySegment;

/**
 * Receives messages from a ring without a copy.
 */
@FunctionalInterface
public interface MessageHandler {
    /**
     * Called once per message.
     *
     * @param type    the message type the producer gave, a positive int
     * @param payload a read-only slice of the ring holding exactly the message; valid only until
     *                this call returns (the producer may reuse the space afterwards)
     */
    void onMessage(int type, MemorySegment payload);
}
