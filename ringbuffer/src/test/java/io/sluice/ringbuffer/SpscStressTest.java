package io.sluice.ringbuffer;

import io.sluice.api.BackOffIdleStrategy;
import io.sluice.api.IdleStrategy;
import io.sluice.api.MessageProducer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One producer thread, one consumer thread, for a bounded time: every message arrives once, in
 * order, with its own type, length and bytes. On the heap, in a shared arena, and in a memfd
 * where producer and consumer use different mappings of the same pages.
 */
class SpscStressTest {
    private static final long RUN_NANOS = TimeUnit.SECONDS.toNanos(2);
    private static final long DRAIN_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(20);
    private static final long CAPACITY = 16 * 1024;

    @ParameterizedTest
    @EnumSource(SpscTestRing.Kind.class)
    void everyMessageArrivesOnceInOrderIntact(SpscTestRing.Kind kind) throws Exception {
        long seed = new SplittableRandom().nextLong();
        try (SpscTestRing ring = SpscTestRing.create(kind, CAPACITY)) {
            long messages = run(ring, seed);
            System.out.printf("SpscStressTest %s: %,d messages, %,d bytes of ring traffic, in %d s%n",
                    kind, messages, ring.producer.position(), TimeUnit.NANOSECONDS.toSeconds(RUN_NANOS));
        } catch (AssertionError | RuntimeException e) {
            throw new AssertionError(kind + ", seed " + seed + ": " + e.getMessage(), e);
        }
    }

    private static long run(SpscTestRing ring, long seed) throws InterruptedException {
        int max = ring.producer.maxMessageLength();
        AtomicReference<Throwable> producerFailure = new AtomicReference<>();
        long[] sent = {-1};
        Thread producerThread = Thread.ofPlatform().name("spsc-producer").start(() -> {
            try {
                sent[0] = produce(ring.producer, seed, max);
            } catch (Throwable t) {
                producerFailure.set(t);
            }
        });

        Verifier verifier = new Verifier(seed, max);
        IdleStrategy idle = new BackOffIdleStrategy(100, 10, 1_000, 100_000);
        long deadline = System.nanoTime() + RUN_NANOS + DRAIN_TIMEOUT_NANOS;
        while (true) {
            int n = ring.consumer.poll(verifier, 64);
            if (verifier.failure != null) {
                break;
            }
            if (n == 0 && !producerThread.isAlive()) {
                // the join below publishes sent[0]; one more poll picks up anything left
                producerThread.join();
                if (ring.consumer.poll(verifier, Integer.MAX_VALUE) == 0) {
                    break;
                }
            }
            if (System.nanoTime() - deadline > 0) {
                producerThread.interrupt();
                throw new AssertionError("timed out: received " + verifier.received + ", producer alive " + producerThread.isAlive());
            }
            idle.idle(n);
        }
        producerThread.join(TimeUnit.SECONDS.toMillis(10));
        if (producerFailure.get() != null) {
            throw new AssertionError("producer failed", producerFailure.get());
        }
        if (verifier.failure != null) {
            throw new AssertionError(verifier.failure);
        }
        assertTrue(sent[0] > 1000, "the producer got going (" + sent[0] + " messages)");
        assertEquals(sent[0], verifier.received, "no loss, no duplication");
        assertEquals(ring.producer.position(), ring.consumer.position());
        return sent[0];
    }

    private static long produce(SpscProducer producer, long seed, int max) {
        SplittableRandom lengths = new SplittableRandom(seed);
        IdleStrategy idle = new BackOffIdleStrategy(100, 10, 1_000, 100_000);
        long end = System.nanoTime() + RUN_NANOS;
        long seq = 0;
        while (System.nanoTime() - end < 0) {
            int length = SpscPayloads.length(lengths, max);
            long at;
            while ((at = producer.tryClaim(type(seq), length)) == MessageProducer.INSUFFICIENT_CAPACITY) {
                idle.idle();
                if (Thread.currentThread().isInterrupted()) {
                    return seq;
                }
            }
            idle.reset();
            SpscPayloads.fill(producer.buffer(), at, length, seq);
            producer.commit(at);
            seq++;
        }
        return seq;
    }

    static int type(long seq) {
        return 1 + (int) (seq % 1_000_003);
    }

    /** Checks each message against what the producer must have sent next. */
    private static final class Verifier implements io.sluice.api.MessageHandler {
        private final SplittableRandom lengths;
        private final int max;
        long received;
        String failure;

        Verifier(long seed, int max) {
            this.lengths = new SplittableRandom(seed);
            this.max = max;
        }

        @Override
        public void onMessage(int type, java.lang.foreign.MemorySegment payload) {
            if (failure != null) {
                return;
            }
            long seq = received++;
            int length = SpscPayloads.length(lengths, max);
            if (type != type(seq) || payload.byteSize() != length || !SpscPayloads.matches(payload, seq)) {
                failure = "message " + seq + ": type " + type + " (expected " + type(seq) + "), length "
                        + payload.byteSize() + " (expected " + length + "), contents "
                        + (SpscPayloads.matches(payload, seq) ? "ok" : "wrong") + ": lost, duplicated, reordered or torn";
            }
        }
    }
}
