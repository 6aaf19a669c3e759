package io.sluice.channel;

import io.sluice.ringbuffer.MpmcRing;
import io.sluice.ringbuffer.MpmcSlotDescriptor;

/**
 * How a {@link ChannelHost} makes an MPMC channel. Immutable; every value is checked when the
 * options are made (and again by each wither), before the host allocates anything:
 *
 * <pre>{@code
 * host.mpmc("work", MpmcOptions.of(1024, 64).maxParticipants(8));
 * }</pre>
 *
 * @param slotCount       slots in the ring: a power of two from 2 to 2<sup>30</sup>
 * @param slotLength      bytes per slot: a power of two from 32 to 2<sup>30</sup>; a message
 *                        carries 16 bytes less; slot count &times; slot length is at most 2<sup>30</sup>
 * @param maxParticipants producers and consumers attached at once, across processes, the hosting
 *                        one included: 1 to {@link #MAX_PARTICIPANTS}; by default
 *                        {@link #DEFAULT_MAX_PARTICIPANTS}
 * @param wakeParkedConsumers whether producers (in every process) wake consumers that sleep in
 *                            {@link MpmcAttachment#pollBlocking} (a full fence and one load per
 *                            commit and abort, and a system call only when one is asleep); off by
 *                            default
 */
public record MpmcOptions(int slotCount, int slotLength, int maxParticipants, boolean wakeParkedConsumers) {
    /** Largest {@code maxParticipants}: the largest participant id a slot word holds. */
    public static final int MAX_PARTICIPANTS = MpmcSlotDescriptor.MAX_PARTICIPANT_ID;
    /** {@code maxParticipants} unless set: 16. */
    public static final int DEFAULT_MAX_PARTICIPANTS = 16;

    /**
     * Checks every value against its bound before any memory is asked for.
     *
     * @throws IllegalArgumentException naming the field and its bounds if a value is outside them
     */
    public MpmcOptions {
        regionSize(slotCount, slotLength);
        if (maxParticipants < 1 || maxParticipants > MAX_PARTICIPANTS) {
            throw new IllegalArgumentException("MpmcOptions.maxParticipants " + maxParticipants
                    + " is outside 1.." + MAX_PARTICIPANTS);
        }
    }

    /**
     * Options whose producers do not wake parked consumers.
     *
     * @param slotCount       the number of slots
     * @param slotLength      bytes per slot including its header
     * @param maxParticipants participants attached at once
     * @throws IllegalArgumentException naming the field and its bounds if a value is outside them
     */
    public MpmcOptions(int slotCount, int slotLength, int maxParticipants) {
        this(slotCount, slotLength, maxParticipants, false);
    }

    /**
     * A channel of {@code slotCount} slots of {@code slotLength} bytes, for up to {@link #DEFAULT_MAX_PARTICIPANTS} participants.
     *
     * @param slotCount  the number of slots, a power of two within the ring's bounds
     * @param slotLength bytes per slot including its header, a power of two within the ring's bounds
     * @return the options
     * @throws IllegalArgumentException if a value is out of bounds
     */
    public static MpmcOptions of(int slotCount, int slotLength) {
        return new MpmcOptions(slotCount, slotLength, DEFAULT_MAX_PARTICIPANTS, false);
    }

    /**
     * The same options for up to {@code participants} participants at once.
     *
     * @param participants 1 to {@link #MAX_PARTICIPANTS}
     * @return new options; these are unchanged
     * @throws IllegalArgumentException if {@code participants} is out of bounds
     */
    public MpmcOptions maxParticipants(int participants) {
        return new MpmcOptions(slotCount, slotLength, participants, wakeParkedConsumers);
    }

    /**
     * The same options, with producers waking parked consumers or not.
     *
     * @param wake true to wake consumers parked in {@link MpmcAttachment#pollBlocking}
     * @return new options; these are unchanged
     */
    public MpmcOptions wakeParkedConsumers(boolean wake) {
        return new MpmcOptions(slotCount, slotLength, maxParticipants, wake);
    }

    /** Bytes of shared memory the channel's data region takes. */
    long regionSize() {
        return regionSize(slotCount, slotLength);
    }

    private static long regionSize(int slotCount, int slotLength) {
        try {
            return MpmcRing.regionSize(slotCount, slotLength);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("MpmcOptions: " + e.getMessage(), e); // names slot count or length
        }
    }
}
