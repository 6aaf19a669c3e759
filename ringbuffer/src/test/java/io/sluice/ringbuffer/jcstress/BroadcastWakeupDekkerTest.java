package io.sluice.ringbuffer.jcstress;

import io.sluice.api.BroadcastPolicy;
import io.sluice.ringbuffer.BroadcastConsumer;
import io.sluice.ringbuffer.BroadcastProducer;
import io.sluice.ringbuffer.BroadcastRing;
import io.sluice.ringbuffer.BroadcastStart;
import io.sluice.ringbuffer.BroadcastWakeup;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import java.lang.foreign.MemorySegment;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * The broadcast wake-up ({@link BroadcastWakeup}): a consumer raises its parked flag, checks the
 * ring once more and sleeps on the wake sequence, while the producer commits, scans the registered
 * consumers' flags and wakes. Two consumers are registered; the first never parks, so the producer
 * must scan past it to the second, which does. The futex sleeps by spinning
 * ({@link WakeupSpinFutex}). r1 = messages the parking consumer's round ended with, 0 if its wait
 * gave up; r2 = wakes the producer made. Overwrite policy: no gate, so the round's poll sees the
 * commit as soon as the Tail does.
 */
@JCStressTest
@Description("Broadcast wake-up: a consumer's flag-then-check against the producer's commit-then-scan-the-flags (Dekker)")
@Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "the consumer's check found the message; no wake needed")
@Outcome(id = "1, 1", expect = ACCEPTABLE_INTERESTING,
        desc = "the producer saw the flag: it woke the consumer, or needlessly woke one that had found the message")
@Outcome(id = "0, .*", expect = FORBIDDEN, desc = "lost wake-up: the consumer slept through the commit")
@Outcome(expect = FORBIDDEN, desc = "anything else")
@State
public class BroadcastWakeupDekkerTest {
    private static final long CAPACITY = 256;

    private final WakeupSpinFutex futex = new WakeupSpinFutex();
    private final BroadcastProducer producer;
    private final BroadcastConsumer consumer;
    private final BroadcastWakeup producerWakeup;
    private final BroadcastWakeup consumerWakeup;

    public BroadcastWakeupDekkerTest() {
        MemorySegment region = MemorySegment.ofArray(new long[(int) (BroadcastRing.regionSize(CAPACITY) / 8)]);
        MemorySegment idle = MemorySegment.ofArray(new long[(int) (BroadcastRing.consumerPositionRegionSize() / 8)]);
        MemorySegment position = MemorySegment.ofArray(new long[(int) (BroadcastRing.consumerPositionRegionSize() / 8)]);
        BroadcastRing.format(region, BroadcastPolicy.OVERWRITE, CAPACITY);
        producer = BroadcastRing.attachProducer(region, "jcstress");
        BroadcastRing.attachConsumer(region.asReadOnly(), idle, BroadcastStart.OLDEST, "jcstress");
        consumer = BroadcastRing.attachConsumer(region.asReadOnly(), position, BroadcastStart.OLDEST, "jcstress");
        producerWakeup = BroadcastWakeup.forProducer(region, futex);
        producerWakeup.addConsumer(idle.asReadOnly());
        producerWakeup.addConsumer(position.asReadOnly());
        producer.wakeParkedConsumersWith(producerWakeup);
        consumerWakeup = BroadcastWakeup.forConsumer(region.asReadOnly(), position, futex);
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
        r.r1 = futex.gaveUp ? 0 : n;
    }
}
