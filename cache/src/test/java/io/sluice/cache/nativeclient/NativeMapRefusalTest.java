package io.sluice.cache.nativeclient;

import io.sluice.cache.map.SharedMapOptions;
import io.sluice.cache.map.SharedMapWriter;
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
import java.util.function.LongConsumer;

import static io.sluice.cache.map.SharedMapDescriptor.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code sluice_map_open} against maps a buggy or hostile owner sends: without the
 * seals a reader needs (SHRINK|GROW|FUTURE_WRITE), another size than announced, and headers that
 * break each rule of the layout. Each is refused with the code and words that name it, the fd it
 * took is closed, and the C side runs under ASan and UBSan. Maps whose slots hold what no writer
 * writes open (the header is fine) and every lookup or walk that meets such a slot ends
 * SLUICE_ECORRUPT, never reading outside the region.
 */
class NativeMapRefusalTest {
    private static final long TIMEOUT_S = 60;
    private static final int KEYS = 40;
    private static final int MAX_KEY = 32;
    private static final int MAX_VALUE = 40;
    private static final Set<Seal> READER_SEALS = SharedMapWriter.SEALS;
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;

    @TempDir
    Path dir;

    private record Case(String name, byte[] message, OwnedFd fd, AutoCloseable owner, String code, String words) {
    }

    private final List<Case> cases = new ArrayList<>();

    /** A valid map holding key(0, 0..39) of cache_reader, in a heap segment. */
    private static MemorySegment map() {
        SharedMapOptions o = SharedMapOptions.of(KEYS, MAX_KEY, MAX_VALUE);
        MemorySegment seg = MemorySegment.ofArray(new long[(int) (o.regionSize() / 8)]);
        SharedMapWriter w = SharedMapWriter.format(seg, o, "refusal");
        for (int i = 0; i < KEYS; i++) {
            w.put(KeyStream.key(0, i), ("value " + i).getBytes());
        }
        return seg;
    }

    private void add(String name, MemorySegment bytes, Set<Seal> seals, long announcedSize, String code, String words) {
        MemfdRegion r = MemfdRegion.create("native.map.refusal", bytes.byteSize());
        r.fill(s -> s.copyFrom(bytes));
        if (!seals.isEmpty()) {
            r.addSeals(seals);
        }
        cases.add(new Case(name, MapAnnouncement.region(announcedSize), r.fd(), r, code, words));
    }

    private void damaged(String name, Consumer<MemorySegment> damage, String code, String words) {
        MemorySegment m = map();
        damage.accept(m);
        add(name, m, READER_SEALS, m.byteSize(), code, words);
    }

    /** Calls {@code action} with the offset of every live slot. */
    private static void forEachLiveSlot(MemorySegment m, LongConsumer action) {
        int slots = m.get(U32, SLOT_COUNT_OFFSET);
        int length = m.get(U32, SLOT_LENGTH_OFFSET);
        for (int i = 0; i < slots; i++) {
            long at = slotOffset(i, length);
            if (state(m.get(U64, at + SLOT_CONTROL_OFFSET)) == LIVE) {
                action.accept(at);
            }
        }
    }

