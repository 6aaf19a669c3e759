package io.sluice.ringbuffer;

import io.sluice.api.RingKind;
import io.sluice.api.RingLayoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static io.sluice.ringbuffer.BroadcastTestSupport.heapPositionRegion;
import static io.sluice.ringbuffer.BroadcastTestSupport.heapRing;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BroadcastRingDescriptorTest {

    @ParameterizedTest
    @EnumSource(value = RingKind.class, names = {"BROADCAST_BACKPRESSURE", "BROADCAST_OVERWRITE"})
    void formattedRingValidatesWithItsKindCapacityAndMaxMessageLength(RingKind kind) {
        MemorySegment ring = heapRing(kind, 4096, 300);
        BroadcastRingDescriptor.Header header = BroadcastRingDescriptor.validate(ring, "ring");
        assertEquals(new BroadcastRingDescriptor.Header(kind, 4096, 300), header);
        assertEquals(BroadcastRingDescriptor.NO_MESSAGE, ring.get(ValueLayout.JAVA_LONG, BroadcastRingDescriptor.LATEST_OFFSET));
        assertEquals(384, ring.get(ValueLayout.JAVA_INT, RegionHeaderDescriptor.HEADER_LENGTH_OFFSET));
    }

    @Test
    void defaultMaxMessageLengthIsAnEighthOfTheCapacity() {
        MemorySegment ring = MemorySegment.ofArray(new long[(int) BroadcastRingDescriptor.regionSize(1024) / 8]);
        BroadcastRingDescriptor.format(ring, RingKind.BROADCAST_OVERWRITE, 1024);
        assertEquals(128, BroadcastRingDescriptor.validate(ring, "ring").maxMessageLength());
    }

    @Test
    void formatRefusesWhatCannotWork() {
        MemorySegment big = MemorySegment.ofArray(new long[1024]);
        assertThrows(IllegalArgumentException.class, () -> BroadcastRingDescriptor.format(big, RingKind.SPSC, 1024));
        assertThrows(IllegalArgumentException.class, () -> BroadcastRingDescriptor.format(big, RingKind.BROADCAST_OVERWRITE, 1000));
        assertThrows(IllegalArgumentException.class, () -> BroadcastRingDescriptor.format(big, RingKind.BROADCAST_OVERWRITE, 64));
        assertThrows(IllegalArgumentException.class, () -> BroadcastRingDescriptor.format(big, RingKind.BROADCAST_OVERWRITE, 8192));
        assertThrows(IllegalArgumentException.class, () -> BroadcastRingDescriptor.format(big, RingKind.BROADCAST_OVERWRITE, 1024, 481));
        assertThrows(IllegalArgumentException.class, () -> BroadcastRingDescriptor.format(big, RingKind.BROADCAST_OVERWRITE, 1024, -1));
        MemorySegment bytes = MemorySegment.ofArray(new byte[8192]);
        assertThrows(IllegalArgumentException.class, () -> BroadcastRingDescriptor.format(bytes, RingKind.BROADCAST_OVERWRITE, 1024));
        BroadcastRingDescriptor.format(big, RingKind.BROADCAST_OVERWRITE, 1024, 480); // the limit itself is fine
    }

    @Test
    void validateNamesTheFirstWrongField() {
        assertRefused(r -> r.set(ValueLayout.JAVA_LONG, 0, 42L), "bad magic");
        assertRefused(r -> r.set(ValueLayout.JAVA_INT, RegionHeaderDescriptor.VERSION_OFFSET, 9), "layout version 9");
        assertRefused(r -> r.set(ValueLayout.JAVA_INT, RegionHeaderDescriptor.KIND_OFFSET, RingKind.SPSC.code()),
                "ring kind SPSC, expected BROADCAST_BACKPRESSURE or BROADCAST_OVERWRITE");
        assertRefused(r -> r.set(ValueLayout.JAVA_INT, RegionHeaderDescriptor.KIND_OFFSET, 99), "ring kind code 99");
        assertRefused(r -> r.set(ValueLayout.JAVA_INT, RegionHeaderDescriptor.HEADER_LENGTH_OFFSET, 256), "header length 256");
        assertRefused(r -> r.set(ValueLayout.JAVA_LONG, RegionHeaderDescriptor.CAPACITY_OFFSET, 1000L), "capacity 1000");
        assertRefused(r -> r.set(ValueLayout.JAVA_LONG, RegionHeaderDescriptor.CAPACITY_OFFSET, 64L), "capacity 64");
        assertRefused(r -> r.set(ValueLayout.JAVA_LONG, RegionHeaderDescriptor.CAPACITY_OFFSET, 1L << 20), "exceeds the segment");
        assertRefused(r -> r.set(ValueLayout.JAVA_INT, BroadcastRingDescriptor.RECORD_HEADER_LENGTH_FIELD_OFFSET, 8), "record header length 8");
        assertRefused(r -> r.set(ValueLayout.JAVA_INT, BroadcastRingDescriptor.RECORD_ALIGNMENT_FIELD_OFFSET, 4), "record alignment 4");
        assertRefused(r -> r.set(ValueLayout.JAVA_INT, BroadcastRingDescriptor.MAX_MESSAGE_LENGTH_OFFSET, 2000), "max message length 2000");
        assertRefused(r -> r.set(ValueLayout.JAVA_INT, BroadcastRingDescriptor.MAX_MESSAGE_LENGTH_OFFSET, -3), "max message length -3");
    }

    @Test
    void validateRefusesSegmentsTooSmallOrUnaligned() {
        RingLayoutException small = assertThrows(RingLayoutException.class,
                () -> BroadcastRingDescriptor.validate(MemorySegment.ofArray(new long[16]), "ring 'x'"));
        assertTrue(small.getMessage().startsWith("ring 'x': segment of 128 bytes"), small.getMessage());

        MemorySegment ring = heapRing(RingKind.BROADCAST_OVERWRITE, 1024, 100);
        MemorySegment bytes = MemorySegment.ofArray(new byte[(int) ring.byteSize()]);
        bytes.copyFrom(ring);
        RingLayoutException unaligned = assertThrows(RingLayoutException.class, () -> BroadcastRingDescriptor.validate(bytes, "ring"));
        assertTrue(unaligned.getMessage().contains("not 8-byte aligned"), unaligned.getMessage());
    }

    @Test
    void producerAndConsumerRefuseToAttachToABadRegion() {
        MemorySegment ring = heapRing(RingKind.BROADCAST_OVERWRITE, 1024, 100);
        ring.set(ValueLayout.JAVA_LONG, 0, 0L);
        assertThrows(RingLayoutException.class, () -> BroadcastRing.attachProducer(ring, "md"));
        assertThrows(RingLayoutException.class, () -> BroadcastRing.attachConsumer(ring, null, BroadcastStart.OLDEST, null));
    }

    @Test
    void producerRefusesARingWithAClaimInFlight() {
        MemorySegment ring = heapRing(RingKind.BROADCAST_OVERWRITE, 1024, 100);
        BroadcastProducer first = BroadcastRing.attachProducer(ring, "md");
        first.tryClaim(1, 10);
        RingLayoutException e = assertThrows(RingLayoutException.class, () -> BroadcastRing.attachProducer(ring, "md"));
        assertTrue(e.getMessage().contains("tail intent 48 is not the reach of tail 0 (16)"), e.getMessage());
    }

    @Test
    void positionRegionFormatsAndValidates() {
        MemorySegment region = heapPositionRegion();
        BroadcastConsumerPositionDescriptor.format(region, 4096);
        BroadcastConsumerPositionDescriptor.validate(region, "pos");
        assertEquals(4096L, region.get(ValueLayout.JAVA_LONG, BroadcastConsumerPositionDescriptor.POSITION_OFFSET));
        assertEquals(0, region.get(ValueLayout.JAVA_INT, BroadcastConsumerPositionDescriptor.PARKED_FLAG_OFFSET));

        region.set(ValueLayout.JAVA_INT, BroadcastConsumerPositionDescriptor.VERSION_OFFSET, 2);
        assertThrows(RingLayoutException.class, () -> BroadcastConsumerPositionDescriptor.validate(region, "pos"));
        BroadcastConsumerPositionDescriptor.format(region, 0);
        region.set(ValueLayout.JAVA_LONG, 0, 1L);
        RingLayoutException magic = assertThrows(RingLayoutException.class, () -> BroadcastConsumerPositionDescriptor.validate(region, "pos"));
        assertTrue(magic.getMessage().contains("bad magic"), magic.getMessage());
        BroadcastConsumerPositionDescriptor.format(region, 0);
        region.set(ValueLayout.JAVA_INT, BroadcastConsumerPositionDescriptor.REGION_LENGTH_OFFSET, 128);
        assertThrows(RingLayoutException.class, () -> BroadcastConsumerPositionDescriptor.validate(region, "pos"));
        assertThrows(RingLayoutException.class,
                () -> BroadcastConsumerPositionDescriptor.validate(MemorySegment.ofArray(new long[8]), "pos"));
        assertThrows(IllegalArgumentException.class,
                () -> BroadcastConsumerPositionDescriptor.format(MemorySegment.ofArray(new byte[384]), 0));
    }

    @Test
    void addConsumerRefusesAnUnformattedPositionRegion() {
        MemorySegment ring = heapRing(RingKind.BROADCAST_BACKPRESSURE, 1024, 100);
        BroadcastProducer producer = BroadcastRing.attachProducer(ring, "md");
        assertThrows(RingLayoutException.class, () -> producer.addConsumer(heapPositionRegion()));
    }

    private interface Damage {
        void apply(MemorySegment ring);
    }

    private static void assertRefused(Damage damage, String expected) {
        MemorySegment ring = heapRing(RingKind.BROADCAST_BACKPRESSURE, 1024, 100);
        damage.apply(ring);
        RingLayoutException e = assertThrows(RingLayoutException.class, () -> BroadcastRingDescriptor.validate(ring, "ring 'md'"));
        assertTrue(e.getMessage().startsWith("ring 'md': "), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage() + " should contain " + expected);
    }
}
