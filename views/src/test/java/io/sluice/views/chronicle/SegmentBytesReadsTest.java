package io.sluice.views.chronicle;

import io.sluice.views.Seeded;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.function.ToLongBiFunction;
import java.util.function.ToLongFunction;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Every read of {@link ReadOnlySegmentBytes}, random-access and streaming, against the bytes as a
 * native-order ByteBuffer reads them, at every offset of a view that starts inside a larger
 * segment (heap and native), from seeded random bytes; and every read outside the view throws
 * rather than reach the segment's bytes around it.
 */
class SegmentBytesReadsTest {
    private static final int LENGTH = 67;
    private static final int AROUND = 8;

    /** A random-access read: its size, how the view reads it, how a ByteBuffer reads the same bytes. */
    record Read(String name, int size, ToLongBiFunction<ReadOnlySegmentBytes, Long> view, ToLongBiFunction<ByteBuffer, Integer> expected) {
    }

    /** A streaming read: the same, at the read position. */
    record Next(String name, int size, ToLongFunction<ReadOnlySegmentBytes> view, ToLongBiFunction<ByteBuffer, Integer> expected) {
    }

    static final List<Read> READS = List.of(
            new Read("readByte", 1, ReadOnlySegmentBytes::readByte, ByteBuffer::get),
            new Read("readUnsignedByte", 1, (v, o) -> v.readUnsignedByte(o), (b, o) -> b.get(o) & 0xFF),
            new Read("readShort", 2, ReadOnlySegmentBytes::readShort, ByteBuffer::getShort),
            new Read("readUnsignedShort", 2, (v, o) -> v.readUnsignedShort(o), (b, o) -> b.getShort(o) & 0xFFFF),
            new Read("readInt", 4, ReadOnlySegmentBytes::readInt, ByteBuffer::getInt),
            new Read("readUnsignedInt", 4, (v, o) -> v.readUnsignedInt(o), (b, o) -> b.getInt(o) & 0xFFFF_FFFFL),
            new Read("readLong", 8, ReadOnlySegmentBytes::readLong, ByteBuffer::getLong),
            new Read("readFloat", 4, (v, o) -> Float.floatToRawIntBits(v.readFloat(o)), (b, o) -> Float.floatToRawIntBits(b.getFloat(o))),
            new Read("readDouble", 8, (v, o) -> Double.doubleToRawLongBits(v.readDouble(o)), (b, o) -> Double.doubleToRawLongBits(b.getDouble(o))));

    static final List<Next> NEXTS = List.of(
            new Next("readByte()", 1, ReadOnlySegmentBytes::readByte, ByteBuffer::get),
            new Next("readUnsignedByte()", 1, ReadOnlySegmentBytes::readUnsignedByte, (b, o) -> b.get(o) & 0xFF),
            new Next("readShort()", 2, ReadOnlySegmentBytes::readShort, ByteBuffer::getShort),
            new Next("readUnsignedShort()", 2, ReadOnlySegmentBytes::readUnsignedShort, (b, o) -> b.getShort(o) & 0xFFFF),
            new Next("readInt()", 4, ReadOnlySegmentBytes::readInt, ByteBuffer::getInt),
            new Next("readUnsignedInt()", 4, ReadOnlySegmentBytes::readUnsignedInt, (b, o) -> b.getInt(o) & 0xFFFF_FFFFL),
            new Next("readLong()", 8, ReadOnlySegmentBytes::readLong, ByteBuffer::getLong),
            new Next("readFloat()", 4, v -> Float.floatToRawIntBits(v.readFloat()), (b, o) -> Float.floatToRawIntBits(b.getFloat(o))),
            new Next("readDouble()", 8, v -> Double.doubleToRawLongBits(v.readDouble()), (b, o) -> Double.doubleToRawLongBits(b.getDouble(o))));

