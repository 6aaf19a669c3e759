package io.sluice.ringbuffer.jcstress;

import io.sluice.api.BroadcastPolicy;
import io.sluice.ringbuffer.BroadcastRecordDescriptor;
import io.sluice.ringbuffer.BroadcastRing;
import io.sluice.ringbuffer.BroadcastRingDescriptor;
import io.sluice.api.MessageHandler;
import io.sluice.api.MessageProducer;
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
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * The backpressure gate race: a 256-byte ring full for its one (gated) consumer (three 64-byte
 * records: a fourth would mark the Sequence of the slot after it, the header of record 0 a lap
 * on); the consumer reads the oldest record in place while the producer tries to claim. The
 * producer may succeed only once the consumer has published a position past the record — after
 * it finished reading — so the consumer never sees its payload or its header change. r1 = 1 if
 * the record read was intact, r2 = 1 if the producer's claim succeeded.
 */
@JCStressTest
@Description("Backpressure ring: the producer never overwrites a record the gated consumer is reading.")
@Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "producer refused: the consumer had not moved yet")
@Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "producer wrote after the consumer released the record")
@Outcome(expect = FORBIDDEN, desc = "the consumer read a record being overwritten, or read nothing")
@State
public class BroadcastGateTest implements MessageHandler {
    private static final int PAYLOAD = 48;

    private final BroadcastProducer producer;
    private final BroadcastConsumer consumer;
    private int intact = -1;

    public BroadcastGateTest() {
        MemorySegment ring = MemorySegment.ofArray(new long[(int) BroadcastRing.regionSize(256) / 8]);
        BroadcastRing.format(ring, BroadcastPolicy.BACK_PRESSURE, 256, PAYLOAD);
        producer = BroadcastRing.attachProducer(ring, "jcstress");
        MemorySegment position = MemorySegment.ofArray(new long[48]);
        consumer = BroadcastRing.attachConsumer(ring, position, BroadcastStart.OLDEST, null);
        consumer.registered(producer.addConsumer(position));
        producer.refreshConsumers();
        send(0);
        send(1);
        send(2); // full: the next claim needs the header of record 0
    }

    static long marker(long seq) {
        return (seq + 1) * 0x0101_0101_0101_0101L;
    }

    private boolean send(long seq) {
        long at = producer.tryClaim(3, PAYLOAD);
        if (at == MessageProducer.INSUFFICIENT_CAPACITY) {
            return false;
        }
        MemorySegment buffer = producer.buffer();
        for (int i = 0; i < PAYLOAD; i += 8) {
            buffer.set(ValueLayout.JAVA_LONG_UNALIGNED, at + i, marker(seq));
        }
        producer.commit(at);
        return true;
    }

    @Actor
    public void producer(II_Result r) {
        r.r2 = send(3) ? 1 : 0;
    }

    @Actor
    public void consumer(II_Result r) {
        consumer.poll(this, 1);
        r.r1 = intact;
    }

    @Override
    public void onMessage(int type, MemorySegment payload) {
        boolean same = consumer.sequence() == 0;
        for (int i = 0; i < PAYLOAD; i += 8) {
            same &= payload.get(ValueLayout.JAVA_LONG_UNALIGNED, i) == marker(0);
        }
        // Record 0's Sequence, after the payload: the claim's mark would land there.
        same &= consumer.buffer().get(ValueLayout.JAVA_LONG_UNALIGNED,
                BroadcastRingDescriptor.DATA_OFFSET + BroadcastRecordDescriptor.SEQUENCE_OFFSET) == 0;
        intact = same ? 1 : 0;
    }
}