    @Test
    void everyForgedMapIsRefusedWithTheRightCodeAndNoFdLeft() throws Exception {
        CacheReader.assumeBuilt();
        MemorySegment good = map();
        long size = good.byteSize();
        int slots = good.get(U32, SLOT_COUNT_OFFSET);
        int slotLength = good.get(U32, SLOT_LENGTH_OFFSET);
        add("valid", good, READER_SEALS, size, "SLUICE_OK", "found 40 absent 0 corrupt 0 other 0 walk ok");
        add("unsealed", good, Set.of(), size, "SLUICE_EREGION", "missing SHRINK|GROW|FUTURE_WRITE");
        add("no-future-write", good, Set.of(Seal.SHRINK, Seal.GROW), size, "SLUICE_EREGION", "missing FUTURE_WRITE");
        add("no-shrink", good, Set.of(Seal.GROW, Seal.FUTURE_WRITE), size, "SLUICE_EREGION", "missing SHRINK");
        add("write-sealed-too", good, Set.of(Seal.SHRINK, Seal.GROW, Seal.WRITE, Seal.FUTURE_WRITE), size, "SLUICE_OK",
                "found 40");
        add("other-size-announced", good, READER_SEALS, size + 64, "SLUICE_EREGION", "is " + size + " bytes");
        add("smaller-than-header", good.asSlice(0, 64), READER_SEALS, 64, "SLUICE_ELAYOUT",
                "region of 64 bytes is smaller than the 128-byte header");
        MemorySegment longer = MemorySegment.ofArray(new byte[(int) size + 4096]);
        longer.copyFrom(good);
        add("longer-than-its-slots", longer, READER_SEALS, size + 4096, "SLUICE_ELAYOUT",
                slots + " slots of " + slotLength + " bytes need a region of " + size + " bytes, the memfd has " + (size + 4096));

        damaged("bad-magic", m -> m.set(U64, MAGIC_OFFSET, 0x4E53_4543_4955_4C53L), "SLUICE_ELAYOUT", "bad magic");
        damaged("layout-version", m -> m.set(U32, LAYOUT_VERSION_OFFSET, 7), "SLUICE_ELAYOUT", "layout version 7");
        damaged("header-length", m -> m.set(U32, HEADER_LENGTH_OFFSET, 64), "SLUICE_ELAYOUT", "header length 64");
        damaged("slot-count-not-power-of-two", m -> m.set(U32, SLOT_COUNT_OFFSET, slots - 1), "SLUICE_ELAYOUT",
                "slot count " + (slots - 1) + " is not a power of two");
        damaged("slot-count-2^31", m -> m.set(U32, SLOT_COUNT_OFFSET, 1 << 31), "SLUICE_ELAYOUT", "slot count 2147483648");
        damaged("slot-count-doubled", m -> m.set(U32, SLOT_COUNT_OFFSET, slots * 2), "SLUICE_ELAYOUT",
                "need a region of " + (128 + 2L * slots * slotLength));
        damaged("max-key-zero", m -> m.set(U32, MAX_KEY_LENGTH_OFFSET, 0), "SLUICE_ELAYOUT", "max key length 0 is outside 1..65536");
        damaged("max-key-above-64KiB", m -> m.set(U32, MAX_KEY_LENGTH_OFFSET, 65537), "SLUICE_ELAYOUT", "max key length 65537");
        damaged("max-value-above-16MiB", m -> m.set(U32, MAX_VALUE_LENGTH_OFFSET, (16 << 20) + 1), "SLUICE_ELAYOUT",
                "max value length 16777217");
        damaged("max-value-not-the-slots", m -> m.set(U32, MAX_VALUE_LENGTH_OFFSET, MAX_VALUE + 8), "SLUICE_ELAYOUT",
                "slot length " + slotLength + ", expected " + (slotLength + 16));
        damaged("slot-length-huge", m -> m.set(U32, SLOT_LENGTH_OFFSET, -8), "SLUICE_ELAYOUT", "slot length 4294967288");
        damaged("capacity-zero", m -> m.set(U32, CAPACITY_OFFSET, 0), "SLUICE_ELAYOUT", "capacity 0 is outside");
        damaged("capacity-above-slots", m -> m.set(U32, CAPACITY_OFFSET, slots + 1), "SLUICE_ELAYOUT",
                "capacity " + (slots + 1) + " is outside 1.." + slots);
        damaged("reserved-u32", m -> m.set(U32, RESERVED_U32_OFFSET, 1), "SLUICE_ELAYOUT", "reserved header bytes at 36");
        damaged("reserved-tail", m -> m.set(U64, 120, 1), "SLUICE_ELAYOUT", "reserved header bytes at 120");

        damaged("control-state-3", m -> forEachLiveSlot(m, at -> m.set(U64, at + SLOT_CONTROL_OFFSET,
                m.get(U64, at + SLOT_CONTROL_OFFSET) | 3)), "SLUICE_OK", "found 0 absent 0 corrupt 40 other 0 walk SLUICE_ECORRUPT");
        damaged("key-lengths-huge", m -> forEachLiveSlot(m, at -> m.set(U32, at + SLOT_KEY_LENGTH_OFFSET, -1)),
                "SLUICE_OK", "found 0 absent 0 corrupt 40 other 0 walk SLUICE_ECORRUPT");
        damaged("value-lengths-huge", m -> forEachLiveSlot(m, at -> {
            m.set(U32, at + SLOT_VALUE_LENGTH_OFFSET, 1 << 30);
            m.set(U32, at + SLOT_VALUE_LENGTH_OFFSET + 4, 1 << 30);
        }), "SLUICE_OK", "found 0 absent 0 corrupt 40 other 0 walk SLUICE_ECORRUPT");
        damaged("hashes-forged", m -> forEachLiveSlot(m, at -> m.set(U64, at + SLOT_HASH_OFFSET,
                m.get(U64, at + SLOT_HASH_OFFSET) ^ 1)), "SLUICE_OK", "found 0 absent 40 corrupt 0 other 0 walk ok");
        damaged("all-deleted", m -> forEachLiveSlot(m, at -> m.set(U64, at + SLOT_CONTROL_OFFSET, control(9, 0, DELETED))),
                "SLUICE_OK", "found 0 absent 40 corrupt 0 other 0 walk ok");

        Path socket = dir.resolve("map-refusals.sock");
        try (SeqPacketServer server = SeqPacketServer.bind(socket);
             CacheReader c = CacheReader.reader(CacheReader.SANITIZED, "open-maps", socket.toString())) {
            try (SeqPacketSocket conn = server.accept(Duration.ofSeconds(TIMEOUT_S))) {
                assertNotNull(conn, "cache_reader did not connect; its output:\n" + c.output());
                for (Case k : cases) {
                    conn.send(k.message(), k.fd());
                }
                conn.send(MapAnnouncement.end());
                c.awaitLine("END", TIMEOUT_S);
            }
            c.assertExitsCleanly(TIMEOUT_S);
            List<String> lines = c.lines("OPEN ");
            assertEquals(cases.size(), lines.size(), c.output());
            for (int i = 0; i < cases.size(); i++) {
                Case k = cases.get(i);
                String line = lines.get(i);
                String[] f = line.split(":", 2)[0].split(" "); // OPEN i CODE before after
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
}
