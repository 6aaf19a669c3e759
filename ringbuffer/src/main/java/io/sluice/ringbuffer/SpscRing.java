package io.sluice.ringbuffer;

import io.sluice.api.RingKind;
import io.sluice.api.RingLayoutException;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

import static io.sluice.ringbuffer.SpscRecordDescriptor.INVALID_STAMP;
import static io.sluice.ringbuffer.SpscRecordDescriptor.STAMP;

/**
 * Formats SPSC rings and attaches their producer and consumer. An SPSC ring is two regions:
 * the ring region ({@link SpscRingDescriptor}: header and data area; the producer writes it, the
 * consumer maps it read-only) and the consumer's position region
 * ({@link SpscConsumerPositionDescriptor}; the consumer writes it, the producer maps it read-only).
 * The same verbs as {@link BroadcastRing} and {@link MpmcRing}.
 *
 * <pre>{@code
 * // creator, once:
 * SpscRing.format(ringRegion, 1 << 20);
 * // consumer side, once, in its own region:
 * SpscRing.formatConsumerPosition(positionRegion, 1 << 20);
 * // then, each on its own side:
 * SpscProducer producer = SpscRing.attachProducer(ringRegion, positionRegionReadOnly, "orders");
 * SpscConsumer consumer = SpscRing.attachConsumer(ringRegionReadOnly, positionRegion, "orders");
 * }</pre>
 *
 * Heap segments work too (for tests), but must be 8-byte aligned: wrap a {@code long[]}.
 */
public final class SpscRing {
    private SpscRing() {
    }

    /**
     * Region bytes a ring of {@code capacity} data bytes needs: the 128-byte header plus the data
     * area. Call it before creating the region: an absurd capacity fails here, not in the kernel.
     *
     * @param capacity data area bytes, a power of two
     * @return bytes the ring region must have
     * @throws IllegalArgumentException if the capacity is not a power of two in
     *                                  [{@link SpscRingDescriptor#MIN_CAPACITY},
     *                                  {@link SpscRingDescriptor#MAX_CAPACITY}] (64 to 2^30)
     */
    public static long regionSize(long capacity) {
        return SpscRingDescriptor.regionSize(capacity);
    }

    /** {@return bytes a consumer position region needs} */
    public static long consumerPositionRegionSize() {
        return SpscConsumerPositionDescriptor.REGION_SIZE;
    }

    /**
     * The longest message a ring of {@code capacity} bytes carries: {@code capacity / 8}.
     *
     * @param capacity data area bytes, a power of two
     * @return the longest payload, in bytes
     */
    public static int maxMessageLength(long capacity) {
        SpscRingDescriptor.checkCapacity(capacity);
        return SpscRingDescriptor.maxMessageLength(capacity);
    }

    /**
     * Writes an empty ring of {@code capacity} data bytes at the start of {@code region}: the
     * header, and the invalid stamp in the slot of position 0. The data area is not cleared (and
     * need not be: see {@link SpscRecordDescriptor}). Do this before the region is shared, and while
     * no producer or consumer is attached.
     *
     * @param region the region to format, writable, at least {@link #regionSize} bytes
     * @param capacity data area bytes, a power of two
     * @throws IllegalArgumentException if the capacity is not a power of two in
     *                                  [{@link SpscRingDescriptor#MIN_CAPACITY},
     *                                  {@link SpscRingDescriptor#MAX_CAPACITY}], or the region is
     *                                  too small, read-only or not 8-byte aligned
     */
    public static void format(MemorySegment region, long capacity) {
        Misuse.checkFormatTarget(region, regionSize(capacity), Misuse.what("spsc", null),
                "a ring of capacity " + capacity);
        SpscRingDescriptor.write(region, capacity);
        MemorySegment data = region.asSlice(SpscRingDescriptor.HEADER_LENGTH, capacity);
        STAMP.set(data, 0L, INVALID_STAMP);
    }

    /**
     * Writes a fresh consumer position region (position 0) for a ring of {@code capacity}. The
     * consumer does this in its own region before handing it to the producer.
     *
     * @param positionRegion the consumer's position region, writable
     * @param capacity the ring's capacity
     * @throws IllegalArgumentException if the region is too small, read-only or not 8-byte aligned
     */
    public static void formatConsumerPosition(MemorySegment positionRegion, long capacity) {
        SpscRingDescriptor.checkCapacity(capacity);
        SpscConsumerPositionDescriptor.format(positionRegion, RingKind.SPSC, capacity);
    }

    /**
     * Attaches the producer: validates both regions and finds where to write next, by following
     * committed records from the consumer's position (a fresh ring: position 0). Only one producer
     * may be attached to a ring at a time; that is the caller's to ensure.
     *
     * @param region                 the ring region, writable
     * @param consumerPositionRegion the consumer's position region; the producer keeps a
     *                               read-only view of it
     * @param name                   names the ring in exception messages; may be null
     * @return the ring's producer, continuing at the ring's tail
     * @throws IllegalArgumentException if {@code region} is read-only
     * @throws RingLayoutException      if either region does not hold the expected layout, or
     *                                  they do not belong together
     */
    public static SpscProducer attachProducer(MemorySegment region, MemorySegment consumerPositionRegion, String name) {
        String what = Misuse.what("spsc", name);
        Misuse.checkWritable(region, what, "the producer", "ring region");
        Objects.requireNonNull(consumerPositionRegion, "consumer position region");
        long capacity = validate(region, consumerPositionRegion, what);
        MemorySegment data = region.asSlice(SpscRingDescriptor.HEADER_LENGTH, capacity);
        MemorySegment position = consumerPositionRegion.asSlice(0, SpscConsumerPositionDescriptor.REGION_SIZE).asReadOnly();
        long head = readPosition(position, what);
        long tail = findTail(data, head, what);
        return new SpscProducer(what, region.asSlice(0, SpscRingDescriptor.HEADER_LENGTH), data, position, tail, head);
    }

