package io.sluice.ringbuffer;

import io.sluice.api.MessageHandler;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Several threads on one ring, for a bounded time, then a bounded drain; every committed message
 * must arrive exactly once, each consumer must see each producer's messages in order, payloads
 * intact, and no aborted or recovered claim may ever be delivered. Each runs on a heap segment
 * and on a file mapped twice MAP_SHARED (participants split across the two mappings, as two
 * processes would be).
 */
class MpmcStressTest {
    // A run lasts at least RUN_NANOS and until every producer has committed MIN_PER_PRODUCER
    // messages (and, with deaths, at least two of each died): an amount of work, not a time, so
    // a slow, shared CI machine only makes it longer. HARD_LIMIT_NANOS bounds a stuck run.
    private static final long RUN_NANOS = TimeUnit.MILLISECONDS.toNanos(2_000);
    private static final long MIN_PER_PRODUCER = 5_000;
    private static final long HARD_LIMIT_NANOS = TimeUnit.SECONDS.toNanos(60);
    private static final long DRAIN_NANOS = TimeUnit.SECONDS.toNanos(10);
    private static final long JOIN_MILLIS = 10_000;
    private static final int SLOT_COUNT = 64;
    private static final int SLOT_LENGTH = 128;
    private static final int MIN_LENGTH = 16; // seq (8) + length (4) + at least 4 pattern bytes
    private static final int MAX_PARTICIPANT_ID = 16;

    enum Backing { HEAP, SHARED_MAPPING }

    @ParameterizedTest
    @EnumSource(Backing.class)
    void twoProducersTwoConsumersDeliverEveryCommittedMessageOnceInPerProducerOrder(Backing backing) throws Exception {
        try (Rig rig = new Rig(backing)) {
            new Run(rig, 2, 2, false).execute();
        }
    }

    @ParameterizedTest
    @EnumSource(Backing.class)
    void oneProducerOneConsumerDeliverEveryCommittedMessageOnceInOrder(Backing backing) throws Exception {
        try (Rig rig = new Rig(backing)) {
            new Run(rig, 1, 1, false).execute();
        }
    }

    @ParameterizedTest
    @EnumSource(Backing.class)
    void deadProducersAndConsumersRecoveredMidRunCostOnlyTheMessagesTheyHeld(Backing backing) throws Exception {
        try (Rig rig = new Rig(backing)) {
            new Run(rig, 2, 2, true).execute();
        }
    }

    /** The ring under test: one segment twice (heap) or two mappings of one file. */
    private static final class Rig implements AutoCloseable {
        private final MemorySegment heap;
        private final MpmcTestRings.SharedMapping mapping;

        Rig(Backing backing) {
            if (backing == Backing.HEAP) {
                heap = MpmcTestRings.heapRing(SLOT_COUNT, SLOT_LENGTH, MAX_PARTICIPANT_ID);
                mapping = null;
            } else {
                heap = null;
                mapping = new MpmcTestRings.SharedMapping(SLOT_COUNT, SLOT_LENGTH, MAX_PARTICIPANT_ID);
            }
        }

        MemorySegment view(int index) {
            return heap != null ? heap : mapping.view(index);
        }

        @Override
        public void close() {
            if (mapping != null) {
                mapping.close();
            }
        }
    }

    private static byte pattern(long value, int producer, long index) {
        return (byte) (value * 31 + producer * 7 + index);
    }

    private static final class Run {
        private final Rig rig;
        private final int producers;
        private final int consumers;
        private final boolean withDeaths;
        private final long seed = System.nanoTime();
        private final long started = System.nanoTime();
        private final long deadline = started + RUN_NANOS;
        private final java.util.concurrent.atomic.AtomicLongArray progress; // [producer] commits so far
        private final AtomicReference<Throwable> failure = new AtomicReference<>();
        private final AtomicLong delivered = new AtomicLong();
        private final long[] committed;
        private final BitSet[][] seen;           // [consumer][producer], each written by its consumer only
        private final BitSet[] lost;              // [producer], taken by consumers that died; host thread only
        private volatile boolean consumersStop;
        private volatile int producerDeaths;   // written by the host thread only
        private volatile int consumerDeaths;   // written by the host thread only

