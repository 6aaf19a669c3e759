package io.sluice.ringbuffer;

import io.sluice.api.CorruptRingException;

/**
 * Builds the exceptions for impossible shared state, so that the hot classes keep the cold
 * string building out of their loops. Each message names the ring, the counter position and
 * slot, the word found and why it cannot be.
 */
final class MpmcCorruption {
    private MpmcCorruption() {
    }

    static CorruptRingException slot(String what, String counter, long position, int slotCount, long word,
                                     String problem) {
        return new CorruptRingException(what + ": slot " + (position & (slotCount - 1)) + " at " + counter
                + " position " + position + " holds state word " + MpmcSlotDescriptor.describe(word) + ": " + problem);
    }

    static CorruptRingException malformed(String what, String counter, long position, int slotCount, long word,
                                          int maxParticipantId) {
        return slot(what, counter, position, slotCount, word, "not a valid state with participants 1.."
                + maxParticipantId + " (participant 0 exactly when FREE)");
    }

    static CorruptRingException counter(String what, String counter, long value) {
        return new CorruptRingException(what + ": " + counter + " position " + value + " is negative");
    }

    static CorruptRingException message(String what, long position, int slotCount, int type, int length,
                                        int maxMessageLength) {
        return new CorruptRingException(what + ": committed message in slot " + (position & (slotCount - 1))
                + " at head position " + position + " has type " + type + " and length " + length
                + " (types are positive, lengths 0.." + maxMessageLength + "); the message is dropped");
    }
}
