package io.sluice.ringbuffer;

import io.sluice.api.RingKind;
import io.sluice.api.RingLayoutException;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.function.Consumer;

import static io.sluice.ringbuffer.SpscRingTest.drain;
import static io.sluice.ringbuffer.SpscRingTest.pattern;
import static io.sluice.ringbuffer.SpscRingTest.publish;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Format, attach and the validation of both regions' headers. */
class SpscRingLayoutTest {
    private static final long CAPACITY = 1024;

    private static MemorySegment formattedRegion() {
        MemorySegment region = SpscTestRing.heap(SpscRing.regionSize(CAPACITY));
        SpscRing.format(region, CAPACITY);
        return region;
    }

    private static MemorySegment formattedPosition() {
        MemorySegment position = SpscTestRing.heap(SpscRing.consumerPositionRegionSize());
        SpscRing.formatConsumerPosition(position, CAPACITY);
        return position;
    }

    /** Both attaches refuse the ring region after {@code damage}, with a message containing {@code expected}. */
    private static void assertRingRefused(Consumer<MemorySegment> damage, String expected) {
        MemorySegment region = formattedRegion();
        damage.accept(region);
        MemorySegment position = formattedPosition();
        RingLayoutException p = assertThrows(RingLayoutException.class,
                () -> SpscRing.attachProducer(region, position.asReadOnly(), "orders"));
        RingLayoutException c = assertThrows(RingLayoutException.class,
                () -> SpscRing.attachConsumer(region.asReadOnly(), position, "orders"));
        for (RingLayoutException e : List.of(p, c)) {
            assertTrue(e.getMessage().startsWith("spsc ring 'orders': "), e.getMessage());
            assertTrue(e.getMessage().contains(expected), e.getMessage() + " should say " + expected);
        }
    }

    private static void assertPositionRefused(Consumer<MemorySegment> damage, String expected) {
        MemorySegment region = formattedRegion();
        MemorySegment position = formattedPosition();
        damage.accept(position);
        RingLayoutException p = assertThrows(RingLayoutException.class,
                () -> SpscRing.attachProducer(region, position.asReadOnly(), "orders"));
        RingLayoutException c = assertThrows(RingLayoutException.class,
                () -> SpscRing.attachConsumer(region.asReadOnly(), position, "orders"));
        for (RingLayoutException e : List.of(p, c)) {
            assertTrue(e.getMessage().contains(expected), e.getMessage() + " should say " + expected);
        }
    }

    @Test
    void formatWritesTheDocumentedHeader() {
        MemorySegment region = formattedRegion();
        assertEquals(RegionHeaderDescriptor.MAGIC, region.get(ValueLayout.JAVA_LONG_UNALIGNED, 0));
        assertEquals(3, region.get(ValueLayout.JAVA_INT_UNALIGNED, 8), "layout version");
        assertEquals(RegionHeaderDescriptor.LAYOUT_VERSION, region.get(ValueLayout.JAVA_INT_UNALIGNED, 8));
        assertEquals(RingKind.SPSC.code(), region.get(ValueLayout.JAVA_INT_UNALIGNED, 12));
        assertEquals(128, region.get(ValueLayout.JAVA_INT_UNALIGNED, 16), "header length");
        assertEquals(128, region.get(ValueLayout.JAVA_INT_UNALIGNED, 20), "max message length = capacity / 8");
        assertEquals(CAPACITY, region.get(ValueLayout.JAVA_LONG_UNALIGNED, 24));
        assertEquals(16, region.get(ValueLayout.JAVA_INT_UNALIGNED, 32), "record header length");
        assertEquals(8, region.get(ValueLayout.JAVA_INT_UNALIGNED, 36), "record alignment");
        for (long off = 40; off < 128; off++) {
            assertEquals(0, region.get(ValueLayout.JAVA_BYTE, off), "reserved byte " + off);
        }
        assertEquals(-1L, region.get(ValueLayout.JAVA_LONG_UNALIGNED, 128), "position 0's slot holds the invalid stamp");
        byte[] magic = region.asSlice(0, 8).toArray(ValueLayout.JAVA_BYTE);
        assertEquals("SLUICERB", new String(magic, java.nio.charset.StandardCharsets.US_ASCII));
        assertEquals(128 + CAPACITY, SpscRing.regionSize(CAPACITY));
    }