        Run(Rig rig, int producers, int consumers, boolean withDeaths) {
            this.rig = rig;
            this.producers = producers;
            this.consumers = consumers;
            this.withDeaths = withDeaths;
            this.committed = new long[producers];
            this.progress = new java.util.concurrent.atomic.AtomicLongArray(producers);
            this.seen = new BitSet[consumers][producers];
            this.lost = new BitSet[producers];
            for (int p = 0; p < producers; p++) {
                lost[p] = new BitSet();
                for (int c = 0; c < consumers; c++) {
                    seen[c][p] = new BitSet();
                }
            }
        }

        private int producerId(int p) {
            return 1 + p;
        }

        private int consumerId(int c) {
            return 1 + producers + c;
        }

        private int doomedProducerId() {
            return 1 + producers + consumers;
        }

        private int doomedConsumerId() {
            return 2 + producers + consumers;
        }

        private void fail(Throwable t) {
            failure.compareAndSet(null, t);
        }

        private Thread start(String name, Runnable body) {
            Thread t = new Thread(() -> {
                try {
                    body.run();
                } catch (Throwable e) {
                    fail(e);
                }
            }, name);
            t.setDaemon(true);
            t.start();
            return t;
        }

        private void join(Thread t) throws InterruptedException {
            t.join(JOIN_MILLIS);
            if (t.isAlive()) {
                throw new AssertionError("seed " + seed + ": " + t.getName() + " still running after "
                        + JOIN_MILLIS + " ms");
            }
        }

        private boolean running() {
            if (failure.get() != null) {
                return false;
            }
            long now = System.nanoTime();
            if (now - started > HARD_LIMIT_NANOS) {
                return false; // the assertions below then say what was missing
            }
            return now < deadline || !enoughWork();
        }

        private boolean enoughWork() {
            for (int p = 0; p < producers; p++) {
                if (progress.get(p) < MIN_PER_PRODUCER) {
                    return false;
                }
            }
            return !withDeaths || (producerDeaths >= 2 && consumerDeaths >= 2);
        }

        void execute() throws Exception {
            List<Thread> producerThreads = new ArrayList<>();
            List<Thread> consumerThreads = new ArrayList<>();
            for (int c = 0; c < consumers; c++) {
                int index = c;
                consumerThreads.add(start("consumer-" + c, () -> consume(index)));
            }
            for (int p = 0; p < producers; p++) {
                int index = p;
                producerThreads.add(start("producer-" + p, () -> produce(index)));
            }
            if (withDeaths) {
                host();
            }
            for (Thread t : producerThreads) {
                join(t);
            }
            long total = 0;
            for (int p = 0; p < producers; p++) {
                total += committed[p] - lost[p].cardinality();
            }
            long drainDeadline = System.nanoTime() + DRAIN_NANOS;
            while (delivered.get() < total && failure.get() == null && System.nanoTime() < drainDeadline) {
                LockSupport.parkNanos(1_000_000);
            }
            consumersStop = true;
            for (Thread t : consumerThreads) {
                join(t);
            }
            if (failure.get() != null) {
                throw new AssertionError("seed " + seed + ": " + failure.get(), failure.get());
            }
            assertEquals(total, delivered.get(), "seed " + seed + ": delivered");
            for (int p = 0; p < producers; p++) {
                BitSet union = (BitSet) lost[p].clone();
                long sum = lost[p].cardinality();
                for (int c = 0; c < consumers; c++) {
                    union.or(seen[c][p]);
                    sum += seen[c][p].cardinality();
                }
                assertEquals(committed[p], sum, "seed " + seed + ": producer " + p + " deliveries incl. lost");
                assertEquals(committed[p], union.cardinality(), "seed " + seed + ": producer " + p + " duplicates");
                assertEquals(committed[p], union.nextClearBit(0), "seed " + seed + ": producer " + p + " gap");
                assertTrue(committed[p] >= MIN_PER_PRODUCER, "seed " + seed + ": producer " + p + " committed only " + committed[p]
                        + " in " + HARD_LIMIT_NANOS / 1_000_000_000 + " s");
            }
            long lostTotal = 0;
            for (BitSet l : lost) {
                lostTotal += l.cardinality();
            }
            System.out.printf("mpmc stress %dx%d%s on %s: %,d delivered, %d lost with %d dead consumers, %d dead producers' claims skipped (seed %d)%n",
                    producers, consumers, withDeaths ? " with deaths" : "", rig.heap != null ? "heap" : "shared mapping",
                    delivered.get(), lostTotal, consumerDeaths, producerDeaths, seed);
            if (withDeaths) {
                assertTrue(producerDeaths >= 2 && consumerDeaths >= 2, "seed " + seed + ": only " + producerDeaths
                        + " producer and " + consumerDeaths + " consumer deaths");
            }
        }

