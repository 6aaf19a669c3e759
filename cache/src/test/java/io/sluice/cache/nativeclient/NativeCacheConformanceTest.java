package io.sluice.cache.nativeclient;

import io.sluice.api.RefusalReason;
import io.sluice.cache.CacheMessages;
import io.sluice.cache.map.SharedMapDescriptor;
import io.sluice.cache.snapshot.SnapshotDescriptor;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The native client's copy of the caches' layouts and of the cache protocol against the Java
 * descriptors and {@link CacheMessages}: every {@code SLI_SNAP_}, {@code SLI_MAP_} and
 * {@code SLI_CACHE_} constant of {@code fd-passing/native/sluice_layout.h}, as
 * {@code layout_constants} prints it, must equal the Java constant it mirrors, and every such
 * constant printed must have a mirror here. (fd-passing's NativeConformanceTest checks the other
 * constants, and leaves these three prefixes to this test: it cannot see the cache module.) The
 * protocol's field offsets have no Java constant of their own: they are found in messages
 * {@link CacheMessages} encodes, by where a field's distinctive value lands.
 */
class NativeCacheConformanceTest {
    private static final long TIMEOUT_S = 60;

    private record Mirror(String cName, long javaValue) {
    }

    private static Mirror m(String cName, long javaValue) {
        return new Mirror(cName, javaValue);
    }

    private static final long MARK_VERSION = 0x1122_3344_5566_7788L;
    private static final long MARK_SIZE = 0x0000_0003_99AA_BBCCL;
    private static final byte[] PUBLISH = CacheMessages.publish(CacheMessages.KIND_SHARED_MAP, MARK_VERSION, MARK_SIZE);
    private static final byte[] HELLO = CacheMessages.hello(CacheMessages.KIND_SHARED_MAP, "n".repeat(0x33));
    private static final byte[] REFUSED = CacheMessages.refused(RefusalReason.CHANNEL_CLOSED, "t".repeat(0x21));

    /** Where the little-endian value {@code value} of {@code width} bytes starts in {@code message} (exactly once), from {@code from}. */
    private static long offsetOf(byte[] message, long value, int width, int from) {
        ByteBuffer b = ByteBuffer.wrap(message).order(ByteOrder.LITTLE_ENDIAN);
        int found = -1;
        for (int at = from; at + width <= message.length; at++) {
            long v = switch (width) {
                case 2 -> Short.toUnsignedLong(b.getShort(at));
                case 8 -> b.getLong(at);
                default -> throw new IllegalArgumentException("width " + width);
            };
            if (v == value) {
                if (found >= 0) {
                    throw new AssertionError("value 0x" + Long.toHexString(value) + " occurs twice in the message");
                }
                found = at;
            }
        }
        return found;
    }

