package io.sluice.views.agrona;

import io.sluice.memfd.MemfdRegion;
import io.sluice.memfd.Protection;
import io.sluice.memfd.Seal;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The read-only view cannot write: it has none of MutableDirectBuffer's methods, gives no address
 * an Unsafe-based buffer could alias, and reads a PROT_READ mapping of a sealed memfd (where any
 * write would be SIGSEGV) without harm; the mutable view refuses a read-only segment.
 */
class ReadOnlyViewTest {
    @Test
    void theReadOnlyViewHasNoneOfMutableDirectBuffersMethods() {
        assertFalse(MutableDirectBuffer.class.isAssignableFrom(ReadOnlySegmentBuffer.class));
        List<String> found = new ArrayList<>();
        for (Method mutating : MutableDirectBuffer.class.getDeclaredMethods()) {
            if (Modifier.isStatic(mutating.getModifiers())) {
                continue;
            }
            for (Method m : ReadOnlySegmentBuffer.class.getMethods()) {
                if (m.getName().equals(mutating.getName()) && Arrays.equals(m.getParameterTypes(), mutating.getParameterTypes())) {
                    found.add(m.toString());
                }
            }
            // No method whose name says it writes, whatever its parameters (a put*, setMemory).
            for (Method m : ReadOnlySegmentBuffer.class.getMethods()) {
                if (m.getName().startsWith("put") || m.getName().startsWith("set")) {
                    found.add(m.toString());
                }
            }
        }
        assertTrue(MutableDirectBuffer.class.getDeclaredMethods().length > 30, "the check saw MutableDirectBuffer's methods");
        assertEquals(List.of(), found.stream().distinct().toList());
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> new ReadOnlySegmentBuffer().addressOffset());
        assertTrue(e.getMessage().contains("read-only"), e.getMessage());
        assertThrows(UnsupportedOperationException.class, () -> new ReadOnlySegmentBuffer().wrap(4096L, 8));
        assertThrows(UnsupportedOperationException.class, () -> new MutableSegmentBuffer().wrap(4096L, 8));
    }

    @Test
    void aViewOverAProtReadMappingReadsEveryGetterAndTheMutableViewRefusesIt() {
        try (MemfdRegion region = MemfdRegion.create("test.views.ro", 4096)) {
            MemorySegment rw = region.mapReadWrite();
            for (int i = 0; i < 512; i++) {
                rw.set(JAVA_LONG_UNALIGNED, i * 8L, i * 0x0101010101010101L);
            }
            region.addSeals(Seal.SHRINK, Seal.GROW);
            region.restrictFutureAccess(Protection.READ_ONLY);
            MemorySegment ro = region.mapReadOnly(); // PROT_READ: a write here is SIGSEGV, not an exception
            assertTrue(ro.isReadOnly());
            ReadOnlySegmentBuffer view = new ReadOnlySegmentBuffer();
            view.wrap(ro, 8, 4088);
            long sum = 0;
            for (int i = 0; i + 8 <= view.capacity(); i++) {
                sum += view.getLong(i) + view.getLong(i, ByteOrder.BIG_ENDIAN) + view.getInt(i) + view.getShort(i)
                        + view.getChar(i) + view.getByte(i) + (long) view.getDouble(i) + (long) view.getFloat(i);
            }
            assertTrue(sum != 0);
            assertEquals(1 * 0x0101010101010101L, view.getLong(0));
            assertEquals(511 * 0x0101010101010101L, view.getLong(4080));
            assertThrows(IndexOutOfBoundsException.class, () -> view.getLong(4081), "never past the mapping");
            MutableSegmentBuffer copy = new MutableSegmentBuffer(MemorySegment.ofArray(new byte[4088]));
            view.getBytes(0, copy, 0, 4088);
            assertEquals(view, copy, "a copy out of the read-only mapping");

            MutableSegmentBuffer mutable = new MutableSegmentBuffer();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> mutable.wrap(ro));
            assertTrue(e.getMessage().contains("read-only"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> mutable.wrap(ro, 0, 8));
            assertThrows(IllegalArgumentException.class, () -> mutable.wrap((DirectBuffer) view));
        }
    }
}
