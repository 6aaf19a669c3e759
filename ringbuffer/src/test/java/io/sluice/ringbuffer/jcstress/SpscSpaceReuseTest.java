package io.sluice.ringbuffer.jcstress;

import io.sluice.ringbuffer.SpscConsumer;
import io.sluice.ringbuffer.SpscProducer;
import io.sluice.ringbuffer.SpscRing;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * The SPSC space-reuse race: the ring is full with X and Y; the consumer reads both in place
 * while the producer tries to claim a record whose payload lands exactly on X's payload. The
 * producer may only get the room after the consumer published its position, which it does after
 * its handler returned: the consumer must never read the producer's new bytes in X.
 * Result: r1, r2 = what the handler read for X and Y (1 = intact, 9 = overwritten or wrong),
 * r3 = 1 if the producer's claim succeeded.
 */
@JCStressTest
@Outcome(id = "1, 1, 0", expect = ACCEPTABLE, desc = "consumer not done yet: producer found no room")
@Outcome(id = "1, 1, 1", expect = ACCEPTABLE, desc = "producer reused the space after the consumer was done")
@Outcome(expect = FORBIDDEN, desc = "consumer read bytes the producer wrote into space it had not released")
@State
public class SpscSpaceReuseTest {
    private static final long CAPACITY = 64;
    private static final long X = 0x1111_1111L;
    private static final long Y = 0x2222_2222L;
    private static final long W = 0xDEAD_DEADL;

    private final SpscProducer producer;
    private final SpscConsumer consumer;

    public SpscSpaceReuseTest() {
        MemorySegment region = MemorySegment.ofArray(new long[(int) (SpscRing.regionSize(CAPACITY) / 8)]);
        MemorySegment position = MemorySegment.ofArray(new long[(int) (SpscRing.consumerPositionRegionSize() / 8)]);
        SpscRing.format(region, CAPACITY);
        SpscRing.formatConsumerPosition(position, CAPACITY);
        producer = SpscRing.attachProducer(region, position, "jcstress");
        consumer = SpscRing.attachConsumer(region, position, "jcstress");
        publish(1, X); // position 0, payload at data offset 16
        publish(2, Y); // position 24
    }

    private boolean publish(int type, long value) {
        long at = producer.tryClaim(type, 8);
        if (at < 0) {
            return false;
        }
        producer.buffer().set(ValueLayout.JAVA_LONG_UNALIGNED, at, value);
        producer.commit(at);
        return true;
    }

    @Actor
    public void consumer(III_Result r) {
        int[] seen = new int[2];
        consumer.poll((type, payload) -> {
            long value = payload.get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
            int verdict = (type == 1 && value == X) || (type == 2 && value == Y) ? 1 : 9;
            seen[type == 2 ? 1 : 0] = verdict;
        }, 2);
        r.r1 = seen[0];
        r.r2 = seen[1];
    }

    @Actor
    public void producer(III_Result r) {
        // At position 48 the 24-byte record does not fit the last 16 bytes: padding, then the
        // record at data offset 0, its payload at 16..24, on top of X's payload.
        r.r3 = publish(3, W) ? 1 : 0;
    }
}