    private static final List<Mirror> MIRRORS = List.of(
            // the cache protocol (docs/cache-protocol.md); offsets found in encoded messages
            m("SLI_CACHE_MAGIC", CacheMessages.MAGIC),
            m("SLI_CACHE_PROTOCOL_VERSION", CacheMessages.PROTOCOL_VERSION),
            m("SLI_CACHE_MSG_HELLO", CacheMessages.HELLO),
            m("SLI_CACHE_MSG_PUBLISH", CacheMessages.PUBLISH),
            m("SLI_CACHE_MSG_REFUSED", CacheMessages.REFUSED),
            m("SLI_CACHE_MSG_END", CacheMessages.END),
            m("SLI_CACHE_KIND_SNAPSHOT", CacheMessages.KIND_SNAPSHOT),
            m("SLI_CACHE_KIND_MAP", CacheMessages.KIND_SHARED_MAP),
            m("SLI_CACHE_HEADER_LENGTH", CacheMessages.HEADER_LENGTH),
            m("SLI_CACHE_HELLO_KIND_OFFSET", offsetOf(HELLO, CacheMessages.KIND_SHARED_MAP, 2, CacheMessages.HEADER_LENGTH)),
            m("SLI_CACHE_HELLO_NAME_LENGTH_OFFSET", offsetOf(HELLO, 0x33, 2, CacheMessages.HEADER_LENGTH)),
            m("SLI_CACHE_HELLO_NAME_OFFSET", HELLO.length - 0x33),
            m("SLI_CACHE_PUBLISH_KIND_OFFSET", offsetOf(PUBLISH, CacheMessages.KIND_SHARED_MAP, 2, CacheMessages.HEADER_LENGTH)),
            m("SLI_CACHE_PUBLISH_RESERVED_U16_OFFSET", 10), // what is left between the kind and the version, checked below
            m("SLI_CACHE_PUBLISH_RESERVED_U32_OFFSET", 12),
            m("SLI_CACHE_PUBLISH_VERSION_OFFSET", offsetOf(PUBLISH, MARK_VERSION, 8, 0)),
            m("SLI_CACHE_PUBLISH_SIZE_OFFSET", offsetOf(PUBLISH, MARK_SIZE, 8, 0)),
            m("SLI_CACHE_PUBLISH_LENGTH", CacheMessages.PUBLISH_LENGTH),
            m("SLI_CACHE_REFUSED_REASON_OFFSET", offsetOf(REFUSED, RefusalReason.CHANNEL_CLOSED.code(), 2, CacheMessages.HEADER_LENGTH)),
            m("SLI_CACHE_REFUSED_TEXT_LENGTH_OFFSET", offsetOf(REFUSED, 0x21, 2, CacheMessages.HEADER_LENGTH)),
            m("SLI_CACHE_REFUSED_TEXT_OFFSET", REFUSED.length - 0x21),
            m("SLI_CACHE_MAX_TEXT_BYTES", CacheMessages.MAX_TEXT_LENGTH),
            m("SLI_CACHE_MAX_REGION_BYTES", io.sluice.memfd.MemfdRegion.MAX_SIZE),

            // sealed snapshot table (docs/snapshot-layout.md)
            m("SLI_SNAP_MAGIC", SnapshotDescriptor.MAGIC),
            m("SLI_SNAP_MAGIC_OFFSET", SnapshotDescriptor.MAGIC_OFFSET),
            m("SLI_SNAP_LAYOUT_VERSION", SnapshotDescriptor.LAYOUT_VERSION),
            m("SLI_SNAP_LAYOUT_VERSION_OFFSET", SnapshotDescriptor.LAYOUT_VERSION_OFFSET),
            m("SLI_SNAP_HEADER_LENGTH_OFFSET", SnapshotDescriptor.HEADER_LENGTH_OFFSET),
            m("SLI_SNAP_HEADER_LENGTH", SnapshotDescriptor.HEADER_LENGTH),
            m("SLI_SNAP_VERSION_OFFSET", SnapshotDescriptor.SNAPSHOT_VERSION_OFFSET),
            m("SLI_SNAP_ENTRY_COUNT_OFFSET", SnapshotDescriptor.ENTRY_COUNT_OFFSET),
            m("SLI_SNAP_SLOT_COUNT_OFFSET", SnapshotDescriptor.SLOT_COUNT_OFFSET),
            m("SLI_SNAP_MAX_PROBE_OFFSET", SnapshotDescriptor.MAX_PROBE_OFFSET),
            m("SLI_SNAP_RESERVED_U32_OFFSET", SnapshotDescriptor.RESERVED_U32_OFFSET),
            m("SLI_SNAP_HEAP_OFFSET_OFFSET", SnapshotDescriptor.HEAP_OFFSET_OFFSET),
            m("SLI_SNAP_HEAP_LENGTH_OFFSET", SnapshotDescriptor.HEAP_LENGTH_OFFSET),
            m("SLI_SNAP_RESERVED_U64_OFFSET", SnapshotDescriptor.RESERVED_U64_OFFSET),
            m("SLI_SNAP_MAX_SLOT_COUNT", SnapshotDescriptor.MAX_SLOT_COUNT),
            m("SLI_SNAP_SLOT_LENGTH", SnapshotDescriptor.SLOT_LENGTH),
            m("SLI_SNAP_SLOT_HASH_OFFSET", SnapshotDescriptor.SLOT_HASH_OFFSET),
            m("SLI_SNAP_SLOT_ENTRY_OFFSET", SnapshotDescriptor.SLOT_ENTRY_OFFSET),
            m("SLI_SNAP_ENTRY_KEY_LENGTH_OFFSET", SnapshotDescriptor.ENTRY_KEY_LENGTH_OFFSET),
            m("SLI_SNAP_ENTRY_VALUE_LENGTH_OFFSET", SnapshotDescriptor.ENTRY_VALUE_LENGTH_OFFSET),
            m("SLI_SNAP_ENTRY_HEADER_LENGTH", SnapshotDescriptor.ENTRY_HEADER_LENGTH),
            m("SLI_SNAP_ALIGNMENT", SnapshotDescriptor.ALIGNMENT),

            // shared map (docs/cache-layout.md)
            m("SLI_MAP_MAGIC", SharedMapDescriptor.MAGIC),
            m("SLI_MAP_MAGIC_OFFSET", SharedMapDescriptor.MAGIC_OFFSET),
            m("SLI_MAP_LAYOUT_VERSION", SharedMapDescriptor.LAYOUT_VERSION),
            m("SLI_MAP_LAYOUT_VERSION_OFFSET", SharedMapDescriptor.LAYOUT_VERSION_OFFSET),
            m("SLI_MAP_HEADER_LENGTH_OFFSET", SharedMapDescriptor.HEADER_LENGTH_OFFSET),
            m("SLI_MAP_HEADER_LENGTH", SharedMapDescriptor.HEADER_LENGTH),
            m("SLI_MAP_SLOT_COUNT_OFFSET", SharedMapDescriptor.SLOT_COUNT_OFFSET),
            m("SLI_MAP_SLOT_LENGTH_OFFSET", SharedMapDescriptor.SLOT_LENGTH_OFFSET),
            m("SLI_MAP_MAX_KEY_LENGTH_OFFSET", SharedMapDescriptor.MAX_KEY_LENGTH_OFFSET),
            m("SLI_MAP_MAX_VALUE_LENGTH_OFFSET", SharedMapDescriptor.MAX_VALUE_LENGTH_OFFSET),
            m("SLI_MAP_CAPACITY_OFFSET", SharedMapDescriptor.CAPACITY_OFFSET),
            m("SLI_MAP_RESERVED_U32_OFFSET", SharedMapDescriptor.RESERVED_U32_OFFSET),
            m("SLI_MAP_LIVE_ENTRIES_OFFSET", SharedMapDescriptor.LIVE_ENTRIES_OFFSET),
            m("SLI_MAP_UPDATES_OFFSET", SharedMapDescriptor.UPDATES_APPLIED_OFFSET),
            m("SLI_MAP_RESERVED_FIELDS_OFFSET", SharedMapDescriptor.RESERVED_TAIL_OFFSET),
            m("SLI_MAP_MAX_SLOT_COUNT", SharedMapDescriptor.MAX_SLOT_COUNT),
            m("SLI_MAP_MAX_KEY_LENGTH", SharedMapDescriptor.MAX_KEY_LENGTH),
            m("SLI_MAP_MAX_VALUE_LENGTH", SharedMapDescriptor.MAX_VALUE_LENGTH),
            m("SLI_MAP_SLOT_CONTROL_OFFSET", SharedMapDescriptor.SLOT_CONTROL_OFFSET),
            m("SLI_MAP_SLOT_HASH_OFFSET", SharedMapDescriptor.SLOT_HASH_OFFSET),
            m("SLI_MAP_SLOT_KEY_LENGTH_OFFSET", SharedMapDescriptor.SLOT_KEY_LENGTH_OFFSET),
            m("SLI_MAP_SLOT_RESERVED_OFFSET", SharedMapDescriptor.SLOT_RESERVED_OFFSET),
            m("SLI_MAP_SLOT_VALUE_LENGTH_OFFSET", SharedMapDescriptor.SLOT_VALUE_LENGTH_OFFSET),
            m("SLI_MAP_SLOT_KEY_OFFSET", SharedMapDescriptor.SLOT_KEY_OFFSET),
            m("SLI_MAP_SLOT_HEADER_LENGTH", SharedMapDescriptor.SLOT_HEADER_LENGTH),
            m("SLI_MAP_EMPTY", SharedMapDescriptor.EMPTY),
            m("SLI_MAP_LIVE", SharedMapDescriptor.LIVE),
            m("SLI_MAP_DELETED", SharedMapDescriptor.DELETED),
            // The control word's fields, through the descriptor's own encoder (its masks are not public).
            m("SLI_MAP_STATE_MASK", SharedMapDescriptor.control(0, 0, SharedMapDescriptor.LIVE)
                    | SharedMapDescriptor.control(0, 0, SharedMapDescriptor.DELETED)),
            m("SLI_MAP_ACTIVE_BUFFER_BIT", SharedMapDescriptor.control(0, 1, SharedMapDescriptor.EMPTY)),
            m("SLI_MAP_COUNT_SHIFT", Long.numberOfTrailingZeros(SharedMapDescriptor.control(1, 0, SharedMapDescriptor.EMPTY))));

