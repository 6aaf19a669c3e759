package io.sluice.ringbuffer.jcstress;

import io.sluice.api.MessageProducer;
import io.sluice.ringbuffer.SpscConsumerPositionDescriptor;
import io.sluice.ringbuffer.SpscProducer;
import io.sluice.ringbuffer.SpscRing;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * When may a host unmap the position region of a consumer that left? The host hands the producer
 * another region, asks {@link SpscProducer#isDoneWith}, and if the answer is yes "unmaps" the old
 * region — here it poisons it with -8, which the producer would report as a fault if it ever read
 * it again — while the producer makes a claim that needs a fresh look at its consumer's position.
 * r1 = 1 if the host was told it may unmap; r2 = 1 if the producer read the poison.
 */
@JCStressTest
@Description("SPSC isDoneWith: the host's hand-over-then-load against the producer's flag-then-load (Dekker)")
@Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "the producer was reading: the host waits")
@Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "the host unmapped, and the producer never read the old region again")
@Outcome(id = "1, 1", expect = FORBIDDEN, desc = "the producer read a region the host had been told it could unmap")
@Outcome(expect = FORBIDDEN, desc = "anything else")
@State
public class SpscUnmapDekkerTest {
    private static final long CAPACITY = 64;
    private static final VarHandle POSITION = ValueLayout.JAVA_LONG.varHandle();

    private final SpscProducer producer;
    private final MemorySegment departing = MemorySegment.ofArray(new long[(int) (SpscRing.consumerPositionRegionSize() / 8)]);
    private final MemorySegment next = MemorySegment.ofArray(new long[(int) (SpscRing.consumerPositionRegionSize() / 8)]);

    public SpscUnmapDekkerTest() {
        MemorySegment region = MemorySegment.ofArray(new long[(int) (SpscRing.regionSize(CAPACITY) / 8)]);
        SpscRing.format(region, CAPACITY);
        SpscRing.formatConsumerPosition(departing, CAPACITY);
        SpscRing.formatConsumerPosition(next, CAPACITY);
        producer = SpscRing.attachProducer(region, departing.asReadOnly(), "jcstress");
        // 0..24: the cached room is used up, since a record at 24 would end at 48, in the last 16
        // bytes of the line, and so need room up to the stamp slot of the next record at 64.
        if (!publish()) {
            throw new IllegalStateException("setup: ring full");
        }
        SpscConsumerPositionDescriptor.publishPosition(departing, 24);  // read by the consumer that leaves
        SpscConsumerPositionDescriptor.publishPosition(next, 0);
    }

    private boolean publish() {
        long at = producer.tryClaim(1, 8);
        if (at == MessageProducer.INSUFFICIENT_CAPACITY) {
            return false;
        }
        producer.commit(at);
        return true;
    }

    @Actor
    public void producer(II_Result r) {
        publish(); // needs room up to 72, beyond 64: reads a consumer position
        r.r2 = producer.latestFault() != null ? 1 : 0;
    }

    @Actor
    public void host(II_Result r) {
        long generation = producer.followConsumer(next);
        if (producer.isDoneWith(generation)) {
            POSITION.setVolatile(departing, SpscConsumerPositionDescriptor.POSITION_OFFSET, -8L); // "unmapped"
            r.r1 = 1;
        }
    }
}
