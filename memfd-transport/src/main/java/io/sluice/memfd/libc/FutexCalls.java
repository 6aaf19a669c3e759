package io.sluice.memfd.libc;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The futex system call on a word of a shared mapping: how a parked consumer sleeps until a
 * producer in another process wakes it. glibc has no futex wrapper, so this goes through
 * {@code syscall(2)} with the architecture's number.
 */
public final class FutexCalls {
    private FutexCalls() {
    }

    public static final int FUTEX_WAIT = 0;
    public static final int FUTEX_WAKE = 1;

    // long syscall(long number, ...): every argument after the number is variadic.
    private static final MethodHandle SYSCALL6 = Downcalls.capturingErrno("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT),
            Linker.Option.firstVariadicArg(1));
    private static final long SYS_FUTEX = switch (System.getProperty("os.arch")) {
        case "amd64", "x86_64" -> 202;
        case "aarch64" -> 98;
        default -> -1;
    };

    // The relative timeout of FUTEX_WAIT (struct timespec: seconds, nanoseconds), one per thread
    // as Errno's capture buffer is, so that a consumer going to sleep allocates nothing.
    private static final ThreadLocal<MemorySegment> TIMESPEC =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(16, 8));

    /**
     * {@code futex(word, FUTEX_WAIT, expected, timeout)} on a shared mapping: sleeps while the
     * 32-bit word still holds {@code expected}, until woken, interrupted by a signal, or
     * {@code timeoutNanos} pass. Not the private variant: the waker may be another process.
     * Reuses a per-thread timeout buffer: no arena per call.
     *
     * <p>The word is passed by address only, so the sleep does not hold the session of the
     * mapping it lies in: a host that wakes its sleepers and then unmaps the ring (closing the
     * channel) is not refused because a thread of its own process is still on its way out of the
     * kernel. Unmapped before the thread got into the kernel, the call fails with {@code EFAULT},
     * which is reported as a wake: the caller polls again and finds the ring closed. Were the
     * address mapped again meanwhile, by something else, the sleep would at worst last to
     * {@code timeoutNanos}: callers sleep in bounded slices and check their ring between them.
     *
     * @return true if woken (or the word had already changed, or was unmapped), false on timeout
     *         or signal
     */
    public static boolean futexWait(MemorySegment word, int expected, long timeoutNanos) {
        requireFutex();
        if (word.byteSize() < Integer.BYTES || !word.isNative()) {
            throw new IllegalArgumentException("futex word: a native segment of at least 4 bytes, was " + word);
        }
        final MemorySegment address = MemorySegment.ofAddress(word.address());
        try {
            MemorySegment ts = TIMESPEC.get();
            ts.set(JAVA_LONG, 0, timeoutNanos / 1_000_000_000L);
            ts.set(JAVA_LONG, 8, timeoutNanos % 1_000_000_000L);
            long r = (long) SYSCALL6.invokeExact(Errno.buffer(), SYS_FUTEX, address, FUTEX_WAIT, expected, ts,
                    MemorySegment.NULL, 0);
            if (r == 0) {
                return true;
            }
            int errno = Errno.last();
            if (errno == Errno.EAGAIN || errno == Errno.EFAULT) {
                return true; // the word changed before we slept, or its mapping is gone (closed)
            }
            if (errno == Errno.ETIMEDOUT || errno == Errno.EINTR) {
                return false;
            }
            throw Errno.failure("futex(FUTEX_WAIT)", null);
        } catch (Throwable t) {
            throw Downcalls.unexpected(t);
        }
    }

    /**
     * {@code futex(word, FUTEX_WAKE, count)}: wakes up to {@code count} waiters on the word, in any
     * process. Works on a read-only mapping (a wake only looks the page up). Allocation-free.
     *
     * @return how many waiters were woken
     */
    public static int futexWake(MemorySegment word, int count) {
        requireFutex();
        long r;
        try {
            r = (long) SYSCALL6.invokeExact(Errno.buffer(), SYS_FUTEX, word, FUTEX_WAKE, count, MemorySegment.NULL,
                    MemorySegment.NULL, 0);
        } catch (Throwable t) {
            throw Downcalls.unexpected(t);
        }
        if (r < 0) {
            throw Errno.failure("futex(FUTEX_WAKE)", null);
        }
        return (int) r;
    }

    private static void requireFutex() {
        if (SYS_FUTEX < 0) {
            throw new UnsupportedOperationException("futex: no syscall number known for os.arch="
                    + System.getProperty("os.arch") + " (x86_64 and aarch64 are supported)");
        }
    }
}