    @Test
    void everyReadAtEveryOffsetMatchesTheBytesAndNoReadLeavesTheView() {
        long seed = Seeded.seed();
        Seeded.run(seed, random -> {
            try (Arena arena = Arena.ofConfined()) {
                byte[] bytes = new byte[AROUND + LENGTH + AROUND];
                random.nextBytes(bytes);
                MemorySegment nativeCopy = arena.allocate(bytes.length, 8).copyFrom(MemorySegment.ofArray(bytes));
                ByteBuffer expected = ByteBuffer.wrap(bytes, AROUND, LENGTH).slice().order(ByteOrder.nativeOrder());
                for (MemorySegment segment : List.of(MemorySegment.ofArray(bytes).asReadOnly(), nativeCopy.asReadOnly())) {
                    ReadOnlySegmentBytes view = new ReadOnlySegmentBytes();
                    view.wrap(segment, AROUND, LENGTH);
                    for (Read read : READS) {
                        for (long offset = -read.size() - 1; offset <= LENGTH + 1; offset++) {
                            long o = offset;
                            String at = read.name() + "(" + o + ") of " + segment;
                            if (o >= 0 && o + read.size() <= LENGTH) {
                                assertEquals(read.expected().applyAsLong(expected, (int) o), read.view().applyAsLong(view, o), at);
                            } else {
                                assertThrows(BufferUnderflowException.class, () -> read.view().applyAsLong(view, o), at);
                            }
                        }
                    }
                    // Streaming: random reads from position 0 to the end, each where the last one stopped.
                    view.clear();
                    int position = 0;
                    while (true) {
                        Next next = NEXTS.get(random.nextInt(NEXTS.size()));
                        String at = next.name() + " at " + position + " of " + segment;
                        if (position + next.size() > LENGTH) {
                            assertThrows(BufferUnderflowException.class, () -> next.view().applyAsLong(view), at);
                            assertEquals(position, view.readPosition(), "a refused read does not move: " + at);
                            break;
                        }
                        assertEquals(next.expected().applyAsLong(expected, position), next.view().applyAsLong(view), at);
                        position += next.size();
                        assertEquals(position, view.readPosition(), at);
                        assertEquals(LENGTH - position, view.readRemaining(), at);
                    }
                    int from = random.nextInt(LENGTH);
                    int n = random.nextInt(LENGTH - from + 1);
                    byte[] copy = new byte[n + 3];
                    assertEquals(n == 0 ? -1 : n, view.read(from, copy, 3, n));
                    assertArrayEquals(java.util.Arrays.copyOfRange(bytes, AROUND + from, AROUND + from + n),
                            java.util.Arrays.copyOfRange(copy, 3, 3 + n), "read(offset, byte[]) of " + segment);
                    view.readPosition(from);
                    byte[] rest = new byte[LENGTH];
                    assertEquals(LENGTH - from, view.copyTo(rest));
                    assertArrayEquals(java.util.Arrays.copyOfRange(bytes, AROUND + from, AROUND + LENGTH),
                            java.util.Arrays.copyOfRange(rest, 0, LENGTH - from), "copyTo(byte[]) of " + segment);
                }
                // Volatile reads, in native memory at naturally aligned offsets.
                ReadOnlySegmentBytes view = new ReadOnlySegmentBytes(nativeCopy.asReadOnly().asSlice(AROUND, 64));
                ByteBuffer aligned = nativeCopy.asSlice(AROUND, 64).asByteBuffer().order(ByteOrder.nativeOrder());
                for (int o = 0; o < 64; o += 8) {
                    assertEquals(aligned.getLong(o), view.readVolatileLong(o));
                    assertEquals(aligned.getInt(o + 4), view.readVolatileInt(o + 4));
                    assertEquals(aligned.getShort(o + 2), view.readVolatileShort(o + 2));
                    assertEquals(aligned.get(o + 1), view.readVolatileByte(o + 1));
                }
                assertThrows(BufferUnderflowException.class, () -> view.readVolatileLong(60));
            }
        });
    }

