package io.sluice.ringbuffer;

import io.sluice.api.RingKind;
import io.sluice.ringbuffer.ConsumerFault.Problem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.LongStream;

import static io.sluice.ringbuffer.BroadcastTestSupport.drain;
import static io.sluice.ringbuffer.BroadcastTestSupport.heapPositionRegion;
import static io.sluice.ringbuffer.BroadcastTestSupport.heapRing;
import static io.sluice.ringbuffer.BroadcastTestSupport.send;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A backpressure consumer that publishes an impossible position neither stalls the producer nor
 * makes it overwrite the others' unread records silently: it stops gating the producer and is
 * reported once; an honest consumer, however slow, still gates it exactly as before.
 *
 * <p>Ring: capacity 1024, records of 48 bytes of payload (64 bytes each): 16 fill the ring.
 */
class BroadcastConsumerFaultTest {
    private final MemorySegment ring = heapRing(RingKind.BROADCAST_BACKPRESSURE, 1024, 100);
    private final BroadcastProducer producer = BroadcastRing.attachProducer(ring, "md");
    private final List<ConsumerFault> faults = new ArrayList<>();

    BroadcastConsumerFaultTest() {
        producer.onConsumerFault(faults::add);
    }

    private int fill() {
        int n = 0;
        while (n < 1000 && send(producer, producer.nextSequence(), 48)) {
            n++;
        }
        return n;
    }

    /** A position region registered with the producer, holding {@code position}, that no consumer object reads. */
    private MemorySegment liar;
    private long liarRegistration;

    private void registerLiarAt(long position) {
        liar = heapPositionRegion();
        BroadcastConsumerPositionDescriptor.format(liar, position);
        liarRegistration = producer.addConsumer(liar);
        producer.refreshConsumers();
    }

    private void liarPublishes(long position) {
        liar.set(ValueLayout.JAVA_LONG, BroadcastConsumerPositionDescriptor.POSITION_OFFSET, position);
    }

    private BroadcastConsumer honestConsumer() {
        BroadcastConsumer consumer = BroadcastRing.attachConsumer(ring, heapPositionRegion(), BroadcastStart.OLDEST, "md");
        consumer.registered(producer.addConsumer(consumer.positionRegion()));
        producer.refreshConsumers();
        assertTrue(consumer.isGated());
        return consumer;
    }

    enum Lie {
        BEYOND_THE_TAIL(Problem.BEYOND_PRODUCER, 1472 + 64),
        FAR_BEYOND(Problem.BEYOND_PRODUCER, Long.MAX_VALUE & -8L),
        NEGATIVE(Problem.NEGATIVE, -64),
        MOST_NEGATIVE(Problem.NEGATIVE, Long.MIN_VALUE),
        UNALIGNED(Problem.UNALIGNED, 100),
        ALL_ONES(Problem.UNALIGNED, Long.MAX_VALUE),
        REWOUND(Problem.REWOUND, 256);

        final Problem problem;
        final long position;

        Lie(Problem problem, long position) {
            this.problem = problem;
            this.position = position;
        }
    }

    /**
     * The liar "read" 8 records (publishing 512, which the producer saw), and the ring is full
     * again: tail 1472 (a capacity past 512, less the next record's header the claims mark).
     */
    private void liarAtFiveTwelveAndRingFull() {
        registerLiarAt(0);
        assertEquals(15, fill());
        assertEquals(0, fill(), "held by the liar at 0");
        liarPublishes(512);
        assertEquals(8, fill(), "the producer read 512");
        assertEquals(1472, producer.position());
        assertTrue(faults.isEmpty());
    }

    @ParameterizedTest
    @EnumSource(Lie.class)
    void eachLieReleasesTheProducerAndIsReportedOnce(Lie lie) {
        liarAtFiveTwelveAndRingFull();
        liarPublishes(lie.position);
        assertEquals(1000, fill(), "the liar gates nothing any more: with nobody else, the producer runs free");
        assertEquals(1, faults.size(), faults.toString());
        ConsumerFault fault = faults.getFirst();
        assertEquals(liarRegistration, fault.registration());
        assertEquals(lie.problem, fault.problem());
        assertEquals(lie.position, fault.position());
        assertEquals(1472, fault.producerPosition());
        assertEquals(512, fault.validatedPosition(), "the last position read from it");
        assertTrue(fault.reason().startsWith("broadcast ring 'md': consumer " + liarRegistration + " position "
                + lie.position + " is "), fault.reason());
        assertSame(fault, producer.latestFault());

        liarPublishes(1472);
        assertEquals(1000, fill());
        assertEquals(1, faults.size(), "reported once; its region is not read any more");
        assertTrue(producer.removeConsumer(liarRegistration), "the host removes it as for a dead consumer");
        assertEquals(1000, fill());
    }

