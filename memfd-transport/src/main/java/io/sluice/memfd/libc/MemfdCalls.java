package io.sluice.memfd.libc;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Creating and sizing a memfd, and its seals: {@code memfd_create}, {@code fchmod},
 * {@code ftruncate}, {@code fcntl(F_ADD_SEALS / F_GET_SEALS)}. Each throws
 * {@link io.sluice.api.SystemCallException} on failure.
 */
public final class MemfdCalls {
    private MemfdCalls() {
    }

    public static final int MFD_CLOEXEC = 0x0001;
    public static final int MFD_ALLOW_SEALING = 0x0002;
    public static final int MFD_NOEXEC_SEAL = 0x0008;

    public static final int F_ADD_SEALS = 1033;
    public static final int F_GET_SEALS = 1034;

    private static final MethodHandle MEMFD_CREATE =
            Downcalls.capturingErrno("memfd_create", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle FTRUNCATE =
            Downcalls.capturingErrno("ftruncate", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle FCHMOD =
            Downcalls.capturingErrno("fchmod", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));

    /** {@code memfd_create(name, flags)}; returns the fd. */
    public static int memfdCreate(String name, int flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cname = arena.allocateFrom(name);
            int fd = (int) MEMFD_CREATE.invokeExact(Errno.buffer(), cname, flags);
            if (fd < 0) {
                throw Errno.failure("memfd_create", "name=" + name);
            }
            return fd;
        } catch (Throwable t) {
            throw Downcalls.unexpected(t);
        }
    }

    /** {@code ftruncate(fd, size)}. */
    public static void ftruncate(int fd, long size) {
        int r;
        try {
            r = (int) FTRUNCATE.invokeExact(Errno.buffer(), fd, size);
        } catch (Throwable t) {
            throw Downcalls.unexpected(t);
        }
        if (r != 0) {
            throw Errno.failure("ftruncate", "fd=" + fd + " size=" + size);
        }
    }

    /** {@code fchmod(fd, mode)}. */
    public static void fchmod(int fd, int mode) {
        int r;
        try {
            r = (int) FCHMOD.invokeExact(Errno.buffer(), fd, mode);
        } catch (Throwable t) {
            throw Downcalls.unexpected(t);
        }
        if (r != 0) {
            throw Errno.failure("fchmod", "fd=" + fd + " mode=0" + Integer.toOctalString(mode));
        }
    }

    /** {@code fcntl(fd, F_ADD_SEALS, seals)}: seals are permanent. */
    public static void addSeals(int fd, int seals) {
        FdCalls.fcntl(fd, F_ADD_SEALS, seals);
    }

    /** {@code fcntl(fd, F_GET_SEALS)}: the seal mask, or an exception (EINVAL) if fd cannot be sealed. */
    public static int seals(int fd) {
        return FdCalls.fcntl(fd, F_GET_SEALS, 0);
    }
}
