package io.sluice.cache.nativeclient;

import io.sluice.cache.CacheMessages;
import io.sluice.cache.snapshot.SnapshotDescriptor;
import io.sluice.cache.snapshot.SnapshotWriter;
import io.sluice.fdpassing.SeqPacketServer;
import io.sluice.fdpassing.SeqPacketSocket;
import io.sluice.memfd.MemfdRegion;
import io.sluice.memfd.OwnedFd;
import io.sluice.memfd.Seal;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

import static io.sluice.cache.snapshot.SnapshotDescriptor.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code sluice_snapshot_open} against regions a buggy or hostile owner sends: not
 * sealed WRITE, another size than announced, another version, and headers that break each rule of
 * docs/snapshot-layout.md. Each is refused with the code and the words that name it, the fd it
 * took is closed (the C process holds as many fds after as before), and the C side runs under
 * ASan and UBSan; tables whose slots point outside the heap open (per-lookup checks catch those)
 * and every lookup through them ends SLUICE_ECORRUPT or with an answer, never outside the region.
 */
class NativeSnapshotRefusalTest {
    private static final long TIMEOUT_S = 60;
    private static final long VERSION = 9;
    private static final int KEYS = 40;
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;

    @TempDir
    Path dir;

    /** One region sent, and what C must answer: its code, then a fragment of its message. */
    private record Case(String name, byte[] message, OwnedFd fd, AutoCloseable owner, String code, String words) {
    }

    private final List<Case> cases = new ArrayList<>();

    /** The valid table the damaged ones start from: keys key(0, 0..39) of cache_reader. */
    private static MemorySegment table() {
        SnapshotWriter w = new SnapshotWriter();
        for (int i = 0; i < KEYS; i++) {
            w.put(KeyStream.key(0, i), ("value " + i).getBytes());
        }
        MemorySegment seg = MemorySegment.ofArray(new byte[(int) w.regionSize()]);
        w.writeTo(seg, VERSION);
        return seg;
    }

    /** A memfd holding {@code bytes}, with {@code seals}. */
    private static MemfdRegion region(MemorySegment bytes, Set<Seal> seals) {
        MemfdRegion r = MemfdRegion.create("native.refusal", bytes.byteSize());
        r.fill(s -> s.copyFrom(bytes));
        if (!seals.isEmpty()) {
            r.addSeals(seals);
        }
        return r;
    }

    private void add(String name, MemorySegment bytes, Set<Seal> seals, long announcedVersion, long announcedSize,
                     String code, String words) {
        MemfdRegion r = region(bytes, seals);
        cases.add(new Case(name, CacheMessages.publish(CacheMessages.KIND_SNAPSHOT, announcedVersion, announcedSize), r.fd(), r, code, words));
    }

    private void damaged(String name, Consumer<MemorySegment> damage, String code, String words) {
        MemorySegment t = table();
        damage.accept(t);
        add(name, t, SnapshotWriter.SEALS, VERSION, t.byteSize(), code, words);
    }

