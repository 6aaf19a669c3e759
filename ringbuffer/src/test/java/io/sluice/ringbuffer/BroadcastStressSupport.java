package io.sluice.ringbuffer;

import io.sluice.api.MessageHandler;
import io.sluice.api.MessageProducer;
import io.sluice.api.RingKind;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static io.sluice.ringbuffer.BroadcastTestSupport.TYPE;
import static io.sluice.ringbuffer.BroadcastTestSupport.payloadMatches;
import static io.sluice.ringbuffer.BroadcastTestSupport.writePayload;

/** The threads and checks the multi-threaded broadcast tests share. */
final class BroadcastStressSupport {
    private BroadcastStressSupport() {
    }

    enum Memory { HEAP, SHARED_MAPPING }

    /** Where a test's ring and position regions live; closes mappings at the end. */
    static final class Regions implements AutoCloseable {
        private final Memory memory;
        private final List<BroadcastTestSupport.SharedMapping> mappings = new ArrayList<>();
        final MemorySegment producerRing;
        final MemorySegment consumerRing;

        Regions(Memory memory, RingKind kind, long capacity, int maxMessageLength) {
            this.memory = memory;
            if (memory == Memory.HEAP) {
                producerRing = BroadcastTestSupport.heapRing(kind, capacity, maxMessageLength);
                consumerRing = producerRing.asReadOnly();
            } else {
                BroadcastTestSupport.SharedMapping m = map("ring", BroadcastRingDescriptor.regionSize(capacity));
                BroadcastRingDescriptor.format(m.writable, kind, capacity, maxMessageLength);
                producerRing = m.writable;
                consumerRing = m.readOnly;
            }
        }

        private synchronized BroadcastTestSupport.SharedMapping map(String name, long size) {
            BroadcastTestSupport.SharedMapping m = new BroadcastTestSupport.SharedMapping(name, size);
            mappings.add(m);
            return m;
        }

        /** A consumer's position region: [0] writable for the consumer, [1] read-only for the producer. */
        MemorySegment[] positionRegion() {
            if (memory == Memory.HEAP) {
                MemorySegment region = BroadcastTestSupport.heapPositionRegion();
                return new MemorySegment[]{region, region.asReadOnly()};
            }
            BroadcastTestSupport.SharedMapping m = map("position", BroadcastConsumerPositionDescriptor.REGION_SIZE);
            return new MemorySegment[]{m.writable, m.readOnly};
        }

        @Override
        public synchronized void close() {
            mappings.forEach(BroadcastTestSupport.SharedMapping::close);
        }
    }

    /** Produces random-length messages until told to stop; then publishes how many it committed. */
    static final class ProducerLoop implements Runnable {
        private final BroadcastProducer producer;
        private final SplittableRandom random;
        private final long deadlineNanos;
        final AtomicBoolean done = new AtomicBoolean();
        final AtomicLong produced = new AtomicLong(-1);
        private final Queue<Throwable> failures;

        ProducerLoop(BroadcastProducer producer, long seed, long deadlineNanos, Queue<Throwable> failures) {
            this.producer = producer;
            this.random = new SplittableRandom(seed);
            this.deadlineNanos = deadlineNanos;
            this.failures = failures;
        }

        @Override
        public void run() {
            try {
                final int max = producer.maxMessageLength();
                int sinceCheck = 0;
                while (failures.isEmpty()) {
                    if (++sinceCheck == 64) {
                        sinceCheck = 0;
                        if (System.nanoTime() > deadlineNanos) {
                            break;
                        }
                    }
                    int length = random.nextInt(0, max + 1);
                    long at = producer.tryClaim(TYPE, length);
                    if (at == MessageProducer.INSUFFICIENT_CAPACITY) {
                        Thread.yield(); // 2 shared cores, 4+ threads: let a consumer run
                        continue;
                    }
                    if (random.nextInt(64) == 0) {
                        producer.buffer().asSlice(at, length).fill((byte) 0x5A);
                        producer.abort(at);
                        continue;
                    }
                    writePayload(producer.buffer(), at, producer.nextSequence(), length);
                    producer.commit(at);
                }
            } catch (Throwable t) {
                failures.add(t);
            } finally {
                produced.set(producer.nextSequence());
                done.set(true);
            }
        }
    }

