package io.sluice.cache.map;

import io.sluice.api.LimitExceededException;
import io.sluice.api.RegionRefusedException;
import io.sluice.api.SystemCallException;
import io.sluice.memfd.MemfdRegion;
import io.sluice.memfd.Seal;
import io.sluice.testing.TestCalls;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Consumer;

import static io.sluice.cache.map.SharedMapDescriptor.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A reader distrusts the map: a region without the seals is refused before it is mapped, every
 * impossible header field is refused by name, and over random damage to the slots a lookup or a
 * walk returns a result or throws {@link CorruptMapException}, never reads outside the region,
 * never loops. The kernel keeps readers read-only.
 */
class SharedMapCorruptionTest {
    private static final int KEYS = 40;

    private static SharedMapWriter validMap(String name) {
        SharedMapWriter w = SharedMapWriter.create(name, SharedMapOptions.of(KEYS, 16, Checksummed.MAX_LENGTH));
        for (int i = 0; i < KEYS; i++) {
            w.put(key(i), Checksummed.of(i));
        }
        for (int i = 0; i < KEYS; i += 3) {
            w.put(key(i), Checksummed.of(i + 1000)); // some slots on buffer 1
        }
        for (int i = 0; i < KEYS; i += 7) {
            w.remove(key(i)); // some tombstones
        }
        return w;
    }

