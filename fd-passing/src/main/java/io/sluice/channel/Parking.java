package io.sluice.channel;

import io.sluice.memfd.libc.FutexCalls;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.function.IntSupplier;

/**
 * The consumer's half of cross-process parking: raise the parked flag in its own region, check
 * the ring once more, and sleep on the producer's wake sequence until woken. See
 * {@link FutexWaker} for the other half and {@code docs/layout.md} for the ordering argument.
 */
final class Parking {
    private static final VarHandle WORD = ValueLayout.JAVA_INT.varHandle().withInvokeExactBehavior();
    /** Spins before parking: a message due within a few microseconds costs no system call. */
    private static final int SPINS = 200;
    /** Longest single sleep: the consumer re-checks its deadline and the host's liveness. */
    private static final long SLICE_NANOS = 50_000_000L;

    private final MemorySegment wakeWord;   // the ring's wake sequence, read-only mapping
    private final MemorySegment parkedFlag; // this consumer's own flag, writable

    Parking(MemorySegment wakeWord, MemorySegment parkedFlag) {
        this.wakeWord = wakeWord.asSlice(0, 4);
        this.parkedFlag = parkedFlag.asSlice(0, 4);
    }

    /**
     * Runs {@code poll} until it returns messages or {@code timeoutNanos} pass, sleeping in the
     * kernel while the ring stays empty.
     *
     * @param poll polls the ring and returns the number of messages handled
     * @return the last poll's count (0 on timeout)
     */
    int pollOrPark(IntSupplier poll, long timeoutNanos) {
        int n = poll.getAsInt();
        for (int i = 0; n == 0 && i < SPINS; i++) {
            Thread.onSpinWait();
            n = poll.getAsInt();
        }
        long deadline = System.nanoTime() + timeoutNanos;
        while (n == 0) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return 0;
            }
            int seen = (int) WORD.getAcquire(wakeWord, 0L);
            WORD.setRelease(parkedFlag, 0L, 1);
            VarHandle.fullFence(); // StoreLoad: the flag before the ring check (Dekker with the producer)
            n = poll.getAsInt();
            if (n == 0) {
                FutexCalls.futexWait(wakeWord, seen, Math.min(left, SLICE_NANOS));
            }
            WORD.setRelease(parkedFlag, 0L, 0);
            if (n == 0) {
                n = poll.getAsInt();
            }
        }
        return n;
    }
}
