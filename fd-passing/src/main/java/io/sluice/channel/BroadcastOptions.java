package io.sluice.channel;

import io.sluice.api.BroadcastPolicy;
import io.sluice.ringbuffer.BroadcastRing;

import java.util.Objects;

/**
 * How a {@link ChannelHost} makes a broadcast channel. Immutable; every value is checked when the
 * options are made (and again by each wither), before the host allocates anything:
 *
 * <pre>{@code
 * host.broadcast("md.quotes", BroadcastOptions.of(BroadcastPolicy.OVERWRITE, 1 << 20)
 *         .maxMessageLength(64)
 *         .maxConsumers(16));
 * }</pre>
 *
 * @param policy           what the producer does when its slowest consumer is a whole ring behind
 * @param capacity         data bytes of the ring: a power of two from 128 to 2<sup>30</sup>
 * @param maxMessageLength longest message in bytes: 0 to half the capacity less two record headers;
 *                         by default an eighth of the capacity
 * @param maxConsumers     consumers attached at once: 1 to {@link #MAX_CONSUMERS}; by default
 *                         {@link #DEFAULT_MAX_CONSUMERS}
 * @param wakeParkedConsumers whether the producer wakes consumers that sleep in
 *                            {@link ConsumerAttachment#pollBlocking} (a full fence and one load per
 *                            attached consumer per commit, and a system call only when one is
 *                            asleep); off by default
 */
public record BroadcastOptions(BroadcastPolicy policy, long capacity, int maxMessageLength, int maxConsumers,
                               boolean wakeParkedConsumers) {
    /** Largest {@code maxConsumers} a broadcast channel takes. */
    public static final int MAX_CONSUMERS = 4096;
    /** {@code maxConsumers} unless set: 16. */
    public static final int DEFAULT_MAX_CONSUMERS = 16;

    /**
     * Checks every value against its bound before any memory is asked for.
     *
     * @throws IllegalArgumentException naming the field and its bounds if a value is outside them
     * @throws NullPointerException     if {@code policy} is null
     */
    public BroadcastOptions {
        Objects.requireNonNull(policy, "BroadcastOptions.policy");
        regionSize(capacity);
        int limit = BroadcastRing.maxMessageLengthLimit(capacity);
        if (maxMessageLength < 0 || maxMessageLength > limit) {
            throw new IllegalArgumentException("BroadcastOptions.maxMessageLength " + maxMessageLength
                    + " is outside 0.." + limit + " for capacity " + capacity);
        }
        if (maxConsumers < 1 || maxConsumers > MAX_CONSUMERS) {
            throw new IllegalArgumentException("BroadcastOptions.maxConsumers " + maxConsumers + " is outside 1.." + MAX_CONSUMERS);
        }
    }

    /**
     * Options whose producer does not wake parked consumers.
     *
     * @param policy           what the producer does when a consumer falls a ring behind
     * @param capacity         the data area in bytes: a power of two, within the ring's bounds
     * @param maxMessageLength the longest payload
     * @param maxConsumers     consumers attached at once
     * @throws IllegalArgumentException naming the field and its bounds if a value is outside them
     */
    public BroadcastOptions(BroadcastPolicy policy, long capacity, int maxMessageLength, int maxConsumers) {
        this(policy, capacity, maxMessageLength, maxConsumers, false);
    }

    /**
     * A channel of {@code capacity} data bytes with {@code policy}, messages up to an eighth of
     * the capacity and up to {@link #DEFAULT_MAX_CONSUMERS} consumers.
     *
     * @param policy   what the producer does when a consumer falls a ring behind
     * @param capacity the data area in bytes: a power of two, within the ring's bounds
     * @return the options
     * @throws IllegalArgumentException if the capacity is out of bounds
     */
    public static BroadcastOptions of(BroadcastPolicy policy, long capacity) {
        regionSize(capacity); // before the default length is derived from it
        return new BroadcastOptions(policy, capacity, BroadcastRing.maxMessageLength(capacity),
                DEFAULT_MAX_CONSUMERS, false);
    }

    /**
     * The same options with messages up to {@code bytes} long.
     *
     * @param bytes the longest payload: 0 to half the capacity less two record headers
     * @return new options; these are unchanged
     * @throws IllegalArgumentException if {@code bytes} is out of bounds
     */
    public BroadcastOptions maxMessageLength(int bytes) {
        return new BroadcastOptions(policy, capacity, bytes, maxConsumers, wakeParkedConsumers);
    }

    /**
     * The same options with up to {@code consumers} consumers attached at once.
     *
     * @param consumers 1 to {@link #MAX_CONSUMERS}
     * @return new options; these are unchanged
     * @throws IllegalArgumentException if {@code consumers} is out of bounds
     */
    public BroadcastOptions maxConsumers(int consumers) {
        return new BroadcastOptions(policy, capacity, maxMessageLength, consumers, wakeParkedConsumers);
    }

    /**
     * The same options, with the producer waking parked consumers or not.
     *
     * @param wake true to wake consumers parked in {@link ConsumerAttachment#pollBlocking}
     * @return new options; these are unchanged
     */
    public BroadcastOptions wakeParkedConsumers(boolean wake) {
        return new BroadcastOptions(policy, capacity, maxMessageLength, maxConsumers, wake);
    }

    /** Bytes of shared memory the channel's data region takes. */
    long regionSize() {
        return regionSize(capacity);
    }

    private static long regionSize(long capacity) {
        try {
            return BroadcastRing.regionSize(capacity);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("BroadcastOptions.capacity: " + e.getMessage(), e);
        }
    }
}
