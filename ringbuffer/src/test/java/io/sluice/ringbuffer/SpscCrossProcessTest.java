package io.sluice.ringbuffer;

import io.sluice.testing.ChildJvm;
import io.sluice.api.BackOffIdleStrategy;
import io.sluice.api.IdleStrategy;
import io.sluice.api.MessageProducer;
import io.sluice.memfd.MemfdRegion;
import io.sluice.memfd.Seal;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Producer in this JVM, consumer in another, over two memfds: the ring (this JVM writes, the
 * child maps it read-only) and the consumer's position region (the child writes, this JVM maps it
 * read-only). A million messages of random lengths; the checksums of what was sent and what was
 * received must match.
 */
class SpscCrossProcessTest {
    private static final long CAPACITY = 64 * 1024;
    private static final long MESSAGES = 1_000_000;
    private static final long TIMEOUT_SECONDS = 90;

    @Test
    void aMillionMessagesOfRandomLengthsArriveInAnotherProcessWithMatchingChecksums() throws Exception {
        long seed = new SplittableRandom().nextLong();
        long ringSize = SpscRing.regionSize(CAPACITY);
        long positionSize = SpscRing.consumerPositionRegionSize();
        try (MemfdRegion ringRegion = MemfdRegion.create("test.spsc.xproc.ring", ringSize);
             MemfdRegion positionRegion = MemfdRegion.create("test.spsc.xproc.position", positionSize)) {
            MemorySegment ring = ringRegion.mapReadWrite();
            SpscRing.format(ring, CAPACITY);
            ringRegion.addSeals(Seal.SHRINK, Seal.GROW);
            positionRegion.addSeals(Seal.SHRINK, Seal.GROW);

            try (ChildJvm child = ChildJvm.start(SpscCrossProcessConsumer.class,
                    Long.toString(ProcessHandle.current().pid()),
                    Integer.toString(ringRegion.fd().numberForDiagnostics()), Long.toString(ringSize),
                    Integer.toString(positionRegion.fd().numberForDiagnostics()), Long.toString(positionSize),
                    Long.toString(CAPACITY), Long.toString(MESSAGES), Long.toString(TIMEOUT_SECONDS))) {
                child.awaitLine("ready", 30);
                SpscProducer producer = SpscRing.attachProducer(ring, positionRegion.mapReadOnly(), "cross-process");

                long start = System.nanoTime();
                long sentChecksum = produce(producer, seed, child);
                String line = child.awaitLine("checksum=", TIMEOUT_SECONDS);
                System.out.printf("SpscCrossProcessTest: %,d messages, %,d bytes of ring traffic, in %d ms%n",
                        MESSAGES, producer.position(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
                assertEquals(0, child.waitFor(30), () -> "child failed:\n" + child.output());
                assertEquals("checksum=" + Long.toHexString(sentChecksum) + " count=" + MESSAGES, line,
                        () -> "seed " + seed + "; child output:\n" + child.output());
            }
        } catch (AssertionError | RuntimeException e) {
            throw new AssertionError("seed " + seed + ": " + e.getMessage(), e);
        }
    }

    private static long produce(SpscProducer producer, long seed, ChildJvm child) {
        SplittableRandom random = new SplittableRandom(seed);
        IdleStrategy idle = new BackOffIdleStrategy(1_000, 10, 1_000, 100_000);
        MemorySegment buf = producer.buffer();
        int max = producer.maxMessageLength();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
        long checksum = SpscPayloads.CHECKSUM_SEED;
        for (long seq = 0; seq < MESSAGES; seq++) {
            int length = SpscPayloads.length(random, max);
            int type = 1 + random.nextInt(Integer.MAX_VALUE);
            long at;
            while ((at = producer.tryClaim(type, length)) == MessageProducer.INSUFFICIENT_CAPACITY) {
                if (System.nanoTime() - deadline > 0 || !child.isAlive()) {
                    throw new AssertionError("stuck at message " + seq + " (child alive: " + child.isAlive()
                            + "); child output:\n" + child.output());
                }
                idle.idle();
            }
            idle.reset();
            SpscPayloads.fill(buf, at, length, seq);
            checksum = SpscPayloads.checksum(checksum, type, buf.asSlice(at, length));
            producer.commit(at);
        }
        return checksum;
    }
}
