package io.sluice.ringbuffer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Rings for the MPMC tests: on the heap, and on two MAP_SHARED mappings of one file. */
final class MpmcTestRings {
    private MpmcTestRings() {
    }

    static final VarHandle STATE = MpmcSlotDescriptor.STATE;
    static final VarHandle POSITION = MpmcRingDescriptor.POSITION;

    /** A formatted ring on a long[] (8-byte aligned) heap segment. */
    static MemorySegment heapRing(int slotCount, int slotLength, int maxParticipantId) {
        long length = MpmcRing.regionSize(slotCount, slotLength);
        MemorySegment region = MemorySegment.ofArray(new long[(int) (length / Long.BYTES)]);
        MpmcRingDescriptor.format(region, slotCount, slotLength, maxParticipantId);
        return region;
    }

    /** The geometry as the header says, without validating counters (tests scribble on them). */
    static MpmcRingGeometry geometry(MemorySegment region) {
        return new MpmcRingGeometry(region.get(ValueLayout.JAVA_INT_UNALIGNED, MpmcRingDescriptor.SLOT_COUNT_OFFSET),
                region.get(ValueLayout.JAVA_INT_UNALIGNED, MpmcRingDescriptor.SLOT_LENGTH_OFFSET),
                region.get(ValueLayout.JAVA_INT_UNALIGNED, MpmcRingDescriptor.MAX_PARTICIPANT_ID_OFFSET));
    }

    static long slotOffset(MemorySegment region, long position) {
        return geometry(region).slotOffset(position);
    }

    static long word(MemorySegment region, long position) {
        return (long) STATE.getAcquire(region, slotOffset(region, position));
    }

    static void setWord(MemorySegment region, long position, long word) {
        STATE.setRelease(region, slotOffset(region, position), word);
    }

    static long tail(MemorySegment region) {
        return (long) POSITION.getAcquire(region, MpmcRingDescriptor.TAIL_POSITION_OFFSET);
    }

    static long head(MemorySegment region) {
        return (long) POSITION.getAcquire(region, MpmcRingDescriptor.HEAD_POSITION_OFFSET);
    }

    static void setTail(MemorySegment region, long value) {
        POSITION.setRelease(region, MpmcRingDescriptor.TAIL_POSITION_OFFSET, value);
    }

    static void setHead(MemorySegment region, long value) {
        POSITION.setRelease(region, MpmcRingDescriptor.HEAD_POSITION_OFFSET, value);
    }

    static int shift(MemorySegment region) {
        return geometry(region).slotCountShift();
    }

    /**
     * A ring in a file mapped twice, MAP_SHARED, into a shared arena: two virtual addresses for
     * the same pages, as two processes would have. Prefers /dev/shm (tmpfs).
     */
    static final class SharedMapping implements AutoCloseable {
        final MemorySegment first;
        final MemorySegment second;
        private final Arena arena = Arena.ofShared();
        private final Path file;

        SharedMapping(int slotCount, int slotLength, int maxParticipantId) {
            long length = MpmcRing.regionSize(slotCount, slotLength);
            try {
                Path dir = Path.of("/dev/shm");
                file = Files.isDirectory(dir) && Files.isWritable(dir)
                        ? Files.createTempFile(dir, "sluice-mpmc-test", ".ring")
                        : Files.createTempFile("sluice-mpmc-test", ".ring");
                try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                    ch.truncate(0);
                    ch.write(java.nio.ByteBuffer.allocate(1), length - 1);
                    first = ch.map(FileChannel.MapMode.READ_WRITE, 0, length, arena);
                    second = ch.map(FileChannel.MapMode.READ_WRITE, 0, length, arena);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            MpmcRingDescriptor.format(first, slotCount, slotLength, maxParticipantId);
        }

        /** The first mapping for even indexes, the second for odd ones. */
        MemorySegment view(int index) {
            return (index & 1) == 0 ? first : second;
        }

        @Override
        public void close() {
            arena.close();
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
