package io.sluice.memfd.libc;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The Unix-domain socket calls fd-passing is built on ({@code socket}, {@code bind},
 * {@code listen}, {@code accept4}, {@code connect}, {@code sendmsg}, {@code recvmsg},
 * {@code getsockopt}, {@code shutdown}, {@code poll}), with their constants and the LP64 struct
 * offsets they take.
 *
 * <p>Unlike the other calls of this package these return the raw result: the socket layer
 * treats some failures as answers ({@code EAGAIN}, {@code EINTR}, a peer's {@code ECONNRESET}),
 * so the caller checks the result and, when it is a failure, builds the exception with
 * {@link Errno#failure}, which reads the errno captured by the same native call.
 */
public final class SocketCalls {
    private SocketCalls() {
    }

    // ---- constants (Linux UAPI; identical on x86_64 and aarch64) ----
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

    // ---- the calls ----

    private static final MethodHandle SOCKET =
            Downcalls.capturingErrno("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle BIND =
            Downcalls.capturingErrno("bind", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle LISTEN =
            Downcalls.capturingErrno("listen", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle ACCEPT4 =
            Downcalls.capturingErrno("accept4", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    private static final MethodHandle CONNECT =
            Downcalls.capturingErrno("connect", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle SENDMSG =
            Downcalls.capturingErrno("sendmsg", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle RECVMSG =
            Downcalls.capturingErrno("recvmsg", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle GETSOCKOPT = Downcalls.capturingErrno("getsockopt",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle SHUTDOWN =
            Downcalls.capturingErrno("shutdown", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle POLL =
            Downcalls.capturingErrno("poll", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));

    public static int socket(int domain, int type, int protocol) {
        try {
            return (int) SOCKET.invokeExact(Errno.buffer(), domain, type, protocol);
        } catch (Throwable t) {
            throw Downcalls.unexpected(t);
        }
    }

    public static int bind(int fd, MemorySegment addr, int len) {
        try {
            return (int) BIND.invokeExact(Errno.buffer(), fd, addr, len);
        } catch (Throwable t) {
            throw Downcalls.unexpected(t);
        }
    }

    public static int listen(int fd, int backlog) {
        try {
            return (int) LISTEN.invokeExact(Errno.buffer(), fd, backlog);
        } catch (Throwable t) {
            throw Downcalls.unexpected(t);
        }
    }

    /** {@code accept4(fd, NULL, NULL, flags)}: the peer's address is never needed (SO_PEERCRED says who). */
    public static int accept4(int fd, int flags) {
        try {
            return (int) ACCEPT4.invokeExact(Errno.buffer(), fd, MemorySegment.NULL, MemorySegment.NULL, flags);
        } catch (Throwable t) {
            throw Downcalls.unexpected(t);
        }
    }

    public static int connect(int fd, MemorySegment addr, int len) {
        try {
            return (int) CONNECT.invokeExact(Errno.buffer(), fd, addr, len);
        } catch (Throwable t) {
            throw Downcalls.unexpected(t);
        }
    }

    public static long sendmsg(int fd, MemorySegment msghdr, int flags) {
        try {
            return (long) SENDMSG.invokeExact(Errno.buffer(), fd, msghdr, flags);
        } catch (Throwable t) {
            throw Downcalls.unexpected(t);
        }
    }

    public static long recvmsg(int fd, MemorySegment msghdr, int flags) {
        try {
            return (long) RECVMSG.invokeExact(Errno.buffer(), fd, msghdr, flags);
        } catch (Throwable t) {
            throw Downcalls.unexpected(t);
        }
    }

    public static int getsockopt(int fd, int level, int name, MemorySegment value, MemorySegment len) {
        try {
            return (int) GETSOCKOPT.invokeExact(Errno.buffer(), fd, level, name, value, len);
        } catch (Throwable t) {
            throw Downcalls.unexpected(t);
        }
    }

    public static int shutdown(int fd, int how) {
        try {
            return (int) SHUTDOWN.invokeExact(Errno.buffer(), fd, how);
        } catch (Throwable t) {
            throw Downcalls.unexpected(t);
        }
    }

    public static int poll(MemorySegment fds, long nfds, int timeoutMillis) {
        try {
            return (int) POLL.invokeExact(Errno.buffer(), fds, nfds, timeoutMillis);
        } catch (Throwable t) {
            throw Downcalls.unexpected(t);
        }
    }
}