    @Test
    void everyForgedRegionIsRefusedWithTheRightCodeAndNoFdLeft() throws Exception {
        CacheReader.assumeBuilt();
        MemorySegment good = table();
        long size = good.byteSize();
        add("valid", good, SnapshotWriter.SEALS, VERSION, size, "SLUICE_OK", "found 40 absent 0 corrupt 0");
        add("unsealed", good, Set.of(), VERSION, size, "SLUICE_EREGION", "missing SHRINK|GROW|WRITE");
        add("future-write-not-write", good, Set.of(Seal.SHRINK, Seal.GROW, Seal.FUTURE_WRITE), VERSION, size,
                "SLUICE_EREGION", "missing WRITE");
        add("no-grow-seal", good, Set.of(Seal.SHRINK, Seal.WRITE), VERSION, size, "SLUICE_EREGION", "missing GROW");
        add("larger-than-announced", good, SnapshotWriter.SEALS, VERSION, size - 8, "SLUICE_EREGION",
                "is " + size + " bytes, the host promised " + (size - 8));
        add("smaller-than-announced", good, SnapshotWriter.SEALS, VERSION, size + 4096, "SLUICE_EREGION",
                "is " + size + " bytes");
        add("other-version", good, SnapshotWriter.SEALS, VERSION + 1, size, "SLUICE_ELAYOUT",
                "header says version 9, the owner announced 10");
        add("smaller-than-header", good.asSlice(0, 40), SnapshotWriter.SEALS, VERSION, 40, "SLUICE_ELAYOUT",
                "region of 40 bytes is smaller than the 64-byte header");

        damaged("bad-magic", t -> t.set(U64, MAGIC_OFFSET, 0x4142_4344L), "SLUICE_ELAYOUT", "bad magic 0x41424344");
        damaged("layout-version", t -> t.set(U32, LAYOUT_VERSION_OFFSET, 2), "SLUICE_ELAYOUT", "layout version 2");
        damaged("header-length", t -> t.set(U32, HEADER_LENGTH_OFFSET, 128), "SLUICE_ELAYOUT", "header length 128");
        damaged("version-2^63", t -> t.set(U64, SNAPSHOT_VERSION_OFFSET, Long.MIN_VALUE), "SLUICE_ELAYOUT",
                "snapshot version 9223372036854775808 is outside");
        damaged("slot-count-not-power-of-two", t -> t.set(U32, SLOT_COUNT_OFFSET, 96), "SLUICE_ELAYOUT",
                "slot count 96 is not a power of two");
        damaged("slot-count-zero", t -> t.set(U32, SLOT_COUNT_OFFSET, 0), "SLUICE_ELAYOUT", "slot count 0");
        damaged("slot-count-2^31", t -> t.set(U32, SLOT_COUNT_OFFSET, 1 << 31), "SLUICE_ELAYOUT", "slot count 2147483648");
        damaged("slots-past-the-end", t -> {
            t.set(U32, SLOT_COUNT_OFFSET, 1 << 30);
            t.set(U32, MAX_PROBE_OFFSET, 1 << 30);
        }, "SLUICE_ELAYOUT", "1073741824 slots end at 17179869248, past the region");
        damaged("entries-above-slots", t -> t.set(U32, ENTRY_COUNT_OFFSET, 1 << 20), "SLUICE_ELAYOUT",
                "entry count 1048576 exceeds the slot count");
        damaged("probe-above-slots", t -> t.set(U32, MAX_PROBE_OFFSET, 1 << 20), "SLUICE_ELAYOUT",
                "max probe length 1048576 exceeds the slot count");
        damaged("probe-zero-with-entries", t -> t.set(U32, MAX_PROBE_OFFSET, 0), "SLUICE_ELAYOUT",
                "0 exactly when the table is empty");
        damaged("reserved", t -> t.set(U64, RESERVED_U64_OFFSET, 1), "SLUICE_ELAYOUT", "reserved header fields");
        damaged("heap-before-slots", t -> t.set(U64, HEAP_OFFSET_OFFSET, HEADER_LENGTH), "SLUICE_ELAYOUT",
                "heap offset 64 must be");
        damaged("heap-unaligned", t -> t.set(U64, HEAP_OFFSET_OFFSET, t.get(U64, HEAP_OFFSET_OFFSET) + 4),
                "SLUICE_ELAYOUT", "must be 8-aligned");
        damaged("heap-offset-2^64-8", t -> t.set(U64, HEAP_OFFSET_OFFSET, -8L), "SLUICE_ELAYOUT",
                "heap offset 18446744073709551608");
        damaged("heap-length-huge", t -> t.set(U64, HEAP_LENGTH_OFFSET, -1L), "SLUICE_ELAYOUT",
                "heap of 18446744073709551615 bytes");
        damaged("heap-too-small-for-entries", t -> t.set(U64, HEAP_LENGTH_OFFSET, 8), "SLUICE_ELAYOUT",
                "40 entries cannot fit a heap of 8 bytes");

        // Slots and entries that lie: the header is fine, so the table opens, and every lookup
        // that meets the lie says so; none reads outside the region.
        damaged("entry-offsets-outside-the-heap", t -> forEachOccupiedSlot(t, at -> t.set(U64, at + SLOT_ENTRY_OFFSET,
                t.byteSize() + 64)), "SLUICE_OK", "found 0 absent 0 corrupt 40");
        damaged("entry-offsets-unaligned", t -> forEachOccupiedSlot(t, at -> t.set(U64, at + SLOT_ENTRY_OFFSET,
                t.get(U64, at + SLOT_ENTRY_OFFSET) + 4)), "SLUICE_OK", "found 0 absent 0 corrupt 40");
        damaged("key-lengths-huge", t -> forEachOccupiedSlot(t, at -> t.set(U32, t.get(U64, at + SLOT_ENTRY_OFFSET)
                + ENTRY_KEY_LENGTH_OFFSET, -1)), "SLUICE_OK", "found 0 absent 0 corrupt 40");
        damaged("value-lengths-past-the-heap", t -> forEachOccupiedSlot(t, at -> t.set(U32, t.get(U64, at + SLOT_ENTRY_OFFSET)
                + ENTRY_VALUE_LENGTH_OFFSET, 1 << 30)), "SLUICE_OK", "found 0 absent 0 corrupt 40");
        damaged("hashes-forged", t -> forEachOccupiedSlot(t, at -> t.set(U64, at + SLOT_HASH_OFFSET,
                t.get(U64, at + SLOT_HASH_OFFSET) ^ 1)), "SLUICE_OK", "found 0 absent 40 corrupt 0");

        Path socket = dir.resolve("refusals.sock");
        try (SeqPacketServer server = SeqPacketServer.bind(socket);
             CacheReader c = CacheReader.reader(CacheReader.SANITIZED, "open-snapshots", socket.toString())) {
            try (SeqPacketSocket conn = server.accept(Duration.ofSeconds(TIMEOUT_S))) {
                assertNotNull(conn, "cache_reader did not connect; its output:\n" + c.output());
                for (Case k : cases) {
                    conn.send(k.message(), k.fd());
                }
                conn.send(CacheMessages.end());
                c.awaitLine("END", TIMEOUT_S);
            }
            c.assertExitsCleanly(TIMEOUT_S);
            List<String> lines = c.lines("OPEN ");
            assertEquals(cases.size(), lines.size(), c.output());
            for (int i = 0; i < cases.size(); i++) {
                Case k = cases.get(i);
                String[] f = lines.get(i).split(":", 2)[0].split(" "); // OPEN i CODE before after
                String line = lines.get(i);
                assertEquals(Integer.toString(i), f[1], line);
                assertEquals(k.code(), f[2], k.name() + ": " + line);
                assertEquals(f[3], f[4], k.name() + ": fds open in the C process before the region came and after the open: " + line);
                assertTrue(line.contains(k.words()), k.name() + ": '" + line + "' should say '" + k.words() + "'");
            }
        } finally {
            for (Case k : cases) {
                k.fd().close();
                k.owner().close();
            }
        }
    }

    /** Calls {@code action} with the offset of every occupied slot. */
    private static void forEachOccupiedSlot(MemorySegment t, java.util.function.LongConsumer action) {
        int slots = t.get(U32, SLOT_COUNT_OFFSET);
        for (int i = 0; i < slots; i++) {
            long at = SnapshotDescriptor.slotOffset(i);
            if (t.get(U64, at + SLOT_ENTRY_OFFSET) != 0) {
                action.accept(at);
            }
        }
    }

}
