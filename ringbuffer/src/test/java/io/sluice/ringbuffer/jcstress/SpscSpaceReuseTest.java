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
 * The SPSC space-reuse race: the ring is full with X and Y (and two fillers after them); the
 * consumer reads X and Y in place while the producer tries to claim a record whose payload lands
 * exactly on X's payload. The
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
    private static final long CAPACITY = 128; // max message 16
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
        // (A 64-byte ring cannot hold two 24-byte records: the one after them would start at 64,
        // and the room must reach its stamp slot.)
        setup(1, X, 8); // position 0, payload at data offset 16
        setup(2, Y, 8); // position 24, ending at 48: the next record starts at 64
        setup(3, 0, 8); // 64..88
        setup(4, 0, 0); // 88..104, 40 bytes into the line
    }

    private void setup(int type, long value, int length) {
        if (!publish(type, value, length)) {
            throw new IllegalStateException("setup: ring full");
        }
    }

    private boolean publish(int type, long value, int length) {
        long at = producer.tryClaim(type, length);
        if (at < 0) {
            return false;
        }
        if (length >= 8) {
            producer.buffer().set(ValueLayout.JAVA_LONG_UNALIGNED, at, value);
        }
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
        // At position 104 the 32-byte record does not fit the last 24 bytes: padding, then the
        // record at 128, data offset 0, its payload at 16..32, on top of X's payload. It needs
        // room up to 160 and the next stamp slot, 168: only the consumer's position after X and Y
        // (64) gives it.
        r.r3 = publish(5, W, 16) ? 1 : 0;
    }
}
