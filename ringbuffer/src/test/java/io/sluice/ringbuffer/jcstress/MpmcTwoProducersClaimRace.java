package io.sluice.ringbuffer.jcstress;

import io.sluice.ringbuffer.MpmcRing;
import io.sluice.ringbuffer.MpmcProducer;
import io.sluice.ringbuffer.MpmcSlotDescriptor;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.JJ_Result;

import java.lang.foreign.MemorySegment;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * Two producers claim at the same tail of an empty two-slot ring. Whoever loses the slot CAS must
 * help the tail on and claim the next slot: each gets its own slot (payload offsets 528 and 656),
 * and each slot's state word names its claimant. Both claiming slot 0, a refused claim, or a slot
 * attributed to the wrong participant (reported as -1) is forbidden.
 */
@JCStressTest
@Outcome(id = {"528, 656", "656, 528"}, expect = ACCEPTABLE, desc = "each producer owns a slot of its own")
@Outcome(expect = FORBIDDEN, desc = "one slot claimed twice, a claim refused, or a claim attributed wrongly")
@State
public class MpmcTwoProducersClaimRace {
    private final MemorySegment ring = MpmcJcstressRings.twoSlots();
    private final MpmcProducer first = MpmcRing.attachProducer(ring, 1, null);
    private final MpmcProducer second = MpmcRing.attachProducer(ring, 2, null);

    @Actor
    public void first(JJ_Result r) {
        r.r1 = first.tryClaim(1, 8);
    }

    @Actor
    public void second(JJ_Result r) {
        r.r2 = second.tryClaim(2, 8);
    }

    @Arbiter
    public void owners(JJ_Result r) {
        if (r.r1 >= 0 && MpmcSlotDescriptor.participant(MpmcJcstressRings.wordOfPayload(ring, r.r1)) != 1) {
            r.r1 = -1;
        }
        if (r.r2 >= 0 && MpmcSlotDescriptor.participant(MpmcJcstressRings.wordOfPayload(ring, r.r2)) != 2) {
            r.r2 = -1;
        }
    }
}
