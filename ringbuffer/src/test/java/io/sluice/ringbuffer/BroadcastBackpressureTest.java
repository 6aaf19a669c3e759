package io.sluice.ringbuffer;

import io.sluice.api.MessageProducer;
import io.sluice.api.RingKind;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.stream.LongStream;

import static io.sluice.ringbuffer.BroadcastTestSupport.TYPE;
import static io.sluice.ringbuffer.BroadcastTestSupport.drain;
import static io.sluice.ringbuffer.BroadcastTestSupport.heapPositionRegion;
import static io.sluice.ringbuffer.BroadcastTestSupport.heapRing;
import static io.sluice.ringbuffer.BroadcastTestSupport.send;
import static io.sluice.ringbuffer.BroadcastTestSupport.sendAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Backpressure rings: the producer never overtakes the slowest consumer it gates on. */
class BroadcastBackpressureTest {

    private final MemorySegment ring = heapRing(RingKind.BROADCAST_BACKPRESSURE, 1024, 100);
    private final BroadcastProducer producer = BroadcastRing.attachProducer(ring, "md");

    private static List<Long> range(long from, long toExclusive) {
        return LongStream.range(from, toExclusive).boxed().toList();
    }

    /** Attaches, registers and lets the producer adopt a consumer. */
    private BroadcastConsumer join(BroadcastStart start) {
        BroadcastConsumer consumer = BroadcastRing.attachConsumer(ring, heapPositionRegion(), start, "md");
        consumer.registered(producer.addConsumer(consumer.positionRegion()));
        producer.refreshConsumers();
        assertTrue(consumer.isGated());
        return consumer;
    }

    /** Sends 64-byte records until the producer refuses; returns how many went in. */
    private int fill() {
        int n = 0;
        while (n < 1000 && send(producer, producer.nextSequence(), 48)) {
            n++;
        }
        return n;
    }

    @Test
    void producerStopsAtTheSlowestConsumerAndResumesAsItMoves() {
        BroadcastConsumer fast = join(BroadcastStart.OLDEST);
        BroadcastConsumer slow = join(BroadcastStart.OLDEST);
        // One capacity of 64-byte records less one: a claim also marks the next record's header.
        assertEquals(15, fill());
        assertEquals(MessageProducer.INSUFFICIENT_CAPACITY, producer.tryClaim(TYPE, 48));
        assertEquals(range(0, 15), drain(fast));
        assertEquals(0, fill(), "the slow consumer has not moved");
        assertEquals(1, slow.poll((t, p) -> { }, 1));
        assertEquals(1, fill(), "one record read, one record of room");
        assertEquals(range(1, 16), drain(slow));
        assertEquals(range(15, 16), drain(fast));
        assertEquals(15, fill());
        assertEquals(0, fast.lapCount() + slow.lapCount());
    }

    @Test
    void producerWithoutConsumersRunsFree() {
        for (int i = 0; i < 1000; i++) {
            assertTrue(send(producer, i, 48));
        }
    }

    @Test
    void removingTheSlowestConsumerReleasesTheProducer() {
        BroadcastConsumer fast = join(BroadcastStart.OLDEST);
        BroadcastConsumer slow = BroadcastRing.attachConsumer(ring, heapPositionRegion(), BroadcastStart.OLDEST, "md");
        long slowRegistration = producer.addConsumer(slow.positionRegion());
        slow.registered(slowRegistration);
        assertEquals(15, fill());
        drain(fast);
        assertEquals(0, fill());
        assertTrue(producer.removeConsumer(slowRegistration));
        assertFalse(producer.removeConsumer(slowRegistration));
        assertEquals(15, fill(), "only the fast consumer gates now");
    }

    @Test
    void joinerIsNotServedUntilTheProducerAdoptsItsRegistration() {
        sendAll(producer, 5, 48);
        BroadcastConsumer joiner = BroadcastRing.attachConsumer(ring, heapPositionRegion(), BroadcastStart.OLDEST, "md");
        assertEquals(0, joiner.poll((t, p) -> { }, 10), "not registered");
        long registration = producer.addConsumer(joiner.positionRegion());
        joiner.registered(registration);
        assertFalse(joiner.isGated());
        assertEquals(0, joiner.poll((t, p) -> { }, 10), "registered but not adopted");
        assertEquals(0L, ring.get(ValueLayout.JAVA_LONG, BroadcastRingDescriptor.GATED_REGISTRATION_OFFSET));
        assertTrue(producer.refreshConsumers());
        assertFalse(producer.refreshConsumers(), "nothing changed since");
        assertEquals(registration, ring.get(ValueLayout.JAVA_LONG, BroadcastRingDescriptor.GATED_REGISTRATION_OFFSET));
        assertEquals(10, fill(), "the joiner at 0 is protected from adoption on");
        assertEquals(range(0, 15), drain(joiner));
        assertEquals(15, fill());
    }

    @Test
    void claimAdoptsPendingRegistrationsToo() {
        BroadcastConsumer joiner = BroadcastRing.attachConsumer(ring, heapPositionRegion(), BroadcastStart.NEWEST, "md");
        joiner.registered(producer.addConsumer(joiner.positionRegion()));
        assertTrue(send(producer, 0, 48));
        assertTrue(joiner.isGated());
        assertEquals(range(0, 1), drain(joiner));
    }

