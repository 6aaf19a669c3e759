package io.sluice.memfd.libc;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Calls on any file descriptor: open, close, read, write, pipe2, fcntl and fstat. Each throws
 * {@link io.sluice.api.SystemCallException} on failure ({@link Errno#failure}).
 *
 * <p>Linux only, LP64 (x86_64, aarch64).
 */
public final class FdCalls {
    private FdCalls() {
    }

    public static final int O_RDONLY = 0;
    public static final int O_RDWR = 2;
    public static final int O_ACCMODE = 3;
    public static final int O_CREAT = 0x40;
    public static final int O_CLOEXEC = 0x80000;

    public static final int F_GETFD = 1;
    public static final int F_GETFL = 3;

    public static final int S_IFMT = 0170000;
    public static final int S_IFREG = 0100000;
    public static final int S_IFIFO = 0010000;
    public static final int S_IFSOCK = 0140000;

    private static final int AT_EMPTY_PATH = 0x1000;
    private static final int STATX_TYPE = 0x0001;
    private static final int STATX_MODE = 0x0002;
    private static final int STATX_SIZE = 0x0200;

    /** {@code struct statx}: 256 bytes, the same on every architecture (which is why we use it). */
    private static final long STATX_SIZE_BYTES = 256;
    private static final long STX_MODE = 28;
    private static final long STX_SIZE = 40;

    private static final MethodHandle OPEN = Downcalls.capturingErrno("open",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle CLOSE = Downcalls.capturingErrno("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle READ =
            Downcalls.capturingErrno("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle WRITE =
            Downcalls.capturingErrno("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle PIPE2 =
            Downcalls.capturingErrno("pipe2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    // int fcntl(int fd, int cmd, ...): the third argument is variadic, and the variadic calling
    // convention must be requested explicitly (on x86_64 it sets %al; elsewhere it may differ).
    private static final MethodHandle FCNTL_INT = Downcalls.capturingErrno("fcntl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle STATX = Downcalls.capturingErrno("statx",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS));

    /** {@code open(path, flags, mode)}; returns the fd. */
    public static int open(String path, int flags, int mode) {
        try (Arena arena = Arena.ofConfined()) {
            int fd = (int) OPEN.invokeExact(Errno.buffer(), arena.allocateFrom(path), flags, mode);
            if (fd < 0) {
                throw Errno.failure("open", path);
            }
            return fd;
        } catch (Throwable t) {
            throw Downcalls.unexpected(t);
        }
    }

    /** {@code close(fd)}. EINTR is not retried: on Linux the fd is released anyway. */
    public static void close(int fd) {
        int r;
        try {
            r = (int) CLOSE.invokeExact(Errno.buffer(), fd);
        } catch (Throwable t) {
            throw Downcalls.unexpected(t);
        }
        if (r != 0 && Errno.last() != Errno.EINTR) {
            throw Errno.failure("close", "fd=" + fd);
        }
    }

    /** Closes fd, ignoring errors: for failure paths that must not mask the original error. */
    public static void closeQuietly(int fd) {
        if (fd < 0) {
            return;
        }
        try {
            int ignored = (int) CLOSE.invokeExact(Errno.buffer(), fd);
        } catch (Throwable ignored) {
            // nothing sensible to do on a failure path
        }
    }

    /** {@code read(fd, buffer, size)}; returns the bytes read (0 at end of file). */
    public static long read(int fd, MemorySegment buffer) {
        long r;
        try {
            r = (long) READ.invokeExact(Errno.buffer(), fd, buffer, buffer.byteSize());
        } catch (Throwable t) {
            throw Downcalls.unexpected(t);
        }
        if (r < 0) {
            throw Errno.failure("read", "fd=" + fd);
        }
        return r;
    }

    /** {@code write(fd, data, length)}; returns the bytes written. */
    public static long write(int fd, MemorySegment data) {
        long r;
        try {
            r = (long) WRITE.invokeExact(Errno.buffer(), fd, data, data.byteSize());
        } catch (Throwable t) {
            throw Downcalls.unexpected(t);
        }
        if (r < 0) {
            throw Errno.failure("write", "fd=" + fd);
        }
        return r;
    }

    /** {@code pipe2(fds, O_CLOEXEC)}; returns {read end, write end}. */
    public static int[] pipe() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fds = arena.allocate(JAVA_INT, 2);
            int r = (int) PIPE2.invokeExact(Errno.buffer(), fds, O_CLOEXEC);
            if (r != 0) {
                throw Errno.failure("pipe2", null);
            }
            return new int[] {fds.getAtIndex(JAVA_INT, 0), fds.getAtIndex(JAVA_INT, 1)};
        } catch (Throwable t) {
            throw Downcalls.unexpected(t);
        }
    }

    /** {@code fcntl(fd, cmd, arg)} with an int argument; returns the call's result. */
    public static int fcntl(int fd, int cmd, int arg) {
        int r;
        try {
            r = (int) FCNTL_INT.invokeExact(Errno.buffer(), fd, cmd, arg);
        } catch (Throwable t) {
            throw Downcalls.unexpected(t);
        }
        if (r < 0) {
            throw Errno.failure("fcntl(" + commandName(cmd) + ")", "fd=" + fd);
        }
        return r;
    }

    private static String commandName(int cmd) {
        return switch (cmd) {
            case F_GETFD -> "F_GETFD";
            case F_GETFL -> "F_GETFL";
            case MemfdCalls.F_ADD_SEALS -> "F_ADD_SEALS";
            case MemfdCalls.F_GET_SEALS -> "F_GET_SEALS";
            default -> Integer.toString(cmd);
        };
    }

    /** File type and size of an open fd. */
    public record FileStat(int mode, long size) {
        public boolean isRegularFile() {
            return (mode & S_IFMT) == S_IFREG;
        }

        public String typeName() {
            return switch (mode & S_IFMT) {
                case S_IFREG -> "regular file";
                case S_IFIFO -> "pipe";
                case S_IFSOCK -> "socket";
                case 0020000 -> "character device";
                case 0060000 -> "block device";
                case 0040000 -> "directory";
                case 0120000 -> "symbolic link";
                default -> "file of type " + Integer.toOctalString(mode & S_IFMT);
            };
        }
    }

    /**
     * {@code fstat(fd)}, done as {@code statx(fd, "", AT_EMPTY_PATH, ...)}: same answer, but
     * {@code struct statx} has one layout on every architecture, unlike {@code struct stat}.
     */
    public static FileStat fstat(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(STATX_SIZE_BYTES, 8);
            MemorySegment empty = arena.allocateFrom("");
            int r = (int) STATX.invokeExact(Errno.buffer(), fd, empty, AT_EMPTY_PATH,
                    STATX_TYPE | STATX_MODE | STATX_SIZE, buf);
            if (r != 0) {
                throw Errno.failure("fstat", "fd=" + fd);
            }
            int mode = Short.toUnsignedInt(buf.get(ValueLayout.JAVA_SHORT, STX_MODE));
            long size = buf.get(JAVA_LONG, STX_SIZE);
            return new FileStat(mode, size);
        } catch (Throwable t) {
            throw Downcalls.unexpected(t);
        }
    }
}
