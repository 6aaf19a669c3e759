package io.sluice.memfd;

import io.sluice.memfd.libc.FdCalls;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntConsumer;
import java.util.function.IntFunction;

/**
 * The one owner of a file descriptor: it is closed exactly once, and never while a call is using
 * its number.
 *
 * <p>A raw {@code int} that outlives its {@code close} is a classic defect: the kernel hands the
 * same number to the next {@code open}, {@code accept} or {@code memfd_create}, and whoever still
 * holds the old number now reads, writes or passes to a peer somebody else's file. So Sluice keeps
 * no fd as a bare {@code int} beyond a single call: every user brackets its system call with
 * {@link #acquire()} and {@link #release()} (or uses {@link #use}/{@link #apply}); {@link #close()}
 * marks the fd closed so that no new user gets it, and the fd itself is closed by whoever leaves
 * last. After close, {@link #acquire()} throws instead of returning a number that may by then
 * name another file.
 *
 * <p>State: bit 63 = closed, the low bits = calls in flight. Every transition is a CAS, so any
 * number of threads may use and close the handle concurrently; {@code close} is idempotent.
 */
public final class OwnedFd implements AutoCloseable {
    private static final long CLOSED = 1L << 63;

    private final int fd;
    private final String what;
    private final IntConsumer onClose;
    private final AtomicLong state = new AtomicLong();

    private OwnedFd(int fd, String what, IntConsumer onClose) {
        if (fd < 0) {
            throw new IllegalArgumentException(what + ": fd " + fd + " is not a descriptor");
        }
        this.fd = fd;
        this.what = what;
        this.onClose = onClose;
    }

    /**
     * Takes ownership of {@code fd}; {@code what} names it in messages ("memfd 'sluice:orders'").
     *
     * @param fd   an open descriptor that nothing else will close
     * @param what what it is, for messages
     * @return its owner; closing it closes the fd once no call is in flight
     */
    public static OwnedFd adopt(int fd, String what) {
        return new OwnedFd(fd, what, null);
    }

    /**
     * As {@link #adopt(int, String)}, with an action run once, on the closing thread, as soon as
     * close is requested and before waiting for calls in flight (a socket shuts itself down there,
     * which wakes a thread blocked in {@code poll} on it).
     *
     * @param fd               an open descriptor that nothing else will close
     * @param what             what it is, for messages
     * @param onCloseRequested gets the fd number on the closing thread; must not close it
     * @return its owner
     */
    public static OwnedFd adopt(int fd, String what, IntConsumer onCloseRequested) {
        return new OwnedFd(fd, what, onCloseRequested);
    }

    /**
     * Registers a call on the fd and returns its number, valid until the matching
     * {@link #release()}.
     *
     * @throws IllegalStateException if the fd is closed
     * @return the fd number, for system calls until {@link #release()}
     */
    public int acquire() {
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

    /** Ends a call registered by {@link #acquire()}; the last one out after a close closes the fd. */
    public void release() {
        long s = state.decrementAndGet();
        if (s == CLOSED) {
            FdCalls.closeQuietly(fd);
        }
    }

    /**
     * Runs {@code call} with the fd number, which stays valid for the whole call.
     *
     * @param call gets the fd number; must not close it or keep it
     * @throws IllegalStateException if the fd is closed
     */
    public void use(IntConsumer call) {
        int n = acquire();
        try {
            call.accept(n);
        } finally {
            release();
        }
    }

    /**
     * Runs {@code call} with the fd number, which stays valid for the whole call, and returns its result.
     *
     * @param <T>  the result type
     * @param call gets the fd number; must not close it or keep it
     * @return what {@code call} returned
     * @throws IllegalStateException if the fd is closed
     */
    public <T> T apply(IntFunction<T> call) {
        int n = acquire();
        try {
            return call.apply(n);
        } finally {
            release();
        }
    }

    /**
     * Whether {@link #close()} has been called (the number may still be in use by a call in flight).
     *
     * @return true once close was called
     */
    public boolean isClosed() {
        return (state.get() & CLOSED) != 0;
    }

    /**
     * What this fd is, as given at adoption.
     *
     * @return the description
     */
    public String what() {
        return what;
    }

    /**
     * The number, for messages and {@code /proc} lookups only: never pass it to a system call.
     *
     * @return the number adopted, also after close
     */
    public int numberForDiagnostics() {
        return fd;
    }

    /**
     * Marks the fd closed; the fd is closed now if no call is in flight, else by the last one to
     * {@link #release()}. Idempotent, safe from any thread.
     */
    @Override
    public void close() {
        while (true) {
            long s = state.get();
            if ((s & CLOSED) != 0) {
                return;
            }
            // Closing holds a call of its own while the close action runs: a call in flight that
            // ends meanwhile must not close the number under the action's feet.
            if (state.compareAndSet(s, (s | CLOSED) + 1)) {
                try {
                    if (onClose != null) {
                        onClose.accept(fd);
                    }
                } catch (RuntimeException ignored) {
                    // a best-effort wake-up; the close itself must still happen
                } finally {
                    release();
                }
                return;
            }
        }
    }

    @Override
    public String toString() {
        return what + " (fd " + fd + (isClosed() ? ", closed" : "") + ")";
    }
}