    @Test
    void joinerOverwrittenBeforeAdoptionIsToldItWasLappedAndThenReleasesTheProducer() {
        sendAll(producer, 10, 48);                                  // no consumer: runs free
        BroadcastConsumer joiner = BroadcastRing.attachConsumer(ring, heapPositionRegion(), BroadcastStart.OLDEST, "md");
        assertEquals(0, joiner.position());
        assertEquals(0, joiner.nextSequence());
        sendAll(producer, 30, 48);                                  // still not registered: overwrites its start
        joiner.registered(producer.addConsumer(joiner.positionRegion()));
        assertFalse(send(producer, 40, 48), "adopted a consumer a lap behind: the producer must stop");
        assertTrue(joiner.isGated());
        // Tail 2560, Tail Intent 2576 (the next header's mark): the oldest intact record is message
        // 25 at 1600, the first to start at or after 2576 - 1024.
        assertEquals(range(25, 40), drain(joiner));
        assertEquals(1, joiner.lapCount());
        assertEquals(25, joiner.lostMessages());
        assertEquals(1600, joiner.lostBytes());
        assertEquals(15, fill(), "caught up: a full ring of room");
        assertEquals(range(40, 55), drain(joiner));
        assertEquals(1, joiner.lapCount());
    }

    @Test
    void consumerRemovedWhileBehindFindsItselfLappedInsteadOfReadingGarbage() {
        BroadcastConsumer consumer = join(BroadcastStart.OLDEST);
        long registration = producer.addConsumer(heapPositionRegionFormatted());
        assertTrue(producer.removeConsumer(registration));
        assertEquals(15, fill());
        // The host removes this consumer (say it was thought dead): the producer runs on.
        assertTrue(producer.removeConsumer(1));
        sendAll(producer, 20, 48);
        assertEquals(range(20, 35), drain(consumer));
        assertEquals(20, consumer.lostMessages());
    }

    private static MemorySegment heapPositionRegionFormatted() {
        MemorySegment region = heapPositionRegion();
        BroadcastConsumerPositionDescriptor.format(region, 0);
        return region;
    }

    @Test
    void garbagePositionsReleaseTheProducerFromTheLiarButNotFromAnHonestConsumer() {
        MemorySegment liar = heapPositionRegionFormatted();
        long registration = producer.addConsumer(liar);
        BroadcastConsumer honest = join(BroadcastStart.OLDEST);
        // A position beyond the tail is a lie: the liar gates nothing any more, the honest
        // consumer still does, so nothing it has not read is overwritten.
        liar.set(ValueLayout.JAVA_LONG, BroadcastConsumerPositionDescriptor.POSITION_OFFSET, Long.MAX_VALUE & -8L);
        assertEquals(15, fill());
        assertEquals(registration, producer.latestFault().registration());
        assertEquals(range(0, 15), drain(honest));
        assertEquals(0, honest.lapCount());
        // Whatever the liar writes now is not read; the host removes it.
        liar.set(ValueLayout.JAVA_LONG, BroadcastConsumerPositionDescriptor.POSITION_OFFSET, Long.MIN_VALUE);
        assertEquals(15, fill());
        assertTrue(producer.removeConsumer(registration));
        assertEquals(range(15, 30), drain(honest));
        assertEquals(15, fill(), "only the honest consumer gates, as before");
    }

    @Test
    void registrationIsOnlyForBackpressureRings() {
        MemorySegment overwrite = heapRing(RingKind.BROADCAST_OVERWRITE, 1024, 100);
        BroadcastProducer p = BroadcastRing.attachProducer(overwrite, "md");
        assertThrows(IllegalStateException.class, () -> p.addConsumer(heapPositionRegionFormatted()));
        assertThrows(IllegalStateException.class, () -> p.removeConsumer(1));
        BroadcastConsumer c = BroadcastRing.attachConsumer(overwrite, null, BroadcastStart.OLDEST, null);
        assertThrows(IllegalStateException.class, () -> c.registered(1));
        assertThrows(IllegalArgumentException.class, () -> BroadcastRing.attachConsumer(ring, null, BroadcastStart.OLDEST, null),
                "a backpressure consumer needs a position region");
        BroadcastConsumer b = BroadcastRing.attachConsumer(ring, heapPositionRegion(), BroadcastStart.OLDEST, null);
        assertThrows(IllegalArgumentException.class, () -> b.registered(0));
        b.registered(5);
        assertThrows(IllegalStateException.class, () -> b.registered(6));
    }

    @Test
    void consumerPublishesItsPositionAfterEachPoll() {
        BroadcastConsumer consumer = join(BroadcastStart.OLDEST);
        MemorySegment region = consumer.positionRegion();
        sendAll(producer, 3, 48);
        assertEquals(0L, region.get(ValueLayout.JAVA_LONG, BroadcastConsumerPositionDescriptor.POSITION_OFFSET));
        assertEquals(2, consumer.poll((t, p) -> { }, 2));
        assertEquals(128L, region.get(ValueLayout.JAVA_LONG, BroadcastConsumerPositionDescriptor.POSITION_OFFSET));
        assertTrue(consumer.isStillValid(), "nothing overwrites a gated consumer");
    }
}
