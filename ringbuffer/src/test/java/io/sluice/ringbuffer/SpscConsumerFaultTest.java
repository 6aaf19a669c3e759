package io.sluice.ringbuffer;

import io.sluice.api.MessageProducer;
import io.sluice.ringbuffer.ConsumerFault.Problem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import static io.sluice.ringbuffer.SpscRingTest.drain;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A consumer that publishes an impossible position cannot stop the SPSC producer or the channel:
 * the producer refuses the position without throwing, keeps the room the last validated position
 * gave it, reports the fault once, and carries on as soon as the host hands it a sound region;
 * the host's hold / nextConsumerStart / followConsumer sequence loses nothing committed.
 *
 * <p>The ring: capacity 256 (messages up to 32 bytes), records of 16 bytes of payload (32 bytes
 * each, ending 0 or 32 bytes into a line, so no gap follows them), so record k starts at position
 * 32k. Message k has type k + 1 and payload pattern(k).
 */
class SpscConsumerFaultTest {
    private static final long CAPACITY = 256;
    private static final int PAYLOAD = 16;
    private static final int RECORD = 32;

    private final SpscTestRing ring = SpscTestRing.onHeap(CAPACITY);
    private final SpscProducer producer = ring.producer;
    private final List<ConsumerFault> faults = new ArrayList<>();
    private long sent;

    SpscConsumerFaultTest() {
        producer.onConsumerFault(faults::add);
    }

    private boolean send() {
        long at = SpscRingTest.publish(producer, (int) sent + 1, SpscRingTest.pattern(sent, PAYLOAD));
        if (at == MessageProducer.INSUFFICIENT_CAPACITY) {
            return false;
        }
        sent++;
        return true;
    }

    /** Sends until the producer finds no room; returns how many went in. */
    private int fill() {
        int n = 0;
        while (n < 100 && send()) {
            n++;
        }
        return n;
    }

    private void publish(MemorySegment positionRegion, long position) {
        positionRegion.set(ValueLayout.JAVA_LONG_UNALIGNED, SpscConsumerPositionDescriptor.POSITION_OFFSET,
                position);
    }

    private static MemorySegment positionRegionAt(long position) {
        MemorySegment region = SpscTestRing.heap(SpscRing.consumerPositionRegionSize());
        SpscRing.formatConsumerPosition(region, CAPACITY);
        SpscConsumerPositionDescriptor.publishPosition(region, position);
        return region;
    }

    /** The types (message number + 1) a consumer drains, checking each payload. */
    private static List<Integer> types(SpscConsumer consumer) {
        List<Integer> types = new ArrayList<>();
        for (SpscRingTest.Message m : drain(consumer, 1000)) {
            assertArrayEquals(SpscRingTest.pattern(m.type() - 1, PAYLOAD), m.payload(), "message " + (m.type() - 1));
            types.add(m.type());
        }
        return types;
    }

    private static List<Integer> range(int fromType, int toTypeInclusive) {
        List<Integer> r = new ArrayList<>();
        for (int t = fromType; t <= toTypeInclusive; t++) {
            r.add(t);
        }
        return r;
    }

    /**
     * The consumer reads 3 messages (to 96) and the producer accepts that; then the ring is filled
     * again: messages 0..9 sent, 3..9 unread (96..320), the producer at 320, full.
     */
    private void consumerAtNinetySixAndRingFull() {
        assertEquals(7, fill());                              // 0..224 plus the next stamp slot: 7 records
        assertEquals(3, ring.consumer.poll((t, p) -> { }, 3));
        assertEquals(3, fill(), "the producer accepted 96");
        assertEquals(96, producer.validatedPosition());
        assertEquals(320, producer.position());
    }

    /** A lie a consumer can tell, and what the producer must call it. */
    enum Lie {
        BEYOND_THE_PRODUCER(Problem.BEYOND_PRODUCER, 320 + 32),
        FAR_BEYOND(Problem.BEYOND_PRODUCER, Long.MAX_VALUE & -8L),
        NEGATIVE(Problem.NEGATIVE, -8),
        MOST_NEGATIVE(Problem.NEGATIVE, Long.MIN_VALUE),
        UNALIGNED(Problem.UNALIGNED, 100),
        INSIDE_A_RECORD(Problem.INSIDE_RECORD, 128 + 16),
        REWOUND(Problem.REWOUND, 64),
        REWOUND_TO_ZERO(Problem.REWOUND, 0);

        final Problem problem;
        final long position;

        Lie(Problem problem, long position) {
            this.problem = problem;
            this.position = position;
        }
    }

