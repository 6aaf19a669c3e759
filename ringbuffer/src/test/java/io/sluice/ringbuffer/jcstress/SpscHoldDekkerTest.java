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
import org.openjdk.jcstress.infra.results.JJ_Result;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * The SPSC hand-over race: a host holds the producer (its consumer is leaving) and reads the
 * validated position, to decide where the next consumer starts, while the producer reads the
 * departing consumer's newer position to make room. The ring (capacity 64) holds one record,
 * 0..24, read: the consumer published 24, the producer still has 0. The producer's claim needs
 * the room that 24 gives. (A second record 24..48 would leave no room to hold both: the record
 * after it starts at 64, in the next lap, and its stamp slot is past 0 + 64.)
 * r1 = the validated position the host read after hold(), r2 = 1 if the producer's claim
 * succeeded (it used 24). If the host read 0, the producer must not write as if it were at 24:
 * the host would let the next consumer start at 0 over records the producer may overwrite.
 */
@JCStressTest
@Description("SPSC hold(): the host's store-then-load against the producer's store-then-load (Dekker)")
@Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "the hold came first: the producer never used 24")
@Outcome(id = "24, 1", expect = ACCEPTABLE, desc = "the producer accepted 24 first, and the host read it")
@Outcome(id = "24, 0", expect = ACCEPTABLE_INTERESTING,
        desc = "the host read 24 in the instant before the producer saw the hold and put 0 back")
@Outcome(id = "0, 1", expect = FORBIDDEN, desc = "the host read 0, yet the producer used 24")
@Outcome(expect = FORBIDDEN, desc = "anything else")
@State
public class SpscHoldDekkerTest {
    private static final long CAPACITY = 64;

    private final SpscProducer producer;

    public SpscHoldDekkerTest() {
        MemorySegment region = MemorySegment.ofArray(new long[(int) (SpscRing.regionSize(CAPACITY) / 8)]);
        MemorySegment position = MemorySegment.ofArray(new long[(int) (SpscRing.consumerPositionRegionSize() / 8)]);
        SpscRing.format(region, CAPACITY);
        SpscRing.formatConsumerPosition(position, CAPACITY);
        producer = SpscRing.attachProducer(region, position.asReadOnly(), "jcstress");
        if (!publish()) {                                       // 0..24
            throw new IllegalStateException("setup: ring full");
        }
        SpscConsumerPositionDescriptor.publishPosition(position, 24); // the consumer read it
    }

    private boolean publish() {
        long at = producer.tryClaim(1, 8);
        if (at == MessageProducer.INSUFFICIENT_CAPACITY) {
            return false;
        }
        producer.buffer().set(ValueLayout.JAVA_LONG_UNALIGNED, at, at);
        producer.commit(at);
        return true;
    }

    @Actor
    public void producer(JJ_Result r) {
        // At 24 the record ends at 48, in the last 16 bytes of the line: it needs room up to the
        // next record's stamp slot at 64, so to 72, beyond 0 + 64: the producer reads the
        // consumer's position again.
        r.r2 = publish() ? 1 : 0;
    }

    @Actor
    public void host(JJ_Result r) {
        producer.hold();
        r.r1 = producer.validatedPosition();
    }
}
