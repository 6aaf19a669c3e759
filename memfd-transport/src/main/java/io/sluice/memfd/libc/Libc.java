package io.sluice.memfd.libc;

import io.sluice.api.SystemCallException;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * FFM downcalls to the libc functions Sluice needs, each capturing {@code errno} in the same
 * native call ({@link Linker.Option#captureCallState}) so that nothing the JVM does between the
 * call and the check can overwrite it. A failing call throws {@link SystemCallException} naming
 * the call and the errno ({@code mmap: EPERM (Operation not permitted)}).
 *
 * <p>These calls are for setup and teardown, not for the per-message hot path: each call pays
 * a thread-local lookup for its errno buffer and nothing else (no allocation in steady state).
 *
 * <p>Linux only, LP64 (x86_64, aarch64): struct offsets below are those of the LP64 kernel ABI.
 */
public final class Libc {
    private Libc() {
    }

    // ---- constants (Linux UAPI; identical on x86_64 and aarch64) ----
    public static final int MFD_CLOEXEC = 0x0001;
    public static final int MFD_ALLOW_SEALING = 0x0002;
    public static final int MFD_NOEXEC_SEAL = 0x0008;

    public static final int F_GETFD = 1;
    public static final int F_GETFL = 3;
    public static final int O_ACCMODE = 3;
    public static final int F_ADD_SEALS = 1033;
    public static final int F_GET_SEALS = 1034;

    public static final int PROT_NONE = 0;
    public static final int PROT_READ = 1;
    public static final int PROT_WRITE = 2;
    public static final int PROT_EXEC = 4;
    public static final int MAP_SHARED = 0x01;
    public static final int MAP_POPULATE = 0x8000;

    public static final int O_RDONLY = 0;
    public static final int O_RDWR = 2;
    public static final int O_CREAT = 0x40;
    public static final int O_CLOEXEC = 0x80000;

    public static final int AF_UNIX = 1;
    public static final int SOCK_SEQPACKET = 5;
    public static final int SOCK_CLOEXEC = 0x80000;
    public static final int SOCK_NONBLOCK = 0x800;
    public static final int SOL_SOCKET = 1;
    public static final int SO_PEERCRED = 17;
    public static final int SCM_RIGHTS = 1;
    public static final int SHUT_RDWR = 2;

    public static final int MSG_DONTWAIT = 0x40;
    public static final int MSG_CTRUNC = 0x08;
    public static final int MSG_TRUNC = 0x20;
    public static final int MSG_NOSIGNAL = 0x4000;
    public static final int MSG_CMSG_CLOEXEC = 0x40000000;

    public static final short POLLIN = 0x001;
    public static final short POLLERR = 0x008;
    public static final short POLLHUP = 0x010;

    public static final int AT_EMPTY_PATH = 0x1000;
    public static final int STATX_TYPE = 0x0001;
    public static final int STATX_MODE = 0x0002;
    public static final int STATX_SIZE = 0x0200;
    public static final int S_IFMT = 0170000;
    public static final int S_IFREG = 0100000;
    public static final int S_IFIFO = 0010000;
    public static final int S_IFSOCK = 0140000;

    public static final int ENOENT = 2;
    public static final int EINTR = 4;
    public static final int EPIPE = 32;
    public static final int ECONNABORTED = 103;
    public static final int ECONNRESET = 104;
    public static final int ECONNREFUSED = 111;
    public static final int EAGAIN = 11;
    public static final int EINVAL = 22;
    public static final int ENFILE = 23;
    public static final int EMFILE = 24;
    public static final int ENOMEM = 12;
    public static final int ENOBUFS = 105;

    // ---- struct layouts (LP64) ----

    /** {@code struct sockaddr_un}: sa_family_t sun_family; char sun_path[108]. */
    public static final long SOCKADDR_UN_SIZE = 110;
    public static final long SUN_PATH_OFFSET = 2;
    public static final long SUN_PATH_MAX = 108;

    /** {@code struct msghdr}. */
    public static final long MSGHDR_SIZE = 56;
    public static final long MSG_NAME = 0;
    public static final long MSG_NAMELEN = 8;
    public static final long MSG_IOV = 16;
    public static final long MSG_IOVLEN = 24;
    public static final long MSG_CONTROL = 32;
    public static final long MSG_CONTROLLEN = 40;
    public static final long MSG_FLAGS = 48;

    /** {@code struct iovec}. */
    public static final long IOVEC_SIZE = 16;

    /** {@code struct cmsghdr}: size_t cmsg_len; int cmsg_level; int cmsg_type; data (8-aligned). */
    public static final long CMSG_HDR = 16;
    public static final long CMSG_LEN_OFF = 0;
    public static final long CMSG_LEVEL_OFF = 8;
    public static final long CMSG_TYPE_OFF = 12;

    /** {@code CMSG_SPACE(n)}: header plus n data bytes rounded up to the 8-byte alignment. */
    public static long cmsgSpace(long dataBytes) {
        return CMSG_HDR + ((dataBytes + 7) & ~7L);
    }

    /** {@code CMSG_LEN(n)}. */
    public static long cmsgLen(long dataBytes) {
        return CMSG_HDR + dataBytes;
    }

    /** {@code struct ucred}: pid_t pid; uid_t uid; gid_t gid. */
    public static final long UCRED_SIZE = 12;

    /** {@code struct pollfd}: int fd; short events; short revents. */
    public static final long POLLFD_SIZE = 8;

    /** {@code struct statx}: 256 bytes, the same on every architecture (which is why we use it). */
    public static final long STATX_SIZE_BYTES = 256;
    public static final long STX_MODE = 28;
    public static final long STX_SIZE = 40;

    // ---- the linker ----

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");
    private static final ThreadLocal<MemorySegment> ERRNO_BUFFER =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CAPTURE));

    /**
     * A downcall handle for {@code name} that captures errno: the handle takes the capture
     * segment as an extra first argument. Used by the socket layer in fd-passing too, so that
     * native access stays confined to this module.
     */
    public static MethodHandle downcall(String name, FunctionDescriptor descriptor, Linker.Option... options) {
        MemorySegment symbol = LIBC.find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc has no symbol '" + name + "'"));
        Linker.Option[] all = new Linker.Option[options.length + 1];
        all[0] = CAPTURE_ERRNO;
        System.arraycopy(options, 0, all, 1, options.length);
        return LINKER.downcallHandle(symbol, descriptor, all);
    }

    private static Optional<MethodHandle> plainDowncall(String name, FunctionDescriptor descriptor) {
        return LIBC.find(name).map(s -> LINKER.downcallHandle(s, descriptor));
    }

    /** This thread's errno capture buffer; pass it as the first argument of a capturing handle. */
    public static MemorySegment errnoBuffer() {
        return ERRNO_BUFFER.get();
    }

    /** The errno captured by the last capturing call on this thread. */
    public static int lastErrno() {
        return (int) ERRNO.get(ERRNO_BUFFER.get(), 0L);
    }

    /** Builds the exception for a failed call from the errno this thread just captured. */
    public static SystemCallException failure(String call, String context) {
        int errno = lastErrno();
        return new SystemCallException(call, errno, errnoName(errno), errnoDescription(errno), context);
    }

    // glibc >= 2.32 gives thread-safe static strings for both; elsewhere we print the number.
    private static final Optional<MethodHandle> STRERRORNAME_NP =
            plainDowncall("strerrorname_np", FunctionDescriptor.of(ADDRESS, JAVA_INT));
    private static final Optional<MethodHandle> STRERRORDESC_NP =
            plainDowncall("strerrordesc_np", FunctionDescriptor.of(ADDRESS, JAVA_INT));

    /** The symbolic name of an errno value ({@code EPERM}), or {@code errno N}. */
    public static String errnoName(int errno) {
        String s = staticString(STRERRORNAME_NP, errno);
        return s != null ? s : "errno " + errno;
    }

    /** The human description of an errno value, or null if libc cannot say. */
    public static String errnoDescription(int errno) {
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

    // ---- the calls ----

    private static final MethodHandle MEMFD_CREATE =
            downcall("memfd_create", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle FTRUNCATE =
            downcall("ftruncate", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle MMAP = downcall("mmap",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle MUNMAP =
            downcall("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle MPROTECT =
            downcall("mprotect", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    // int fcntl(int fd, int cmd, ...): the third argument is variadic, and the variadic calling
    // convention must be requested explicitly (on x86_64 it sets %al; elsewhere it may differ).
    private static final MethodHandle FCNTL_INT = downcall("fcntl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle STATX = downcall("statx",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle CLOSE = downcall("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle WRITE =
            downcall("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle OPEN = downcall("open",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle READ =
            downcall("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle FCHMOD = downcall("fchmod", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle PIPE2 =
            downcall("pipe2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));

    // long syscall(long number, ...): every argument after the number is variadic.
    private static final MethodHandle SYSCALL6 = downcall("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT),
            Linker.Option.firstVariadicArg(1));
    private static final long SYS_FUTEX = switch (System.getProperty("os.arch")) {
        case "amd64", "x86_64" -> 202;
        case "aarch64" -> 98;
        default -> -1;
    };
    public static final int FUTEX_WAIT = 0;
    public static final int FUTEX_WAKE = 1;
    public static final int ETIMEDOUT = 110;

    /**
     * {@code futex(word, FUTEX_WAIT, expected, timeout)} on a shared mapping: sleeps while the
     * 32-bit word still holds {@code expected}, until woken, interrupted by a signal, or
     * {@code timeoutNanos} pass. Not the private variant: the waker may be another process.
     *
     * @return true if woken (or the word had already changed), false on timeout or signal
     */
    public static boolean futexWait(MemorySegment word, int expected, long timeoutNanos) {
        requireFutex();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ts = arena.allocate(16, 8);
            ts.set(JAVA_LONG, 0, timeoutNanos / 1_000_000_000L);
            ts.set(JAVA_LONG, 8, timeoutNanos % 1_000_000_000L);
            long r = (long) SYSCALL6.invokeExact(errnoBuffer(), SYS_FUTEX, word, FUTEX_WAIT, expected, ts,
                    MemorySegment.NULL, 0);
            if (r == 0) {
                return true;
            }
            int errno = lastErrno();
            if (errno == EAGAIN) {
                return true; // the word changed before we slept
            }
            if (errno == ETIMEDOUT || errno == EINTR) {
                return false;
            }
            throw failure("futex(FUTEX_WAIT)", null);
        } catch (Throwable t) {
            throw unexpected(t);
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
            r = (long) SYSCALL6.invokeExact(errnoBuffer(), SYS_FUTEX, word, FUTEX_WAKE, count, MemorySegment.NULL,
                    MemorySegment.NULL, 0);
        } catch (Throwable t) {
            throw unexpected(t);
        }
        if (r < 0) {
            throw failure("futex(FUTEX_WAKE)", null);
        }
        return (int) r;
    }

    private static void requireFutex() {
        if (SYS_FUTEX < 0) {
            throw new UnsupportedOperationException("futex: no syscall number known for os.arch="
                    + System.getProperty("os.arch") + " (x86_64 and aarch64 are supported)");
        }
    }

    private static RuntimeException unexpected(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }

    /** {@code memfd_create(name, flags)}; returns the fd. */
    public static int memfdCreate(String name, int flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cname = arena.allocateFrom(name);
            int fd = (int) MEMFD_CREATE.invokeExact(errnoBuffer(), cname, flags);
            if (fd < 0) {
                throw failure("memfd_create", "name=" + name);
            }
            return fd;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** {@code ftruncate(fd, size)}. */
    public static void ftruncate(int fd, long size) {
        int r;
        try {
            r = (int) FTRUNCATE.invokeExact(errnoBuffer(), fd, size);
        } catch (Throwable t) {
            throw unexpected(t);
        }
        if (r != 0) {
            throw failure("ftruncate", "fd=" + fd + " size=" + size);
        }
    }

    /** {@code mmap(NULL, length, prot, flags, fd, 0)}; returns the raw address. */
    public static long mmap(long length, int prot, int flags, int fd) {
        MemorySegment p;
        try {
            p = (MemorySegment) MMAP.invokeExact(errnoBuffer(), MemorySegment.NULL, length, prot, flags, fd, 0L);
        } catch (Throwable t) {
            throw unexpected(t);
        }
        if (p.address() == -1L) { // MAP_FAILED
            throw failure("mmap", "fd=" + fd + " length=" + length + " prot=" + protName(prot));
        }
        return p.address();
    }

    /** {@code munmap(address, length)}. */
    public static void munmap(long address, long length) {
        int r;
        try {
            r = (int) MUNMAP.invokeExact(errnoBuffer(), MemorySegment.ofAddress(address), length);
        } catch (Throwable t) {
            throw unexpected(t);
        }
        if (r != 0) {
            throw failure("munmap", "length=" + length);
        }
    }

    /** {@code mprotect(address, length, prot)}. */
    public static void mprotect(long address, long length, int prot) {
        int r;
        try {
            r = (int) MPROTECT.invokeExact(errnoBuffer(), MemorySegment.ofAddress(address), length, prot);
        } catch (Throwable t) {
            throw unexpected(t);
        }
        if (r != 0) {
            throw failure("mprotect", "length=" + length + " prot=" + protName(prot));
        }
    }

    /** {@code fcntl(fd, cmd, arg)} with an int argument; returns the call's result. */
    public static int fcntl(int fd, int cmd, int arg) {
        int r;
        try {
            r = (int) FCNTL_INT.invokeExact(errnoBuffer(), fd, cmd, arg);
        } catch (Throwable t) {
            throw unexpected(t);
        }
        if (r < 0) {
            throw failure(cmd == F_ADD_SEALS ? "fcntl(F_ADD_SEALS)"
                    : cmd == F_GET_SEALS ? "fcntl(F_GET_SEALS)" : "fcntl(" + cmd + ")", "fd=" + fd);
        }
        return r;
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
            int r = (int) STATX.invokeExact(errnoBuffer(), fd, empty, AT_EMPTY_PATH,
                    STATX_TYPE | STATX_MODE | STATX_SIZE, buf);
            if (r != 0) {
                throw failure("fstat", "fd=" + fd);
            }
            int mode = Short.toUnsignedInt(buf.get(ValueLayout.JAVA_SHORT, STX_MODE));
            long size = buf.get(JAVA_LONG, STX_SIZE);
            return new FileStat(mode, size);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** {@code close(fd)}. EINTR is not retried: on Linux the fd is released anyway. */
    public static void close(int fd) {
        int r;
        try {
            r = (int) CLOSE.invokeExact(errnoBuffer(), fd);
        } catch (Throwable t) {
            throw unexpected(t);
        }
        if (r != 0 && lastErrno() != EINTR) {
            throw failure("close", "fd=" + fd);
        }
    }

    /** Closes fd, ignoring errors: for failure paths that must not mask the original error. */
    public static void closeQuietly(int fd) {
        if (fd < 0) {
            return;
        }
        try {
            int ignored = (int) CLOSE.invokeExact(errnoBuffer(), fd);
        } catch (Throwable ignored) {
            // nothing sensible to do on a failure path
        }
    }

    /** {@code write(fd, data, length)}; returns the bytes written. */
    public static long write(int fd, MemorySegment data) {
        long r;
        try {
            r = (long) WRITE.invokeExact(errnoBuffer(), fd, data, data.byteSize());
        } catch (Throwable t) {
            throw unexpected(t);
        }
        if (r < 0) {
            throw failure("write", "fd=" + fd);
        }
        return r;
    }

    /** {@code read(fd, buffer, size)}; returns the bytes read (0 at end of file). */
    public static long read(int fd, MemorySegment buffer) {
        long r;
        try {
            r = (long) READ.invokeExact(errnoBuffer(), fd, buffer, buffer.byteSize());
        } catch (Throwable t) {
            throw unexpected(t);
        }
        if (r < 0) {
            throw failure("read", "fd=" + fd);
        }
        return r;
    }

    /** {@code open(path, flags, mode)}; returns the fd. */
    public static int open(String path, int flags, int mode) {
        try (Arena arena = Arena.ofConfined()) {
            int fd = (int) OPEN.invokeExact(errnoBuffer(), arena.allocateFrom(path), flags, mode);
            if (fd < 0) {
                throw failure("open", path);
            }
            return fd;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** {@code fchmod(fd, mode)}. */
    public static void fchmod(int fd, int mode) {
        int r;
        try {
            r = (int) FCHMOD.invokeExact(errnoBuffer(), fd, mode);
        } catch (Throwable t) {
            throw unexpected(t);
        }
        if (r != 0) {
            throw failure("fchmod", "fd=" + fd + " mode=0" + Integer.toOctalString(mode));
        }
    }

    /** {@code pipe2(fds, O_CLOEXEC)}; returns {read end, write end}. */
    public static int[] pipe() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fds = arena.allocate(JAVA_INT, 2);
            int r = (int) PIPE2.invokeExact(errnoBuffer(), fds, O_CLOEXEC);
            if (r != 0) {
                throw failure("pipe2", null);
            }
            return new int[] {fds.getAtIndex(JAVA_INT, 0), fds.getAtIndex(JAVA_INT, 1)};
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** Whether fd is an open descriptor in this process ({@code fcntl(F_GETFD)} succeeds). */
    public static boolean isOpen(int fd) {
        try {
            int r = (int) FCNTL_INT.invokeExact(errnoBuffer(), fd, F_GETFD, 0);
            return r >= 0;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * Gives a zero-length native segment at {@code address} the given size and lifetime. This is
     * the restricted {@code reinterpret} call; it lives here so that only this module needs
     * native access.
     */
    public static MemorySegment segmentAt(long address, long size, Arena arena, java.util.function.Consumer<MemorySegment> cleanup) {
        return MemorySegment.ofAddress(address).reinterpret(size, arena, cleanup);
    }

    static String protName(int prot) {
        if (prot == PROT_NONE) {
            return "PROT_NONE";
        }
        StringBuilder sb = new StringBuilder();
        if ((prot & PROT_READ) != 0) sb.append("PROT_READ|");
        if ((prot & PROT_WRITE) != 0) sb.append("PROT_WRITE|");
        if ((prot & PROT_EXEC) != 0) sb.append("PROT_EXEC|");
        sb.setLength(sb.length() - 1);
        return sb.toString();
    }
}
