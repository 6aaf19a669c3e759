package io.sluice.perf.wakeup;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The 4 KiB file in /dev/shm both processes of a wake-up run map: how far the consumer got (the
 * sender waits for it before the next message), and the raw futex probe's words. Each word on a
 * cache line of its own.
 */
final class WakeupControl implements AutoCloseable {
    static final long ACKED = 0;        // i64: messages the consumer has handled (release)
    static final long RAW_WORD = 128;   // u32: the raw probe's futex word
    static final long RAW_WAITING = 256; // u32: 1 while the raw consumer is about to sleep or asleep
    static final long RAW_STAMP = 384;  // i64: System.nanoTime() of the raw wake
    static final long SIZE = 4096;

    static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
    static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

    private final Arena arena = Arena.ofShared();
    final MemorySegment words;

    WakeupControl(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            if (ch.size() < SIZE) {
                ch.truncate(0);
                ch.write(java.nio.ByteBuffer.allocate((int) SIZE));
            }
            words = ch.map(FileChannel.MapMode.READ_WRITE, 0, SIZE, arena);
        }
    }

    long acked() {
        return (long) LONG.getAcquire(words, ACKED);
    }

    void ack(long n) {
        LONG.setRelease(words, ACKED, n);
    }

    @Override
    public void close() {
        arena.close();
    }
}
