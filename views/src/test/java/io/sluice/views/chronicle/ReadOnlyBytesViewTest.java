package io.sluice.views.chronicle;

import io.sluice.memfd.MemfdRegion;
import io.sluice.memfd.Protection;
import io.sluice.memfd.Seal;
import net.openhft.chronicle.bytes.ByteStringAppender;
import net.openhft.chronicle.bytes.ByteStringParser;
import net.openhft.chronicle.bytes.BytesIn;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.bytes.BytesOut;
import net.openhft.chronicle.bytes.BytesPrepender;
import net.openhft.chronicle.bytes.BytesStore;
import net.openhft.chronicle.bytes.RandomCommon;
import net.openhft.chronicle.bytes.RandomDataInput;
import net.openhft.chronicle.bytes.RandomDataOutput;
import net.openhft.chronicle.bytes.StreamingCommon;
import net.openhft.chronicle.bytes.StreamingDataInput;
import net.openhft.chronicle.bytes.StreamingDataOutput;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The read-only Chronicle view cannot write: it is none of Chronicle's output types, has none of
 * their methods, refuses everything that would hand out an address or a writable Bytes, and reads
 * a PROT_READ mapping of a sealed memfd (where any write would be SIGSEGV) without harm; the
 * mutable view refuses a read-only segment.
 */
class ReadOnlyBytesViewTest {
    private static final List<Class<?>> OUTPUTS = List.of(RandomDataOutput.class, StreamingDataOutput.class, BytesOut.class,
            BytesPrepender.class, ByteStringAppender.class, BytesStore.class, Bytes.class);

    @Test
    void theReadOnlyViewHasNoneOfChroniclesWriteMethods() {
        for (Class<?> output : OUTPUTS) {
            assertFalse(output.isAssignableFrom(ReadOnlySegmentBytes.class), output.getName());
        }
        // Every method name of the output types but those the input side has too (Bytes and BytesStore
        // read as well; writePosition(), writeLimit(), clear() ... are declared by RandomCommon and
        // StreamingCommon, and are getters or move a read position here).
        Set<String> shared = new HashSet<>();
        for (Class<?> common : List.of(RandomCommon.class, StreamingCommon.class, Object.class, RandomDataInput.class,
                StreamingDataInput.class, BytesIn.class, ByteStringParser.class)) {
            Arrays.stream(common.getMethods()).map(Method::getName).forEach(shared::add);
        }
        Set<String> writes = new HashSet<>();
        for (Class<?> output : OUTPUTS) {
            Arrays.stream(output.getMethods()).filter(m -> !Modifier.isStatic(m.getModifiers())) // BytesStore.wrap(byte[]) makes one
                    .map(Method::getName).filter(n -> !shared.contains(n)).forEach(writes::add);
        }
        assertTrue(writes.size() > 50, "the check saw Chronicle's write methods: " + writes.size());
        List<String> found = new ArrayList<>();
        for (Method m : ReadOnlySegmentBytes.class.getMethods()) {
            String n = m.getName();
            if (writes.contains(n) || n.startsWith("write") && !shared.contains(n) || n.startsWith("append")
                    || n.startsWith("prepend") || n.startsWith("put") || n.startsWith("set")) {
                found.add(m.toString());
            }
        }
        assertEquals(List.of(), found);
    }

    @Test
    void everyWayToAnAddressOrAWritableBytesIsRefused() {
        ReadOnlySegmentBytes view = new ReadOnlySegmentBytes(MemorySegment.ofArray(new byte[64]).asReadOnly());
        Map<String, Executable> refused = new LinkedHashMap<>();
        refused.put("addressForRead", () -> view.addressForRead(0));
        refused.put("addressForRead(offset, buffer)", () -> view.addressForRead(0, 8));
        refused.put("addressForWrite", () -> view.addressForWrite(0));
        refused.put("addressForWritePosition", view::addressForWritePosition);
        refused.put("bytesForRead", view::bytesForRead);
        refused.put("bytesForWrite", view::bytesForWrite);
        refused.put("subBytes", () -> view.subBytes(0, 8));
        refused.put("toTemporaryDirectByteBuffer", view::toTemporaryDirectByteBuffer);
        refused.put("nativeRead", () -> view.nativeRead(0, 4096, 8));
        refused.put("unsafeRead", () -> view.unsafeRead(4096, 8));
        refused.put("unsafeReadObject", () -> view.unsafeReadObject(new long[2], 16, 8));
        refused.forEach((name, call) -> {
            UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class, call, name);
            assertTrue(e.getMessage().contains("read-only"), name + ": " + e.getMessage());
        });
        assertFalse(view.isDirectMemory(), "Chronicle's helpers must not look for an address");
        assertFalse(view.canReadDirect());
        assertEquals(0, view.realWriteRemaining());
    }

    @Test
    void aViewOverAProtReadMappingReadsAndTheMutableViewRefusesIt() {
        try (MemfdRegion region = MemfdRegion.create("test.views.chronicle.ro", 4096)) {
            MemorySegment rw = region.mapReadWrite();
            for (int i = 0; i < 512; i++) {
                rw.set(JAVA_LONG_UNALIGNED, i * 8L, i * 0x0101010101010101L);
            }
            region.addSeals(Seal.SHRINK, Seal.GROW);
            region.restrictFutureAccess(Protection.READ_ONLY);
            MemorySegment ro = region.mapReadOnly(); // PROT_READ: a write here is SIGSEGV, not an exception
            assertTrue(ro.isReadOnly());
            ReadOnlySegmentBytes view = new ReadOnlySegmentBytes();
            view.wrap(ro, 8, 4088);
            long sum = 0;
            while (view.readRemaining() >= 8) {
                sum += view.readLong();
            }
            assertEquals(511L * 512 / 2 * 0x0101010101010101L, sum);
            assertEquals(511 * 0x0101010101010101L, view.readLong(4080));
            assertThrows(java.nio.BufferUnderflowException.class, () -> view.readLong(4081), "never past the mapping");
            Bytes<?> copy = Bytes.allocateElasticOnHeap(4096);
            view.readPosition(0);
            assertEquals(4088, view.copyTo(copy.bytesStore()), "a copy out of the read-only mapping");
            assertEquals(1 * 0x0101010101010101L, copy.readLong(0));

            MutableSegmentBytes mutable = new MutableSegmentBytes();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> mutable.wrap(ro, 0, 8));
            assertTrue(e.getMessage().contains("read-only"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> mutable.wrap(MemorySegment.ofArray(new byte[8]), 0, 8), "heap");
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment slot = arena.allocate(64);
                assertThrows(IndexOutOfBoundsException.class, () -> mutable.wrap(slot, 60, 8));
                Bytes<Void> bytes = mutable.wrap(slot, 8, 16);
                bytes.writeLong(1L).writeLong(2L);
                assertThrows(java.nio.BufferOverflowException.class, () -> bytes.writeByte((byte) 3), "never past the range");
                assertEquals(0L, slot.get(JAVA_LONG_UNALIGNED, 0));
                assertEquals(1L, slot.get(JAVA_LONG_UNALIGNED, 8));
                assertEquals(2L, slot.get(JAVA_LONG_UNALIGNED, 16));
                assertEquals(0L, slot.get(JAVA_LONG_UNALIGNED, 24), "nothing after the range");
                assertTrue(bytes == mutable.wrap(slot, 0, 8), "re-pointed, not made anew");
                assertEquals(0, bytes.writePosition());
                assertEquals(8, bytes.writeLimit());
            }
        }
    }
}
