package io.sluice.ringbuffer;

import io.sluice.api.RingKind;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.LongStream;

import static io.sluice.ringbuffer.BroadcastTestSupport.TYPE;
import static io.sluice.ringbuffer.BroadcastTestSupport.drain;
import static io.sluice.ringbuffer.BroadcastTestSupport.heapRing;
import static io.sluice.ringbuffer.BroadcastTestSupport.payloadMatches;
import static io.sluice.ringbuffer.BroadcastTestSupport.send;
import static io.sluice.ringbuffer.BroadcastTestSupport.sendAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Overwrite rings: a lapped consumer is told exactly what it lost and resumes at the oldest intact record. */
class BroadcastOverwriteLapTest {

    private static List<Long> range(long from, long toExclusive) {
        return LongStream.range(from, toExclusive).boxed().toList();
    }

    @Test
    void lappedConsumerResumesAtTheOldestIntactRecordWithExactCounts() {
        MemorySegment ring = heapRing(RingKind.BROADCAST_OVERWRITE, 1024, 100);
        BroadcastProducer producer = BroadcastRing.attachProducer(ring, "md");
        BroadcastConsumer consumer = BroadcastRing.attachConsumer(ring, null, BroadcastStart.OLDEST, null);
        List<long[]> laps = new ArrayList<>();
        consumer.lapListener((messages, bytes) -> laps.add(new long[]{messages, bytes}));

        sendAll(producer, 40, 48);                      // 64-byte records, 16 per lap of the ring
        // Tail 2560, Tail Intent 2576 (the claim marked the next record's header): records at
        // positions >= 2576 - 1024 = 1552 (message 25 on, at 1600) are intact.
        assertEquals(range(25, 40), drain(consumer));
        assertEquals(1, consumer.lapCount());
        assertEquals(25, consumer.lostMessages());
        assertEquals(25 * 64, consumer.lostBytes());
        assertEquals(1, laps.size());
        assertEquals(25, laps.getFirst()[0]);
        assertEquals(1600, laps.getFirst()[1]);

        sendAll(producer, 100, 48);                     // tail 8960, intent 8976: intact from 8000, message 125
        assertEquals(range(125, 140), drain(consumer));
        assertEquals(2, consumer.lapCount());
        assertEquals(25 + 85, consumer.lostMessages());
        assertEquals(1600 + 85 * 64, consumer.lostBytes());

        sendAll(producer, 15, 48);                      // a ring's worth less the next header: nothing lost
        assertEquals(range(140, 155), drain(consumer));
        assertEquals(2, consumer.lapCount());

        sendAll(producer, 16, 48);                      // one record more than fits: exactly one lost
        assertEquals(range(156, 171), drain(consumer));
        assertEquals(3, consumer.lapCount());
        assertEquals(25 + 85 + 1, consumer.lostMessages());
        assertEquals(1600 + 85 * 64 + 64, consumer.lostBytes());
    }

    @Test
    void lapThatOnlyOverwrotePaddingLosesNoMessages() {
        // Consumer stops right before a wrap padding; the producer overwrites only that padding.
        MemorySegment ring = heapRing(RingKind.BROADCAST_OVERWRITE, 256, 96);
        BroadcastProducer producer = BroadcastRing.attachProducer(ring, "md");
        BroadcastConsumer consumer = BroadcastRing.attachConsumer(ring, null, BroadcastStart.OLDEST, null);
        sendAll(producer, 5, 32);                       // 5 x 48 = 240
        assertEquals(range(0, 5), drain(consumer));
        sendAll(producer, 1, 48);                       // padding [240, 256) + message 5 at [256, 320)
        sendAll(producer, 2, 48);                       // [320, 448)
        sendAll(producer, 1, 32);                       // [448, 496): intent 512 overwrites [240, 256)
        // Consumer at 240 (the padding): lapped, resumes at the head 256 = message 5. Nothing lost.
        assertEquals(range(5, 9), drain(consumer));
        assertEquals(1, consumer.lapCount());
        assertEquals(0, consumer.lostMessages());
        assertEquals(16, consumer.lostBytes());
    }

    /**
     * Random record sizes, aborts and poll sizes against a model of the ring: after every poll the
     * delivered sequences, lap count, lost messages and lost bytes are exactly what the model says.
     */
    @Test
    void randomizedLapAccountingMatchesAModelOfTheRing() {
        long seed = System.nanoTime();
        try {
            runModel(seed);
        } catch (Throwable t) {
            throw new AssertionError("seed " + seed + "L: " + t.getMessage(), t);
        }
    }

    /** One record as the model sees it: start, span, the sequence it carries. */
    private record Rec(long start, long span, long seq, boolean message) {
    }

