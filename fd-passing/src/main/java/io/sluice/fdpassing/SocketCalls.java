package io.sluice.fdpassing;

import io.sluice.memfd.libc.Libc;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The socket system calls, bound through {@link Libc#downcall} (so native access stays with the
 * memfd module). Each returns the raw result; callers check it and build the exception from
 * {@link Libc#failure}, which reads the errno captured by the same native call.
 */
final class SocketCalls {
    private SocketCalls() {
    }

    private static final MethodHandle SOCKET =
            Libc.downcall("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle BIND =
            Libc.downcall("bind", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle LISTEN =
            Libc.downcall("listen", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle ACCEPT4 =
            Libc.downcall("accept4", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    private static final MethodHandle CONNECT =
            Libc.downcall("connect", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle SENDMSG =
            Libc.downcall("sendmsg", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle RECVMSG =
            Libc.downcall("recvmsg", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle GETSOCKOPT = Libc.downcall("getsockopt",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle SHUTDOWN =
            Libc.downcall("shutdown", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle POLL =
            Libc.downcall("poll", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));

    static int socket(int domain, int type, int protocol) {
        try {
            return (int) SOCKET.invokeExact(Libc.errnoBuffer(), domain, type, protocol);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int bind(int fd, MemorySegment addr, int len) {
        try {
            return (int) BIND.invokeExact(Libc.errnoBuffer(), fd, addr, len);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int listen(int fd, int backlog) {
        try {
            return (int) LISTEN.invokeExact(Libc.errnoBuffer(), fd, backlog);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int accept4(int fd, int flags) {
        try {
            return (int) ACCEPT4.invokeExact(Libc.errnoBuffer(), fd, MemorySegment.NULL, MemorySegment.NULL, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int connect(int fd, MemorySegment addr, int len) {
        try {
            return (int) CONNECT.invokeExact(Libc.errnoBuffer(), fd, addr, len);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static long sendmsg(int fd, MemorySegment msghdr, int flags) {
        try {
            return (long) SENDMSG.invokeExact(Libc.errnoBuffer(), fd, msghdr, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static long recvmsg(int fd, MemorySegment msghdr, int flags) {
        try {
            return (long) RECVMSG.invokeExact(Libc.errnoBuffer(), fd, msghdr, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int getsockopt(int fd, int level, int name, MemorySegment value, MemorySegment len) {
        try {
            return (int) GETSOCKOPT.invokeExact(Libc.errnoBuffer(), fd, level, name, value, len);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int shutdown(int fd, int how) {
        try {
            return (int) SHUTDOWN.invokeExact(Libc.errnoBuffer(), fd, how);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int poll(MemorySegment fds, long nfds, int timeoutMillis) {
        try {
            return (int) POLL.invokeExact(Libc.errnoBuffer(), fds, nfds, timeoutMillis);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }
}