    @Test
    void everyCacheConstantOfTheNativeClientEqualsTheJavaConstant() throws Exception {
        Map<String, Long> c = cConstants();
        List<String> problems = new ArrayList<>();
        Set<String> mirrored = new TreeSet<>();
        for (Mirror mirror : MIRRORS) {
            mirrored.add(mirror.cName());
            Long value = c.get(mirror.cName());
            if (value == null) {
                problems.add(mirror.cName() + ": not printed by layout_constants (renamed or removed in C?)");
            } else if (value != mirror.javaValue()) {
                problems.add(mirror.cName() + ": C has " + value + " (0x" + Long.toHexString(value) + "), the Java constant is "
                        + mirror.javaValue() + " (0x" + Long.toHexString(mirror.javaValue()) + ")");
            }
        }
        for (String name : c.keySet()) {
            if ((name.startsWith("SLI_SNAP_") || name.startsWith("SLI_MAP_") || name.startsWith("SLI_CACHE_"))
                    && !mirrored.contains(name)) {
                problems.add(name + ": printed by layout_constants but mirrors no Java constant in "
                        + "NativeCacheConformanceTest.MIRRORS (add the Java constant it copies)");
            }
        }
        if (!problems.isEmpty()) {
            fail("the native client's cache constants differ from the Java descriptors' (" + problems.size() + "):\n  "
                    + String.join("\n  ", problems));
        }
        assertTrue(mirrored.size() > 60, "only " + mirrored.size() + " cache constants mirrored");
        // The reserved fields: the PUBLISH bytes between the kind and the version are zero, and are the two fields.
        ByteBuffer p = ByteBuffer.wrap(PUBLISH).order(ByteOrder.LITTLE_ENDIAN);
        assertTrue(p.getShort(10) == 0 && p.getInt(12) == 0 && offsetOf(PUBLISH, MARK_VERSION, 8, 0) == 16,
                "PUBLISH: reserved u16 at 10 and u32 at 12, then the version at 16");
    }

    /** What layout_constants prints: NAME=value, one per line. */
    private static Map<String, Long> cConstants() throws Exception {
        String output;
        try (CacheReader child = CacheReader.start(CacheReader.RELEASE, "layout_constants")) {
            child.assertExitsCleanly(TIMEOUT_S);
            output = child.output();
        }
        Map<String, Long> c = new LinkedHashMap<>();
        for (String line : output.lines().toList()) {
            int eq = line.indexOf('=');
            if (eq <= 0) {
                fail("layout_constants printed a line that is not NAME=value: '" + line + "'");
            }
            c.put(line.substring(0, eq), Long.parseLong(line.substring(eq + 1)));
        }
        return c;
    }
}
