package io.sluice.ringbuffer;

import io.sluice.ringbuffer.ConsumerFault.Problem;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Random interleavings, on one thread, of a producer, consumers that come and go, consumers that
 * lie about their position in every way, and a host that hands the producer from one consumer
 * region to the next (hold, nextConsumerStart, followConsumer), sometimes handing it a region
 * behind the validated position by mistake. Throughout: the producer never throws; each lie is
 * reported at most once, for the region that told it, as the problem it is; no consumer ever
 * reads a torn or overwritten message; the next consumer starts exactly where an honest one left
 * and never after a committed message nobody has received; and once the host follows a sound
 * region the producer gets room again and everything committed is delivered.
 */
class SpscConsumerFaultRandomTest {
    private static final long[] CAPACITIES = {64, 128, 256, 1024};

    @Test
    void randomLiesAndHandOversNeitherStopTheProducerNorLoseACommittedMessage() {
        long seed = new SplittableRandom().nextLong();
        SplittableRandom random = new SplittableRandom(seed);
        Set<Problem> reported = EnumSet.noneOf(Problem.class);
        try {
            for (int round = 0; round < 200; round++) {
                Round r = new Round(random.split(), CAPACITIES[random.nextInt(CAPACITIES.length)]);
                r.run(200);
                r.faults.forEach(f -> reported.add(f.problem()));
            }
            assertEquals(EnumSet.allOf(Problem.class), reported, "every kind of lie was told and caught");
        } catch (AssertionError | RuntimeException e) {
            throw new AssertionError("seed " + seed + ": " + e, e);
        }
    }

    private static final class Round {
        final SplittableRandom random;
        final long capacity;
        final SpscTestRing ring;
        final SpscProducer producer;
        final int max;
        final List<ConsumerFault> faults = new ArrayList<>();

        // Every record the producer committed (padding too): start -> where the next record starts
        // (its end, or the next line after a record ending in the last 16 bytes of one: no record
        // starts in that gap either), and start -> message number.
        final TreeMap<Long, Long> records = new TreeMap<>();
        final TreeMap<Long, Long> messages = new TreeMap<>();
        long sent;
        long deliveredUpTo;      // every message below this was delivered to some consumer

        // The followed region, its generation, and the consumer writing it (null: none attached).
        MemorySegment region;
        long generation;
        SpscConsumer consumer;
        long expected;           // the message number the consumer delivers next
        boolean lying;           // the region holds a lie (the consumer stopped reading)
        final Map<Long, Set<Problem>> lies = new HashMap<>();

        Round(SplittableRandom random, long capacity) {
            this.random = random;
            this.capacity = capacity;
            this.ring = SpscTestRing.onHeap(capacity);
            this.producer = ring.producer;
            this.max = producer.maxMessageLength();
            producer.onConsumerFault(faults::add);
            region = ring.position;
            consumer = ring.consumer;
        }

        void run(int steps) {
            for (int step = 0; step < steps; step++) {
                int action = random.nextInt(100);
                if (action < 45) {
                    produce(1 + random.nextInt(6));
                } else if (action < 80) {
                    if (consumer != null && !lying) {
                        poll(1 + random.nextInt(4));
                    }
                } else if (action < 90) {
                    if (region != null && !lying) {
                        lie();
                    }
                } else {
                    handOver(random.nextInt(8) == 0);
                }
                checkFaults();
            }
            // The host moves on to a sound consumer: the producer gets room, nothing is lost.
            handOver(false);
            drainAll();
            produce(3);
            drainAll();
            assertTrue(sent > 0);
            assertEquals(sent, deliveredUpTo, "every committed message was delivered");
            checkFaults();
        }

        void produce(int count) {
            for (int i = 0; i < count; i++) {
                int length = random.nextInt(max + 1);
                byte[] payload = SpscRingTest.pattern(sent, length);
                long before = producer.position();
                long at;
                if (random.nextInt(10) == 0) {
                    at = producer.tryClaim(1, length);           // a claim given up
                    if (at >= 0) {
                        producer.abort(at);
                    }
                    if (producer.position() != before) {
                        records.put(before, producer.position()); // the padding the claim wrote stays
                    }
                    continue;
                }
                boolean offered = random.nextBoolean()
                        ? producer.offer((int) sent + 1, MemorySegment.ofArray(payload), 0, length)
                        : SpscRingTest.publish(producer, (int) sent + 1, payload) >= 0;
                if (!offered) {
                    assertEquals(before, producer.position(), "a refused claim writes nothing");
                    return;
                }
                long end = producer.position();
                int recordLength = SpscRecordDescriptor.recordLength(length);
                // Here if it fits before the end of the data area, else after padding to the next lap.
                long start = (before & (capacity - 1)) + recordLength <= capacity ? before : (before | (capacity - 1)) + 1;
                long next = SpscRecordDescriptor.nextRecordStart(start + recordLength);
                if (start != before) {
                    records.put(before, start);                  // padding to the end of the lap
                }
                records.put(start, next);
                if (end != next) {
                    // The commit padded to the end of the lap, as a record as long would not fit before it.
                    assertEquals((next | (capacity - 1)) + 1, end, "the next record's start: the next lap");
                    assertTrue(end - next < next - start, "padded at the commit, though " + (end - next)
                            + " bytes are left for a record spanning " + (next - start));
                    records.put(next, end);
                }
                messages.put(start, sent);
                sent++;
            }
        }

