package io.sluice.ringbuffer.jcstress;

import io.sluice.ringbuffer.MpmcRing;
import io.sluice.ringbuffer.MpmcProducer;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import java.lang.foreign.MemorySegment;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * Two producers race for the last free slot of a two-slot ring (slot 0 holds an unconsumed
 * message). Exactly one wins; the loser, having helped the tail past the winner's slot, finds
 * the ring full. Both winning (one slot claimed twice) or both losing is forbidden.
 */
@JCStressTest
@Outcome(id = {"1, 0", "0, 1"}, expect = ACCEPTABLE, desc = "exactly one producer got the last slot")
@Outcome(id = "1, 1", expect = FORBIDDEN, desc = "the last slot claimed twice")
@Outcome(id = "0, 0", expect = FORBIDDEN, desc = "a free slot refused to both")
@State
public class MpmcLastSlotClaimRace {
    private final MemorySegment ring = MpmcJcstressRings.twoSlots();
    private final MpmcProducer first = MpmcRing.attachProducer(ring, 1, null);
    private final MpmcProducer second = MpmcRing.attachProducer(ring, 2, null);

    public MpmcLastSlotClaimRace() {
        MpmcJcstressRings.send(MpmcRing.attachProducer(ring, 3, null), 42);
    }

    @Actor
    public void first(II_Result r) {
        r.r1 = first.tryClaim(1, 8) >= 0 ? 1 : 0;
    }

    @Actor
    public void second(II_Result r) {
        r.r2 = second.tryClaim(2, 8) >= 0 ? 1 : 0;
    }
}