    /**
     * Checks one consumer's stream: increasing sequences, every gap exactly the loss the consumer
     * reported through its lap listener, every payload that is still valid intact.
     */
    static final class StreamChecker implements MessageHandler, BroadcastLapListener {
        private final BroadcastConsumer consumer;
        private final String name;
        private final boolean lossAllowed;
        private final int slowness;
        long last = -1;
        long first = -1;
        long delivered;
        long gaps;
        long pendingLost;
        long invalidated;
        long sink;

        StreamChecker(BroadcastConsumer consumer, String name, boolean lossAllowed, int slowness) {
            this.consumer = consumer;
            this.name = name;
            this.lossAllowed = lossAllowed;
            this.slowness = slowness;
            consumer.lapListener(this);
            if (consumer.nextSequence() < 0) {
                throw new AssertionError(name + ": not anchored at attach");
            }
            last = consumer.nextSequence() - 1;
        }

        @Override
        public void onLapped(long lostMessages, long lostBytes) {
            if (lostMessages < 0 || lostBytes <= 0) {
                throw new AssertionError(name + ": lap of " + lostMessages + " messages, " + lostBytes + " bytes");
            }
            pendingLost += lostMessages;
        }

        @Override
        public void onMessage(int type, MemorySegment payload) {
            final long seq = consumer.sequence();
            final boolean intact = type == TYPE && payloadMatches(payload, seq);
            for (int i = 0; i < slowness; i++) {
                sink += i ^ seq; // a slow consumer, to be lapped or to hold the producer back
            }
            if (!consumer.isStillValid()) {
                invalidated++;
                if (!lossAllowed) {
                    throw new AssertionError(name + ": message " + seq + " overwritten while a gated consumer read it");
                }
            } else if (!intact) {
                throw new AssertionError(name + ": message " + seq + " reported valid but its payload is torn");
            }
            if (first < 0) {
                first = seq;
            }
            long gap = seq - last - 1;
            if (gap < 0) {
                throw new AssertionError(name + ": message " + seq + " after " + last + " (duplicate or out of order)");
            }
            if (gap != pendingLost) {
                throw new AssertionError(name + ": gap of " + gap + " before message " + seq
                        + " but the consumer reported " + pendingLost + " lost");
            }
            if (gap > 0 && !lossAllowed) {
                throw new AssertionError(name + ": lost " + gap + " messages before " + seq);
            }
            gaps += gap;
            pendingLost = 0;
            last = seq;
            delivered++;
        }
    }

    /** Polls until it has seen every produced message or the hard deadline passes. */
    static void consumeToTheEnd(BroadcastConsumer consumer, StreamChecker checker, ProducerLoop producer,
                                long hardDeadlineNanos, Queue<Throwable> failures) {
        try {
            while (failures.isEmpty()) {
                if (consumer.poll(checker, 64) == 0) {
                    if (producer.done.get() && consumer.nextSequence() == producer.produced.get()) {
                        return;
                    }
                    if (System.nanoTime() > hardDeadlineNanos) {
                        throw new AssertionError(checker.name + ": stuck at sequence " + consumer.nextSequence()
                                + " of " + producer.produced.get());
                    }
                    Thread.yield();
                }
            }
        } catch (Throwable t) {
            failures.add(t);
        }
    }

    static Queue<Throwable> failures() {
        return new ConcurrentLinkedQueue<>();
    }

    static void joinAll(List<Thread> threads, long timeoutMillis) throws InterruptedException {
        long end = System.currentTimeMillis() + timeoutMillis;
        for (Thread t : threads) {
            t.join(Math.max(1, end - System.currentTimeMillis()));
            if (t.isAlive()) {
                throw new AssertionError(t.getName() + " did not finish in time");
            }
        }
    }

    static AssertionError failure(long seed, Queue<Throwable> failures) {
        AssertionError e = new AssertionError("seed " + seed + "L: " + failures.peek(), failures.peek());
        failures.stream().skip(1).forEach(e::addSuppressed);
        return e;
    }
}
