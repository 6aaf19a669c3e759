package io.sluice.ringbuffer;

import io.sluice.api.RingKind;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayDeque;
import java.util.SplittableRandom;

import static io.sluice.ringbuffer.BroadcastTestSupport.TYPE;
import static io.sluice.ringbuffer.BroadcastTestSupport.heapRing;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Head the producer publishes is the first record start at or after Tail Intent - capacity,
 * whether the walk takes the spans the producer kept or reads the headers from the ring: after a
 * producer resumes a used ring (it kept nothing), and on a ring with more records per lap than it
 * keeps ({@link BroadcastSpans#MAX_SPANS}).
 */
class BroadcastHeadWalkTest {

    @Test
    void headIsTheFirstRecordStartPastTheIntentMinusCapacity() {
        final long seed = System.nanoTime();
        for (long capacity : new long[]{128, 512, 4096}) {
            run(seed + capacity, capacity, BroadcastRingDescriptor.maxMessageLengthLimit(capacity), 30_000, 7_919);
        }
    }

    @Test
    void headWalkReadsTheRingForRecordsTheProducerDidNotKeep() {
        // 16-byte records: 131,072 per lap of a 2 MiB ring, twice what the producer keeps.
        final long capacity = 2L << 20;
        final long records = capacity / BroadcastRecordDescriptor.HEADER_LENGTH;
        assertTrue(records > BroadcastSpans.MAX_SPANS);
        run(System.nanoTime(), capacity, 0, (int) (3 * records), (int) (records + records / 3));
    }

    /**
     * Claims {@code claims} records of random length up to {@code max} (a tenth aborted), re-attaching
     * the producer after {@code reattachAt} of them, and checks the ring's Head after every one.
     */
    private static void run(long seed, long capacity, int max, int claims, int reattachAt) {
        final String context = "seed " + seed + "L, capacity " + capacity;
        final SplittableRandom random = new SplittableRandom(seed);
        final MemorySegment ring = heapRing(RingKind.BROADCAST_OVERWRITE, capacity, max);
        BroadcastProducer producer = BroadcastRing.attachProducer(ring, "walk");
        // Every position a span starts at, oldest first: record starts, and every tail (where the
        // padding or the end-of-lap gap of the next claim, or its record, starts).
        final ArrayDeque<Long> starts = new ArrayDeque<>();
        starts.add(0L);
        for (int i = 0; i < claims; i++) {
            if (i == reattachAt) {
                producer = BroadcastRing.attachProducer(ring, "walk"); // resumes: keeps no span yet
            }
            final long tail = producer.position();
            final int length = max == 0 ? 0 : random.nextInt(0, max + 1);
            final long at = producer.tryClaim(TYPE, length);
            final long recordStart = (at - BroadcastRecordDescriptor.HEADER_LENGTH) >= (tail & (capacity - 1))
                    ? (tail & -capacity) + at - BroadcastRecordDescriptor.HEADER_LENGTH
                    : (tail & -capacity) + capacity;
            if (random.nextInt(10) == 0) {
                producer.abort(at);
            } else {
                producer.commit(at);
            }
            if (recordStart != tail) {
                starts.add(recordStart);
            }
            starts.add(producer.position());
            final long floor = ring.get(ValueLayout.JAVA_LONG, BroadcastRingDescriptor.TAIL_INTENT_OFFSET) - capacity;
            while (starts.size() > 1 && starts.peekFirst() < floor) {
                starts.removeFirst();
            }
            final long head = ring.get(ValueLayout.JAVA_LONG, BroadcastRingDescriptor.HEAD_OFFSET);
            if (head != starts.peekFirst()) {
                assertEquals(starts.peekFirst(), head, "head after claim " + i + " (" + context + ")");
            }
        }
    }
}
