package io.sluice.ringbuffer;

import io.sluice.api.BroadcastPolicy;
import io.sluice.api.CorruptRingException;
import io.sluice.api.RingLayoutException;

import java.lang.foreign.MemorySegment;

/**
 * Sizes, formats and attaches to broadcast rings: one producer, any number of read-only
 * consumers, each reading every message ({@link BroadcastRingDescriptor}). The same verbs as
 * {@link SpscRing} and {@link MpmcRing}. The policy (the region's ring kind) decides what a full
 * ring does: {@link BroadcastPolicy#BACK_PRESSURE} makes the producer wait for the slowest
 * registered consumer, {@link BroadcastPolicy#OVERWRITE} overwrites and tells a lapped consumer
 * what it lost.
 *
 * <pre>{@code
 * // creator, once:
 * long size = BroadcastRing.regionSize(1 << 20);
 * BroadcastRing.format(region, BroadcastPolicy.BACK_PRESSURE, 1 << 20);
 * BroadcastProducer producer = BroadcastRing.attachProducer(region, "md.eurusd");
 * // each consumer, with a position region of its own (optional on an overwrite ring):
 * BroadcastConsumer consumer = BroadcastRing.attachConsumer(regionReadOnly, positionRegion,
 *         BroadcastStart.NEWEST, "md.eurusd");
 * // backpressure: the producer's side registers the consumer, which then waits for adoption
 * consumer.registered(producer.addConsumer(positionRegionReadOnly));
 * }</pre>
 *
 * Heap segments work too (for tests), but must be 8-byte aligned: wrap a {@code long[]}.
 */
public final class BroadcastRing {
    private BroadcastRing() {
    }

    /**
     * Region bytes a ring of {@code capacity} data bytes needs: the 384-byte header plus the data
     * area. Call it before creating the region: an absurd capacity fails here, not in the kernel.
     *
     * @param capacity data area bytes, a power of two
     * @return bytes the ring region must have
     * @throws IllegalArgumentException if the capacity is not a power of two in
     *                                  [{@link BroadcastRingDescriptor#MIN_CAPACITY},
     *                                  {@link BroadcastRingDescriptor#MAX_CAPACITY}] (128 to 2^30)
     */
    public static long regionSize(long capacity) {
        return BroadcastRingDescriptor.regionSize(capacity);
    }

    /**
     * The longest message a ring of {@code capacity} bytes formatted with
     * {@link #format(MemorySegment, BroadcastPolicy, long)} carries: {@code capacity / 8}.
     *
     * @param capacity data area bytes, a power of two
     * @return the default max message length for that capacity, in bytes
     * @throws IllegalArgumentException if the capacity is out of range (see {@link #regionSize})
     */
    public static int maxMessageLength(long capacity) {
        BroadcastRingDescriptor.regionSize(capacity);
        return BroadcastRingDescriptor.defaultMaxMessageLength(capacity);
    }

    /**
     * The largest maximum message length {@link #format(MemorySegment, BroadcastPolicy, long, int)}
     * accepts for {@code capacity}: half the capacity minus two record headers.
     *
     * @param capacity data area bytes, a power of two
     * @return the largest max message length a ring of that capacity may be formatted with
     * @throws IllegalArgumentException if the capacity is out of range (see {@link #regionSize})
     */
    public static int maxMessageLengthLimit(long capacity) {
        BroadcastRingDescriptor.regionSize(capacity);
        return BroadcastRingDescriptor.maxMessageLengthLimit(capacity);
    }

    /** {@return bytes a consumer's position region needs} */
    public static long consumerPositionRegionSize() {
        return BroadcastConsumerPositionDescriptor.REGION_SIZE;
    }

    /**
     * {@link #format(MemorySegment, BroadcastPolicy, long, int)} with {@link #maxMessageLength(long)}.
     *
     * @param region the region to format, writable, at least {@link #regionSize} bytes
     * @param policy what the producer does when consumers fall a capacity behind
     * @param capacity data area bytes, a power of two
     */
    public static void format(MemorySegment region, BroadcastPolicy policy, long capacity) {
        BroadcastRingDescriptor.format(region, policy.ringKind(), capacity);
    }

    /**
     * Writes an empty ring of {@code capacity} data bytes at the start of {@code region}. Do this
     * before the region is shared.
     *
     * @param region the region to format, writable, at least {@link #regionSize} bytes
     * @param policy what the producer does when consumers fall a capacity behind
     * @param capacity data area bytes, a power of two
     * @param maxMessageLength the longest payload the ring will carry, in bytes
     * @throws IllegalArgumentException if the capacity is out of range, {@code maxMessageLength}
     *                                  is outside [0, {@link #maxMessageLengthLimit}], or the
     *                                  region is too small or not 8-byte aligned
     */
    public static void format(MemorySegment region, BroadcastPolicy policy, long capacity, int maxMessageLength) {
        BroadcastRingDescriptor.format(region, policy.ringKind(), capacity, maxMessageLength);
    }

    /**
     * Attaches the producer. There must be no other; the ring may have been used by an earlier
     * producer, provided it left no claim in flight (consumers registered with that producer
     * must be registered again).
     *
     * @param region the whole ring region, writable
     * @param name   names the ring in exception messages; may be null
     * @return the ring's producer, continuing at the ring's Tail and Next Sequence
     * @throws IllegalArgumentException if the region is read-only
     * @throws RingLayoutException      if the header or the counters are not those of a
     *                                  quiescent broadcast ring
     */
    public static BroadcastProducer attachProducer(MemorySegment region, String name) {
        return BroadcastProducer.attach(region, name);
    }

    /**
     * Attaches a consumer: validates the header, chooses the start position, formats
     * {@code positionRegion} (if given) and publishes the start in it. On a backpressure ring the
     * consumer then delivers nothing until it is {@link BroadcastConsumer#registered registered}
     * and the producer has adopted that registration.
     *
     * @param region         the ring region; read-only is enough (the consumer keeps a read-only view)
     * @param positionRegion this consumer's own position region, writable, at least
     *                       {@link #consumerPositionRegionSize()} bytes; required on a
     *                       backpressure ring, optional (for monitoring, may be null) on an
     *                       overwrite ring
     * @param start          where to start reading
     * @param name           names the ring in exception messages; may be null
     * @return a consumer positioned at its start, not yet gated on a backpressure ring
     * @throws IllegalArgumentException if the position region is missing on a backpressure ring,
     *                                  or read-only
     * @throws RingLayoutException      if the ring's header is wrong
     * @throws CorruptRingException     if the ring's counters or the start record are impossible
     */
    public static BroadcastConsumer attachConsumer(MemorySegment region, MemorySegment positionRegion,
                                                   BroadcastStart start, String name) {
        return BroadcastConsumer.attach(region, positionRegion, start, name);
    }

    /**
     * Attaches a tap: a reader without a place among the consumers, on either policy. The
     * producer never waits for it, even on a backpressure ring; it reads as a consumer of an
     * overwrite ring does (lapped records are counted and skipped, {@link BroadcastConsumer#isStillValid()}
     * after each payload read). What {@code sluice tail} uses.
     *
     * @param region the ring region; read-only is enough
     * @param start  where to start reading
     * @param name   names the ring in exception messages; may be null
     * @return a tap at its start
     * @throws RingLayoutException  if the ring's header is wrong
     * @throws CorruptRingException if the ring's counters or the start record are impossible
     */
    public static BroadcastConsumer attachTap(MemorySegment region, BroadcastStart start, String name) {
        return BroadcastConsumer.attachTap(region, start, name);
    }
}
