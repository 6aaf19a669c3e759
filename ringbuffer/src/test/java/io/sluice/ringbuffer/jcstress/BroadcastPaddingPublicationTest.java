package io.sluice.ringbuffer.jcstress;

import io.sluice.api.RingKind;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

import java.lang.foreign.MemorySegment;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * The commit of a record that pads the end of a lap, raced by a consumer reading one message per
 * poll at the padding: it reads nothing (and stays at the padding) or the whole record, never the
 * padding alone. The producer stores the record's Sequence before the padding's; in the other
 * order a consumer could skip the committed padding and stop at an uncommitted record, which is
 * what this test forbids. Run on both kinds.
 */
public final class BroadcastPaddingPublicationTest {
    private BroadcastPaddingPublicationTest() {
    }

    /** Where the consumer waits: the padding's position, the end of the set-up's lap. */
    static final long PADDING_AT = 224;

    /**
     * One ring of 256 bytes filled to 224 and read to there; r1 = messages the poll read, r2 = 1
     * if it read the whole raced record (-1 torn, 0 none), r3 = how far the consumer's position
     * moved.
     */
    abstract static class Race extends BroadcastRace {
        int whole;

        Race(RingKind kind) {
            super(kind);
            // Three records of 64 bytes and one of 32: the tail at 224, 32 bytes before the end.
            // The raced record (40 bytes) does not fit there, so its claim writes padding over
            // [224, 256) and the record at 256, the next lap's first slot, whose Sequence still
            // holds message 0's number: not the one the consumer expects.
            for (int i = 0; i < 3; i++) {
                prefill(48, 0);
            }
            prefill(16, 0);
            if (consumer.position() != PADDING_AT) {
                throw new IllegalStateException("set-up: consumer at " + consumer.position() + ", not " + PADDING_AT);
            }
        }

        void consume(III_Result r) {
            r.r1 = consumer.poll(this, 1);
            r.r2 = whole;
            r.r3 = (int) (consumer.position() - PADDING_AT);
        }

        @Override
        public void onMessage(int type, MemorySegment payload) {
            whole = type == RACED_TYPE && isRacedPayload(payload) ? 1 : -1;
        }
    }

    @JCStressTest
    @Description("Overwrite ring: a poll at a lap's padding racing its commit reads nothing or the record after it.")
    @Outcome(id = "0, 0, 0", expect = ACCEPTABLE, desc = "polled before the commit")
    @Outcome(id = "1, 1, 72", expect = ACCEPTABLE, desc = "padding skipped, the whole record read")
    @Outcome(id = "0, 0, 32", expect = FORBIDDEN, desc = "the padding committed without the record after it")
    @Outcome(expect = FORBIDDEN, desc = "a record torn or read without its payload")
    @State
    public static class Overwrite extends Race {
        public Overwrite() {
            super(RingKind.BROADCAST_OVERWRITE);
        }

        @Actor
        public void producer() {
            produce();
        }

        @Actor
        public void consumer(III_Result r) {
            consume(r);
        }
    }

    @JCStressTest
    @Description("Backpressure ring: a poll at a lap's padding racing its commit reads nothing or the record after it.")
    @Outcome(id = "0, 0, 0", expect = ACCEPTABLE, desc = "polled before the commit")
    @Outcome(id = "1, 1, 72", expect = ACCEPTABLE, desc = "padding skipped, the whole record read")
    @Outcome(id = "0, 0, 32", expect = FORBIDDEN, desc = "the padding committed without the record after it")
    @Outcome(expect = FORBIDDEN, desc = "a record torn or read without its payload")
    @State
    public static class Backpressure extends Race {
        public Backpressure() {
            super(RingKind.BROADCAST_BACKPRESSURE);
        }

        @Actor
        public void producer() {
            produce();
        }

        @Actor
        public void consumer(III_Result r) {
            consume(r);
        }
    }
}
