package io.sluice.cache.snapshot;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Building a table and looking keys up in it: what goes in comes out, in place. */
class SnapshotTableTest {

    /** A random table: distinct random keys (some empty, some long), random values. */
    record Table(List<byte[]> keys, List<byte[]> values, SnapshotWriter writer) {
        static Table random(SplittableRandom rnd, int maxEntries) {
            int n = rnd.nextInt(maxEntries + 1);
            List<byte[]> keys = new ArrayList<>();
            List<byte[]> values = new ArrayList<>();
            Set<String> seen = new HashSet<>();
            SnapshotWriter w = new SnapshotWriter();
            while (keys.size() < n) {
                byte[] key = bytes(rnd, rnd.nextInt(8) == 0 ? rnd.nextInt(200) : rnd.nextInt(12));
                if (!seen.add(java.util.HexFormat.of().formatHex(key))) {
                    continue;
                }
                byte[] value = bytes(rnd, rnd.nextInt(10) == 0 ? rnd.nextInt(2000) : rnd.nextInt(40));
                keys.add(key);
                values.add(value);
                w.put(key, value);
            }
            return new Table(keys, values, w);
        }

        MemorySegment layOut(long version) {
            MemorySegment seg = MemorySegment.ofArray(new byte[(int) writer.regionSize()]);
            writer.writeTo(seg, version);
            return seg;
        }

        Set<String> keySet() {
            Set<String> s = new HashSet<>();
            keys.forEach(k -> s.add(java.util.HexFormat.of().formatHex(k)));
            return s;
        }
    }

    static byte[] bytes(SplittableRandom rnd, int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) rnd.nextInt(256);
        }
        return b;
    }

    @Test
    void everyKeyPutIsFoundWithItsValueAndAbsentKeysAreNot() {
        long seed = Seeded.seed();
        Seeded.run(seed, rnd -> {
            for (int round = 0; round < 40; round++) {
                Table t = Table.random(rnd, round < 20 ? 20 : 3000);
                long version = 1 + rnd.nextLong(Long.MAX_VALUE - 1);
                SnapshotReader r = SnapshotReader.open(t.layOut(version), "random");
                assertEquals(version, r.snapshotVersion());
                assertEquals(t.keys().size(), r.entryCount());
                r.verify();
                for (int i = 0; i < t.keys().size(); i++) {
                    MemorySegment v = r.get(t.keys().get(i));
                    assertNotNull(v, "key " + i + " of " + t.keys().size() + " not found");
                    assertTrue(v.isReadOnly(), "a value is a read-only slice");
                    assertArrayEquals(t.values().get(i), v.toArray(ValueLayout.JAVA_BYTE), "value of key " + i);
                }
                Set<String> present = t.keySet();
                for (int i = 0; i < 200; i++) {
                    byte[] other = bytes(rnd, rnd.nextInt(14));
                    if (!present.contains(java.util.HexFormat.of().formatHex(other))) {
                        assertNull(r.get(other), "absent key found");
                    }
                }
            }
        });
    }

    @Test
    void valuesAreSlicesOfTheTableNotCopies() {
        SnapshotWriter w = new SnapshotWriter().put("EURUSD", new byte[]{1, 2, 3, 4, 5, 6, 7, 8, 9});
        MemorySegment seg = MemorySegment.ofArray(new byte[(int) w.regionSize()]);
        w.writeTo(seg, 7);
        MemorySegment v = SnapshotReader.open(seg, "slices").get("EURUSD");
        seg.set(ValueLayout.JAVA_BYTE, v.address() - seg.address(), (byte) 42); // heap segments: address() is the offset
        assertEquals(42, v.get(ValueLayout.JAVA_BYTE, 0), "the slice sees the table's bytes");
        assertEquals(0, (v.address() - seg.address()) % SnapshotDescriptor.ALIGNMENT, "values are 8-aligned");
    }

    @Test
    void emptyTableFindsNothing() {
        SnapshotWriter w = new SnapshotWriter();
        MemorySegment seg = MemorySegment.ofArray(new byte[(int) w.regionSize()]);
        w.writeTo(seg, 1);
        SnapshotReader r = SnapshotReader.open(seg, "empty");
        r.verify();
        assertEquals(0, r.entryCount());
        assertNull(r.get("anything"));
        assertNull(r.get(new byte[0]));
    }

    @Test
    void aKeyCanBePutOnlyOnce() {
        SnapshotWriter w = new SnapshotWriter().put("ABC.L", new byte[1]);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> w.put("ABC.L", new byte[2]));
        assertTrue(e.getMessage().contains("\"ABC.L\""), e.getMessage());
    }

    @Test
    void snapshotVersionsStartAtOne() {
        SnapshotWriter w = new SnapshotWriter().put("k", new byte[1]);
        MemorySegment seg = MemorySegment.ofArray(new byte[(int) w.regionSize()]);
        assertThrows(IllegalArgumentException.class, () -> w.writeTo(seg, 0));
    }

    @Test
    void loadFactorStaysAtMostOneHalf() {
        for (int n : new int[]{0, 1, 2, 3, 4, 5, 1000, 1024, 1025}) {
            SnapshotWriter w = new SnapshotWriter();
            for (int i = 0; i < n; i++) {
                w.put("k" + i, new byte[0]);
            }
            int slots = w.slotCount();
            assertEquals(1, Integer.bitCount(slots), n + " entries: " + slots + " slots");
            assertTrue(slots >= 2 * n && (n == 0 || slots < 4 * n), n + " entries: " + slots + " slots");
        }
    }

    @Test
    void hashIsTheDocumentedFunction() {
        // Test vectors printed by the C code in docs/snapshot-layout.md, so that another
        // implementation can check itself against the same numbers.
        assertEquals(0xefd01f60ba992926L, SnapshotDescriptor.hash(ascii("")));
        assertEquals(0x82a2a958a9bece5bL, SnapshotDescriptor.hash(ascii("a")));
        assertEquals(0x618232d8ad9eb677L, SnapshotDescriptor.hash(ascii("QZKA.L")));
        assertEquals(0x7bb382920b2b5d67L, SnapshotDescriptor.hash(ascii("EURUSD")));
        assertEquals(0x7bb382920b2b5d67L, SnapshotDescriptor.hash(MemorySegment.ofArray(ascii("xEURUSDx")), 1, 6),
                "the segment form hashes the same bytes the same way");
    }

    private static byte[] ascii(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }
}