        private void produce(int p) {
            MemorySegment view = rig.view(p);
            MpmcProducer producer = MpmcRing.attachProducer(view, producerId(p), null);
            SplittableRandom random = new SplittableRandom(seed + p);
            int max = producer.maxMessageLength();
            long seq = 0;
            while (running()) {
                int length = random.nextInt(MIN_LENGTH, max + 1);
                long at = producer.tryClaim(producerId(p), length);
                if (at < 0) {
                    Thread.yield();
                    continue;
                }
                boolean abort = random.nextInt(32) == 0;
                long value = abort ? -1 : seq;
                MemorySegment buf = producer.buffer();
                buf.set(ValueLayout.JAVA_LONG_UNALIGNED, at, value);
                buf.set(ValueLayout.JAVA_INT_UNALIGNED, at + 8, length);
                for (int i = 12; i < length; i++) {
                    buf.set(ValueLayout.JAVA_BYTE, at + i, pattern(value, p, i));
                }
                if (abort) {
                    producer.abort(at);
                } else {
                    producer.commit(at);
                    seq++;
                    progress.lazySet(p, seq);
                }
            }
            committed[p] = seq; // read by the main thread after join
        }

        private void consume(int c) {
            MpmcConsumer consumer = MpmcRing.attachConsumer(rig.view(c + 1), consumerId(c), null);
            long[] last = new long[producers];
            java.util.Arrays.fill(last, -1);
            MessageHandler handler = (type, payload) -> {
                int p = type - 1;
                if (p < 0 || p >= producers) {
                    throw new AssertionError("consumer " + c + ": message of type " + type
                            + " (no live producer has it: a recovered claim delivered?)");
                }
                long value = check(p, payload);
                if (value <= last[p]) {
                    throw new AssertionError("consumer " + c + ": producer " + p + " message " + value
                            + " after " + last[p]);
                }
                last[p] = value;
                seen[c][p].set((int) value);
                delivered.incrementAndGet();
            };
            while (!consumersStop && failure.get() == null) {
                if (consumer.poll(handler, 32) == 0) {
                    Thread.yield();
                }
            }
        }

        private long check(int p, MemorySegment payload) {
            long value = payload.get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
            int length = payload.get(ValueLayout.JAVA_INT_UNALIGNED, 8);
            if (value < 0) {
                throw new AssertionError("producer " + p + ": an aborted message was delivered");
            }
            if (length != payload.byteSize()) {
                throw new AssertionError("producer " + p + " message " + value + ": length " + payload.byteSize()
                        + ", written " + length);
            }
            for (int i = 12; i < length; i++) {
                if (payload.get(ValueLayout.JAVA_BYTE, i) != pattern(value, p, i)) {
                    throw new AssertionError("producer " + p + " message " + value + ": byte " + i + " differs");
                }
            }
            return value;
        }

