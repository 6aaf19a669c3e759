package io.sluice.perf.jmh;

import io.sluice.memfd.MemfdRegion;
import io.sluice.ringbuffer.MpmcRing;

import java.lang.foreign.MemorySegment;

/**
 * The Sluice MPMC ring with one producer and one consumer: fixed slots of the smallest power of two
 * holding header and message, as many as fit the same data capacity as the byte rings. Compare with
 * Agrona's {@code ManyToOneRingBuffer} and JCTools' {@code MpmcArrayQueue} (which moves references,
 * not bytes).
 */
public class SluiceMpmcThroughput extends SluiceRingThroughput {
    @Override
    AutoCloseable open() {
        int slots = Rings.mpmcSlots(messageLength);
        int slotLength = Rings.DATA_CAPACITY / slots;
        MemfdRegion region = MemfdRegion.create("jmh.mpmc", MpmcRing.regionSize(slots, slotLength));
        MemorySegment rw = region.mapReadWrite();
        MpmcRing.format(rw, slots, slotLength, 4);
        producer = MpmcRing.attachProducer(rw, 1, "jmh");
        consumer = MpmcRing.attachConsumer(region.mapReadWrite(), 2, "jmh");
        return region;
    }
}
