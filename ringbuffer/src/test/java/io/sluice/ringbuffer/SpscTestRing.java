package io.sluice.ringbuffer;

import io.sluice.memfd.MemfdRegion;
import io.sluice.memfd.Seal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * An SPSC ring for tests, with its regions: on the heap (long[]-backed, so 8-byte aligned), in a
 * shared arena, or in two memfds where producer and consumer each have their own mappings of the
 * same pages (ring: producer read-write, consumer read-only; position region the other way round).
 */
final class SpscTestRing implements AutoCloseable {
    final long capacity;
    /** The ring region as the producer maps it (writable): tests corrupt records through it. */
    final MemorySegment region;
    /** The consumer position region as the consumer maps it (writable). */
    final MemorySegment position;
    final SpscProducer producer;
    final SpscConsumer consumer;
    private final AutoCloseable[] resources;

    private SpscTestRing(long capacity, MemorySegment region, MemorySegment producerRegion, MemorySegment consumerRegion,
                         MemorySegment position, MemorySegment producerPosition, AutoCloseable... resources) {
        this.capacity = capacity;
        this.region = region;
        this.position = position;
        this.resources = resources;
        SpscRing.format(region, capacity);
        SpscRing.formatConsumerPosition(position, capacity);
        this.producer = SpscRing.attachProducer(producerRegion, producerPosition, "test");
        this.consumer = SpscRing.attachConsumer(consumerRegion, position, "test");
    }

    enum Kind { HEAP, SHARED_ARENA, MEMFD }

    static SpscTestRing create(Kind kind, long capacity) {
        return switch (kind) {
            case HEAP -> onHeap(capacity);
            case SHARED_ARENA -> inSharedArena(capacity);
            case MEMFD -> inMemfd(capacity);
        };
    }

    static SpscTestRing onHeap(long capacity) {
        MemorySegment region = heap(SpscRing.regionSize(capacity));
        MemorySegment position = heap(SpscRing.consumerPositionRegionSize());
        return new SpscTestRing(capacity, region, region, region.asReadOnly(), position, position.asReadOnly());
    }

    /** On the heap, the ring region's bytes all {@code fill} before format (format leaves the data area as it finds it). */
    static SpscTestRing onHeapFilled(long capacity, byte fill) {
        MemorySegment region = heap(SpscRing.regionSize(capacity));
        region.fill(fill);
        MemorySegment position = heap(SpscRing.consumerPositionRegionSize());
        return new SpscTestRing(capacity, region, region, region.asReadOnly(), position, position.asReadOnly());
    }

    static SpscTestRing inSharedArena(long capacity) {
        Arena arena = Arena.ofShared();
        MemorySegment region = arena.allocate(SpscRing.regionSize(capacity), 4096);
        MemorySegment position = arena.allocate(SpscRing.consumerPositionRegionSize(), 128);
        return new SpscTestRing(capacity, region, region, region.asReadOnly(), position, position.asReadOnly(), arena);
    }

    static SpscTestRing inMemfd(long capacity) {
        MemfdRegion ring = MemfdRegion.create("test.spsc.ring", SpscRing.regionSize(capacity));
        MemfdRegion pos = MemfdRegion.create("test.spsc.position", SpscRing.consumerPositionRegionSize());
        try {
            MemorySegment region = ring.mapReadWrite();
            MemorySegment consumerView = ring.mapReadOnly();        // a second mapping of the same pages
            MemorySegment position = pos.mapReadWrite();
            MemorySegment producerView = pos.mapReadOnly();
            ring.addSeals(Seal.SHRINK, Seal.GROW);
            pos.addSeals(Seal.SHRINK, Seal.GROW);
            return new SpscTestRing(capacity, region, region, consumerView, position, producerView, pos, ring);
        } catch (RuntimeException e) {
            pos.close();
            ring.close();
            throw e;
        }
    }

    static MemorySegment heap(long bytes) {
        return MemorySegment.ofArray(new long[(int) ((bytes + 7) / 8)]);
    }

    /** The data area as the producer sees it (writable). */
    MemorySegment data() {
        return region.asSlice(SpscRingDescriptor.HEADER_LENGTH, capacity);
    }

    @Override
    public void close() {
        for (AutoCloseable r : resources) {
            try {
                r.close();
            } catch (Exception e) {
                throw new IllegalStateException("closing " + r, e);
            }
        }
    }
}