    @Test
    void aLiarNextToAnHonestSlowConsumerLeavesTheHonestOneInCharge() {
        BroadcastConsumer honest = honestConsumer();
        registerLiarAt(0);
        assertEquals(15, fill());
        liarPublishes(1 << 20);
        assertEquals(0, fill(), "the honest consumer has read nothing: the producer must still wait");
        assertEquals(1, faults.size());
        assertEquals(Problem.BEYOND_PRODUCER, faults.getFirst().problem());
        assertEquals(1, honest.poll((t, p) -> { }, 1));
        assertEquals(1, fill(), "one record read, one record of room, exactly as without the liar");
        assertEquals(LongStream.range(1, 16).boxed().toList(), drain(honest));
        assertEquals(0, honest.lapCount(), "nothing the honest consumer had not read was overwritten");
        assertEquals(15, fill());
        assertEquals(1, faults.size());
    }

    @Test
    void theFirstReadMayBeFarBehindButLaterOnesMayNotGoBack() {
        // A region registered at 0 after the producer ran ahead (a lapped joiner): not a fault.
        assertEquals(50, send50());
        registerLiarAt(0);
        assertEquals(0, fill(), "a position far behind on the first read holds the producer");
        assertTrue(faults.isEmpty());
        liarPublishes(producer.position());
        assertEquals(15, fill());
        liarPublishes(producer.position() - 1024 - 64);
        assertEquals(1000, fill(), "going back after the first read is a lie: it gates nothing any more");
        assertEquals(Problem.REWOUND, faults.getFirst().problem());
    }

    private int send50() {
        for (int i = 0; i < 50; i++) {
            assertTrue(send(producer, producer.nextSequence(), 48));
        }
        return 50;
    }

    @Test
    void theLastPositionReadIsKeptAcrossAdoptionsOfNewSets() {
        liarAtFiveTwelveAndRingFull();
        BroadcastConsumer other = honestConsumer();                // a new set adopted: the liar's 512 is kept
        producer.removeConsumer(producer.addConsumer(formatted(1472)));
        producer.refreshConsumers();
        liarPublishes(256);
        drain(other);
        fill();
        assertEquals(1, faults.size(), faults.toString());
        assertEquals(Problem.REWOUND, faults.getFirst().problem());
        assertEquals(512, faults.getFirst().validatedPosition());
    }

    private static MemorySegment formatted(long position) {
        MemorySegment region = heapPositionRegion();
        BroadcastConsumerPositionDescriptor.format(region, position);
        return region;
    }

    @Test
    void aNewRegistrationOfTheSameRegionStartsAfresh() {
        liarAtFiveTwelveAndRingFull();
        liarPublishes(-8);
        fill();
        assertEquals(1, faults.size());
        producer.removeConsumer(liarRegistration);
        liarPublishes(producer.position());
        long again = producer.addConsumer(liar);
        producer.refreshConsumers();
        assertEquals(15, fill(), "registered again, honest now: it gates");
        assertEquals(0, fill());
        assertEquals(1, faults.size());
        liarPublishes(7);
        fill();
        assertEquals(2, faults.size());
        assertEquals(again, faults.get(1).registration());
    }

    @Test
    void aListenerThatThrowsDoesNotReachTheProducer() {
        producer.onConsumerFault(f -> {
            throw new IllegalStateException("listener trouble");
        });
        liarAtFiveTwelveAndRingFull();
        liarPublishes(3);
        assertEquals(1000, fill());
        assertEquals(Problem.UNALIGNED, producer.latestFault().problem());
    }

    @Test
    void anHonestConsumerIsNeverReported() {
        producer.onConsumerFault(null);
        BroadcastConsumer a = honestConsumer();
        BroadcastConsumer b = honestConsumer();
        for (int round = 0; round < 20; round++) {
            fill();
            drain(a);
            b.poll((t, p) -> { }, 1 + round % 5);
        }
        drain(b);
        fill();
        assertNull(producer.latestFault());
    }
}
