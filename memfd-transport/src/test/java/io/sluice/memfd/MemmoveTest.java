package io.sluice.memfd;

import io.sluice.memfd.libc.MemoryCalls;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** {@link MemoryCalls#memmove}: the copy of long payloads, with MemorySegment.copy's contract. */
class MemmoveTest {
    private static final int LONG = (5 << 20) / 2; // two and a half calls of 1 MiB

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }

    @Test
    void copiesAHeapOrNativeSourceOfSeveralCallsIntoAMapping() {
        byte[] expected = random(LONG, 1);
        try (MemfdRegion r = MemfdRegion.create("test.memmove", LONG + 4096); Arena arena = Arena.ofConfined()) {
            MemorySegment mapping = r.mapReadWrite();
            MemoryCalls.memmove(mapping.asSlice(4096), MemorySegment.ofArray(expected), LONG);
            assertArrayEquals(expected, mapping.asSlice(4096, LONG).toArray(JAVA_BYTE), "heap source");
            byte[] other = random(LONG, 2);
            MemorySegment nativeSource = arena.allocate(LONG);
            nativeSource.copyFrom(MemorySegment.ofArray(other));
            MemoryCalls.memmove(mapping, nativeSource, LONG);
            assertArrayEquals(other, mapping.asSlice(0, LONG).toArray(JAVA_BYTE), "native source");
        }
    }

    /** Overlapping ranges, in both directions, across call boundaries: as MemorySegment.copy would copy them. */
    @Test
    void overlappingRangesCopyAsIfThroughATemporaryBuffer() {
        int span = LONG + 1000;
        byte[] start = random(span, 3);
        for (int shift : new int[] {-1000, -1, 1, 1000}) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment s = arena.allocate(span);
                s.copyFrom(MemorySegment.ofArray(start));
                MemorySegment expected = arena.allocate(span);
                expected.copyFrom(s);
                int from = shift > 0 ? 0 : -shift;
                int to = shift > 0 ? shift : 0;
                int n = span - Math.abs(shift);
                MemorySegment.copy(expected, from, expected, to, n);
                MemoryCalls.memmove(s.asSlice(to, n), s.asSlice(from, n), n);
                assertEquals(-1, s.mismatch(expected), "shift " + shift);
            }
        }
    }

    @Test
    void refusesWhatMemorySegmentCopyRefuses() {
        try (MemfdRegion r = MemfdRegion.create("test.memmove-refused", 8192)) {
            MemorySegment mapping = r.mapReadWrite();
            MemorySegment source = MemorySegment.ofArray(new byte[8192]);
            assertThrows(IllegalArgumentException.class, () -> MemoryCalls.memmove(mapping.asReadOnly(), source, 16),
                    "read-only destination");
            assertThrows(IllegalArgumentException.class, () -> MemoryCalls.memmove(MemorySegment.ofArray(new byte[16]), source, 16),
                    "heap destination");
            assertThrows(IndexOutOfBoundsException.class, () -> MemoryCalls.memmove(mapping, source.asSlice(0, 8), 16),
                    "short source");
            assertThrows(IndexOutOfBoundsException.class, () -> MemoryCalls.memmove(mapping.asSlice(0, 8), source, 16),
                    "short destination");
            assertThrows(IndexOutOfBoundsException.class, () -> MemoryCalls.memmove(mapping, source, -1), "negative length");
            Arena closed = Arena.ofShared();
            MemorySegment gone = closed.allocate(64);
            closed.close();
            assertThrows(IllegalStateException.class, () -> MemoryCalls.memmove(mapping, gone, 64), "closed source");
            assertEquals(0, mapping.get(JAVA_BYTE, 0), "nothing written by a refused call");
        }
    }
}
