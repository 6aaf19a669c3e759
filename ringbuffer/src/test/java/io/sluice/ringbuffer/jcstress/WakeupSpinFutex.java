package io.sluice.ringbuffer.jcstress;

import io.sluice.ringbuffer.Futex;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * A futex for the wake-up Dekker tests: sleeps by spinning while the word holds the expected value,
 * like the kernel's FUTEX_WAIT without a wake call; gives up after a second, which only a lost
 * wake-up causes (then {@link #gaveUp} is set).
 */
final class WakeupSpinFutex implements Futex {
    private static final VarHandle WORD = ValueLayout.JAVA_INT.withOrder(ByteOrder.LITTLE_ENDIAN).varHandle();

    /** Whether a wait gave up: nobody changed the word within a second. Read by the waiting actor. */
    boolean gaveUp;

    @Override
    public void await(MemorySegment word, int expected, long timeoutNanos) {
        long giveUp = System.nanoTime() + 1_000_000_000L;
        while ((int) WORD.getVolatile(word, 0L) == expected) {
            if (System.nanoTime() > giveUp) {
                gaveUp = true;
                return;
            }
            Thread.onSpinWait();
        }
    }

    @Override
    public void wakeAll(MemorySegment word) {
    }
}
