package io.sluice.channel;

import io.sluice.memfd.libc.FutexCalls;
import io.sluice.ringbuffer.Futex;

import java.lang.foreign.MemorySegment;

/** {@link Futex} over Linux {@code futex(2)}: the kernel half of the SPSC wake-up. */
final class LibcFutex implements Futex {
    static final LibcFutex INSTANCE = new LibcFutex();

    private LibcFutex() {
    }

    @Override
    public void await(MemorySegment word, int expected, long timeoutNanos) {
        FutexCalls.futexWait(word, expected, timeoutNanos);
    }

    @Override
    public void wakeAll(MemorySegment word) {
        FutexCalls.futexWake(word, Integer.MAX_VALUE);
    }
}
