package io.sluice.perf.jmh;

import io.sluice.memfd.MemfdRegion;
import io.sluice.ringbuffer.SpscConsumer;
import io.sluice.ringbuffer.SpscProducer;
import io.sluice.ringbuffer.SpscRing;

import java.lang.foreign.MemorySegment;

/**
 * A Sluice SPSC ring of {@link Rings#DATA_CAPACITY} bytes as a channel sets it up, in one
 * process: the ring in one memfd (the producer maps it read-write, the consumer read-only), the
 * consumer's position in another.
 */
final class MemfdSpscRing implements AutoCloseable {
    final SpscProducer producer;
    final SpscConsumer consumer;
    private final MemfdRegion ring;
    private final MemfdRegion position;

    MemfdSpscRing(String name) {
        ring = MemfdRegion.create(name, SpscRing.regionSize(Rings.DATA_CAPACITY));
        position = MemfdRegion.create(name + ".position", SpscRing.consumerPositionRegionSize());
        MemorySegment rw = ring.mapReadWrite();
        SpscRing.format(rw, Rings.DATA_CAPACITY);
        MemorySegment pos = position.mapReadWrite();
        SpscRing.formatConsumerPosition(pos, Rings.DATA_CAPACITY);
        producer = SpscRing.attachProducer(rw, pos, name);
        consumer = SpscRing.attachConsumer(ring.mapReadOnly(), pos, name);
    }

    @Override
    public void close() {
        ring.close();
        position.close();
    }
}
