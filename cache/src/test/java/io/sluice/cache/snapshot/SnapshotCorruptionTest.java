package io.sluice.cache.snapshot;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import static io.sluice.cache.snapshot.SnapshotDescriptor.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A reader distrusts the table: every impossible header field, offset, length or slot yields a
 * {@link CorruptSnapshotException} that names it, never a read outside the segment, an endless
 * probe, or an exception of another kind.
 */
class SnapshotCorruptionTest {
    private static final int KEYS = 40;

    private static byte[] key(int i) {
        return ("key-" + i).getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] value(int i) {
        return ("value of key " + i + " " + "x".repeat(i)).getBytes(StandardCharsets.US_ASCII);
    }

    /** A valid table of {@value #KEYS} keys in a heap segment. */
    private static MemorySegment table() {
        SnapshotWriter w = new SnapshotWriter();
        for (int i = 0; i < KEYS; i++) {
            w.put(key(i), value(i));
        }
        MemorySegment seg = MemorySegment.ofArray(new byte[(int) w.regionSize()]);
        w.writeTo(seg, 5);
        return seg;
    }

    private static void assertRefusedAtOpen(Consumer<MemorySegment> damage, String... messageParts) {
        MemorySegment seg = table();
        damage.accept(seg);
        CorruptSnapshotException e = assertThrows(CorruptSnapshotException.class, () -> SnapshotReader.open(seg, "t"));
        for (String part : messageParts) {
            assertTrue(e.getMessage().contains(part), "message '" + e.getMessage() + "' should name '" + part + "'");
        }
    }

    @Test
    void segmentSmallerThanTheHeaderIsRefused() {
        CorruptSnapshotException e = assertThrows(CorruptSnapshotException.class,
                () -> SnapshotReader.open(table().asSlice(0, HEADER_LENGTH - 1), "t"));
        assertTrue(e.getMessage().contains("smaller than the 64-byte header"), e.getMessage());
    }

    @Test
    void everyImpossibleHeaderFieldIsRefusedByName() {
        assertRefusedAtOpen(s -> s.set(U64, MAGIC_OFFSET, 0x1234L), "bad magic 0x1234");
        assertRefusedAtOpen(s -> s.set(U32, LAYOUT_VERSION_OFFSET, 2), "layout version 2");
        assertRefusedAtOpen(s -> s.set(U32, LAYOUT_VERSION_OFFSET, -1), "layout version 4294967295");
        assertRefusedAtOpen(s -> s.set(U32, HEADER_LENGTH_OFFSET, 128), "header length 128");
        assertRefusedAtOpen(s -> s.set(U64, SNAPSHOT_VERSION_OFFSET, 0L), "snapshot version 0");
        assertRefusedAtOpen(s -> s.set(U64, SNAPSHOT_VERSION_OFFSET, -1L), "snapshot version 18446744073709551615");
        assertRefusedAtOpen(s -> s.set(U32, SLOT_COUNT_OFFSET, 0), "slot count 0");
        assertRefusedAtOpen(s -> s.set(U32, SLOT_COUNT_OFFSET, 96), "slot count 96 is not a power of two");
        assertRefusedAtOpen(s -> s.set(U32, SLOT_COUNT_OFFSET, 1 << 31), "slot count 2147483648");
        assertRefusedAtOpen(s -> s.set(U32, SLOT_COUNT_OFFSET, 1 << 20), "slots end at", "past the segment");
        assertRefusedAtOpen(s -> s.set(U32, ENTRY_COUNT_OFFSET, 1000), "entry count 1000 exceeds the slot count");
        assertRefusedAtOpen(s -> s.set(U32, ENTRY_COUNT_OFFSET, -1), "entry count 4294967295");
        assertRefusedAtOpen(s -> s.set(U32, MAX_PROBE_OFFSET, 1000), "max probe length 1000 exceeds");
        assertRefusedAtOpen(s -> s.set(U32, MAX_PROBE_OFFSET, 0), "max probe length 0 with 40 entries");
        assertRefusedAtOpen(s -> s.set(U32, RESERVED_U32_OFFSET, 1), "reserved");
        assertRefusedAtOpen(s -> s.set(U64, RESERVED_U64_OFFSET, 1L), "reserved");
        assertRefusedAtOpen(s -> s.set(U64, HEAP_OFFSET_OFFSET, HEADER_LENGTH), "heap offset 64");
        assertRefusedAtOpen(s -> s.set(U64, HEAP_OFFSET_OFFSET, s.get(U64, HEAP_OFFSET_OFFSET) + 4), "8-aligned");
        assertRefusedAtOpen(s -> s.set(U64, HEAP_OFFSET_OFFSET, s.byteSize() + 8), "within the segment");
        assertRefusedAtOpen(s -> s.set(U64, HEAP_OFFSET_OFFSET, Long.MIN_VALUE), "heap offset 9223372036854775808");
        assertRefusedAtOpen(s -> s.set(U64, HEAP_LENGTH_OFFSET, s.get(U64, HEAP_LENGTH_OFFSET) + 1), "runs past the segment");
        assertRefusedAtOpen(s -> s.set(U64, HEAP_LENGTH_OFFSET, -8L), "heap of 18446744073709551608 bytes");
        assertRefusedAtOpen(s -> s.set(U64, HEAP_LENGTH_OFFSET, 8L), "40 entries cannot fit a heap of 8 bytes");
    }