        /**
         * The host: while the others run, a participant dies holding a claim (after claiming, or
         * between its claim CAS and its tail CAS), and another dies holding a message; each is
         * recovered once known dead, and the ring must flow on.
         */
        private void host() throws InterruptedException {
            int cycle = 0;
            while (running()) {
                final int thisCycle = cycle++;
                boolean rawDeath = (thisCycle & 1) == 1;
                boolean[] claimed = new boolean[1];
                Thread doomedProducer = start("doomed-producer", () -> {
                    claimed[0] = rawDeath ? claimWithoutMovingTheTail() : claimAndDie();
                });
                join(doomedProducer); // known dead
                MpmcRecovery.Result r = MpmcRecovery.recover(rig.view(thisCycle), doomedProducerId());
                assertEquals(new MpmcRecovery.Result(claimed[0] ? 1 : 0, 0, 0), r, "seed " + seed + ": producer recovery");
                if (claimed[0]) {
                    producerDeaths++;
                }

                CountDownLatch holding = new CountDownLatch(1);
                CountDownLatch resume = new CountDownLatch(1);
                long[] taken = {-1, -1};
                AtomicReference<String> zombie = new AtomicReference<>("never took a message");
                Thread doomedConsumer = start("doomed-consumer", () -> {
                    MpmcConsumer consumer = MpmcRing.attachConsumer(rig.view(thisCycle + 1), doomedConsumerId(), null);
                    MessageHandler dying = (type, payload) -> {
                        taken[0] = type - 1;
                        taken[1] = check(type - 1, payload);
                        holding.countDown();
                        // "Dead" from here: it touches nothing until the test lets its poll return.
                        awaitQuietly(resume);
                    };
                    try {
                        while (consumer.poll(dying, 1) == 0 && running()) {
                            Thread.yield();
                        }
                        zombie.set(holding.getCount() == 0 ? "released a recovered slot" : "never took a message");
                    } catch (MpmcSlotLostException expected) {
                        zombie.set("fenced");
                    }
                });
                boolean tookOne = false;
                while (!tookOne && doomedConsumer.isAlive()) {
                    tookOne = holding.await(10, TimeUnit.MILLISECONDS);
                }
                if (tookOne) {
                    r = MpmcRecovery.recover(rig.view(thisCycle), doomedConsumerId());
                    assertEquals(new MpmcRecovery.Result(0, 1, 0), r, "seed " + seed + ": consumer recovery");
                    lost[(int) taken[0]].set((int) taken[1]);
                    consumerDeaths++;
                }
                resume.countDown();
                join(doomedConsumer);
                if (tookOne) {
                    assertEquals("fenced", zombie.get(), "seed " + seed + ": the recovered consumer's late release");
                }
            }
        }

        /** Claims a slot the normal way, writes half a message, and dies. */
        private boolean claimAndDie() {
            MpmcProducer producer = MpmcRing.attachProducer(rig.view(0), doomedProducerId(), null);
            while (running()) {
                long at = producer.tryClaim(doomedProducerId(), MIN_LENGTH);
                if (at >= 0) {
                    producer.buffer().set(ValueLayout.JAVA_LONG_UNALIGNED, at, -1L);
                    return true;
                }
                Thread.yield();
            }
            return false;
        }

        /** Does a producer's claim CAS by hand and dies before moving the tail. */
        private boolean claimWithoutMovingTheTail() {
            MemorySegment view = rig.view(1);
            VarHandle state = MpmcTestRings.STATE;
            int shift = MpmcTestRings.shift(view);
            while (running()) {
                long tail = MpmcTestRings.tail(view);
                long slot = MpmcTestRings.slotOffset(view, tail);
                long free = MpmcSlotDescriptor.word(tail, shift, MpmcSlotDescriptor.FREE, 0);
                long claimed = MpmcSlotDescriptor.word(tail, shift, MpmcSlotDescriptor.CLAIMED, doomedProducerId());
                if ((long) state.getAcquire(view, slot) == free && (boolean) state.compareAndSet(view, slot, free, claimed)) {
                    return true;
                }
                Thread.yield();
            }
            return false;
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            if (!latch.await(JOIN_MILLIS, TimeUnit.MILLISECONDS)) {
                throw new AssertionError("not resumed within " + JOIN_MILLIS + " ms");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
