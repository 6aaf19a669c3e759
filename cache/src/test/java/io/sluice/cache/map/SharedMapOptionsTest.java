package io.sluice.cache.map;

import io.sluice.api.LimitExceededException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every size is bounded before anything is allocated, with a message naming it; misuse is refused whole. */
class SharedMapOptionsTest {
    private static void refused(Runnable r, String... parts) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "'" + e.getMessage() + "' should say '" + p + "'");
        }
    }

    @Test
    void everyBoundIsCheckedWithAClearMessage() {
        refused(() -> SharedMapOptions.of(0, 8, 8), "capacity 0 is outside 1..805306368");
        refused(() -> SharedMapOptions.of(-1, 8, 8), "capacity -1");
        refused(() -> SharedMapOptions.of(SharedMapOptions.MAX_CAPACITY + 1, 8, 8), "capacity 805306369");
        refused(() -> SharedMapOptions.of(1, 0, 8), "maxKeyLength 0 is outside 1..65536");
        refused(() -> SharedMapOptions.of(1, 65537, 8), "maxKeyLength 65537");
        refused(() -> SharedMapOptions.of(1, 8, -1), "maxValueLength -1 is outside 0..16777216");
        refused(() -> SharedMapOptions.of(1, 8, (1 << 24) + 1), "maxValueLength 16777217");
        refused(() -> SharedMapOptions.of(1 << 20, 64, 1024), "needs a region of", "more than the max region size 1073741824");
        refused(() -> SharedMapOptions.of(10, 8, 8).maxRegionSize(100), "needs a region of", "max region size 100");
        refused(() -> SharedMapOptions.of(10, 8, 8).maxRegionSize(0), "maxRegionSize 0");
        refused(() -> SharedMapOptions.of(10, 8, 8).maxRegionSize((1L << 34) + 1), "maxRegionSize");
        // The largest geometry the layout allows stays within long arithmetic and is refused by the size bound only.
        refused(() -> SharedMapOptions.of(SharedMapOptions.MAX_CAPACITY, 65536, 1 << 24), "max region size");
    }

    @Test
    void geometryFollowsTheCapacity() {
        SharedMapOptions o = SharedMapOptions.of(1, 1, 0);
        assertEquals(2, o.slotCount());
        assertEquals(40, o.slotLength());
        assertEquals(128 + 80, o.regionSize());
        assertEquals(4, SharedMapOptions.of(3, 8, 8).slotCount());
        assertEquals(8, SharedMapOptions.of(4, 8, 8).slotCount());      // 4 x 4/3 = 5.3 -> 8
        assertEquals(1024, SharedMapOptions.of(768, 8, 8).slotCount()); // exactly 3/4
        assertEquals(2048, SharedMapOptions.of(769, 8, 8).slotCount());
        assertEquals(32 + 16 + 2 * 104, SharedMapOptions.of(1, 9, 100).slotLength());
        assertEquals(1 << 30, SharedMapDescriptor.slotCountFor(SharedMapOptions.MAX_CAPACITY));
    }

    @Test
    void aFullMapAndOverlongKeysAndValuesAreRefusedWithoutAChange() {
        try (SharedMapWriter w = SharedMapWriter.create("test.map-limits", SharedMapOptions.of(2, 4, 6))) {
            assertTrue(w.put("k1", new byte[6]));
            assertTrue(w.put("k2", new byte[0]));
            LimitExceededException full = assertThrows(LimitExceededException.class, () -> w.put("k3", new byte[1]));
            assertTrue(full.getMessage().contains("full (2 live entries, the capacity); new key \"k3\" refused"), full.getMessage());
            assertFalse(w.put("k1", new byte[]{9}), "an update of a live key still works when full");
            refused(() -> w.put("k12345", new byte[1]), "key of 6 bytes is longer than the max key length 4");
            refused(() -> w.put("k1", new byte[7]), "value of 7 bytes is longer than the max value length 6");
            assertEquals(2, w.size());
            assertEquals(3, w.updatesApplied());
            assertEquals(1, w.get("k1").byteSize());
            assertNull(w.get("k12345"));
            assertFalse(w.remove("k12345"));
            assertTrue(w.remove("k2"));
            assertTrue(w.put("k3", new byte[1]), "room again after a remove");
        }
    }
}
