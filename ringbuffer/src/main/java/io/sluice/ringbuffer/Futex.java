package io.sluice.ringbuffer;

import java.lang.foreign.MemorySegment;

/**
 * The two kernel calls the SPSC wake-up ({@link SpscWakeup}) needs, on a 32-bit word in shared
 * memory: on Linux {@code futex(FUTEX_WAIT)} and {@code futex(FUTEX_WAKE)}. Injected, so that the
 * rings stay free of libc; the transport that maps the regions implements it.
 */
public interface Futex {
    /**
     * Sleeps while the 4-byte {@code word} holds {@code expected}, at most {@code timeoutNanos}.
     * The comparison and the sleep are one atomic step against {@link #wakeAll}: a wake after the
     * word changed is never missed. May return early (spuriously, on a signal, or at once if the
     * word no longer holds {@code expected}); the caller re-checks.
     *
     * @param word 4 bytes of a shared mapping, 4-byte aligned
     * @param expected the value the caller saw, meaning "nothing to do yet"
     * @param timeoutNanos the longest sleep, in nanoseconds
     */
    void await(MemorySegment word, int expected, long timeoutNanos);

    /**
     * Wakes every thread, in any process, sleeping on {@code word}.
     *
     * @param word the word sleepers wait on (same mapping offset in every process)
     */
    void wakeAll(MemorySegment word);
}