    /** The slot that key {@code i} occupies. */
    private static int slotOf(MemorySegment seg, int i) {
        int slots = seg.get(U32, SLOT_COUNT_OFFSET);
        int slot = (int) hash(key(i)) & (slots - 1);
        while (true) {
            long entry = seg.get(U64, slotOffset(slot) + SLOT_ENTRY_OFFSET);
            byte[] k = key(i);
            if (entry != 0 && seg.get(U32, entry) == k.length
                    && MemorySegment.mismatch(seg, entry + 8, entry + 8 + k.length, MemorySegment.ofArray(k), 0, k.length) == -1) {
                return slot;
            }
            slot = (slot + 1) & (slots - 1);
        }
    }

    private static long entryOf(MemorySegment seg, int i) {
        return seg.get(U64, slotOffset(slotOf(seg, i)) + SLOT_ENTRY_OFFSET);
    }

    /** Damages the table after the header was accepted; the lookup of key 7 must be refused. */
    private static void assertLookupRefused(Consumer<MemorySegment> damage, String... messageParts) {
        MemorySegment seg = table();
        damage.accept(seg);
        SnapshotReader r = SnapshotReader.open(seg, "t");
        CorruptSnapshotException e = assertThrows(CorruptSnapshotException.class, () -> r.get(key(7)));
        for (String part : messageParts) {
            assertTrue(e.getMessage().contains(part), "message '" + e.getMessage() + "' should name '" + part + "'");
        }
        assertThrows(CorruptSnapshotException.class, r::verify, "verify() finds it too");
    }

    @Test
    void aSlotPointingOutsideTheHeapIsRefused() {
        assertLookupRefused(s -> s.set(U64, slotOffset(slotOf(s, 7)) + SLOT_ENTRY_OFFSET, 8L), "entry offset 8 is not");
        assertLookupRefused(s -> s.set(U64, slotOffset(slotOf(s, 7)) + SLOT_ENTRY_OFFSET, s.byteSize()), "inside the heap");
        assertLookupRefused(s -> s.set(U64, slotOffset(slotOf(s, 7)) + SLOT_ENTRY_OFFSET, s.byteSize() - 4), "inside the heap");
        assertLookupRefused(s -> s.set(U64, slotOffset(slotOf(s, 7)) + SLOT_ENTRY_OFFSET, entryOf(s, 7) + 4), "8-aligned");
        assertLookupRefused(s -> s.set(U64, slotOffset(slotOf(s, 7)) + SLOT_ENTRY_OFFSET, -8L), "entry offset 18446744073709551608");
    }

    @Test
    void anEntryLengthRunningPastTheHeapIsRefused() {
        assertLookupRefused(s -> s.set(U32, entryOf(s, 7) + ENTRY_KEY_LENGTH_OFFSET, -1), "key length 4294967295", "runs past the heap");
        assertLookupRefused(s -> s.set(U32, entryOf(s, 7) + ENTRY_VALUE_LENGTH_OFFSET, -1), "value length 4294967295");
        assertLookupRefused(s -> {
            long entry = entryOf(s, 7);
            long heapEnd = s.get(U64, HEAP_OFFSET_OFFSET) + s.get(U64, HEAP_LENGTH_OFFSET);
            long valueAt = entry + ENTRY_HEADER_LENGTH + align(key(7).length);
            s.set(U32, entry + ENTRY_VALUE_LENGTH_OFFSET, (int) (heapEnd - valueAt + 1)); // one byte too many
        }, "runs past the heap's end");
    }

