package io.sluice.ringbuffer.jcstress;

import io.sluice.api.RingKind;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import java.lang.foreign.MemorySegment;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * The publication race of the broadcast ring: a consumer polling while the producer claims,
 * writes and commits sees either nothing or the whole record (type, sequence, every payload
 * byte), never a record without its payload, nor an older lap's bytes for a record. Run on both
 * kinds; the backpressure consumer is registered and gated before the race.
 */
public final class BroadcastPublicationTest {
    private BroadcastPublicationTest() {
    }

    /** The sequence number of the raced record. */
    static final long RACED = 5;

    /** One ring, one producer, one consumer; r1 = type seen (0: none), r2 = 1 if the record was whole. */
    abstract static class Race extends BroadcastRace {
        int type;
        int whole;

        Race(RingKind kind) {
            super(kind);
            // A lap of records whose payload is the number 5 in every word: four of 64 bytes over
            // [0, 256), then [256, 296). The raced record, number 5, starts at 296 (offset 40), so
            // its Sequence word (offset 48) held 5 a lap ago: only the mark the claim of
            // [256, 296) left there keeps the consumer from taking that for a commit. The consumer
            // reads each one first, so it races on its fast path (Sequence only, no Tail).
            for (int i = 0; i < 4; i++) {
                prefill(48, RACED);
            }
            prefill(24, RACED);
        }

        void consume(II_Result r) {
            consumer.poll(this, 1);
            r.r1 = type;
            r.r2 = whole;
        }

        @Override
        public void onMessage(int type, MemorySegment payload) {
            this.type = type;
            this.whole = isRacedPayload(payload) && consumer.sequence() == RACED ? 1 : -1;
        }
    }

    @JCStressTest
    @Description("Overwrite ring: poll racing a commit sees nothing or the whole record.")
    @Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "polled before the commit")
    @Outcome(id = "7, 1", expect = ACCEPTABLE, desc = "the whole record")
    @Outcome(expect = FORBIDDEN, desc = "a record seen without its payload, or torn")
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
        public void consumer(II_Result r) {
            consume(r);
        }
    }

    @JCStressTest
    @Description("Backpressure ring: poll racing a commit sees nothing or the whole record.")
    @Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "polled before the commit")
    @Outcome(id = "7, 1", expect = ACCEPTABLE, desc = "the whole record")
    @Outcome(expect = FORBIDDEN, desc = "a record seen without its payload, or torn")
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
        public void consumer(II_Result r) {
            consume(r);
        }
    }
}
