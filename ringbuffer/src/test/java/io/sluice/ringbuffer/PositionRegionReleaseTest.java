package io.sluice.ringbuffer;

import io.sluice.api.RingKind;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A host may unmap a departed consumer's position region as soon as the producer says it is done
 * with it, and an idle producer says so without having to run: regions do not pile up while no
 * message is sent.
 */
class PositionRegionReleaseTest {

    @Test
    void anIdleSpscProducerIsDoneWithARegionAsSoonAsItIsHandedAway() {
        long capacity = 4096;
        MemorySegment ring = MemorySegment.ofArray(new long[(int) (SpscRing.regionSize(capacity) / 8)]);
        SpscRing.format(ring, capacity);
        MemorySegment first = MemorySegment.ofArray(new long[(int) (SpscRing.consumerPositionRegionSize() / 8)]);
        SpscRing.formatConsumerPosition(first, capacity);
        SpscProducer producer = SpscRing.attachProducer(ring, first, "idle");
        for (int consumer = 0; consumer < 100; consumer++) { // consumers come and go, no message is sent
            MemorySegment next = MemorySegment.ofArray(new long[(int) (SpscRing.consumerPositionRegionSize() / 8)]);
            SpscRing.formatConsumerPosition(next, capacity);
            long held = producer.hold();
            assertTrue(producer.isDoneWith(held), "after hold(): the departed region is free, consumer " + consumer);
            long generation = producer.followConsumer(next);
            assertTrue(producer.isDoneWith(generation));
            assertEquals(0, producer.adoptedGeneration(), "the producer never ran");
        }
    }

    @Test
    void anIdleBroadcastProducerIsDoneWithARemovedConsumersRegion() {
        MemorySegment ring = BroadcastTestSupport.heapRing(RingKind.BROADCAST_BACKPRESSURE, 4096, 256);
        BroadcastProducer producer = BroadcastRing.attachProducer(ring, "idle");
        for (int consumer = 0; consumer < 100; consumer++) {
            MemorySegment position = BroadcastTestSupport.heapPositionRegion();
            BroadcastConsumerPositionDescriptor.format(position, producer.position());
            long registration = producer.addConsumer(position);
            assertTrue(producer.removeConsumer(registration));
            assertTrue(producer.isDoneWith(producer.requestedRegistration()), "consumer " + consumer);
        }
        assertEquals(0, producer.adoptedRegistration(), "the producer never ran");
    }
}