    @Test
    void aSlotRedirectedToAnotherKeysEntryIsRefused() {
        // Swapping two slots' entry offsets: key 7's slot still carries key 7's hash, but its
        // entry holds key 8. A lookup must not answer "absent" for a key the owner put.
        assertLookupRefused(s -> {
            long a = slotOffset(slotOf(s, 7)) + SLOT_ENTRY_OFFSET;
            long b = slotOffset(slotOf(s, 8)) + SLOT_ENTRY_OFFSET;
            long t = s.get(U64, a);
            s.set(U64, a, s.get(U64, b));
            s.set(U64, b, t);
        }, "holds hash", "\"key-8\" hashes to");
    }

    private static void assertVerifyRefuses(Consumer<MemorySegment> damage, String... messageParts) {
        MemorySegment seg = table();
        damage.accept(seg);
        SnapshotReader r = SnapshotReader.open(seg, "t");
        CorruptSnapshotException e = assertThrows(CorruptSnapshotException.class, r::verify);
        for (String part : messageParts) {
            assertTrue(e.getMessage().contains(part), "message '" + e.getMessage() + "' should name '" + part + "'");
        }
    }

    @Test
    void verifyFindsWhatSingleLookupsCannotSee() {
        // A forged hash makes key 7 unreachable: a lookup can only say "absent"; verify() names it.
        assertVerifyRefuses(s -> s.set(U64, slotOffset(slotOf(s, 7)) + SLOT_HASH_OFFSET, 12345L), "holds hash 0x3039");
        assertVerifyRefuses(s -> s.set(U32, ENTRY_COUNT_OFFSET, KEYS - 1), "header says 39 entries");
        assertVerifyRefuses(s -> s.set(U32, ENTRY_COUNT_OFFSET, KEYS + 1), "header says 41 entries, the slots hold 40");
        assertVerifyRefuses(s -> {
            for (int slot = 0; ; slot++) {
                if (s.get(U64, slotOffset(slot) + SLOT_ENTRY_OFFSET) == 0) {
                    s.set(U64, slotOffset(slot) + SLOT_HASH_OFFSET, 1L);
                    return;
                }
            }
        }, "has hash 0x1, must be 0");
    }

    @Test
    void verifyFindsKeysLookupsCannotReach() {
        MemorySegment seg = table();
        int slots = seg.get(U32, SLOT_COUNT_OFFSET);
        // Find a key stored away from its home slot (with 40 keys in 128 slots there are some).
        int displaced = -1;
        for (int i = 0; i < KEYS && displaced < 0; i++) {
            if (slotOf(seg, i) != ((int) hash(key(i)) & (slots - 1))) {
                displaced = i;
            }
        }
        assertTrue(displaced >= 0, "the test table should hold a displaced key");
        int k = displaced;
        // Max probe length 1: the key lies beyond it.
        assertVerifyRefuses(s -> s.set(U32, MAX_PROBE_OFFSET, 1), "beyond the max probe length 1");
        // Move the key one slot further and open a hole where it was: the probe stops at the hole.
        assertVerifyRefuses(s -> {
            int slot = slotOf(s, k);
            int next = (slot + 1) & (slots - 1);
            while (s.get(U64, slotOffset(next) + SLOT_ENTRY_OFFSET) != 0) {
                next = (next + 1) & (slots - 1);
            }
            MemorySegment.copy(s, slotOffset(slot), s, slotOffset(next), SLOT_LENGTH);
            s.asSlice(slotOffset(slot), SLOT_LENGTH).fill((byte) 0);
            s.set(U32, MAX_PROBE_OFFSET, slots);
        }, "an empty slot lies between it and the home slot");
    }

