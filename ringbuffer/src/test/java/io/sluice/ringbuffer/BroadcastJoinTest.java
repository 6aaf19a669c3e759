package io.sluice.ringbuffer;

import io.sluice.api.RingKind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.stream.LongStream;

import static io.sluice.ringbuffer.BroadcastTestSupport.TYPE;
import static io.sluice.ringbuffer.BroadcastTestSupport.drain;
import static io.sluice.ringbuffer.BroadcastTestSupport.heapPositionRegion;
import static io.sluice.ringbuffer.BroadcastTestSupport.heapRing;
import static io.sluice.ringbuffer.BroadcastTestSupport.sendAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Late joiners choose to start at the newest message or at the oldest record still intact. */
class BroadcastJoinTest {

    private static List<Long> range(long from, long toExclusive) {
        return LongStream.range(from, toExclusive).boxed().toList();
    }

    private static BroadcastConsumer join(MemorySegment ring, BroadcastProducer producer, BroadcastStart start) {
        if (producer.kind() == RingKind.BROADCAST_OVERWRITE) {
            return BroadcastRing.attachConsumer(ring, null, start, null);
        }
        BroadcastConsumer consumer = BroadcastRing.attachConsumer(ring, heapPositionRegion(), start, "md");
        consumer.registered(producer.addConsumer(consumer.positionRegion()));
        producer.refreshConsumers();
        return consumer;
    }

    @ParameterizedTest
    @EnumSource(value = RingKind.class, names = {"BROADCAST_BACKPRESSURE", "BROADCAST_OVERWRITE"})
    void joinerAtNewestGetsTheLatestMessageThenWhatFollows(RingKind kind) {
        MemorySegment ring = heapRing(kind, 1024, 100);
        BroadcastProducer producer = BroadcastRing.attachProducer(ring, "md");
        sendAll(producer, 37, 40);                          // wraps twice when nobody gates
        BroadcastConsumer joiner = join(ring, producer, BroadcastStart.NEWEST);
        assertEquals(36, joiner.nextSequence());
        assertEquals(range(36, 37), drain(joiner));
        sendAll(producer, 3, 40);
        assertEquals(range(37, 40), drain(joiner));
        assertEquals(0, joiner.lapCount());
    }

    @ParameterizedTest
    @EnumSource(value = RingKind.class, names = {"BROADCAST_BACKPRESSURE", "BROADCAST_OVERWRITE"})
    void joinerAtOldestGetsEverythingStillIntact(RingKind kind) {
        MemorySegment ring = heapRing(kind, 1024, 100);
        BroadcastProducer producer = BroadcastRing.attachProducer(ring, "md");
        sendAll(producer, 40, 48);                          // 64-byte records: 25..39 intact (intent 2576)
        BroadcastConsumer joiner = join(ring, producer, BroadcastStart.OLDEST);
        assertEquals(25, joiner.nextSequence());
        assertEquals(range(25, 40), drain(joiner));
        assertEquals(0, joiner.lapCount());
        assertEquals(0, joiner.lostMessages());
    }

    @ParameterizedTest
    @EnumSource(value = RingKind.class, names = {"BROADCAST_BACKPRESSURE", "BROADCAST_OVERWRITE"})
    void joinersOfAnEmptyRingStartWithTheFirstMessage(RingKind kind) {
        for (BroadcastStart start : BroadcastStart.values()) {
            MemorySegment ring = heapRing(kind, 1024, 100);
            BroadcastProducer producer = BroadcastRing.attachProducer(ring, "md");
            BroadcastConsumer joiner = join(ring, producer, start);
            assertEquals(0, joiner.nextSequence());
            assertEquals(0, joiner.poll((t, p) -> { }, 10));
            sendAll(producer, 2, 10);
            assertEquals(range(0, 2), drain(joiner), start.toString());
        }
    }

    @Test
    void joinerAtNewestIsNotFooledByAnAbortedClaimAfterTheLatestMessage() {
        MemorySegment ring = heapRing(RingKind.BROADCAST_OVERWRITE, 1024, 100);
        BroadcastProducer producer = BroadcastRing.attachProducer(ring, "md");
        sendAll(producer, 5, 10);
        producer.abort(producer.tryClaim(TYPE, 20));
        BroadcastConsumer joiner = BroadcastRing.attachConsumer(ring, null, BroadcastStart.NEWEST, null);
        assertEquals(range(4, 5), drain(joiner));
        sendAll(producer, 1, 10);
        assertEquals(range(5, 6), drain(joiner));
    }

    @Test
    void joinerAtNewestOfARingWithOnlyAbortedClaimsExpectsSequenceZero() {
        MemorySegment ring = heapRing(RingKind.BROADCAST_OVERWRITE, 1024, 100);
        BroadcastProducer producer = BroadcastRing.attachProducer(ring, "md");
        producer.abort(producer.tryClaim(TYPE, 20));
        producer.abort(producer.tryClaim(TYPE, 30));
        BroadcastConsumer joiner = BroadcastRing.attachConsumer(ring, null, BroadcastStart.NEWEST, null);
        assertEquals(producer.position(), joiner.position());
        assertEquals(0, joiner.nextSequence());
        sendAll(producer, 1, 10);
        assertEquals(range(0, 1), drain(joiner));
    }

    @Test
    void joinerAtTheTailThatIsLappedBeforeItsFirstPollCountsTheLossExactly() {
        MemorySegment ring = heapRing(RingKind.BROADCAST_OVERWRITE, 1024, 100);
        BroadcastProducer producer = BroadcastRing.attachProducer(ring, "md");
        sendAll(producer, 3, 48);
        BroadcastConsumer joiner = BroadcastRing.attachConsumer(ring, null, BroadcastStart.NEWEST, null);
        drain(joiner);                                      // at the tail, 192, expecting 3
        assertEquals(3, joiner.nextSequence());
        sendAll(producer, 20, 48);                          // tail 1472, intent 1488: intact from 512, message 8
        assertEquals(range(8, 23), drain(joiner));
        assertEquals(5, joiner.lostMessages());
        assertEquals(320, joiner.lostBytes());
    }

    @Test
    void joinerWhoseHeadSitsInTheImplicitGapStartsAtTheNextLap() {
        MemorySegment ring = heapRing(RingKind.BROADCAST_OVERWRITE, 256, 96);
        BroadcastProducer producer = BroadcastRing.attachProducer(ring, "md");
        sendAll(producer, 5, 24);                           // 200
        sendAll(producer, 1, 32);                           // 248: 8 bytes left
        sendAll(producer, 1, 0);                            // gap [248, 256), record [256, 272)
        // Head reaches 248 once a claim overwrites [200, 248): 272 + 48 - 256 = 64 > ... push until then.
        while (ring.get(java.lang.foreign.ValueLayout.JAVA_LONG, BroadcastRingDescriptor.HEAD_OFFSET) != 248) {
            sendAll(producer, 1, 0);
            assertTrue(producer.position() < 1024, "head never sat in the gap");
        }
        BroadcastConsumer joiner = BroadcastRing.attachConsumer(ring, null, BroadcastStart.OLDEST, null);
        assertEquals(248, joiner.position());
        assertEquals(6, joiner.nextSequence());
        List<Long> seqs = drain(joiner);
        assertEquals(range(6, producer.nextSequence()), seqs);
    }
}
