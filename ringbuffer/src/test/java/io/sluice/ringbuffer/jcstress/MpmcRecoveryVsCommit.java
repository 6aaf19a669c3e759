package io.sluice.ringbuffer.jcstress;

import io.sluice.ringbuffer.MpmcRing;
import io.sluice.ringbuffer.MpmcProducer;
import io.sluice.ringbuffer.MpmcRecovery;
import io.sluice.ringbuffer.MpmcSlotLostException;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

import java.lang.foreign.MemorySegment;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * The host recovers a producer it wrongly believes dead while that producer commits. Both act by
 * CAS on the one slot word, so exactly one wins: either the commit (r1 = 1) and the message is
 * delivered (r3 = 1), or the recovery (r2 = 1), the commit fails with MpmcSlotLostException and
 * nothing is delivered. Anything else (both, neither, a delivered aborted message) is forbidden.
 */
@JCStressTest
@Outcome(id = "1, 0, 1", expect = ACCEPTABLE, desc = "the commit won; the message is delivered")
@Outcome(id = "0, 1, 0", expect = ACCEPTABLE, desc = "the recovery won; the commit was refused, nothing delivered")
@Outcome(expect = FORBIDDEN, desc = "both or neither won, or the delivery disagrees")
@State
public class MpmcRecoveryVsCommit {
    private final MemorySegment ring = MpmcJcstressRings.twoSlots();
    private final MpmcProducer producer = MpmcRing.attachProducer(ring, 1, null);
    private final long claim = producer.tryClaim(1, 8);

    @Actor
    public void commit(III_Result r) {
        try {
            producer.commit(claim);
            r.r1 = 1;
        } catch (MpmcSlotLostException e) {
            r.r1 = 0;
        }
    }

    @Actor
    public void recover(III_Result r) {
        r.r2 = MpmcRecovery.recover(ring, 1).claimsAborted();
    }

    @Arbiter
    public void deliver(III_Result r) {
        r.r3 = MpmcRing.attachConsumer(ring, 2, null).poll((type, payload) -> { }, 10);
    }
}
