package io.sluice.ringbuffer.jcstress;

import io.sluice.ringbuffer.MpmcRing;
import io.sluice.ringbuffer.MpmcConsumer;
import io.sluice.ringbuffer.MpmcProducer;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.JJ_Result;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * A producer claims, writes two payload words with plain stores and commits; a consumer polls at
 * the same time. The consumer sees nothing, or the whole message: the commit CAS (release) and
 * the take CAS (acquire) order the plain payload and header stores before the consumer's reads.
 * A half-written or stale payload, or a wrong type (reported as -type), is forbidden.
 */
@JCStressTest
@Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "polled before the commit: nothing")
@Outcome(id = "72623859790382856, 1229782938247303441", expect = ACCEPTABLE, desc = "the whole message")
@Outcome(expect = FORBIDDEN, desc = "a message seen before its payload or header")
@State
public class MpmcClaimCommitPublication {
    private static final long A = 0x0102030405060708L;
    private static final long B = 0x1111111111111111L;

    private final MemorySegment ring = MpmcJcstressRings.twoSlots();
    private final MpmcProducer producer = MpmcRing.attachProducer(ring, 1, null);
    private final MpmcConsumer consumer = MpmcRing.attachConsumer(ring, 2, null);

    @Actor
    public void produce() {
        long at = producer.tryClaim(7, 16);
        MemorySegment buf = producer.buffer();
        buf.set(ValueLayout.JAVA_LONG_UNALIGNED, at, A);
        buf.set(ValueLayout.JAVA_LONG_UNALIGNED, at + 8, B);
        producer.commit(at);
    }

    @Actor
    public void consume(JJ_Result r) {
        consumer.poll((type, payload) -> {
            r.r1 = type == 7 && payload.byteSize() == 16 ? payload.get(ValueLayout.JAVA_LONG_UNALIGNED, 0) : -type;
            r.r2 = payload.byteSize() >= 16 ? payload.get(ValueLayout.JAVA_LONG_UNALIGNED, 8) : -1;
        }, 1);
    }
}
