package io.sluice.fdpassing;

import io.sluice.memfd.OwnedFd;
import io.sluice.memfd.libc.Errno;
import io.sluice.memfd.libc.SocketCalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * A socket fd shared by threads that may call into it while another closes it: an
 * {@link OwnedFd} (closed exactly once, never under a call in flight) whose close first shuts the
 * socket down, which wakes any {@code poll} or {@code accept} blocked on it, plus the sliced wait
 * those calls use.
 */
final class FdHandle {
    /** Longest single poll(2): how soon a blocked wait notices a close from another thread. */
    static final int POLL_SLICE_MILLIS = 100;

    private final OwnedFd fd;

    FdHandle(int fd, String what) {
        // ENOTCONN on an unconnected socket is fine: the shutdown is only a wake-up.
        this.fd = OwnedFd.adopt(fd, what, n -> SocketCalls.shutdown(n, SocketCalls.SHUT_RDWR));
    }

    /** Registers an operation; returns the fd. Throws if closed. */
    int acquire() {
        return fd.acquire();
    }

    void release() {
        fd.release();
    }

    boolean isClosed() {
        return fd.isClosed();
    }

    /**
     * Waits until the fd is readable (for a listener: a connection is pending), hung up or in
     * error (the next call on it says which), polling in slices of at most
     * {@value #POLL_SLICE_MILLIS} ms so that a {@link #close()} from another thread is noticed
     * within one slice. The caller holds an {@link #acquire()}, which returned {@code n}.
     *
     * @param n        the number the caller's acquire returned
     * @param deadline {@code System.nanoTime()} to give up at ({@code Long.MAX_VALUE}: never)
     * @return true if the fd is ready; false if the deadline passed or the handle was closed
     *         (the caller tells them apart with {@link #isClosed()})
     */
    boolean awaitReadable(int n, long deadline) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pollfd = arena.allocate(SocketCalls.POLLFD_SIZE, 8);
            while (!isClosed()) {
                long remaining = deadline - System.nanoTime();
                if (remaining <= 0) {
                    return false;
                }
                int slice = (int) Math.min(POLL_SLICE_MILLIS, Math.max(1, remaining / 1_000_000));
                pollfd.set(JAVA_INT, 0, n);
                pollfd.set(JAVA_SHORT, 4, SocketCalls.POLLIN);
                pollfd.set(JAVA_SHORT, 6, (short) 0);
                int r = SocketCalls.poll(pollfd, 1, slice);
                if (r > 0) {
                    return true;
                }
                if (r < 0 && Errno.last() != Errno.EINTR) {
                    throw Errno.failure("poll", fd.what());
                }
            }
            return false;
        }
    }

    /** Closes (idempotent): shuts the socket down, and the fd is closed by the last call to leave. */
    void close() {
        fd.close();
    }
}
