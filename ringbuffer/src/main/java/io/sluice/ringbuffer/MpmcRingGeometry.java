package io.sluice.ringbuffer;

import java.lang.foreign.MemorySegment;

/**
 * The sizes of a validated MPMC ring, as read from its header by
 * {@link MpmcRingDescriptor#validate}.
 *
 * @param slotCount        slots in the ring, a power of two
 * @param slotLength       bytes per slot including the 16-byte slot header, a power of two
 * @param maxParticipantId participants are numbered 1..this
 */
public record MpmcRingGeometry(int slotCount, int slotLength, int maxParticipantId) {

    /**
     * The checks every participant makes when it attaches: the region is writable (taking,
     * committing and releasing a slot all write its state word), holds a valid MPMC ring, and the
     * id is in range.
     *
     * @param role names the participant in the message ("the producer", "the consumer")
     * @return the ring's geometry
     */
    static MpmcRingGeometry attach(MemorySegment region, int participantId, String ringName, String what,
                                   String role) {
        Misuse.checkWritable(region, what, role, "ring region");
        MpmcRingGeometry geometry = MpmcRingDescriptor.validate(region, ringName);
        geometry.checkParticipantId(participantId, what);
        return geometry;
    }

    /**
     * Checks a participant id against this ring: 1..{@link #maxParticipantId()} (0 means nobody).
     *
     * @param what names the ring in the message
     * @param participantId the id to check
     * @throws IllegalArgumentException if it is out of range
     */
    public void checkParticipantId(int participantId, String what) {
        if (participantId < 1 || participantId > maxParticipantId) {
            throw new IllegalArgumentException(what + ": participant id " + participantId + " outside 1.."
                    + maxParticipantId + " (0 means nobody)");
        }
    }

    /** {@return the longest message: a slot minus its header} */
    public int maxMessageLength() {
        return slotLength - MpmcSlotDescriptor.HEADER_LENGTH;
    }

    /** {@return log2(slotCount): a position's lap is {@code position >>> slotCountShift()}} */
    public int slotCountShift() {
        return Integer.numberOfTrailingZeros(slotCount);
    }

    /** {@return log2(slotLength)} */
    public int slotLengthShift() {
        return Integer.numberOfTrailingZeros(slotLength);
    }

    /** {@return bytes of the whole region: header plus slots} */
    public long regionSize() {
        return MpmcRingDescriptor.HEADER_LENGTH + (long) slotCount * slotLength;
    }

    /**
     * Offset in the region of the slot serving {@code position}.
     *
     * @param position a ring position, not negative
     * @return the byte offset of that slot's header in the region
     */
    public long slotOffset(long position) {
        return MpmcRingDescriptor.HEADER_LENGTH + ((position & (slotCount - 1)) << slotLengthShift());
    }
}