    @ParameterizedTest
    @EnumSource(Lie.class)
    void aLyingConsumerIsReportedOnceAndTheProducerKeepsWorkingOnceTheHostMovesOn(Lie lie) {
        consumerAtNinetySixAndRingFull();
        publish(ring.position, lie.position);

        for (int i = 0; i < 5; i++) {
            assertEquals(MessageProducer.INSUFFICIENT_CAPACITY, producer.tryClaim(1, PAYLOAD),
                    "no throw, no room: as if the consumer had stalled");
        }
        assertEquals(1, faults.size(), "reported once: " + faults);
        ConsumerFault fault = faults.getFirst();
        assertEquals(lie.problem, fault.problem());
        assertEquals(lie.position, fault.position());
        assertEquals(320, fault.producerPosition());
        assertEquals(96, fault.validatedPosition());
        assertEquals(0, fault.registration(), "the region given at attach");
        assertTrue(fault.reason().startsWith("spsc ring 'test': consumer position " + lie.position), fault.reason());
        assertSame(fault, producer.latestFault());
        assertEquals(96, producer.validatedPosition(), "the lie was not accepted");

        // The region is not read any more: even an honest-looking value does not move the producer.
        publish(ring.position, 128);
        assertEquals(MessageProducer.INSUFFICIENT_CAPACITY, producer.tryClaim(1, PAYLOAD));
        assertEquals(1, faults.size());

        // The host detaches it: hold, decide the next start from what it last published, follow.
        producer.hold();
        long start = producer.nextConsumerStart(lie.position);
        assertEquals(96, start, "a lie is worth nothing: the next consumer starts at the validated position");
        MemorySegment next = positionRegionAt(start);
        producer.followConsumer(next);
        SpscConsumer successor = SpscRing.attachConsumer(ring.region.asReadOnly(), next, "test");
        assertEquals(range(4, 10), types(successor), "everything after the validated position, nothing lost");
        assertEquals(7, fill(), "claims succeed again: the whole ring is free");
        assertEquals(1, faults.size());
        assertEquals(range(11, 17), types(successor));
    }

    @Test
    void aRegionHandedOverBehindTheValidatedPositionIsThatRegionsFault() {
        consumerAtNinetySixAndRingFull();
        producer.hold();
        long generation = producer.followConsumer(positionRegionAt(32));   // a host mistake, or a liar's region
        assertEquals(MessageProducer.INSUFFICIENT_CAPACITY, producer.tryClaim(1, PAYLOAD));
        assertEquals(1, faults.size());
        ConsumerFault fault = faults.getFirst();
        assertEquals(Problem.BEHIND_ON_ADOPTION, fault.problem());
        assertEquals(generation, fault.registration());
        assertEquals(32, fault.position());
        assertEquals(96, fault.validatedPosition());
        assertTrue(fault.reason().contains("generation " + generation), fault.reason());
        assertEquals(generation, producer.adoptedGeneration(), "adopted (so the old region may go), then refused");

        producer.hold();
        MemorySegment next = positionRegionAt(producer.nextConsumerStart(32));
        producer.followConsumer(next);
        SpscConsumer successor = SpscRing.attachConsumer(ring.region.asReadOnly(), next, "test");
        assertEquals(range(4, 10), types(successor));
        assertEquals(7, fill());
        assertEquals(1, faults.size());
    }

    @Test
    void eachFollowedRegionIsReportedAtMostOnce() {
        consumerAtNinetySixAndRingFull();
        publish(ring.position, 7);
        producer.tryClaim(1, PAYLOAD);
        MemorySegment second = positionRegionAt(96);
        long generation = producer.followConsumer(second);
        producer.tryClaim(1, PAYLOAD);
        assertEquals(1, faults.size(), "the second region is sound");
        publish(second, 400);
        for (int i = 0; i < 3; i++) {
            producer.tryClaim(1, PAYLOAD);
        }
        assertEquals(2, faults.size());
        assertEquals(List.of(0L, generation), faults.stream().map(ConsumerFault::registration).toList());
        assertEquals(List.of(Problem.UNALIGNED, Problem.BEYOND_PRODUCER), faults.stream().map(ConsumerFault::problem).toList());
    }

    @Test
    void aListenerThatThrowsDoesNotReachTheProducer() {
        producer.onConsumerFault(f -> {
            throw new IllegalStateException("listener trouble");
        });
        consumerAtNinetySixAndRingFull();
        publish(ring.position, -16);
        assertEquals(MessageProducer.INSUFFICIENT_CAPACITY, producer.tryClaim(1, PAYLOAD));
        assertEquals(Problem.NEGATIVE, producer.latestFault().problem());
    }

    @Test
    void withoutAListenerTheFaultCanBePolled() {
        producer.onConsumerFault(null);
        assertNull(producer.latestFault());
        consumerAtNinetySixAndRingFull();
        publish(ring.position, 100);
        producer.tryClaim(1, PAYLOAD);
        assertEquals(Problem.UNALIGNED, producer.latestFault().problem());
    }