    @Test
    void formatConsumerPositionWritesTheDocumentedHeader() {
        MemorySegment position = SpscTestRing.heap(SpscRing.consumerPositionRegionSize());
        position.fill((byte) 0x33);
        SpscRing.formatConsumerPosition(position, CAPACITY);
        assertEquals(384, SpscRing.consumerPositionRegionSize());
        assertEquals("SLUICECP", new String(position.asSlice(0, 8).toArray(ValueLayout.JAVA_BYTE),
                java.nio.charset.StandardCharsets.US_ASCII));
        assertEquals(1, position.get(ValueLayout.JAVA_INT_UNALIGNED, 8));
        assertEquals(RingKind.SPSC.code(), position.get(ValueLayout.JAVA_INT_UNALIGNED, 12));
        assertEquals(128, position.get(ValueLayout.JAVA_INT_UNALIGNED, 16));
        assertEquals(0, position.get(ValueLayout.JAVA_INT_UNALIGNED, 20));
        assertEquals(CAPACITY, position.get(ValueLayout.JAVA_LONG_UNALIGNED, 24));
        assertEquals(0L, position.get(ValueLayout.JAVA_LONG_UNALIGNED, 128), "position");
        assertEquals(0, position.get(ValueLayout.JAVA_INT_UNALIGNED, 256), "parked flag (reserved)");
        for (long off = 32; off < 384; off++) {
            if (off < 128 || off >= 136 && off < 256 || off >= 260) {
                assertEquals(0, position.get(ValueLayout.JAVA_BYTE, off), "unused byte " + off);
            }
        }
    }

    @Test
    void theRecordLayoutMatchesTheDocumentedOffsets() {
        assertEquals(SpscRecordDescriptor.STAMP_OFFSET, SpscRecordDescriptor.LAYOUT.byteOffset(
                java.lang.foreign.MemoryLayout.PathElement.groupElement("stamp")));
        assertEquals(SpscRecordDescriptor.LENGTH_OFFSET, SpscRecordDescriptor.LAYOUT.byteOffset(
                java.lang.foreign.MemoryLayout.PathElement.groupElement("length")));
        assertEquals(SpscRecordDescriptor.TYPE_OFFSET, SpscRecordDescriptor.LAYOUT.byteOffset(
                java.lang.foreign.MemoryLayout.PathElement.groupElement("type")));
        assertEquals(SpscRecordDescriptor.HEADER_LENGTH, SpscRecordDescriptor.LAYOUT.byteSize());
        assertEquals(16, SpscRecordDescriptor.recordLength(0));
        assertEquals(24, SpscRecordDescriptor.recordLength(1));
        assertEquals(24, SpscRecordDescriptor.recordLength(8));
        assertEquals(32, SpscRecordDescriptor.recordLength(9));
    }

    @Test
    void aWrongMagicVersionKindOrHeaderLengthIsRefused() {
        assertRingRefused(r -> r.set(ValueLayout.JAVA_LONG_UNALIGNED, 0, 0x1234L), "bad magic 0x1234");
        assertRingRefused(r -> r.set(ValueLayout.JAVA_INT_UNALIGNED, 8, 1), "layout version 1");
        // Layout 2 placed records end to end: its record starts are not where this library looks.
        assertRingRefused(r -> r.set(ValueLayout.JAVA_INT_UNALIGNED, 8, 2), "layout version 2");
        assertRingRefused(r -> r.set(ValueLayout.JAVA_INT_UNALIGNED, 12, RingKind.MPMC.code()), "ring kind MPMC, expected SPSC");
        assertRingRefused(r -> r.set(ValueLayout.JAVA_INT_UNALIGNED, 12, 99), "ring kind code 99");
        assertRingRefused(r -> r.set(ValueLayout.JAVA_INT_UNALIGNED, 16, 256), "header length 256");
    }

    @Test
    void aCapacityThatIsNotAPowerOfTwoOrDoesNotFitTheSegmentIsRefused() {
        assertRingRefused(r -> r.set(ValueLayout.JAVA_LONG_UNALIGNED, 24, 1000L), "capacity 1000 is not a positive power of two");
        assertRingRefused(r -> r.set(ValueLayout.JAVA_LONG_UNALIGNED, 24, 2048L), "exceeds the segment");
        assertRingRefused(r -> r.set(ValueLayout.JAVA_LONG_UNALIGNED, 24, -1024L), "not a positive power of two");
        assertRingRefused(r -> {
            r.set(ValueLayout.JAVA_LONG_UNALIGNED, 24, 32L);
            r.set(ValueLayout.JAVA_INT_UNALIGNED, 20, 4);
        }, "below the minimum 64");
    }

