package io.sluice.channel;

import io.sluice.api.ConsumerWaker;
import io.sluice.memfd.libc.FutexCalls;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * The producer's half of cross-process parking: bumps the ring's wake sequence (a 32-bit futex
 * word in the producer's region) and wakes every process sleeping on it. Runs only when a
 * producer saw a consumer's parked flag set.
 */
final class FutexWaker implements ConsumerWaker {
    private static final VarHandle WORD = ValueLayout.JAVA_INT.varHandle().withInvokeExactBehavior();

    private final MemorySegment word;
    private final java.util.concurrent.atomic.LongAdder wakes = new java.util.concurrent.atomic.LongAdder();

    /** @param wakeWord the 4-byte wake sequence, in a writable mapping of the ring */
    FutexWaker(MemorySegment wakeWord) {
        this.word = wakeWord.asSlice(0, 4);
    }

    @Override
    public void wake() {
        // The add changes the word, so a consumer that read the old value and has not slept yet
        // returns from FUTEX_WAIT at once (EAGAIN) instead of missing this wake.
        int ignored = (int) WORD.getAndAdd(word, 0L, 1);
        FutexCalls.futexWake(word, Integer.MAX_VALUE);
        wakes.increment();
    }

    /** How many times a producer found a consumer parked and woke it. */
    long wakes() {
        return wakes.sum();
    }
}
