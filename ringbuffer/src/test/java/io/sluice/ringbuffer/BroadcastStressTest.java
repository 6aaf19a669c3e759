package io.sluice.ringbuffer;

import io.sluice.api.RingKind;
import io.sluice.ringbuffer.BroadcastStressSupport.Memory;
import io.sluice.ringbuffer.BroadcastStressSupport.ProducerLoop;
import io.sluice.ringbuffer.BroadcastStressSupport.Regions;
import io.sluice.ringbuffer.BroadcastStressSupport.StreamChecker;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One producer, three consumers, two seconds of random message lengths (with aborts):
 * backpressure consumers see every message exactly once, in order; overwrite consumers see
 * messages in order, never twice, every gap exactly the loss they were told about, and never a
 * torn payload reported valid. On a heap segment and on a shared file mapping (producer writes
 * one mapping, consumers read another, read-only).
 */
class BroadcastStressTest {
    private static final long RUN_NANOS = TimeUnit.MILLISECONDS.toNanos(2000);
    private static final long CAPACITY = 4096;
    private static final int MAX = 200;

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of(RingKind.BROADCAST_BACKPRESSURE, Memory.HEAP),
                Arguments.of(RingKind.BROADCAST_BACKPRESSURE, Memory.SHARED_MAPPING),
                Arguments.of(RingKind.BROADCAST_OVERWRITE, Memory.HEAP),
                Arguments.of(RingKind.BROADCAST_OVERWRITE, Memory.SHARED_MAPPING));
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("cases")
    void oneProducerThreeConsumers(RingKind kind, Memory memory) throws Exception {
        final long seed = System.nanoTime();
        final boolean overwrite = kind == RingKind.BROADCAST_OVERWRITE;
        final Queue<Throwable> failures = BroadcastStressSupport.failures();
        try (Regions regions = new Regions(memory, kind, CAPACITY, MAX)) {
            BroadcastProducer producer = BroadcastRing.attachProducer(regions.producerRing, "stress");
            // Every consumer here is honest: the producer must never refuse one of their positions.
            producer.onConsumerFault(f -> failures.add(new AssertionError("honest consumer reported: " + f)));
            List<BroadcastConsumer> consumers = new ArrayList<>();
            List<StreamChecker> checkers = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                BroadcastConsumer consumer;
                if (overwrite) {
                    consumer = BroadcastRing.attachConsumer(regions.consumerRing, null, BroadcastStart.OLDEST, null);
                } else {
                    MemorySegment[] position = regions.positionRegion();
                    consumer = BroadcastRing.attachConsumer(regions.consumerRing, position[0], BroadcastStart.OLDEST, "stress");
                    consumer.registered(producer.addConsumer(position[1]));
                }
                consumers.add(consumer);
                // The third consumer is slow: lapped often (overwrite) or holding the producer back.
                checkers.add(new StreamChecker(consumer, "consumer " + i, overwrite, i == 2 ? 300 : 0));
            }
            producer.refreshConsumers();

            long start = System.nanoTime();
            ProducerLoop producerLoop = new ProducerLoop(producer, seed, start + RUN_NANOS, failures);
            long hardDeadline = start + RUN_NANOS + TimeUnit.SECONDS.toNanos(10);
            List<Thread> threads = new ArrayList<>();
            threads.add(new Thread(producerLoop, "producer"));
            for (int i = 0; i < 3; i++) {
                BroadcastConsumer consumer = consumers.get(i);
                StreamChecker checker = checkers.get(i);
                threads.add(new Thread(() -> BroadcastStressSupport.consumeToTheEnd(
                        consumer, checker, producerLoop, hardDeadline, failures), "consumer " + i));
            }
            threads.forEach(t -> t.setDaemon(true));
            threads.forEach(Thread::start);
            BroadcastStressSupport.joinAll(threads, 15_000);
            if (!failures.isEmpty()) {
                throw BroadcastStressSupport.failure(seed, failures);
            }

            long produced = producerLoop.produced.get();
            assertTrue(produced > 2_000, "seed " + seed + "L: only " + produced + " messages in " + RUN_NANOS / 1_000_000 + " ms");
            long laps = 0;
            for (int i = 0; i < 3; i++) {
                BroadcastConsumer c = consumers.get(i);
                StreamChecker k = checkers.get(i);
                String what = "seed " + seed + "L, consumer " + i;
                assertEquals(produced - 1, k.last, what + ": last message");
                assertEquals(c.lostMessages(), k.gaps, what + ": gaps against reported losses");
                assertEquals(produced, k.delivered + k.gaps, what + ": every message delivered or reported lost");
                if (!overwrite) {
                    assertEquals(produced, k.delivered, what);
                    assertEquals(0, c.lapCount(), what);
                }
                laps += c.lapCount();
            }
            long invalidated = checkers.stream().mapToLong(k -> k.invalidated).sum();
            System.out.printf("broadcast stress %s on %s: %d messages, %d laps, %d deliveries invalidated (seed %dL)%n",
                    kind, memory, produced, laps, invalidated, seed);
            if (overwrite) {
                assertTrue(laps > 0, "seed " + seed + "L: the slow consumer was never lapped; the test proves little");
            }
        }
    }
}
