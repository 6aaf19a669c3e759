package io.sluice.fdpassing;

import io.sluice.memfd.libc.Libc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicLong;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * A socket fd shared by threads that may call into it while another closes it.
 *
 * <p>Closing an fd that another thread is blocked on is a classic bug: the number can be reused
 * by an unrelated {@code open} before the blocked call returns, which then reads someone else's
 * file. So every operation brackets itself with {@link #acquire()}/{@link #release()}; {@link
 * #close()} marks the handle closed, shuts the socket down (which wakes any {@code poll} or
 * {@code accept} on it), and the fd itself is closed by whoever leaves last — exactly once.
 *
 * <p>State: bit 63 = closed, low bits = number of operations in flight. All transitions are CAS.
 */
final class FdHandle {
    private static final long CLOSED = 1L << 63;
    /** Longest single poll(2): how soon a blocked wait notices a close from another thread. */
    static final int POLL_SLICE_MILLIS = 100;

    private final int fd;
    private final String what;
    private final AtomicLong state = new AtomicLong();

    FdHandle(int fd, String what) {
        this.fd = fd;
        this.what = what;
    }

    /** Registers an operation; returns the fd. Throws if closed. */
    int acquire() {
        while (true) {
            long s = state.get();
            if ((s & CLOSED) != 0) {
                throw new IllegalStateException(what + " is closed");
            }
            if (state.compareAndSet(s, s + 1)) {
                return fd;
            }
        }
    }

    void release() {
        long s = state.decrementAndGet();
        if (s == CLOSED) {
            Libc.closeQuietly(fd);
        }
    }

    boolean isClosed() {
        return (state.get() & CLOSED) != 0;
    }

    /**
     * Waits until the fd is readable (for a listener: a connection is pending), hung up or in
     * error (the next call on it says which), polling in slices of at most
     * {@value #POLL_SLICE_MILLIS} ms so that a {@link #close()} from another thread is noticed
     * within one slice. The caller holds an {@link #acquire()}.
     *
     * @param deadline {@code System.nanoTime()} to give up at ({@code Long.MAX_VALUE}: never)
     * @return true if the fd is ready; false if the deadline passed or the handle was closed
     *         (the caller tells them apart with {@link #isClosed()})
     */
    boolean awaitReadable(long deadline) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pollfd = arena.allocate(Libc.POLLFD_SIZE, 8);
            while (!isClosed()) {
                long remaining = deadline - System.nanoTime();
                if (remaining <= 0) {
                    return false;
                }
                int slice = (int) Math.min(POLL_SLICE_MILLIS, Math.max(1, remaining / 1_000_000));
                pollfd.set(JAVA_INT, 0, fd);
                pollfd.set(JAVA_SHORT, 4, Libc.POLLIN);
                pollfd.set(JAVA_SHORT, 6, (short) 0);
                int r = SocketCalls.poll(pollfd, 1, slice);
                if (r > 0) {
                    return true;
                }
                if (r < 0 && Libc.lastErrno() != Libc.EINTR) {
                    throw Libc.failure("poll", what);
                }
            }
            return false;
        }
    }

    /** The fd number, for diagnostics only. */
    int fdForDiagnostics() {
        return fd;
    }

    void close() {
        while (true) {
            long s = state.get();
            if ((s & CLOSED) != 0) {
                return; // someone else closed it
            }
            if (state.compareAndSet(s, s | CLOSED)) {
                SocketCalls.shutdown(fd, Libc.SHUT_RDWR); // wakes pollers; ENOTCONN on unconnected is fine
                if (s == 0) {
                    Libc.closeQuietly(fd);
                }
                return;
            }
        }
    }
}
