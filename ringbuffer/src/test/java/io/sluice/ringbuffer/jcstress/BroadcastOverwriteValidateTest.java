package io.sluice.ringbuffer.jcstress;

import io.sluice.api.BroadcastPolicy;
import io.sluice.ringbuffer.BroadcastRing;
import io.sluice.api.MessageHandler;
import io.sluice.ringbuffer.BroadcastConsumer;
import io.sluice.ringbuffer.BroadcastProducer;
import io.sluice.ringbuffer.BroadcastStart;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * The overwrite/validate race (the seqlock): an overwrite ring of 256 bytes holding three 64-byte
 * records, the consumer at the oldest. The producer writes one more, of 112 bytes: it does not fit
 * in the 64 bytes left, so it pads them and lands on the first 112 bytes of the next lap, over the
 * record the consumer is reading in place (and the next). The consumer's handler reads the six
 * payload longs and then asks
 * {@code isStillValid()}. A payload that is not entirely the record's own must never be reported
 * valid. r1 = 1 if the payload read was consistent (every long the marker of the delivered
 * sequence), r2 = 1 if isStillValid() said so.
 */
@JCStressTest
@Description("Overwrite ring: a payload overwritten while read in place is never reported valid.")
@Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "read before the overwrite (or resumed at the next record)")
@Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "read intact, but the overwrite had begun by the check: conservatively invalid")
@Outcome(id = "0, 0", expect = ACCEPTABLE_INTERESTING, desc = "torn read, detected")
@Outcome(id = "0, 1", expect = FORBIDDEN, desc = "torn read reported valid")
@Outcome(expect = FORBIDDEN, desc = "nothing delivered")
@State
public class BroadcastOverwriteValidateTest implements MessageHandler {
    private static final int PAYLOAD = 48;
    private static final int BIG = 96;

    private final BroadcastProducer producer;
    private final BroadcastConsumer consumer;
    private int consistent = -1;
    private int valid = -1;

    public BroadcastOverwriteValidateTest() {
        MemorySegment ring = MemorySegment.ofArray(new long[(int) BroadcastRing.regionSize(256) / 8]);
        BroadcastRing.format(ring, BroadcastPolicy.OVERWRITE, 256, BIG);
        producer = BroadcastRing.attachProducer(ring, "jcstress");
        send(0, PAYLOAD);
        send(1, PAYLOAD);
        send(2, PAYLOAD);
        consumer = BroadcastRing.attachConsumer(ring, null, BroadcastStart.OLDEST, null);
    }

    static long marker(long seq) {
        return (seq + 1) * 0x0101_0101_0101_0101L;
    }

    private void send(long seq, int length) {
        long at = producer.tryClaim(3, length);
        MemorySegment buffer = producer.buffer();
        for (int i = 0; i < length; i += 8) {
            buffer.set(ValueLayout.JAVA_LONG_UNALIGNED, at + i, marker(seq));
        }
        producer.commit(at);
    }

    @Actor
    public void producer() {
        send(3, BIG);
    }

    @Actor
    public void consumer(II_Result r) {
        consumer.poll(this, 1);
        r.r1 = consistent;
        r.r2 = valid;
    }

    @Override
    public void onMessage(int type, MemorySegment payload) {
        long expected = marker(consumer.sequence());
        boolean same = true;
        for (int i = 0; i < PAYLOAD; i += 8) {
            same &= payload.get(ValueLayout.JAVA_LONG_UNALIGNED, i) == expected;
        }
        consistent = same ? 1 : 0;
        valid = consumer.isStillValid() ? 1 : 0;
    }
}
