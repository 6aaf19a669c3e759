package io.sluice.memfd.libc;

import io.sluice.api.SystemCallException;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * errno: the values Sluice tests for, the per-thread buffer every call of this package captures
 * errno into ({@link Linker.Option#captureCallState}), and the {@link SystemCallException} a
 * failed call throws, naming the call and the errno ({@code mmap: EPERM (Operation not permitted)}).
 *
 * <p>Reading the buffer costs a thread-local lookup and nothing else: no allocation in steady
 * state. Values are Linux's, identical on x86_64 and aarch64.
 */
public final class Errno {
    private Errno() {
    }

    public static final int ENOENT = 2;
    public static final int EINTR = 4;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EFAULT = 14;
    public static final int EINVAL = 22;
    public static final int ENFILE = 23;
    public static final int EMFILE = 24;
    public static final int EPIPE = 32;
    public static final int ECONNABORTED = 103;
    public static final int ECONNRESET = 104;
    public static final int ENOBUFS = 105;
    public static final int ETIMEDOUT = 110;
    public static final int ECONNREFUSED = 111;

    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final ThreadLocal<MemorySegment> BUFFER =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CAPTURE));

    /** This thread's capture buffer: the first argument of every handle of {@link Downcalls}. */
    static MemorySegment buffer() {
        return BUFFER.get();
    }

    /** The errno captured by the last call of this package on this thread. */
    public static int last() {
        return (int) ERRNO.get(BUFFER.get(), 0L);
    }

    /** The exception for a failed {@code call}, from the errno this thread just captured. */
    public static SystemCallException failure(String call, String context) {
        int errno = last();
        return new SystemCallException(call, errno, name(errno), description(errno), context);
    }

    // glibc >= 2.32 gives thread-safe static strings for both; elsewhere we print the number.
    private static final Optional<MethodHandle> STRERRORNAME_NP =
            Downcalls.optional("strerrorname_np", FunctionDescriptor.of(ADDRESS, JAVA_INT));
    private static final Optional<MethodHandle> STRERRORDESC_NP =
            Downcalls.optional("strerrordesc_np", FunctionDescriptor.of(ADDRESS, JAVA_INT));

    /** The symbolic name of an errno value ({@code EPERM}), or {@code errno N}. */
    public static String name(int errno) {
        String s = staticString(STRERRORNAME_NP, errno);
        return s != null ? s : "errno " + errno;
    }

    /** The human description of an errno value, or null if libc cannot say. */
    public static String description(int errno) {
        return staticString(STRERRORDESC_NP, errno);
    }

    private static String staticString(Optional<MethodHandle> fn, int errno) {
        if (fn.isEmpty()) {
            return null;
        }
        try {
            MemorySegment p = (MemorySegment) fn.get().invokeExact(errno);
            if (p.equals(MemorySegment.NULL)) {
                return null;
            }
            return p.reinterpret(256).getString(0);
        } catch (Throwable t) {
            return null;
        }
    }
}