    @Test
    void boundsOfTheStreamAndOfTheViewAreKeptAndLenientReadsGiveZero() {
        byte[] bytes = new byte[64];
        java.util.Arrays.fill(bytes, (byte) 0x55); // around the view: must never be read
        for (int i = 16; i < 48; i++) {
            bytes[i] = (byte) (i - 16);
        }
        MemorySegment segment = MemorySegment.ofArray(bytes).asReadOnly();
        ReadOnlySegmentBytes view = new ReadOnlySegmentBytes();
        view.wrap(segment, 16, 32);
        assertEquals(32, view.capacity());
        assertEquals(32, view.readLimit());
        assertEquals(0, view.writeRemaining(), "nothing may be written");
        BufferUnderflowException e = assertThrows(BufferUnderflowException.class, () -> view.readLong(25));
        assertEquals("offset 25 + 8 is outside the view [0, 32)", e.getMessage());
        assertThrows(BufferUnderflowException.class, () -> view.readByte(-1));
        assertThrows(BufferUnderflowException.class, () -> view.readPosition(33));
        assertThrows(BufferUnderflowException.class, () -> view.readPosition(-1));
        assertThrows(BufferUnderflowException.class, () -> view.readLimit(33));
        assertThrows(BufferUnderflowException.class, () -> view.readSkip(33));
        assertThrows(BufferUnderflowException.class, () -> view.readSkip(-1));
        assertEquals(-1, view.peekUnsignedByte(32));
        assertEquals(31, view.peekUnsignedByte(31));
        assertEquals(0x1f1e1d1c1b1a1918L, view.readIncompleteLong(24));
        assertEquals(0x1f1e1dL, view.readIncompleteLong(29), "zeros past the view, not the 0x55 after it");

        view.readPosition(28);
        assertThrows(BufferUnderflowException.class, view::readLong);
        assertEquals(28, view.readPosition());
        assertEquals(0x1f1e1d1c, view.readInt());
        assertEquals(-1, view.peekUnsignedByte());
        assertEquals(-1, view.uncheckedReadUnsignedByte());
        assertEquals(-1, view.read(new byte[4]), "nothing left");

        view.readPosition(4).readLimit(8);
        assertEquals(0x07060504, view.readInt());
        assertThrows(BufferUnderflowException.class, view::readByte, "the read limit is an end");
        view.lenient(true);
        assertEquals(0, view.readLong(), "lenient: past the end reads 0");
        view.readLimit(32).readPosition(30);
        assertEquals(0, view.readInt(), "lenient: a read the end cuts reads 0...");
        assertEquals(32, view.readPosition(), "...and moves to the end");
        view.lenient(false);
        view.clear();
        assertEquals(0, view.readPosition());
        assertEquals(32, view.readLimit());

        // A length prefix that claims more than the view: Chronicle's own helper checks it against
        // readRemaining() (IllegalArgumentException), the view's framing against its limit.
        MemorySegment lies = MemorySegment.ofArray(new byte[] {(byte) 0x7f, 'a', 'b'});
        view.wrap(lies);
        assertThrows(IllegalArgumentException.class, view::readUtf8);
        view.wrap(lies);
        assertThrows(BufferUnderflowException.class, () -> view.readMarshallableLength16(ChronicleQuote.class, null));

        assertThrows(IndexOutOfBoundsException.class, () -> view.wrap(segment, 40, 32), "a range outside the segment");
        assertThrows(IllegalArgumentException.class, () -> view.wrap(segment, 0, -1));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ring = arena.allocate(128);
            MemorySegment other = arena.allocate(16);
            assertThrows(IllegalArgumentException.class, () -> view.wrapPayload(ring, other), "not a slice of the ring");
            view.wrapPayload(ring, ring.asSlice(100, 28).asReadOnly());
            assertEquals(28, view.capacity());
            assertThrows(BufferUnderflowException.class, () -> view.readByte(28));
        }
        assertThrows(BufferUnderflowException.class, () -> new ReadOnlySegmentBytes().readByte(0), "an unwrapped view is empty");
        assertEquals(0, segment.get(JAVA_BYTE, 0) - 0x55, "the bytes around the view are as they were");
    }
}
