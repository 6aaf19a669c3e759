package io.sluice.ringbuffer.jcstress;

import io.sluice.ringbuffer.MpmcRing;
import io.sluice.ringbuffer.MpmcConsumer;
import io.sluice.ringbuffer.MpmcSlotDescriptor;
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
 * Two consumers race to take the one committed message. Exactly one gets it; afterwards the head
 * is 1 and the slot is FREE for the next lap (r3 = 1). A message delivered twice or not at all,
 * or a slot left held, is forbidden.
 */
@JCStressTest
@Outcome(id = {"1, 0, 1", "0, 1, 1"}, expect = ACCEPTABLE, desc = "one consumer took it and released the slot")
@Outcome(expect = FORBIDDEN, desc = "delivered twice, lost, or the slot left held")
@State
public class MpmcConsumerTakeRace {
    private final MemorySegment ring = MpmcJcstressRings.twoSlots();
    private final MpmcConsumer first = MpmcRing.attachConsumer(ring, 2, null);
    private final MpmcConsumer second = MpmcRing.attachConsumer(ring, 3, null);

    public MpmcConsumerTakeRace() {
        MpmcJcstressRings.send(MpmcRing.attachProducer(ring, 1, null), 42);
    }

    @Actor
    public void first(III_Result r) {
        r.r1 = first.poll((type, payload) -> { }, 1);
    }

    @Actor
    public void second(III_Result r) {
        r.r2 = second.poll((type, payload) -> { }, 1);
    }

    @Arbiter
    public void released(III_Result r) {
        long word = MpmcJcstressRings.wordOfPayload(ring, MpmcJcstressRings.SLOT_0_PAYLOAD);
        boolean free = MpmcSlotDescriptor.state(word) == MpmcSlotDescriptor.FREE && MpmcSlotDescriptor.lap(word) == 1;
        r.r3 = free && MpmcJcstressRings.head(ring) == 1 ? 1 : 0;
    }
}
