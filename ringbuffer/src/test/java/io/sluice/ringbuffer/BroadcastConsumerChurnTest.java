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
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Consumers join and leave while the producer runs: one consumer stays for the whole run, two
 * threads keep attaching new consumers (random start), reading a random number of messages and
 * detaching. Every consumer's stream is checked as in the stress test. On a backpressure ring a
 * joiner may lose messages only before its first delivery (it was overwritten before the producer
 * adopted it) and must have been told; the permanent consumer loses nothing; the producer keeps
 * going as consumers come and go.
 */
class BroadcastConsumerChurnTest {
    private static final long RUN_NANOS = TimeUnit.MILLISECONDS.toNanos(1500);

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of(RingKind.BROADCAST_BACKPRESSURE, Memory.HEAP),
                Arguments.of(RingKind.BROADCAST_BACKPRESSURE, Memory.SHARED_MAPPING),
                Arguments.of(RingKind.BROADCAST_OVERWRITE, Memory.HEAP),
                Arguments.of(RingKind.BROADCAST_OVERWRITE, Memory.SHARED_MAPPING));
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("cases")
    void consumersJoinAndLeaveWhileProducing(RingKind kind, Memory memory) throws Exception {
        final long seed = System.nanoTime();
        final boolean overwrite = kind == RingKind.BROADCAST_OVERWRITE;
        final Queue<Throwable> failures = BroadcastStressSupport.failures();
        try (Regions regions = new Regions(memory, kind, 4096, 200)) {
            BroadcastProducer producer = BroadcastRing.attachProducer(regions.producerRing, "churn");
            // Every consumer here is honest: the producer must never refuse one of their positions.
            producer.onConsumerFault(f -> failures.add(new AssertionError("honest consumer reported: " + f)));
            MemorySegment[] permanentPosition = regions.positionRegion();
            BroadcastConsumer permanent = BroadcastRing.attachConsumer(regions.consumerRing, overwrite ? null : permanentPosition[0], BroadcastStart.OLDEST, "churn");
            if (!overwrite) {
                permanent.registered(producer.addConsumer(permanentPosition[1]));
                producer.refreshConsumers();
            }
            StreamChecker permanentChecker = new StreamChecker(permanent, "permanent", overwrite, 0);

            long start = System.nanoTime();
            ProducerLoop producerLoop = new ProducerLoop(producer, seed, start + RUN_NANOS, failures);
            long hardDeadline = start + RUN_NANOS + TimeUnit.SECONDS.toNanos(10);
            AtomicLong joiners = new AtomicLong();
            AtomicLong joinerMessages = new AtomicLong();
            List<Thread> threads = new ArrayList<>();
            threads.add(new Thread(producerLoop, "producer"));
            threads.add(new Thread(() -> BroadcastStressSupport.consumeToTheEnd(
                    permanent, permanentChecker, producerLoop, hardDeadline, failures), "permanent"));
            for (int c = 0; c < 2; c++) {
                long churnSeed = seed + 1 + c;
                threads.add(new Thread(() -> churn(regions, producer, producerLoop, overwrite, churnSeed,
                        joiners, joinerMessages, failures), "churner " + c));
            }
            threads.forEach(t -> t.setDaemon(true));
            threads.forEach(Thread::start);
            BroadcastStressSupport.joinAll(threads, 15_000);
            if (!failures.isEmpty()) {
                throw BroadcastStressSupport.failure(seed, failures);
            }
            long produced = producerLoop.produced.get();
            System.out.printf("broadcast churn %s on %s: %d messages, %d joiners read %d messages (seed %dL)%n",
                    kind, memory, produced, joiners.get(), joinerMessages.get(), seed);
            String what = "seed " + seed + "L";
            assertTrue(produced > 2_000, what + ": only " + produced + " messages");
            assertTrue(joiners.get() >= 10, what + ": only " + joiners.get() + " joiners");
            assertEquals(produced - 1, permanentChecker.last, what);
            assertEquals(permanent.lostMessages(), permanentChecker.gaps, what);
            if (!overwrite) {
                assertEquals(produced, permanentChecker.delivered, what);
            }
        }
    }

    private static void churn(Regions regions, BroadcastProducer producer, ProducerLoop producerLoop, boolean overwrite,
                              long seed, AtomicLong joiners, AtomicLong joinerMessages, Queue<Throwable> failures) {
        SplittableRandom random = new SplittableRandom(seed);
        try {
            while (failures.isEmpty() && !producerLoop.done.get()) {
                BroadcastStart start = random.nextBoolean() ? BroadcastStart.OLDEST : BroadcastStart.NEWEST;
                MemorySegment[] position = regions.positionRegion();
                BroadcastConsumer consumer = BroadcastRing.attachConsumer(regions.consumerRing, overwrite ? null : position[0], start, "churn");
                long registration = 0;
                if (!overwrite) {
                    // Any thread may register: the host of a later issue does it for the joiner.
                    registration = producer.addConsumer(position[1]);
                    consumer.registered(registration);
                }
                String name = "joiner " + joiners.incrementAndGet() + " (" + start + ")";
                StreamChecker checker = new StreamChecker(consumer, name, true, 0);
                long want = random.nextLong(1, 2000);
                long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(100);
                while (checker.delivered < want && System.nanoTime() < deadline && failures.isEmpty()) {
                    if (consumer.poll(checker, 32) == 0) {
                        Thread.yield();
                    }
                }
                if (!overwrite) {
                    if (!producer.removeConsumer(registration)) {
                        throw new AssertionError(name + ": registration " + registration + " was not registered");
                    }
                    // Before its first delivery a joiner may find itself overwritten (registered
                    // while the producer was ahead); once gated it loses nothing.
                    boolean contiguous = checker.delivered == 0 || checker.last - checker.first + 1 == checker.delivered;
                    if (consumer.lapCount() > 1 || !contiguous || checker.invalidated > 0) {
                        throw new AssertionError(name + ": laps " + consumer.lapCount() + ", delivered "
                                + checker.delivered + " from " + checker.first + " to " + checker.last
                                + ", invalidated " + checker.invalidated);
                    }
                }
                joinerMessages.addAndGet(checker.delivered);
            }
        } catch (Throwable t) {
            failures.add(t);
        }
    }
}
