package io.sluice.ringbuffer;

import io.sluice.api.MessageProducer;
import io.sluice.api.RingKind;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static io.sluice.ringbuffer.BroadcastTestSupport.TYPE;
import static io.sluice.ringbuffer.BroadcastTestSupport.heapPositionRegion;
import static io.sluice.ringbuffer.BroadcastTestSupport.heapRing;
import static io.sluice.ringbuffer.BroadcastTestSupport.send;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What every producer counts ({@link ProducerCounters}) and what consumers publish in their
 * position regions, against known workloads: exact.
 */
class RingCountersTest {
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED;

    /** Commits {@code n}, aborts {@code a}, then claims until refused and {@code r - 1} more times. */
    private static void workload(MessageProducer p, int n, int a, int r) {
        for (int i = 0; i < n; i++) {
            assertTrue(send(p, i, 8));
        }
        for (int i = 0; i < a; i++) {
            p.abort(p.tryClaim(TYPE, 8));
        }
        int refused = 0;
        long seq = n;
        while (refused < r) {
            if (send(p, seq, 8)) {
                seq++;
            } else {
                refused++;
            }
        }
    }

    @Test
    void spscCountsCommitsAbortsRefusalsAndTheStall() {
        try (SpscTestRing ring = SpscTestRing.onHeap(1024)) {
            SpscProducer p = ring.producer;
            workload(p, 10, 3, 4);
            ProducerCounters c = p.counters();
            long committed = c.committed();
            assertTrue(committed >= 10);
            assertEquals(3, c.aborted());
            assertEquals(4, c.refusedClaims());
            long since = c.stallingSince();
            assertTrue(since != ProducerCounters.NOT_STALLED, "held back now");
            assertTrue(c.stalledNanos(since + 5) >= 5);
            assertEquals(p.position(), p.publishedPosition(), "the header holds the position after the last commit");

            int read = ring.consumer.poll((t, m) -> { }, 7);
            assertEquals(7, read);
            assertEquals(7, ring.position.get(U64, SpscConsumerPositionDescriptor.MESSAGES_CONSUMED_OFFSET));
            assertEquals(7, ring.consumer.messagesConsumed());
            assertTrue(send(p, 999, 8), "room again");
            assertEquals(committed + 1, c.committed());
            assertEquals(ProducerCounters.NOT_STALLED, c.stallingSince(), "the commit closed the stall");
            long total = c.stalledNanos(System.nanoTime());
            assertTrue(total > 0);
            assertEquals(total, c.stalledNanos(System.nanoTime() + 1_000_000_000L), "a closed stall grows no more");
        }
    }

    @Test
    void broadcastCountsAndTheConsumerPublishesItsLapsAndLosses() {
        MemorySegment ring = heapRing(RingKind.BROADCAST_OVERWRITE, 1024, 64);
        BroadcastProducer p = BroadcastRing.attachProducer(ring, "t");
        MemorySegment position = heapPositionRegion();
        BroadcastConsumer c = BroadcastRing.attachConsumer(ring, position, BroadcastStart.OLDEST, "t");
        for (int i = 0; i < 5; i++) {
            assertTrue(send(p, i, 8));
        }
        p.abort(p.tryClaim(TYPE, 8));
        assertEquals(5, c.poll((t, m) -> { }, 100));
        assertEquals(5, position.get(U64, BroadcastConsumerPositionDescriptor.DELIVERED_OFFSET));
        assertEquals(5, position.get(U64, BroadcastConsumerPositionDescriptor.NEXT_SEQUENCE_OFFSET));
        for (int i = 0; i < 200; i++) { // 24-byte records: 200 of them lap a 1 KiB ring several times
            assertTrue(send(p, p.nextSequence(), 8));
        }
        c.poll((t, m) -> { }, 1000);
        assertEquals(205, p.counters().committed());
        assertEquals(1, p.counters().aborted());
        assertEquals(0, p.counters().refusedClaims(), "an overwrite ring never refuses");
        assertEquals(1, position.get(U64, BroadcastConsumerPositionDescriptor.LAPS_OFFSET));
        long lost = position.get(U64, BroadcastConsumerPositionDescriptor.LOST_OFFSET);
        long delivered = position.get(U64, BroadcastConsumerPositionDescriptor.DELIVERED_OFFSET);
        assertEquals(c.lostMessages(), lost);
        assertEquals(205, delivered + lost, "every message delivered or counted lost");
        assertEquals(205, position.get(U64, BroadcastConsumerPositionDescriptor.NEXT_SEQUENCE_OFFSET));
        assertEquals(p.position(), p.publishedPosition());
        assertEquals(205, p.publishedNextSequence());
    }

    @Test
    void broadcastBackPressureRefusalsAreCounted() {
        MemorySegment ring = heapRing(RingKind.BROADCAST_BACKPRESSURE, 1024, 64);
        BroadcastProducer p = BroadcastRing.attachProducer(ring, "t");
        MemorySegment position = heapPositionRegion();
        BroadcastConsumer c = BroadcastRing.attachConsumer(ring, position, BroadcastStart.OLDEST, "t");
        c.registered(p.addConsumer(position.asReadOnly()));
        p.refreshConsumers();
        workload(p, 10, 2, 6);
        assertEquals(2, p.counters().aborted());
        assertEquals(6, p.counters().refusedClaims());
        assertEquals(p.nextSequence(), p.counters().committed());
    }

    @Test
    void mpmcCountsItsOwnClaims() {
        MemorySegment ring = MpmcTestRings.heapRing(8, 64, 4);
        MpmcProducer p = MpmcRing.attachProducer(ring, 1, "t");
        workload(p, 5, 1, 3);
        assertEquals(7, p.counters().committed(), "8 slots: 5, the aborted one (a slot until taken), 2 more until full");
        assertEquals(1, p.counters().aborted());
        assertEquals(3, p.counters().refusedClaims());
    }
}