    /**
     * Messages 0..6 read (224), then a 32-byte message that pads 224..256 and lands at 256..304;
     * 304 is 48 bytes into its line, so the next record starts at 320.
     */
    private void paddedRecordAtTwoFiftySix() {
        assertEquals(7, fill());
        assertEquals(7, ring.consumer.poll((t, p) -> { }, 100));
        long at = SpscRingTest.publish(producer, 99, SpscRingTest.pattern(99, 32));
        assertEquals(16, at, "padded to the next lap");
        assertEquals(320, producer.position(), "after the gap to the next line");
        assertEquals(224, producer.validatedPosition());
    }

    @Test
    void positionsWhereRecordsStartAreAcceptedHoweverFarTheyJumpAndPaddingCounts() {
        paddedRecordAtTwoFiftySix();
        assertEquals(1, ring.consumer.poll((t, p) -> { }, 10), "the padding is skipped, the record read");
        assertEquals(320, ring.consumer.position());
        fill();
        assertEquals(320, producer.validatedPosition(), "accepted: padding 224..256, record 256..304, gap to 320");
        assertTrue(faults.isEmpty(), faults.toString());
    }

    @Test
    void theValidatedPositionFollowsAnHonestConsumer() {
        assertEquals(0, producer.validatedPosition());
        assertEquals(7, fill());
        assertEquals(2, ring.consumer.poll((t, p) -> { }, 2));
        assertEquals(2, fill());
        assertEquals(64, producer.validatedPosition());
        assertEquals(7, ring.consumer.poll((t, p) -> { }, 100));
        assertEquals(7, fill());
        assertEquals(288, producer.validatedPosition());
        assertTrue(faults.isEmpty());
    }

    @Test
    void afterHoldThePositionOfTheOldRegionIsNeverAcceptedAgain() {
        assertEquals(7, fill());
        long generation = producer.hold();
        assertEquals(7, ring.consumer.poll((t, p) -> { }, 100), "the departing consumer read everything");
        assertEquals(0, fill(), "held: the room stays what the validated position gave");
        assertEquals(0, producer.validatedPosition());
        assertEquals(generation, producer.adoptedGeneration(), "the hold was taken: the old region may be unmapped");
        // Its last position is sound, so the next consumer starts exactly there.
        long start = producer.nextConsumerStart(ring.consumer.position());
        assertEquals(224, start);
        MemorySegment next = positionRegionAt(start);
        producer.followConsumer(next);
        assertEquals(7, fill());
        assertEquals(224, producer.validatedPosition());
        SpscConsumer successor = SpscRing.attachConsumer(ring.region.asReadOnly(), next, "test");
        assertEquals(range(8, 14), types(successor), "nothing read twice, nothing skipped");
        assertTrue(faults.isEmpty());
    }

    @Test
    void nextConsumerStartReturnsTheDepartedPositionOnlyIfARecordStartsThereUpToTheTail() {
        consumerAtNinetySixAndRingFull();                     // validated 96, tail 320, records every 32
        assertThrows(IllegalStateException.class, () -> producer.nextConsumerStart(96), "only while holding");
        producer.hold();
        assertEquals(96, producer.nextConsumerStart(96));
        assertEquals(128, producer.nextConsumerStart(128));
        assertEquals(320, producer.nextConsumerStart(320), "the tail itself: everything was read");
        assertEquals(96, producer.nextConsumerStart(352), "beyond the tail");
        assertEquals(96, producer.nextConsumerStart(144), "inside a record");
        assertEquals(96, producer.nextConsumerStart(130), "unaligned");
        assertEquals(96, producer.nextConsumerStart(64), "behind the validated position");
        assertEquals(96, producer.nextConsumerStart(-8));
        assertEquals(96, producer.nextConsumerStart(Long.MAX_VALUE & -8L));
        producer.followConsumer(positionRegionAt(96));
        assertThrows(IllegalStateException.class, () -> producer.nextConsumerStart(96), "not holding any more");
        assertTrue(faults.isEmpty());
    }

    @Test
    void nextConsumerStartWalksOverPaddingAndSeesRecordsCommittedWhileHolding() {
        paddedRecordAtTwoFiftySix();
        assertTrue(send());
        assertTrue(send());                                   // 320..352, 352..384
        producer.hold();
        assertEquals(256, producer.nextConsumerStart(256), "just after the padding");
        assertEquals(224, producer.nextConsumerStart(240), "inside the padding");
        assertEquals(224, producer.nextConsumerStart(304), "in the gap after the record: no record starts there");
        assertEquals(320, producer.nextConsumerStart(320), "just after the gap");
        assertEquals(384, producer.nextConsumerStart(384), "the tail");
        assertTrue(send(), "room left below validated + capacity (480): the producer goes on while held");
        assertEquals(416, producer.nextConsumerStart(416), "a record committed while holding is seen");
        assertTrue(faults.isEmpty());
    }
}
