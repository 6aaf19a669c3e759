package io.sluice.fdpassing;

import io.sluice.memfd.libc.Libc;

import java.util.concurrent.atomic.AtomicLong;

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
