package io.sluice.cache.map;

import io.sluice.api.LimitExceededException;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Random puts, updates, removes and gets against a {@link HashMap}: after every step the writer,
 * a reader over the same memfd and the header counters agree with the model exactly, including
 * when inserts reuse tombstones and when a full map refuses a new key.
 */
class SharedMapModelTest {
    private static final int CAPACITY = 48;   // 64 slots
    private static final int KEYS = 80;       // more keys than capacity: the map fills up
    private static final int MAX_KEY = 12;
    private static final int MAX_VALUE = 40;

    @Test
    void randomOperationsMatchAHashMapExactly() {
        long seed = Seeded.seed();
        for (int run = 0; run < 4; run++) {
            Seeded.run(seed + run, this::oneRun);
        }
    }

    private void oneRun(SplittableRandom random) {
        try (SharedMapWriter w = SharedMapWriter.create("test.map-model", SharedMapOptions.of(CAPACITY, MAX_KEY, MAX_VALUE));
             SharedMapReader r = SharedMapReader.adopt(io.sluice.testing.TestCalls.reopenReadOnly(w.region()), w.regionSize())) {
            assertEquals(64, w.geometry().slotCount());
            Map<String, byte[]> model = new HashMap<>();
            MemorySegment dst = MemorySegment.ofArray(new byte[MAX_VALUE]);
            long changes = 0;
            int refusals = 0;
            for (int step = 0; step < 20_000; step++) {
                byte[] key = key(random.nextInt(KEYS));
                String k = new String(key, StandardCharsets.ISO_8859_1);
                int op = random.nextInt(10);
                if (op < 5) {
                    byte[] value = new byte[random.nextInt(MAX_VALUE + 1)];
                    random.nextBytes(value);
                    if (!model.containsKey(k) && model.size() == CAPACITY) {
                        assertThrows(LimitExceededException.class, () -> w.put(key, value), "full map, new key");
                        refusals++;
                    } else {
                        assertEquals(!model.containsKey(k), w.put(key, value), "put returns whether the key was new");
                        model.put(k, value);
                        changes++;
                    }
                } else if (op < 8) {
                    boolean present = model.remove(k) != null;
                    assertEquals(present, w.remove(key), "remove returns whether the key was present");
                    if (present) {
                        changes++;
                    }
                } else {
                    byte[] expected = model.get(k);
                    MemorySegment own = w.get(key);
                    int length = r.get(key, dst);
                    Object inPlace = r.read(MemorySegment.ofArray(key), (m, at, n) -> m.asSlice(at, n).toArray(ValueLayout.JAVA_BYTE));
                    if (expected == null) {
                        assertNull(own);
                        assertEquals(SharedMapReader.ABSENT, length);
                        assertNull(inPlace);
                        assertFalse(r.contains(key));
                    } else {
                        assertArrayEquals(expected, own.toArray(ValueLayout.JAVA_BYTE));
                        assertArrayEquals(expected, dst.asSlice(0, length).toArray(ValueLayout.JAVA_BYTE));
                        assertArrayEquals(expected, (byte[]) inPlace);
                        assertTrue(r.contains(key));
                    }
                }
                assertEquals(model.size(), w.size());
                assertEquals(model.size(), r.size(), "live entries in the header");
                assertEquals(changes, r.updatesApplied(), "updates applied in the header");
            }
            assertTrue(refusals > 0, "the map filled up at least once");
            assertEquals(toHex(model), toHex(entries(r)), "reader's iteration");
            Map<String, byte[]> own = new HashMap<>();
            w.forEach((k, v) -> own.put(new String(k.toArray(ValueLayout.JAVA_BYTE), StandardCharsets.ISO_8859_1),
                    v.toArray(ValueLayout.JAVA_BYTE)));
            assertEquals(toHex(model), toHex(own), "writer's iteration");
            assertTombstonesOnlyGrowAndAreReused(w);
        }
    }

    /** No slot ever returns to EMPTY, and the live + deleted slots never exceed the slot count. */
    private static void assertTombstonesOnlyGrowAndAreReused(SharedMapWriter w) {
        int empty = 0;
        int deleted = 0;
        int live = 0;
        MemorySegment m = w.segment();
        for (int i = 0; i < w.geometry().slotCount(); i++) {
            long c = m.get(SharedMapDescriptor.U64, w.geometry().slotOffset(i));
            switch (SharedMapDescriptor.state(c)) {
                case SharedMapDescriptor.EMPTY -> empty++;
                case SharedMapDescriptor.DELETED -> deleted++;
                default -> live++;
            }
        }
        assertEquals(w.size(), live);
        // 80 keys over 64 slots with 20 000 operations: every slot has been used, and the map
        // still works because inserts reuse tombstones.
        assertEquals(0, empty, "after many removes every slot is live or a tombstone (empty " + empty + ", deleted " + deleted + ")");
    }

    @Test
    void anInsertReusesTheFirstTombstoneOnItsChainAndSkipsNone() {
        try (SharedMapWriter w = SharedMapWriter.create("test.map-tombstone", SharedMapOptions.of(3, 8, 8))) {
            assertEquals(4, w.geometry().slotCount());
            w.put("a", new byte[]{1});
            w.put("b", new byte[]{2});
            w.put("c", new byte[]{3});
            assertTrue(w.remove("a"));
            assertTrue(w.remove("b"));
            w.put("d", new byte[]{4});
            w.put("b", new byte[]{5}); // b's old slot or a's: a tombstone, never a second copy
            SharedMapReader r = w.reader();
            assertEquals(3, r.forEach((k, v) -> { }));
            assertArrayEquals(new byte[]{5}, w.get("b").toArray(ValueLayout.JAVA_BYTE));
            assertArrayEquals(new byte[]{3}, w.get("c").toArray(ValueLayout.JAVA_BYTE));
            assertArrayEquals(new byte[]{4}, w.get("d").toArray(ValueLayout.JAVA_BYTE));
            assertFalse(r.contains("a"));
            assertThrows(LimitExceededException.class, () -> w.put("e", new byte[0]));
        }
    }

    private static byte[] key(int i) {
        return ("k" + i).getBytes(StandardCharsets.US_ASCII);
    }

    private static Map<String, byte[]> entries(SharedMapReader r) {
        Map<String, byte[]> m = new HashMap<>();
        r.forEach((k, v) -> m.put(new String(k.toArray(ValueLayout.JAVA_BYTE), StandardCharsets.ISO_8859_1),
                v.toArray(ValueLayout.JAVA_BYTE)));
        return m;
    }

    private static Map<String, String> toHex(Map<String, byte[]> m) {
        Map<String, String> out = new java.util.TreeMap<>();
        m.forEach((k, v) -> out.put(k, HexFormat.of().formatHex(v)));
        return out;
    }
}