    /**
     * Attaches the consumer at the position its region holds (0 for a fresh one). The consumer
     * keeps a read-only view of the ring region, whatever it is given.
     *
     * @param region                 the ring region (read-only is enough)
     * @param consumerPositionRegion this consumer's own position region, writable
     * @param name                   names the ring in exception messages; may be null
     * @return the ring's consumer, at the position its region holds
     * @throws IllegalArgumentException if {@code consumerPositionRegion} is read-only
     * @throws RingLayoutException      if either region does not hold the expected layout, or
     *                                  they do not belong together
     */
    public static SpscConsumer attachConsumer(MemorySegment region, MemorySegment consumerPositionRegion, String name) {
        String what = Misuse.what("spsc", name);
        Objects.requireNonNull(region, "ring region");
        Misuse.checkWritable(consumerPositionRegion, what, "the consumer", "position region");
        long capacity = validate(region, consumerPositionRegion, what);
        MemorySegment data = region.asSlice(SpscRingDescriptor.HEADER_LENGTH, capacity).asReadOnly();
        MemorySegment position = consumerPositionRegion.asSlice(0, SpscConsumerPositionDescriptor.REGION_SIZE);
        long head = readPosition(position, what);
        long stamp = (long) STAMP.getAcquire(data, head & (capacity - 1));
        if (stamp != head && stamp != INVALID_STAMP) {
            throw new RingLayoutException(what + ": consumer position " + head + " does not match the ring: the stamp there is "
                    + stamp);
        }
        return new SpscConsumer(what, data, position, head);
    }

    /**
     * Attaches a tap: a reader that follows the ring from the producer's position without taking
     * the consumer's place or holding the producer back ({@link SpscTap}).
     *
     * @param region the ring region (read-only is enough; the tap keeps a read-only view)
     * @param name   names the ring in exception messages; may be null
     * @return a tap at the newest record
     * @throws RingLayoutException if the region does not hold an SPSC ring
     */
    public static SpscTap attachTap(MemorySegment region, String name) {
        String what = Misuse.what("spsc", name);
        Objects.requireNonNull(region, "ring region");
        MemorySegment view = region.asReadOnly();
        long capacity = SpscRingDescriptor.validate(view, what);
        return new SpscTap(what, view.asSlice(0, SpscRingDescriptor.HEADER_LENGTH),
                view.asSlice(SpscRingDescriptor.HEADER_LENGTH, capacity));
    }

    private static long validate(MemorySegment region, MemorySegment consumerPositionRegion, String what) {
        long capacity = SpscRingDescriptor.validate(region, what);
        SpscConsumerPositionDescriptor.validate(consumerPositionRegion, RingKind.SPSC, capacity, what);
        return capacity;
    }

    private static long readPosition(MemorySegment position, String what) {
        long head = (long) SpscConsumerPositionDescriptor.POSITION.getAcquire(position, SpscConsumerPositionDescriptor.POSITION_OFFSET);
        if (head < 0 || (head & (SpscRecordDescriptor.ALIGNMENT - 1)) != 0) {
            throw new RingLayoutException(what + ": consumer position " + head
                    + " is not a non-negative multiple of " + SpscRecordDescriptor.ALIGNMENT);
        }
        if ((head & (SpscRecordDescriptor.LINE_LENGTH - 1)) > SpscRecordDescriptor.LAST_START_IN_LINE) {
            throw new RingLayoutException(what + ": consumer position " + head + " lies in the last 16 bytes of a "
                    + SpscRecordDescriptor.LINE_LENGTH + "-byte line, where no record starts");
        }
        return head;
    }

    /**
     * Follows committed records from {@code head}: the first slot without its own position as a
     * stamp is where the producer left off. Bounded by one capacity; every header validated.
     */
    private static long findTail(MemorySegment data, long head, String what) {
        long capacity = data.byteSize();
        long mask = capacity - 1;
        int maxLength = SpscRingDescriptor.maxMessageLength(capacity);
        long position = head;
        while (true) {
            long index = position & mask;
            long stamp = (long) STAMP.getAcquire(data, index);
            if (stamp == INVALID_STAMP) {
                return position;
            }
            if (stamp != position) {
                throw new RingLayoutException(what + ": record at position " + position + " has stamp " + stamp
                        + ", expected " + position + " or " + INVALID_STAMP);
            }
            int length = (int) SpscRecordDescriptor.LENGTH.get(data, index);
            int type = (int) SpscRecordDescriptor.TYPE.get(data, index);
            boolean valid = type > 0 ? length >= 0 && length <= maxLength
                    : type == SpscRecordDescriptor.PADDING_TYPE && length == capacity - index - SpscRecordDescriptor.HEADER_LENGTH;
            long end = index + SpscRecordDescriptor.recordLength(length);
            if (!valid || end > capacity) {
                throw new RingLayoutException(what + ": record at position " + position + " has length " + length
                        + " and type " + type + ", which are impossible");
            }
            position = SpscRecordDescriptor.nextRecordStart(position + (end - index));
            if (position - head > capacity - SpscRecordDescriptor.STAMP_LENGTH) {
                throw new RingLayoutException(what + ": committed records from the consumer position " + head
                        + " fill more than the capacity " + capacity);
            }
        }
    }
}
