package io.sluice.channel;

import io.sluice.ringbuffer.SpscRing;

/**
 * How a {@link ChannelHost} makes an SPSC channel. Immutable; every value is checked when the
 * options are made, before the host allocates anything:
 *
 * <pre>{@code
 * host.spsc("orders", SpscOptions.of(1 << 20).wakeParkedConsumers(true));
 * }</pre>
 *
 * @param capacity            data bytes of the ring: a power of two from 64 to 2<sup>30</sup>
 * @param wakeParkedConsumers whether the producer wakes a consumer that sleeps in
 *                            {@link ConsumerAttachment#pollBlocking} (a full fence per commit, and a
 *                            system call only when the consumer is asleep); off by default
 */
public record SpscOptions(long capacity, boolean wakeParkedConsumers) {
    /**
     * Checks the capacity before any memory is asked for.
     *
     * @throws IllegalArgumentException naming {@code capacity} and its bounds if it is not a power
     *                                  of two from 64 to 2<sup>30</sup>
     */
    public SpscOptions {
        regionSize(capacity);
    }

    /**
     * A channel of {@code capacity} data bytes whose producer does not wake parked consumers.
     *
     * @param capacity the data area in bytes: a power of two from 64 to 2<sup>30</sup>
     * @return the options
     * @throws IllegalArgumentException if the capacity is out of bounds
     */
    public static SpscOptions of(long capacity) {
        return new SpscOptions(capacity, false);
    }

    /**
     * The same options, with the producer waking parked consumers or not.
     *
     * @param wake true to wake consumers parked in {@link ConsumerAttachment#pollBlocking}
     * @return new options; these are unchanged
     */
    public SpscOptions wakeParkedConsumers(boolean wake) {
        return new SpscOptions(capacity, wake);
    }

    /** Bytes of shared memory the channel's data region takes. */
    long regionSize() {
        return regionSize(capacity);
    }

    private static long regionSize(long capacity) {
        try {
            return SpscRing.regionSize(capacity);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("SpscOptions.capacity: " + e.getMessage(), e);
        }
    }
}
