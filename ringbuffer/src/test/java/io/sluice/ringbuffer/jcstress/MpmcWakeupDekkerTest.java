package io.sluice.ringbuffer.jcstress;

import io.sluice.ringbuffer.MpmcConsumer;
import io.sluice.ringbuffer.MpmcProducer;
import io.sluice.ringbuffer.MpmcRing;
import io.sluice.ringbuffer.MpmcWakeup;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

import java.lang.foreign.MemorySegment;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * The MPMC wake-up ({@link MpmcWakeup}): a consumer counts itself parked (an atomic add), checks
 * the ring once more and sleeps on the wake sequence, while a producer (another participant, with
 * its own wake-up object over the same ring) commits, loads the count and wakes. The futex sleeps
 * by spinning ({@link WakeupSpinFutex}). r1 = messages the consumer's round ended with, 0 if its
 * wait gave up; r2 = wakes the producer made; r3 = the parked count after both finished (the
 * consumer counted itself out again: 0).
 */
@JCStressTest
@Description("MPMC wake-up: the consumer's count-then-take against the producer's commit-then-count-check (Dekker)")
@Outcome(id = "1, 0, 0", expect = ACCEPTABLE, desc = "the consumer's take found the message; no wake needed")
@Outcome(id = "1, 1, 0", expect = ACCEPTABLE_INTERESTING,
        desc = "the producer saw the count: it woke the consumer, or needlessly woke one that had found the message")
@Outcome(id = "0, .*", expect = FORBIDDEN, desc = "lost wake-up: the consumer slept through the commit")
@Outcome(expect = FORBIDDEN, desc = "anything else, a count left raised among it")
@State
public class MpmcWakeupDekkerTest {
    private final WakeupSpinFutex futex = new WakeupSpinFutex();
    private final MemorySegment region;
    private final MpmcProducer producer;
    private final MpmcConsumer consumer;
    private final MpmcWakeup producerWakeup;
    private final MpmcWakeup consumerWakeup;

    public MpmcWakeupDekkerTest() {
        region = MemorySegment.ofArray(new long[(int) (MpmcRing.regionSize(4, 32) / 8)]);
        MpmcRing.format(region, 4, 32, 2);
        producer = MpmcRing.attachProducer(region, 1, "jcstress");
        consumer = MpmcRing.attachConsumer(region, 2, "jcstress");
        producerWakeup = MpmcWakeup.forParticipant(region, futex);
        producer.wakeParkedConsumersWith(producerWakeup);
        consumerWakeup = MpmcWakeup.forParticipant(region, futex);
    }

    @Actor
    public void producer(III_Result r) {
        long at = producer.tryClaim(1, 8);
        producer.commit(at);
        r.r2 = (int) producerWakeup.wakes();
    }

    @Actor
    public void consumer(III_Result r) {
        int n = consumerWakeup.parkOnce(() -> consumer.poll((type, payload) -> { }, 1), 1_000_000_000L);
        r.r1 = futex.gaveUp ? 0 : n;
    }

    @org.openjdk.jcstress.annotations.Arbiter
    public void count(III_Result r) {
        r.r3 = MpmcWakeup.parkedCount(region);
    }
}
