package io.sluice.ringbuffer;

import io.sluice.api.RingKind;
import io.sluice.api.RingLayoutException;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every ring's data area is at most 2^30 bytes, and the size functions a host calls before it
 * creates a region refuse anything else (naming the value and the bound), so an absurd size
 * never reaches the kernel; attaching refuses a header that claims more.
 */
class RingSizeBoundsTest {
    private static final long GIB = 1L << 30;

    /** Capacities no ring accepts: past the bound, overflowing, negative, zero. */
    private static final long[] ABSURD = {GIB * 2, 1L << 31, 1L << 40, 1L << 62, Long.MAX_VALUE, Long.MIN_VALUE, -GIB, 0};

    private static void assertRefusedNaming(long value, long bound, Runnable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::run, "capacity " + value);
        assertTrue(e.getMessage().contains(Long.toString(value)) && e.getMessage().contains(Long.toString(bound)),
                e.getMessage() + " should name " + value + " and " + bound);
    }

    @Test
    void everyRingHasTheSameOneGibibyteBound() {
        assertEquals(GIB, RegionHeaderDescriptor.MAX_CAPACITY);
        assertEquals(GIB, SpscRingDescriptor.MAX_CAPACITY);
        assertEquals(GIB, BroadcastRingDescriptor.MAX_CAPACITY);
        assertEquals(GIB, MpmcRingDescriptor.MAX_DATA_LENGTH);
    }

    @Test
    void spscRegionSizeRefusesCapacitiesAboveTwoToTheThirtyBeforeAnythingIsAllocated() {
        for (long capacity : ABSURD) {
            assertRefusedNaming(capacity, GIB, () -> SpscRing.regionSize(capacity));
            assertRefusedNaming(capacity, GIB, () -> SpscRing.format(MemorySegment.ofArray(new long[64]), capacity));
            assertRefusedNaming(capacity, GIB, () -> SpscRing.maxMessageLength(capacity));
        }
        assertEquals(128 + GIB, SpscRing.regionSize(GIB), "the bound itself is fine");
        assertEquals(128 + 64, SpscRing.regionSize(64));
        assertRefusedNaming(GIB - 1, GIB, () -> SpscRing.regionSize(GIB - 1));
    }

    @Test
    void broadcastRegionSizeRefusesCapacitiesAboveTwoToTheThirtyBeforeAnythingIsAllocated() {
        for (long capacity : ABSURD) {
            assertRefusedNaming(capacity, GIB, () -> BroadcastRingDescriptor.regionSize(capacity));
            assertRefusedNaming(capacity, GIB, () -> BroadcastRingDescriptor.format(MemorySegment.ofArray(new long[64]),
                    RingKind.BROADCAST_OVERWRITE, capacity));
        }
        assertEquals(384 + GIB, BroadcastRingDescriptor.regionSize(GIB), "the bound itself is fine");
        assertRefusedNaming(64, GIB, () -> BroadcastRingDescriptor.regionSize(64));
    }

    @Test
    void mpmcRegionLengthRefusesSlotsTotallingMoreThanTwoToTheThirty() {
        assertEquals(512 + GIB, MpmcRing.regionSize(1 << 15, 1 << 15), "the bound itself is fine");
        assertEquals(512 + GIB, MpmcRing.regionSize(1 << 25, 32));
        int[][] tooMuch = {{1 << 16, 1 << 15}, {1 << 30, 32}, {1 << 30, 1 << 30}, {2, 1 << 30}};
        for (int[] c : tooMuch) {
            long product = (long) c[0] * c[1];
            assertRefusedNaming(product, GIB, () -> MpmcRing.regionSize(c[0], c[1]));
            assertRefusedNaming(product, GIB, () -> MpmcRingDescriptor.format(MemorySegment.ofArray(new long[64]), c[0], c[1], 8));
        }
        // Each factor alone out of range, or not a power of two (also what would overflow an int).
        int[][] malformed = {{Integer.MIN_VALUE, 32}, {-2, 32}, {0, 32}, {3, 32}, {2, Integer.MIN_VALUE}, {2, Integer.MAX_VALUE},
                {2, 16}};
        for (int[] c : malformed) {
            assertThrows(IllegalArgumentException.class, () -> MpmcRing.regionSize(c[0], c[1]),
                    c[0] + " x " + c[1]);
        }
    }

    /** A region whose header claims a capacity of 2^31 (the region itself is small). */
    private static MemorySegment headerClaiming(RingKind kind, int headerLength, long capacity) {
        MemorySegment region = MemorySegment.ofArray(new long[1024]);
        RegionHeaderDescriptor.write(region, kind, headerLength, capacity, 0);
        return region;
    }

    @Test
    void attachingRefusesAHeaderThatClaimsMoreThanTwoToTheThirty() {
        long claimed = 1L << 31;
        RingLayoutException spsc = assertThrows(RingLayoutException.class, () -> SpscRingDescriptor.validate(
                headerClaiming(RingKind.SPSC, SpscRingDescriptor.HEADER_LENGTH, claimed), "spsc ring 'x'"));
        assertTrue(spsc.getMessage().contains("capacity 2147483648 is above the maximum 1073741824"), spsc.getMessage());
        RingLayoutException broadcast = assertThrows(RingLayoutException.class, () -> BroadcastRingDescriptor.validate(
                headerClaiming(RingKind.BROADCAST_BACKPRESSURE, BroadcastRingDescriptor.HEADER_LENGTH, claimed), "b"));
        assertTrue(broadcast.getMessage().contains("capacity 2147483648 is above the maximum 1073741824"), broadcast.getMessage());
        MemorySegment mpmc = headerClaiming(RingKind.MPMC, MpmcRingDescriptor.HEADER_LENGTH, claimed);
        mpmc.set(ValueLayout.JAVA_INT_UNALIGNED, MpmcRingDescriptor.SLOT_COUNT_OFFSET, 1 << 26);
        mpmc.set(ValueLayout.JAVA_INT_UNALIGNED, MpmcRingDescriptor.SLOT_LENGTH_OFFSET, 32);
        RingLayoutException m = assertThrows(RingLayoutException.class, () -> MpmcRingDescriptor.validate(mpmc, "x"));
        assertTrue(m.getMessage().contains("capacity 2147483648 is above the maximum 1073741824"), m.getMessage());
    }
}