    @Test
    void wrongSpscFieldsAreRefused() {
        assertRingRefused(r -> r.set(ValueLayout.JAVA_INT_UNALIGNED, 20, 4096), "max message length 4096, expected 128");
        assertRingRefused(r -> r.set(ValueLayout.JAVA_INT_UNALIGNED, 32, 8), "record header length 8");
        assertRingRefused(r -> r.set(ValueLayout.JAVA_INT_UNALIGNED, 36, 16), "record alignment 16");
    }

    @Test
    void aSegmentSmallerThanTheHeaderIsRefused() {
        MemorySegment tiny = SpscTestRing.heap(64);
        MemorySegment position = formattedPosition();
        RingLayoutException e = assertThrows(RingLayoutException.class, () -> SpscRing.attachConsumer(tiny, position, "x"));
        assertTrue(e.getMessage().contains("smaller than the 128-byte header"), e.getMessage());
    }

    @Test
    void aConsumerPositionRegionThatIsNotOneOrFollowsAnotherRingIsRefused() {
        assertPositionRefused(p -> p.set(ValueLayout.JAVA_LONG_UNALIGNED, 0, RegionHeaderDescriptor.MAGIC), "bad magic");
        assertPositionRefused(p -> p.set(ValueLayout.JAVA_INT_UNALIGNED, 8, 7), "layout version 7");
        assertPositionRefused(p -> p.set(ValueLayout.JAVA_INT_UNALIGNED, 12, RingKind.BROADCAST_BACKPRESSURE.code()),
                "kind BROADCAST_BACKPRESSURE, expected SPSC");
        assertPositionRefused(p -> p.set(ValueLayout.JAVA_INT_UNALIGNED, 16, 64), "header length 64");
        assertPositionRefused(p -> p.set(ValueLayout.JAVA_LONG_UNALIGNED, 24, 2048L), "capacity 2048, this ring's is 1024");
        assertPositionRefused(p -> p.set(ValueLayout.JAVA_LONG_UNALIGNED, 128, 12L), "consumer position 12");
        assertPositionRefused(p -> p.set(ValueLayout.JAVA_LONG_UNALIGNED, 128, -8L), "consumer position -8");
        // No record starts in the last 16 bytes of a 64-byte line.
        assertPositionRefused(p -> p.set(ValueLayout.JAVA_LONG_UNALIGNED, 128, 48L), "consumer position 48 lies in the last 16");
        assertPositionRefused(p -> p.set(ValueLayout.JAVA_LONG_UNALIGNED, 128, 1080L), "consumer position 1080 lies in the last 16");
        MemorySegment region = formattedRegion();
        MemorySegment small = formattedPosition().asSlice(0, 256);
        assertThrows(RingLayoutException.class, () -> SpscRing.attachProducer(region, small, "x"));
    }

    @Test
    void aRingRegionPassedAsAPositionRegionAndViceVersaIsRefused() {
        MemorySegment region = formattedRegion();
        MemorySegment position = formattedPosition();
        assertThrows(RingLayoutException.class, () -> SpscRing.attachConsumer(position, region, "x"));
        assertThrows(RingLayoutException.class, () -> SpscRing.attachConsumer(region, region, "x"));
    }

    @Test
    void aConsumerWhosePositionDoesNotMatchTheRingIsRefused() {
        SpscTestRing ring = SpscTestRing.onHeap(CAPACITY);
        for (int i = 0; i < 5; i++) {
            publish(ring.producer, 1, pattern(i, 8));           // records at 0, 24, 64, 88, 128
        }
        ring.position.set(ValueLayout.JAVA_LONG_UNALIGNED, SpscConsumerPositionDescriptor.POSITION_OFFSET, 16L);
        RingLayoutException e = assertThrows(RingLayoutException.class,
                () -> SpscRing.attachConsumer(ring.region.asReadOnly(), ring.position, "x"));
        assertTrue(e.getMessage().contains("consumer position 16 does not match the ring"), e.getMessage());
    }

