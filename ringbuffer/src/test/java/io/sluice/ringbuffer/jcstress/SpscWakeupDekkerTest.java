package io.sluice.ringbuffer.jcstress;

import io.sluice.ringbuffer.Futex;
import io.sluice.ringbuffer.SpscConsumer;
import io.sluice.ringbuffer.SpscProducer;
import io.sluice.ringbuffer.SpscRing;
import io.sluice.ringbuffer.SpscWakeup;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * The SPSC wake-up ({@link SpscWakeup}): the consumer raises its parked flag, checks the ring once
 * more and sleeps on the wake sequence, while the producer commits, checks the flag and wakes.
 * The futex here sleeps by spinning while the word holds the expected value, like the kernel's
 * FUTEX_WAIT without a wake call; it gives up after a second, which only a lost wake-up causes.
 * r1 = messages the consumer's round ended with (after its wait), 0 if the wait gave up; r2 = 1
 * if the producer found the flag raised and woke.
 */
@JCStressTest
@Description("SPSC wake-up: the consumer's flag-then-check against the producer's commit-then-flag-check (Dekker)")
@Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "the consumer's check found the message; no wake needed")
@Outcome(id = "1, 1", expect = ACCEPTABLE_INTERESTING,
        desc = "the producer saw the flag: it woke the consumer, or needlessly woke one that had found the message")
@Outcome(id = "0, .*", expect = FORBIDDEN, desc = "lost wake-up: the consumer slept through the commit")
@Outcome(expect = FORBIDDEN, desc = "anything else")
@State
public class SpscWakeupDekkerTest {
    private static final long CAPACITY = 64;

    private static final VarHandle WORD = ValueLayout.JAVA_INT.withOrder(ByteOrder.LITTLE_ENDIAN).varHandle();

    /** Whether the consumer's wait gave up: nobody changed the word within a second. */
    private boolean gaveUp;

    /** Sleeps (spinning) while the word holds {@code expected}, at most a second; wakes need no call. */
    private final Futex spinFutex = new Futex() {
        @Override
        public void await(MemorySegment word, int expected, long timeoutNanos) {
            long giveUp = System.nanoTime() + 1_000_000_000L;
            while ((int) WORD.getVolatile(word, 0L) == expected) {
                if (System.nanoTime() > giveUp) {
                    gaveUp = true;
                    return;
                }
                Thread.onSpinWait();
            }
        }

        @Override
        public void wakeAll(MemorySegment word) {
        }
    };

    private final SpscProducer producer;
    private final SpscConsumer consumer;
    private final SpscWakeup producerWakeup;
    private final SpscWakeup consumerWakeup;

    public SpscWakeupDekkerTest() {
        MemorySegment region = MemorySegment.ofArray(new long[(int) (SpscRing.regionSize(CAPACITY) / 8)]);
        MemorySegment position = MemorySegment.ofArray(new long[(int) (SpscRing.consumerPositionRegionSize() / 8)]);
        SpscRing.format(region, CAPACITY);
        SpscRing.formatConsumerPosition(position, CAPACITY);
        producer = SpscRing.attachProducer(region, position.asReadOnly(), "jcstress");
        consumer = SpscRing.attachConsumer(region.asReadOnly(), position, "jcstress");
        producerWakeup = SpscWakeup.forProducer(region, spinFutex);
        producer.wakeParkedConsumersWith(producerWakeup);
        consumerWakeup = SpscWakeup.forConsumer(region.asReadOnly(), position, spinFutex);
    }

    @Actor
    public void producer(II_Result r) {
        long at = producer.tryClaim(1, 8);
        producer.commit(at);
        r.r2 = (int) producerWakeup.wakes();
    }

    @Actor
    public void consumer(II_Result r) {
        int n = consumerWakeup.parkOnce(() -> consumer.poll((type, payload) -> { }, 1), 1_000_000_000L);
        r.r1 = gaveUp ? 0 : n;
    }
}
