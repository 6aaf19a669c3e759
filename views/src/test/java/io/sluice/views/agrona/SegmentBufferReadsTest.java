package io.sluice.views.agrona;

import io.sluice.views.Seeded;
import org.agrona.AsciiNumberFormatException;
import org.agrona.DirectBuffer;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Every getter of both views against the segment's bytes as a ByteBuffer reads them, at every
 * index of a view that starts inside a larger segment, in both byte orders and the native one;
 * bounds errors as Agrona's own buffers report them.
 */
class SegmentBufferReadsTest {
    private static final int LENGTH = 96;
    private static final int OFFSET = 13; // the view starts inside the segment, unaligned

    @Test
    void everyGetterReadsTheSegmentsBytesInEveryByteOrder() {
        long seed = Seeded.seed();
        Seeded.run(seed, random -> {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment segment = arena.allocate(OFFSET + LENGTH + 7);
                byte[] bytes = new byte[LENGTH];
                random.nextBytes(bytes);
                MemorySegment.copy(bytes, 0, segment, JAVA_BYTE, OFFSET, LENGTH);
                ReadOnlySegmentBuffer ro = new ReadOnlySegmentBuffer();
                ro.wrap(segment.asReadOnly(), OFFSET, LENGTH);
                MutableSegmentBuffer rw = new MutableSegmentBuffer();
                rw.wrap(segment, OFFSET, LENGTH);
                for (DirectBuffer view : List.<DirectBuffer>of(ro, rw)) {
                    assertEquals(LENGTH, view.capacity());
                    for (ByteOrder order : List.of(ByteOrder.LITTLE_ENDIAN, ByteOrder.BIG_ENDIAN)) {
                        ByteBuffer expected = ByteBuffer.wrap(bytes).order(order);
                        ByteBuffer nativeOrder = ByteBuffer.wrap(bytes).order(ByteOrder.nativeOrder());
                        for (int i = 0; i < LENGTH; i++) {
                            String at = view.getClass().getSimpleName() + " index " + i + " " + order;
                            assertEquals(expected.get(i), view.getByte(i), at);
                            if (i <= LENGTH - 2) {
                                assertEquals(expected.getShort(i), view.getShort(i, order), at);
                                assertEquals(expected.getChar(i), view.getChar(i, order), at);
                                assertEquals(nativeOrder.getShort(i), view.getShort(i), at);
                                assertEquals(nativeOrder.getChar(i), view.getChar(i), at);
                            }
                            if (i <= LENGTH - 4) {
                                assertEquals(expected.getInt(i), view.getInt(i, order), at);
                                assertEquals(Float.floatToRawIntBits(expected.getFloat(i)),
                                        Float.floatToRawIntBits(view.getFloat(i, order)), at);
                                assertEquals(nativeOrder.getInt(i), view.getInt(i), at);
                                assertEquals(Float.floatToRawIntBits(nativeOrder.getFloat(i)),
                                        Float.floatToRawIntBits(view.getFloat(i)), at);
                            }
                            if (i <= LENGTH - 8) {
                                assertEquals(expected.getLong(i), view.getLong(i, order), at);
                                assertEquals(Double.doubleToRawLongBits(expected.getDouble(i)),
                                        Double.doubleToRawLongBits(view.getDouble(i, order)), at);
                                assertEquals(nativeOrder.getLong(i), view.getLong(i), at);
                                assertEquals(Double.doubleToRawLongBits(nativeOrder.getDouble(i)),
                                        Double.doubleToRawLongBits(view.getDouble(i)), at);
                            }
                        }
                    }
                    int from = random.nextInt(LENGTH);
                    int n = random.nextInt(LENGTH - from + 1);
                    byte[] copy = new byte[n + 3];
                    view.getBytes(from, copy, 3, n);
                    assertEquals(ByteBuffer.wrap(bytes, from, n), ByteBuffer.wrap(copy, 3, n), "getBytes into an array");
                    ByteBuffer direct = ByteBuffer.allocateDirect(n + 5);
                    view.getBytes(from, direct, 5, n);
                    assertEquals(ByteBuffer.wrap(bytes, from, n), direct.slice(5, n), "getBytes into a ByteBuffer");
                    MutableSegmentBuffer into = new MutableSegmentBuffer(MemorySegment.ofArray(new byte[n + 1]));
                    view.getBytes(from, into, 1, n);
                    assertEquals(ByteBuffer.wrap(bytes, from, n), ByteBuffer.wrap(into.asSegment().toArray(JAVA_BYTE), 1, n),
                            "getBytes into another view");
                }
            }
        });
    }

    @Test
    void stringsAndAsciiNumbersReadAsAgronaWritesThem() {
        MutableSegmentBuffer rw = new MutableSegmentBuffer(MemorySegment.ofArray(new byte[256]));
        ReadOnlySegmentBuffer ro = new ReadOnlySegmentBuffer(rw.asSegment().asReadOnly());
        int n = rw.putStringAscii(0, "EURUSD");
        assertEquals(4 + 6, n);
        assertEquals("EURUSD", ro.getStringAscii(0));
        assertEquals("EUR", ro.getStringAscii(0, 3));
        StringBuilder sb = new StringBuilder();
        assertEquals(6, ro.getStringAscii(0, sb));
        assertEquals("EURUSD", sb.toString());
        rw.putStringAscii(20, "big", ByteOrder.BIG_ENDIAN);
        assertEquals(3, ro.getInt(20, ByteOrder.BIG_ENDIAN));
        assertEquals("big", ro.getStringAscii(20, ByteOrder.BIG_ENDIAN));
        assertEquals(4 + "prix €".getBytes(StandardCharsets.UTF_8).length, rw.putStringUtf8(40, "prix €"));
        assertEquals("prix €", ro.getStringUtf8(40));
        assertEquals("??", ascii(rw, ro, "é\u0100"), "chars above 127 are written as '?'");
        int len = rw.putLongAscii(100, Long.MIN_VALUE);
        assertEquals(Long.MIN_VALUE, ro.parseLongAscii(100, len));
        len = rw.putIntAscii(130, -42);
        assertEquals("-42", ro.getStringWithoutLengthAscii(130, len));
        assertEquals(-42, ro.parseIntAscii(130, len));
        len = rw.putNaturalIntAscii(140, 1234567);
        assertEquals(1234567, ro.parseNaturalIntAscii(140, len));
        rw.putNaturalPaddedIntAscii(150, 5, 42);
        assertEquals("00042", ro.getStringWithoutLengthAscii(150, 5));
        assertEquals(157, rw.putNaturalIntAsciiFromEnd(987, 160));
        assertEquals("987", ro.getStringWithoutLengthAscii(157, 3));
        assertThrows(NumberFormatException.class, () -> rw.putNaturalPaddedIntAscii(150, 2, 123));
        AsciiNumberFormatException e = assertThrows(AsciiNumberFormatException.class, () -> ro.parseIntAscii(0, 0));
        assertEquals("empty string: index=0 length=0", e.getMessage());
        rw.putStringWithoutLengthAscii(170, "12x");
        e = assertThrows(AsciiNumberFormatException.class, () -> ro.parseIntAscii(170, 3));
        assertEquals("error parsing int: 12x", e.getMessage());
        rw.putStringWithoutLengthAscii(180, "2147483648");
        e = assertThrows(AsciiNumberFormatException.class, () -> ro.parseIntAscii(180, 10));
        assertEquals("int overflow parsing: 2147483648", e.getMessage());
    }

    private static String ascii(MutableSegmentBuffer rw, ReadOnlySegmentBuffer ro, String s) {
        rw.putStringWithoutLengthAscii(200, s);
        return ro.getStringWithoutLengthAscii(200, s.length());
    }

    @Test
    void boundsErrorsAreAgronasAndNeverReachPastTheView() {
        MemorySegment segment = MemorySegment.ofArray(new byte[64]);
        ReadOnlySegmentBuffer ro = new ReadOnlySegmentBuffer();
        ro.wrap(segment, 16, 32); // the segment has room past the view: the view still refuses
        MutableSegmentBuffer rw = new MutableSegmentBuffer();
        rw.wrap(segment, 16, 32);
        for (DirectBuffer view : List.<DirectBuffer>of(ro, rw)) {
            // Agrona 2.x checks with Objects.checkFromIndexSize(index, size, capacity): these messages.
            IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, () -> view.getLong(25));
            assertEquals("Range [25, 25 + 8) out of bounds for length 32", e.getMessage());
            e = assertThrows(IndexOutOfBoundsException.class, () -> view.getInt(-1, ByteOrder.BIG_ENDIAN));
            assertEquals("Range [-1, -1 + 4) out of bounds for length 32", e.getMessage());
            e = assertThrows(IndexOutOfBoundsException.class, () -> view.getByte(32));
            assertEquals("Range [32, 32 + 1) out of bounds for length 32", e.getMessage());
            assertThrows(IndexOutOfBoundsException.class, () -> view.getBytes(30, new byte[4]));
            assertThrows(IndexOutOfBoundsException.class, () -> view.getStringWithoutLengthAscii(30, 3));
            assertThrows(IndexOutOfBoundsException.class, () -> view.boundsCheck(31, 2));
            e = assertThrows(IndexOutOfBoundsException.class, () -> view.checkLimit(33));
            assertEquals("limit=33 is beyond capacity=32", e.getMessage());
            view.checkLimit(32);
            assertEquals(0L, view.getLong(24));
        }
        IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, () -> rw.putLong(28, 1L));
        assertEquals("Range [28, 28 + 8) out of bounds for length 32", e.getMessage());
        assertThrows(IndexOutOfBoundsException.class, () -> rw.putStringAscii(20, "0123456789"));
        assertThrows(IndexOutOfBoundsException.class, () -> rw.setMemory(0, 33, (byte) 1));
        assertEquals(0, segment.get(JAVA_BYTE, 48), "nothing was written past the view");
        assertThrows(IndexOutOfBoundsException.class, () -> ro.wrap(segment, 40, 32), "a range outside the segment");
        assertThrows(IllegalArgumentException.class, () -> ro.wrap(segment, 0, -1));
        assertThrows(IndexOutOfBoundsException.class, () -> new ReadOnlySegmentBuffer().getByte(0), "an unwrapped view is empty");
    }
}