    @Test
    void formatRefusesUnusableSegmentsAndCapacities() {
        assertThrows(IllegalArgumentException.class, () -> SpscRing.format(SpscTestRing.heap(4096), 1000));
        assertThrows(IllegalArgumentException.class, () -> SpscRing.format(SpscTestRing.heap(4096), 32));
        assertThrows(IllegalArgumentException.class, () -> SpscRing.format(SpscTestRing.heap(1024), 1024), "too small");
        assertThrows(IllegalArgumentException.class, () -> SpscRing.format(SpscTestRing.heap(2048).asReadOnly(), 1024));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SpscRing.format(MemorySegment.ofArray(new byte[2048]), 1024));
        assertTrue(e.getMessage().contains("8-byte aligned"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SpscRing.formatConsumerPosition(SpscTestRing.heap(128), CAPACITY));
        assertThrows(IllegalArgumentException.class,
                () -> SpscRing.formatConsumerPosition(SpscTestRing.heap(384).asReadOnly(), CAPACITY));
        assertThrows(IllegalArgumentException.class, () -> SpscRing.maxMessageLength(100));
        assertEquals(8, SpscRing.maxMessageLength(64));
        assertEquals(1 << 30, SpscRingDescriptor.maxMessageLength(1L << 40), "capped");
    }

    @Test
    void theProducerNeedsAWritableRingAndTheConsumerAWritablePositionRegion() {
        MemorySegment region = formattedRegion();
        MemorySegment position = formattedPosition();
        assertThrows(IllegalArgumentException.class, () -> SpscRing.attachProducer(region.asReadOnly(), position, "x"));
        assertThrows(IllegalArgumentException.class, () -> SpscRing.attachConsumer(region, position.asReadOnly(), "x"));
    }

    @Test
    void theConsumerKeepsAReadOnlyViewEvenWhenGivenAWritableRegion() {
        MemorySegment region = formattedRegion();
        MemorySegment position = formattedPosition();
        SpscProducer producer = SpscRing.attachProducer(region, position, "x");
        SpscConsumer consumer = SpscRing.attachConsumer(region, position, "x");
        publish(producer, 1, pattern(1, 8));
        consumer.poll((type, payload) -> assertTrue(payload.isReadOnly()), 1);
    }

    @Test
    void aReattachedProducerContinuesAfterTheLastCommittedRecordAcrossTheWrap() {
        SpscTestRing ring = SpscTestRing.onHeap(256);
        for (int i = 0; i < 3; i++) {
            assertTrue(publish(ring.producer, 1, pattern(i, 32)) >= 0); // 0, 64, 128 (48 bytes, then a gap) -> 192
        }
        assertTrue(publish(ring.producer, 1, pattern(3, 24)) >= 0);    // 192..232
        drain(ring.consumer, 3);
        // Padding at 232, the record at 256..304, the next at 320 (304 is in the last 16 bytes of a line).
        assertEquals(16, publish(ring.producer, 2, pattern(5, 32)));
        long open = ring.producer.tryClaim(3, 8);               // claimed, never committed: a "crash"
        ring.producer.buffer().asSlice(open, 8).fill((byte) 0x44);
        SpscProducer again = SpscRing.attachProducer(ring.region, ring.position.asReadOnly(), "again");
        assertEquals(320, again.position(), "after the last committed record and its gap, not the open claim");
        publish(again, 4, pattern(6, 8));
        List<SpscRingTest.Message> got = drain(ring.consumer, 100);
        assertEquals(List.of(1, 2, 4), got.stream().map(SpscRingTest.Message::type).toList());
        assertArrayEquals(pattern(6, 8), got.getLast().payload());
    }

    @Test
    void aReattachedConsumerContinuesAtItsPublishedPosition() {
        SpscTestRing ring = SpscTestRing.onHeap(CAPACITY);
        for (int i = 0; i < 6; i++) {
            publish(ring.producer, i + 1, pattern(i, 8));
        }
        drain(ring.consumer, 4);
        SpscConsumer again = SpscRing.attachConsumer(ring.region.asReadOnly(), ring.position, "again");
        assertEquals(ring.consumer.position(), again.position());
        assertEquals(List.of(5, 6), drain(again, 10).stream().map(SpscRingTest.Message::type).toList());
    }
}
