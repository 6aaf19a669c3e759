package io.sluice.ringbuffer.jcstress;

import io.sluice.api.CorruptRingException;
import io.sluice.ringbuffer.SpscConsumer;
import io.sluice.ringbuffer.SpscProducer;
import io.sluice.ringbuffer.SpscRing;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.I_Result;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * The SPSC publication race: the producer commits A then B while the consumer polls twice.
 * The consumer must see a prefix of [A, B], each exactly once, each with its own length, type
 * and payload: never a committed stamp with a stale header or payload, never a record twice.
 *
 * <p>The ring is set up so that stale bytes make the race as hostile as it gets: a record of the
 * first lap left, in its payload, the values 272 and 296 exactly where the stamps of A (position
 * 272) and B (296) go in the second lap, with a plausible header and payload behind them. A
 * consumer that trusted any 8 bytes equal to its position would report a phantom (digit 9).
 * Result: the sequence seen, one digit per message (1 = A, 2 = B, 9 = anything else, 8 = the
 * consumer found a corrupt header, which a correct producer never leaves).
 */
@JCStressTest
@Outcome(id = "0", expect = ACCEPTABLE, desc = "nothing committed yet when the consumer looked")
@Outcome(id = "1", expect = ACCEPTABLE, desc = "A seen, B not yet")
@Outcome(id = "12", expect = ACCEPTABLE, desc = "A then B, each once")
@Outcome(expect = FORBIDDEN, desc = "phantom, stale header or payload, duplicate, or out of order")
@State
public class SpscPublicationTest {
    private static final long CAPACITY = 256;
    private static final long A = 0xAAAA_0001L;
    private static final long B = 0xBBBB_0002L;
    private static final long PHANTOM = 0xBAD0_BAD0L;

    private final SpscProducer producer;
    private final SpscConsumer consumer;
    private int seen;

    public SpscPublicationTest() {
        MemorySegment region = MemorySegment.ofArray(new long[(int) (SpscRing.regionSize(CAPACITY) / 8)]);
        MemorySegment position = MemorySegment.ofArray(new long[(int) (SpscRing.consumerPositionRegionSize() / 8)]);
        region.fill((byte) 0xFF); // all slots read "not committed" but for the forged stamps below
        SpscRing.format(region, CAPACITY);
        SpscRing.formatConsumerPosition(position, CAPACITY);
        producer = SpscRing.attachProducer(region, position, "jcstress");
        consumer = SpscRing.attachConsumer(region, position, "jcstress");

        // Lap 0, position 0: a 32-byte payload at data offsets 16..48 holding fake records where
        // A's and B's headers will be in lap 1 (data offsets 16 and 40).
        long at = producer.tryClaim(7, 32);
        MemorySegment buf = producer.buffer();
        buf.set(ValueLayout.JAVA_LONG_UNALIGNED, at, 272L);              // "stamp" of position 272
        buf.set(ValueLayout.JAVA_INT_UNALIGNED, at + 8, 8);              // "length"
        buf.set(ValueLayout.JAVA_INT_UNALIGNED, at + 12, 2);             // "type" of A
        buf.set(ValueLayout.JAVA_LONG_UNALIGNED, at + 16, PHANTOM);      // "payload"
        buf.set(ValueLayout.JAVA_LONG_UNALIGNED, at + 24, 296L);         // "stamp" of position 296
        producer.commit(at);
        consume(1);
        // Fill up to position 272 = lap 1, data offset 16, and consume everything. (The record
        // above ends at 48, in the last 16 bytes of its line: the next starts at 64.)
        for (int i = 0; i < 3; i++) {
            commitEmpty(32);                                               // 48 bytes, then a gap: 64 -> 256
        }
        commitEmpty(0);                                                    // 16 bytes: 256 -> 272
        consume(4);
        if (producer.position() != 272 || consumer.position() != 272) {
            throw new IllegalStateException("setup: producer at " + producer.position() + ", consumer at " + consumer.position());
        }
    }

    private void commitEmpty(int length) {
        long at = producer.tryClaim(7, length);
        if (at < 0) {
            throw new IllegalStateException("setup: ring full");
        }
        producer.commit(at);
    }

    /** Consumes exactly {@code n} messages (so a phantom, if any, is left for the race). */
    private void consume(int n) {
        if (consumer.poll((type, payload) -> { }, n) != n) {
            throw new IllegalStateException("setup: expected " + n + " messages");
        }
    }

    private void publish(int type, long value) {
        long at = producer.tryClaim(type, 8);
        producer.buffer().set(ValueLayout.JAVA_LONG_UNALIGNED, at, value);
        producer.commit(at);
    }

    @Actor
    public void producer() {
        publish(2, A);
        publish(3, B);
    }

    @Actor
    public void consumer(I_Result r) {
        for (int poll = 0; poll < 2; poll++) {
            try {
                consumer.poll((type, payload) -> {
                    long value = payload.byteSize() == 8 ? payload.get(ValueLayout.JAVA_LONG_UNALIGNED, 0) : -1;
                    int digit = type == 2 && value == A ? 1 : type == 3 && value == B ? 2 : 9;
                    seen = seen * 10 + digit;
                }, 10);
            } catch (CorruptRingException e) {
                seen = seen * 10 + 8; // a torn or forged header was taken for a committed record
            }
        }
        r.r1 = seen;
    }
}