        void poll(int limit) {
            consumer.poll((type, payload) -> {
                assertEquals(expected + 1, type, "in order, nothing skipped");
                assertArrayEquals(SpscRingTest.pattern(expected, (int) payload.byteSize()),
                        payload.toArray(ValueLayout.JAVA_BYTE), "message " + expected + " intact");
                expected++;
                deliveredUpTo = Math.max(deliveredUpTo, expected);
            }, limit);
        }

        void drainAll() {
            while (consumer.poll((type, payload) -> {
                assertEquals(expected + 1, type);
                expected++;
                deliveredUpTo = Math.max(deliveredUpTo, expected);
            }, 100) > 0) {
                // keep going
            }
        }

        /** The consumer publishes an impossible position, one the producer can never come to accept. */
        void lie() {
            long validated = producer.validatedPosition();
            long tail = producer.position();
            long position;
            Set<Problem> problems;
            switch (random.nextInt(5)) {
                case 0 -> { // past anything the producer can reach before it finds out
                    position = tail + capacity + 8 * (1 + random.nextInt(100));
                    problems = EnumSet.of(Problem.BEYOND_PRODUCER);
                }
                case 1 -> {
                    position = random.nextBoolean() ? -8L * (1 + random.nextInt(100)) : Long.MIN_VALUE + 8 * random.nextInt(4);
                    problems = EnumSet.of(Problem.NEGATIVE);
                }
                case 2 -> {
                    position = validated + 8L * random.nextInt(50) + 1 + random.nextInt(7);
                    problems = EnumSet.of(Problem.UNALIGNED);
                }
                case 3 -> {
                    if (validated == 0) {
                        return;
                    }
                    position = 8 * random.nextLong(validated / 8);
                    // Before the producer read this region at all, going back is behind on adoption.
                    problems = EnumSet.of(Problem.REWOUND, Problem.BEHIND_ON_ADOPTION);
                }
                default -> {
                    var inside = new ArrayList<>(records.subMap(validated, true, tail, false).entrySet());
                    if (inside.isEmpty()) {
                        return;
                    }
                    var record = inside.get(random.nextInt(inside.size()));
                    long span = record.getValue() - record.getKey();
                    position = record.getKey() + 8 * (1 + random.nextLong(span / 8 - 1));
                    problems = EnumSet.of(Problem.INSIDE_RECORD);
                }
            }
            region.set(ValueLayout.JAVA_LONG_UNALIGNED, SpscConsumerPositionDescriptor.POSITION_OFFSET, position);
            lying = true;
            lies.put(generation, problems);
        }

        /** The consumer leaves (or the host detaches it); a new one starts where it must. */
        void handOver(boolean hostMistake) {
            producer.hold();
            long departed = SpscConsumerPositionDescriptor.position(region);
            long validated = producer.validatedPosition();
            long start = producer.nextConsumerStart(departed);
            if (lying) {
                assertEquals(validated, start, "after a lie the next consumer starts at the validated position");
            } else if (consumer != null) {
                assertEquals(departed, start, "an honest consumer's successor starts exactly where it stopped");
                assertEquals(expected, firstMessageAtOrAfter(start), "nothing read twice, nothing skipped");
            }
            assertTrue(firstMessageAtOrAfter(start) <= deliveredUpTo, "no committed message is skipped");
            MemorySegment next = SpscTestRing.heap(SpscRing.consumerPositionRegionSize());
            SpscRing.formatConsumerPosition(next, capacity);
            if (hostMistake && validated > 0) {
                // A region behind the validated position: the producer must refuse it, not trust it.
                SpscConsumerPositionDescriptor.publishPosition(next, 8 * random.nextLong(validated / 8));
                generation = producer.followConsumer(next.asReadOnly());
                lies.put(generation, EnumSet.of(Problem.BEHIND_ON_ADOPTION));
                region = next;
                consumer = null;
                lying = true;
                return;
            }
            SpscConsumerPositionDescriptor.publishPosition(next, start);
            generation = producer.followConsumer(next.asReadOnly());
            region = next;
            consumer = SpscRing.attachConsumer(ring.region.asReadOnly(), next, "test");
            expected = firstMessageAtOrAfter(start);
            lying = false;
        }

        long firstMessageAtOrAfter(long position) {
            Map.Entry<Long, Long> e = messages.ceilingEntry(position);
            return e == null ? sent : e.getValue();
        }

        void checkFaults() {
            Set<Long> seen = new HashSet<>();
            for (ConsumerFault f : faults) {
                assertTrue(seen.add(f.registration()), "one report per region: " + faults);
                Set<Problem> expectedProblems = lies.get(f.registration());
                assertTrue(expectedProblems != null && expectedProblems.contains(f.problem()),
                        "region " + f.registration() + " told " + expectedProblems + ", reported " + f);
            }
        }
    }
}