    private static byte[] key(int i) {
        return ("key-" + i).getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void aRegionWithoutTheSealsIsRefusedBeforeItIsMapped() {
        try (MemfdRegion forged = MemfdRegion.create("test.map-unsealed", SharedMapOptions.of(4, 8, 8).regionSize())) {
            forged.addSeals(Seal.SHRINK, Seal.GROW); // no FUTURE_WRITE: its owner could map it writable later
            RegionRefusedException e = assertThrows(RegionRefusedException.class,
                    () -> SharedMapReader.adopt(TestCalls.reopenReadOnly(forged), forged.size()));
            assertTrue(e.getMessage().contains("missing FUTURE_WRITE"), e.getMessage());
        }
        try (SharedMapWriter w = validMap("test.map-size")) {
            RegionRefusedException e = assertThrows(RegionRefusedException.class,
                    () -> SharedMapReader.adopt(TestCalls.reopenReadOnly(w.region()), w.regionSize() + 8));
            assertTrue(e.getMessage().contains("promised"), e.getMessage());
            e = assertThrows(RegionRefusedException.class, () -> SharedMapReader.adopt(TestCalls.reopenReadOnly(w.region()), 64));
            assertTrue(e.getMessage().contains("announced size 64"), e.getMessage());
        }
    }

    @Test
    void theKernelKeepsEveryoneButTheOwnersMappingReadOnly() {
        try (SharedMapWriter w = validMap("test.map-seals");
             SharedMapReader r = SharedMapReader.adopt(TestCalls.reopenReadOnly(w.region()), w.regionSize())) {
            assertTrue(w.region().seals().containsAll(EnumSet.of(Seal.SHRINK, Seal.GROW, Seal.FUTURE_WRITE, Seal.SEAL)));
            SystemCallException own = assertThrows(SystemCallException.class, () -> w.region().mapReadWrite());
            assertEquals("EPERM", own.errnoName(), "the owner's own second writable mapping");
            SystemCallException reader = assertThrows(SystemCallException.class, () -> r.region().mapReadWrite());
            assertTrue(Set.of("EACCES", "EPERM").contains(reader.errnoName()), "the reader's writable mapping: " + reader.errnoName());
            assertThrows(IllegalArgumentException.class, () -> r.segment().set(ValueLayout.JAVA_BYTE, 200, (byte) 1),
                    "a Java store through the reader's segment");
            w.put(key(1), Checksummed.of(77)); // the owner's mapping keeps working
            MemorySegment dst = MemorySegment.ofArray(new byte[Checksummed.MAX_LENGTH]);
            assertEquals(77, Checksummed.verify(dst, r.get(key(1), dst)));
        }
    }

    private static void assertRefused(Consumer<MemorySegment> damage, String... parts) {
        try (SharedMapWriter w = validMap("test.map-header")) {
            MemorySegment copy = MemorySegment.ofArray(new long[(int) (w.regionSize() / 8)]);
            copy.copyFrom(w.segment());
            damage.accept(copy);
            CorruptMapException e = assertThrows(CorruptMapException.class, () -> SharedMapReader.open(copy, "t"));
            for (String p : parts) {
                assertTrue(e.getMessage().contains(p), "'" + e.getMessage() + "' should name '" + p + "'");
            }
        }
    }

    @Test
    void everyImpossibleHeaderFieldIsRefusedByName() {
        assertRefused(s -> s.set(U64, MAGIC_OFFSET, 0x1234L), "bad magic 0x1234");
        assertRefused(s -> s.set(U32, LAYOUT_VERSION_OFFSET, 2), "layout version 2");
        assertRefused(s -> s.set(U32, LAYOUT_VERSION_OFFSET, -1), "layout version 4294967295");
        assertRefused(s -> s.set(U32, HEADER_LENGTH_OFFSET, 64), "header length 64");
        assertRefused(s -> s.set(U32, SLOT_COUNT_OFFSET, 0), "slot count 0");
        assertRefused(s -> s.set(U32, SLOT_COUNT_OFFSET, 96), "slot count 96 is not a power of two");
        assertRefused(s -> s.set(U32, SLOT_COUNT_OFFSET, 1 << 31), "slot count 2147483648");
        assertRefused(s -> s.set(U32, SLOT_COUNT_OFFSET, 1 << 30), "need a region of", "the region has");
        assertRefused(s -> s.set(U32, SLOT_COUNT_OFFSET, 128), "need a region of");
        assertRefused(s -> s.set(U32, MAX_KEY_LENGTH_OFFSET, 0), "max key length 0");
        assertRefused(s -> s.set(U32, MAX_KEY_LENGTH_OFFSET, -1), "max key length 4294967295");
        assertRefused(s -> s.set(U32, MAX_KEY_LENGTH_OFFSET, 17), "slot length");
        assertRefused(s -> s.set(U32, MAX_VALUE_LENGTH_OFFSET, -1), "max value length 4294967295");
        assertRefused(s -> s.set(U32, MAX_VALUE_LENGTH_OFFSET, 81), "slot length");
        assertRefused(s -> s.set(U32, SLOT_LENGTH_OFFSET, 8), "slot length 8");
        assertRefused(s -> s.set(U32, CAPACITY_OFFSET, 0), "capacity 0");
        assertRefused(s -> s.set(U32, CAPACITY_OFFSET, 65), "capacity 65 is outside 1..slot count 64");
        assertRefused(s -> s.set(U32, RESERVED_U32_OFFSET, 1), "reserved");
        assertRefused(s -> s.set(ValueLayout.JAVA_BYTE, 127, (byte) 1), "reserved header bytes at offset 120");
        CorruptMapException small = assertThrows(CorruptMapException.class,
                () -> SharedMapReader.open(MemorySegment.ofArray(new long[8]), "t"));
        assertTrue(small.getMessage().contains("smaller than the 128-byte header"), small.getMessage());
    }

    @Test
    void aForgedRegionSealedAsRequiredIsRefusedAtAdoptOrReadSafely() {
        long seed = Seeded.seed();
        Seeded.run(seed, random -> {
            for (int round = 0; round < 40; round++) {
                long size = 128 + 8L * random.nextInt(4096);
                try (MemfdRegion forged = MemfdRegion.create("test.map-forged", size)) {
                    forged.fill(s -> {
                        byte[] garbage = new byte[(int) size];
                        random.nextBytes(garbage);
                        MemorySegment.copy(garbage, 0, s, ValueLayout.JAVA_BYTE, 0, garbage.length);
                        if (random.nextBoolean()) { // a plausible header, often: the rest is garbage
                            s.set(U64, MAGIC_OFFSET, MAGIC);
                            s.set(U32, LAYOUT_VERSION_OFFSET, LAYOUT_VERSION);
                            s.set(U32, HEADER_LENGTH_OFFSET, HEADER_LENGTH);
                        }
                    });
                    forged.addSeals(Seal.SHRINK, Seal.GROW, Seal.FUTURE_WRITE);
                    CorruptMapException e = assertThrows(CorruptMapException.class,
                            () -> SharedMapReader.adopt(TestCalls.reopenReadOnly(forged), size));
                    assertTrue(e.getMessage().startsWith("shared map 'test.map-forged': "), e.getMessage());
                }
            }
        });
    }

    @Test
    void randomDamageToTheSlotsYieldsResultsOrCorruptMapExceptionNeverAnOutOfBoundsRead() {
        long seed = Seeded.seed();
        Seeded.run(seed, random -> {
            for (int round = 0; round < 200; round++) {
                try (SharedMapWriter w = validMap("test.map-fuzz")) {
                    MemorySegment m = w.segment();
                    int flips = 1 + random.nextInt(64);
                    for (int f = 0; f < flips; f++) {
                        long at = HEADER_LENGTH + random.nextLong(m.byteSize() - HEADER_LENGTH);
                        if (random.nextInt(4) == 0) { // aim at the slot headers, where the lengths are
                            long slot = random.nextInt(w.geometry().slotCount());
                            at = w.geometry().slotOffset(slot) + random.nextInt(SLOT_HEADER_LENGTH);
                        }
                        m.set(ValueLayout.JAVA_BYTE, at, (byte) random.nextInt(256));
                    }
                    try (SharedMapReader r = SharedMapReader.adopt(TestCalls.reopenReadOnly(w.region()), w.regionSize())) {
                        lookEverywhere(r, random);
                    }
                }
            }
        });
    }

    private static void lookEverywhere(SharedMapReader r, SplittableRandom random) {
        MemorySegment dst = MemorySegment.ofArray(new byte[Checksummed.MAX_LENGTH]);
        for (int i = 0; i < KEYS + 20; i++) {
            byte[] key = key(i);
            attempt(() -> r.get(key, dst));
            attempt(() -> r.contains(key));
            attempt(() -> r.read(MemorySegment.ofArray(key), (m, at, n) -> m.asSlice(at, n).toArray(ValueLayout.JAVA_BYTE)));
        }
        attempt(() -> r.forEach((k, v) -> {
            if (k.byteSize() > 16 || v.byteSize() > Checksummed.MAX_LENGTH) {
                fail("an entry beyond the maxima was handed out: key " + k.byteSize() + ", value " + v.byteSize());
            }
        }));
    }

    /** Only a result or the documented exception; with no writer running, never a retry limit. */
    private static void attempt(Runnable lookup) {
        try {
            lookup.run();
        } catch (CorruptMapException expected) {
            assertTrue(expected.getMessage().startsWith("shared map 'test.map-fuzz': slot "), expected.getMessage());
        } catch (LimitExceededException | IndexOutOfBoundsException | IllegalArgumentException e) {
            throw new AssertionError("a damaged map must yield a result or CorruptMapException, not " + e, e);
        }
    }
}