    private static void runModel(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        final long capacity = 512;
        final int max = BroadcastRingDescriptor.maxMessageLengthLimit(capacity);
        MemorySegment ring = heapRing(RingKind.BROADCAST_OVERWRITE, capacity, max);
        BroadcastProducer producer = BroadcastRing.attachProducer(ring, "model");
        BroadcastConsumer consumer = BroadcastRing.attachConsumer(ring, null, BroadcastStart.OLDEST, null);
        List<Rec> records = new ArrayList<>();
        long expectedLaps = 0;
        long expectedLostMessages = 0;
        long expectedLostBytes = 0;
        long modelCursor = 0;       // where the consumer is, in the model
        long modelNextSeq = 0;      // the next sequence the consumer expects
        for (int step = 0; step < 10_000; step++) {
            int burst = random.nextInt(0, 12);
            for (int i = 0; i < burst; i++) {
                int length = random.nextInt(0, max + 1);
                long tail = producer.position();
                long at = producer.tryClaim(TYPE, length);
                long span = BroadcastRecordDescriptor.span(length);
                long recordOffset = at - BroadcastRecordDescriptor.HEADER_LENGTH;
                long recordStart = recordOffset >= tail % capacity ? tail - tail % capacity + recordOffset
                        : tail - tail % capacity + capacity;       // wrapped: starts the next lap
                long gap = recordStart - tail;
                if (gap >= 16) {
                    records.add(new Rec(tail, gap, producer.nextSequence(), false));
                }
                if (random.nextInt(10) == 0) {
                    producer.abort(at);
                    records.add(new Rec(recordStart, span, producer.nextSequence(), false));
                } else {
                    BroadcastTestSupport.writePayload(producer.buffer(), at, producer.nextSequence(), length);
                    records.add(new Rec(recordStart, span, producer.nextSequence(), true));
                    producer.commit(at);
                }
                assertEquals(recordStart + span, producer.position());
            }
            // Model the consumer's poll of up to `limit` messages.
            long tail = producer.position();
            int limit = random.nextInt(1, 20);
            List<Long> expected = new ArrayList<>();
            long floor = BroadcastRecordDescriptor.reach(tail, capacity) - capacity;
            long cursor = modelCursor;
            if (cursor % capacity > capacity - 16 && cursor < tail) {
                cursor += capacity - cursor % capacity;  // the implicit gap is skipped before any check
            }
            if (cursor < floor) {
                Rec first = firstAtOrAfter(records, floor);
                expectedLaps++;
                expectedLostMessages += first.seq - modelNextSeq;
                expectedLostBytes += first.start - cursor;
                cursor = first.start;
                modelNextSeq = first.seq;
            }
            for (Rec r : records) {
                if (r.start < cursor) {
                    continue;
                }
                if (expected.size() == limit) {
                    break;
                }
                cursor = r.start + r.span;
                if (r.message) {
                    expected.add(r.seq);
                    modelNextSeq = r.seq + 1;
                }
            }
            if (expected.size() < limit) {
                cursor = Math.max(cursor, tail);
            }
            List<Long> got = new ArrayList<>();
            consumer.poll((type, payload) -> {
                assertTrue(payloadMatches(payload, consumer.sequence()));
                assertTrue(consumer.isStillValid());
                got.add(consumer.sequence());
            }, limit);
            assertEquals(expected, got, "step " + step);
            assertEquals(expectedLaps, consumer.lapCount(), "laps at step " + step);
            assertEquals(expectedLostMessages, consumer.lostMessages(), "lost messages at step " + step);
            assertEquals(expectedLostBytes, consumer.lostBytes(), "lost bytes at step " + step);
            modelCursor = consumer.position();
            records.removeIf(r -> r.start + r.span <= tail - 2 * capacity);
        }
        assertTrue(expectedLaps > 50, "the model should lap often: " + expectedLaps);
    }

    private static Rec firstAtOrAfter(List<Rec> records, long position) {
        for (Rec r : records) {
            if (r.start >= position) {
                return r;
            }
        }
        throw new AssertionError("no record at or after " + position);
    }

    @Test
    void producerNeverWaitsOnAnOverwriteRing() {
        MemorySegment ring = heapRing(RingKind.BROADCAST_OVERWRITE, 1024, 100);
        BroadcastProducer producer = BroadcastRing.attachProducer(ring, "md");
        BroadcastConsumer stalled = BroadcastRing.attachConsumer(ring, null, BroadcastStart.OLDEST, null);
        for (int i = 0; i < 10_000; i++) {
            assertTrue(send(producer, i, 100));
        }
        List<Long> seqs = drain(stalled);
        assertEquals(range(seqs.getFirst(), 10_000), seqs);
        assertTrue(seqs.size() >= 1024 / 120 - 1, "a ring's worth survives: " + seqs);
        assertEquals(seqs.getFirst(), stalled.lostMessages());
        assertEquals(1, stalled.lapCount());
    }
}