    @Test
    void verifyFindsAKeyStoredTwice() {
        assertVerifyRefuses(s -> {
            int slots = s.get(U32, SLOT_COUNT_OFFSET);
            int slot = slotOf(s, 7);
            int next = (slot + 1) & (slots - 1);
            while (s.get(U64, slotOffset(next) + SLOT_ENTRY_OFFSET) != 0) {
                next = (next + 1) & (slots - 1);
            }
            MemorySegment.copy(s, slotOffset(slot), s, slotOffset(next), SLOT_LENGTH); // same hash, same entry
            s.set(U32, ENTRY_COUNT_OFFSET, KEYS + 1);
            s.set(U32, MAX_PROBE_OFFSET, slots);
        }, "both hold key \"key-7\"");
    }

    @Test
    void probingIsBoundedEvenWhenNoSlotIsEmpty() {
        // Every slot occupied and max probe = slot count: the worst a header may claim. A miss
        // examines each slot once and ends.
        SnapshotWriter w = new SnapshotWriter();
        for (int i = 0; i < 4; i++) {
            w.put(key(i), value(i));
        }
        MemorySegment seg = MemorySegment.ofArray(new byte[(int) w.regionSize()]);
        w.writeTo(seg, 1);
        int slots = seg.get(U32, SLOT_COUNT_OFFSET);
        List<Long> entries = new ArrayList<>();
        for (int s = 0; s < slots; s++) {
            long e = seg.get(U64, slotOffset(s) + SLOT_ENTRY_OFFSET);
            if (e != 0) {
                entries.add(e);
            }
        }
        for (int s = 0; s < slots; s++) { // fill the empty slots with copies of a valid slot
            if (seg.get(U64, slotOffset(s) + SLOT_ENTRY_OFFSET) == 0) {
                seg.set(U64, slotOffset(s) + SLOT_ENTRY_OFFSET, entries.getFirst());
                seg.set(U64, slotOffset(s) + SLOT_HASH_OFFSET, 0x5555L);
            }
        }
        seg.set(U32, ENTRY_COUNT_OFFSET, slots);
        seg.set(U32, MAX_PROBE_OFFSET, slots);
        SnapshotReader r = SnapshotReader.open(seg, "full");
        assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
            assertNull(r.get("no such key"));
            assertArrayEquals(value(2), r.get(key(2)).toArray(ValueLayout.JAVA_BYTE));
        });
        assertThrows(CorruptSnapshotException.class, r::verify);
    }

    @Test
    void randomDamageNeverEscapesAsAnythingButCorruptSnapshotException() {
        long seed = Seeded.seed();
        Seeded.run(seed, rnd -> {
            MemorySegment pristine = table();
            long heapOffset = pristine.get(U64, HEAP_OFFSET_OFFSET);
            for (int round = 0; round < 3000; round++) {
                MemorySegment seg = MemorySegment.ofArray(pristine.toArray(ValueLayout.JAVA_BYTE));
                int damages = 1 + rnd.nextInt(4);
                for (int d = 0; d < damages; d++) {
                    // Aim mostly at the header and slots, where the offsets and lengths live.
                    long at = switch (rnd.nextInt(3)) {
                        case 0 -> rnd.nextLong(HEADER_LENGTH);
                        case 1 -> rnd.nextLong(heapOffset);
                        default -> rnd.nextLong(seg.byteSize());
                    };
                    switch (rnd.nextInt(3)) {
                        case 0 -> seg.set(ValueLayout.JAVA_BYTE, at, (byte) (seg.get(ValueLayout.JAVA_BYTE, at) ^ (1 << rnd.nextInt(8))));
                        case 1 -> seg.set(ValueLayout.JAVA_BYTE, at, (byte) rnd.nextInt(256));
                        default -> { // a whole word of something plausible or hostile
                            long word = switch (rnd.nextInt(4)) {
                                case 0 -> -1L;
                                case 1 -> rnd.nextLong(seg.byteSize() + 64);
                                case 2 -> Long.MIN_VALUE + rnd.nextLong(64);
                                default -> rnd.nextLong();
                            };
                            long wordAt = Math.min(at, seg.byteSize() - 8);
                            seg.set(U64, wordAt, word);
                        }
                    }
                }
                try {
                    SnapshotReader r = SnapshotReader.open(seg, "fuzzed");
                    for (int i = 0; i < KEYS + 5; i++) {
                        try {
                            r.get(key(i));
                        } catch (CorruptSnapshotException expected) {
                            // a clear refusal is a correct outcome
                        }
                    }
                    r.verify();
                } catch (CorruptSnapshotException expected) {
                    // likewise
                }
            }
        });
    }
}
