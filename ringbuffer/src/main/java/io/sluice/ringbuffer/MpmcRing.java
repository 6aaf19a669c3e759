package io.sluice.ringbuffer;

import io.sluice.api.RingLayoutException;

import java.lang.foreign.MemorySegment;

/**
 * Sizes, formats and attaches to MPMC rings: many producers, many consumers, one region that
 * every participant maps read-write ({@link MpmcRingDescriptor}, {@link MpmcSlotDescriptor}).
 * The same verbs as {@link SpscRing} and {@link BroadcastRing}.
 *
 * <pre>{@code
 * // creator, once:
 * long size = MpmcRing.regionSize(1024, 256);
 * MpmcRing.format(region, 1024, 256, 16);
 * // each participant, with the id the host gave it:
 * MpmcProducer producer = MpmcRing.attachProducer(region, 3, "jobs");
 * MpmcConsumer consumer = MpmcRing.attachConsumer(region, 4, "jobs");
 * }</pre>
 *
 * A participant that dies leaves its claims and takes for {@link MpmcRecovery#recover} to undo.
 * Heap segments work too (for tests), but must be 8-byte aligned: wrap a {@code long[]}.
 */
public final class MpmcRing {
    private MpmcRing() {
    }

    /**
     * Region bytes for {@code slotCount} slots of {@code slotLength} bytes: the 512-byte header
     * plus the slots. Call it before creating the region: an absurd size fails here, not in the
     * kernel.
     *
     * @param slotCount slots, a power of two
     * @param slotLength bytes per slot including its 16-byte header, a power of two
     * @return bytes the ring region must have
     * @throws IllegalArgumentException if either is not a power of two in range
     *                                  ([{@value MpmcRingDescriptor#MIN_SLOT_COUNT}, 2^30] slots,
     *                                  [{@value MpmcSlotDescriptor#MIN_SLOT_LENGTH}, 2^30] bytes), or
     *                                  their product is above 2^30
     */
    public static long regionSize(int slotCount, int slotLength) {
        return MpmcRingDescriptor.regionSize(slotCount, slotLength);
    }

    /**
     * The longest message a slot of {@code slotLength} bytes carries: the slot minus its 16-byte
     * header.
     *
     * @param slotLength bytes per slot including its header, a power of two
     * @return the longest payload, in bytes
     * @throws IllegalArgumentException if the slot length is not a power of two in range
     */
    public static int maxMessageLength(int slotLength) {
        MpmcRingDescriptor.regionSize(MpmcRingDescriptor.MIN_SLOT_COUNT, slotLength);
        return slotLength - MpmcSlotDescriptor.HEADER_LENGTH;
    }

    /**
     * Writes an empty ring at the start of {@code region}: header, zeroed counters and slots. Do
     * this before the region is shared.
     *
     * @param maxParticipantId participants will be numbered 1..this, at most
     *                         {@value MpmcSlotDescriptor#MAX_PARTICIPANT_ID}
     * @param region the region to format, writable, at least {@link #regionSize} bytes
     * @param slotCount slots, a power of two
     * @param slotLength bytes per slot including its 16-byte header, a power of two
     * @throws IllegalArgumentException if a size is out of range (see {@link #regionSize}), the
     *                                  participant limit is out of range, or the region is too
     *                                  small, read-only or not 8-byte aligned
     */
    public static void format(MemorySegment region, int slotCount, int slotLength, int maxParticipantId) {
        MpmcRingDescriptor.format(region, slotCount, slotLength, maxParticipantId);
    }

    /**
     * Attaches a producer.
     *
     * @param region        the whole ring region, read-write
     * @param participantId this participant's id, 1..the ring's max participant id, unique among
     *                      live participants (the host assigns it)
     * @param name          names the ring in exception messages; may be null
     * @return a producer with no claim open
     * @throws RingLayoutException      if the region does not hold a valid MPMC ring, or is read-only
     * @throws IllegalArgumentException if the id is out of range
     */
    public static MpmcProducer attachProducer(MemorySegment region, int participantId, String name) {
        return new MpmcProducer(region, participantId, name);
    }

    /**
     * Attaches a consumer. Taking a message writes its slot's state word, so the region must be
     * read-write.
     *
     * @param region        the whole ring region, read-write
     * @param participantId as for {@link #attachProducer}
     * @param name          names the ring in exception messages; may be null
     * @return a consumer taking from the ring's head
     * @throws RingLayoutException      if the region does not hold a valid MPMC ring, or is read-only
     * @throws IllegalArgumentException if the id is out of range
     */
    public static MpmcConsumer attachConsumer(MemorySegment region, int participantId, String name) {
        return new MpmcConsumer(region, participantId, name);
    }
}
