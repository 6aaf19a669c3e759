package io.sluice.ringbuffer;

import io.sluice.api.CorruptRingException;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static io.sluice.ringbuffer.SpscRingTest.drain;
import static io.sluice.ringbuffer.SpscRingTest.pattern;
import static io.sluice.ringbuffer.SpscRingTest.publish;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A producer (or anyone with write access) scribbles on a committed record header: the consumer
 * raises {@link CorruptRingException} naming ring, position and the bad value; it never reads out
 * of bounds, loops forever, or delivers garbage. (A consumer scribbling on its position is not
 * the ring's corruption but that consumer's fault: {@link SpscConsumerFaultTest}.)
 */
class SpscCorruptionTest {
    private static final long CAPACITY = 1024;

    /**
     * Two good records of 24 bytes at 0 and 24, then a third whose header {@code corrupt} rewrites:
     * at 64, since the second ends at 48, in the last 16 bytes of its line.
     */
    private static CorruptRingException pollCorrupted(long capacity, java.util.function.Consumer<MemorySegment> corrupt,
                                                      String expected) {
        SpscTestRing ring = SpscTestRing.onHeap(capacity);
        publish(ring.producer, 1, pattern(1, 8));
        publish(ring.producer, 2, pattern(2, 8));
        publish(ring.producer, 3, pattern(3, 8));
        corrupt.accept(ring.data().asSlice(64));
        List<Integer> seen = new ArrayList<>();
        CorruptRingException e = assertThrows(CorruptRingException.class,
                () -> ring.consumer.poll((type, payload) -> seen.add(type), 10));
        assertTrue(e.getMessage().startsWith("spsc ring 'test': record at position 64 (data offset 64): "), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage() + " should say " + expected);
        assertEquals(List.of(1, 2), seen, "the good records before it are delivered");
        assertEquals(64, ring.consumer.position(), "the position stays before the bad record");
        assertEquals(64, ring.position.get(ValueLayout.JAVA_LONG_UNALIGNED, SpscConsumerPositionDescriptor.POSITION_OFFSET));
        assertThrows(CorruptRingException.class, () -> ring.consumer.poll((t, p) -> { }, 10), "and stays refused");
        return e;
    }

    @Test
    void aNegativeLengthIsCorrupt() {
        pollCorrupted(CAPACITY, h -> h.set(ValueLayout.JAVA_INT_UNALIGNED, 8, -5), "length -5 outside 0..128");
        pollCorrupted(CAPACITY, h -> h.set(ValueLayout.JAVA_INT_UNALIGNED, 8, Integer.MIN_VALUE), "length -2147483648");
    }

    @Test
    void aLengthPastTheCapacityIsCorrupt() {
        pollCorrupted(CAPACITY, h -> h.set(ValueLayout.JAVA_INT_UNALIGNED, 8, (int) CAPACITY * 2), "length 2048 outside 0..128");
        pollCorrupted(CAPACITY, h -> h.set(ValueLayout.JAVA_INT_UNALIGNED, 8, Integer.MAX_VALUE), "length 2147483647");
        pollCorrupted(CAPACITY, h -> h.set(ValueLayout.JAVA_INT_UNALIGNED, 8, 129), "length 129 outside 0..128");
    }

    /**
     * A ring of 256 (max message 32) with committed, unconsumed records at 192 (24 bytes), 216 (16)
     * and 232 (16), the last ending 8 bytes before the end of the data area: the next lap follows it.
     */
    private static SpscTestRing nearTheEnd() {
        SpscTestRing ring = SpscTestRing.onHeap(256);
        for (int i = 0; i < 3; i++) {
            publish(ring.producer, 1, pattern(i, 32));            // 0, 64, 128 (48 bytes, then a gap) -> 192
        }
        drain(ring.consumer, 10);
        publish(ring.producer, 2, pattern(4, 8));                 // 192..216
        publish(ring.producer, 3, new byte[0]);                   // 216..232
        publish(ring.producer, 4, new byte[0]);                   // 232..248, then the next lap at 256
        assertEquals(256, ring.producer.position());
        return ring;
    }

    @Test
    void aLengthWithinTheMaximumThatRunsPastTheEndOfTheDataAreaIsCorrupt() {
        SpscTestRing ring = nearTheEnd();
        ring.data().set(ValueLayout.JAVA_INT_UNALIGNED, 232 + 8, 16); // 232 + 32 > 256
        List<Integer> seen = new ArrayList<>();
        CorruptRingException e = assertThrows(CorruptRingException.class, () -> ring.consumer.poll((t, p) -> seen.add(t), 10));
        assertTrue(e.getMessage().contains("record at position 232 (data offset 232): length 16 runs past the end of the data area"),
                e.getMessage());
        assertEquals(List.of(2, 3), seen);
    }

    @Test
    void aRecordLeavingAGapShorterThanAHeaderAtTheEndIsDeliveredAndTheNextLapFollows() {
        // Layout 2 called a record ending 8 bytes before the end corrupt (no header fitted in the
        // gap); now no record starts in the last 16 bytes of a line, so the next lap follows it.
        SpscTestRing ring = nearTheEnd();
        List<Integer> seen = new ArrayList<>();
        assertEquals(3, ring.consumer.poll((t, p) -> seen.add(t), 10));
        assertEquals(List.of(2, 3, 4), seen);
        assertEquals(256, ring.consumer.position(), "after the record ending at 248, the next lap");
        assertEquals(256, ring.position.get(ValueLayout.JAVA_LONG_UNALIGNED, SpscConsumerPositionDescriptor.POSITION_OFFSET));
        publish(ring.producer, 5, pattern(6, 8));                 // 256..280
        List<SpscRingTest.Message> got = drain(ring.consumer, 10);
        assertEquals(1, got.size());
        assertEquals(5, got.getFirst().type());
        assertEquals(280, ring.consumer.position());
    }

    @Test
    void anUnknownTypeIsCorrupt() {
        pollCorrupted(CAPACITY, h -> h.set(ValueLayout.JAVA_INT_UNALIGNED, 12, 0), "unknown type 0");
        pollCorrupted(CAPACITY, h -> h.set(ValueLayout.JAVA_INT_UNALIGNED, 12, -7), "unknown type -7");
        pollCorrupted(CAPACITY, h -> h.set(ValueLayout.JAVA_INT_UNALIGNED, 12, Integer.MIN_VALUE), "unknown type");
    }

    @Test
    void aPaddingRecordThatDoesNotRunToTheEndIsCorrupt() {
        pollCorrupted(CAPACITY, h -> h.set(ValueLayout.JAVA_INT_UNALIGNED, 12, SpscRecordDescriptor.PADDING_TYPE),
                "padding length 8 does not run to the end of the data area (944)");
    }

    @Test
    void aStampThatIsNeitherThePositionNorInvalidIsCorrupt() {
        pollCorrupted(CAPACITY, h -> h.set(ValueLayout.JAVA_LONG_UNALIGNED, 0, 12345L), "stamp 12345, expected 64 or -1");
        pollCorrupted(CAPACITY, h -> h.set(ValueLayout.JAVA_LONG_UNALIGNED, 0, 64L + CAPACITY), "stamp 1088");
    }

    @Test
    void randomGarbageInACommittedHeaderIsDeliveredOnlyWhenValidAndNeverReadsOutOfBounds() {
        long seed = new SplittableRandom().nextLong();
        SplittableRandom random = new SplittableRandom(seed);
        int corrupt = 0;
        int delivered = 0;
        int paddings = 0;
        try {
            for (int i = 0; i < 2000; i++) {
                SpscTestRing ring = SpscTestRing.onHeap(256);
                int lead = random.nextInt(6);
                for (int k = 0; k < lead; k++) {
                    publish(ring.producer, 1, pattern(k, 24));
                }
                drain(ring.consumer, 10);
                long at = publish(ring.producer, 2, pattern(9, random.nextInt(33)));
                MemorySegment header = ring.data().asSlice(at - SpscRecordDescriptor.HEADER_LENGTH, 16);
                // Garbage in length and type (small and wild values), the stamp left valid.
                int length = random.nextBoolean() ? random.nextInt(-64, 300) : random.nextInt();
                int type = random.nextBoolean() ? random.nextInt(-3, 4) : random.nextInt();
                header.set(ValueLayout.JAVA_INT_UNALIGNED, 8, length);
                header.set(ValueLayout.JAVA_INT_UNALIGNED, 12, type);
                // Garbage can make a valid padding record (to the end of the data area): skipped,
                // and the next lap's first slot may hold the invalid stamp the producer stores a
                // line ahead, so such a poll may rightly deliver nothing and refuse nothing.
                long index = at - SpscRecordDescriptor.HEADER_LENGTH;
                if (type == SpscRecordDescriptor.PADDING_TYPE && length == 256 - index - SpscRecordDescriptor.HEADER_LENGTH) {
                    paddings++;
                }
                try {
                    int n = ring.consumer.poll((t, p) -> {
                        assertTrue(t > 0, "only positive types reach a handler");
                        assertTrue(p.byteSize() <= 32, "never more than the maximum");
                    }, 10);
                    delivered += n;
                } catch (CorruptRingException expected) {
                    corrupt++;
                }
            }
        } catch (AssertionError | RuntimeException e) {
            throw new AssertionError("seed " + seed + ": " + e, e);
        }
        assertTrue(corrupt > 1000, "seed " + seed + ": most garbage is refused (" + corrupt + ")");
        assertTrue(corrupt + delivered + paddings >= 2000, "seed " + seed + ": each poll refused, delivered what fits,"
                + " or skipped a valid padding record (" + corrupt + " + " + delivered + " + " + paddings + ")");
    }
}
