package io.sluice.fdpassing;

import io.sluice.memfd.OwnedFd;
import io.sluice.memfd.libc.Errno;
import io.sluice.memfd.libc.FdCalls;
import io.sluice.memfd.libc.SocketCalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * Waits on a listener and many connections at once ({@code poll(2)}), so that one thread can
 * serve every connection of a host: handshakes step by step as messages arrive, and attached
 * peers' end of stream the moment it comes. Any thread may {@link #wake()} the waiting one.
 *
 * <p>Every fd is held ({@code acquire}) for the duration of the poll: a connection closed by
 * another thread meanwhile is shut down, which the poll reports as a hang-up, and its number is
 * released only after the poll returned.
 */
public final class PollSet implements AutoCloseable {
    private final OwnedFd wakeRead;
    private final OwnedFd wakeWrite;
    // At most one byte sits in the pipe: a waker writes only when it flips this from false, and
    // the poller clears it only after draining, so a waker can never add a byte the drain missed
    // and leave the flag set over an empty pipe (which would silence every later wake). A wake
    // that finds the flag still set writes nothing; it is not lost, because the caller looks at
    // its task queue after await returns, which is after the flag was cleared.
    private final AtomicBoolean woken = new AtomicBoolean();
    // The byte a waker writes lives in the global arena, never in this set's own: a wake racing
    // close() would otherwise hold this arena's session while close() frees it, and close()
    // would fail ("session is acquired") with the pipe already gone. Its value does not matter.
    private static final MemorySegment WAKE_BYTE = Arena.global().allocate(1);
    private final Arena arena = Arena.ofShared(); // the poller's buffers only
    private final MemorySegment drain = arena.allocate(64); // poller thread only
    private MemorySegment pollfds = arena.allocate(SocketCalls.POLLFD_SIZE * 64, 8); // poller thread only

    /**
     * A poll set with its own wake-up pipe; close it to release the pipe.
     *
     * @throws io.sluice.api.SystemCallException if the pipe cannot be created (e.g. {@code EMFILE})
     */
    public PollSet() {
        int[] pipe = FdCalls.pipe();
        this.wakeRead = OwnedFd.adopt(pipe[0], "wake-up pipe (read end)");
        this.wakeWrite = OwnedFd.adopt(pipe[1], "wake-up pipe (write end)");
    }

    /** Any thread: makes the current (or next) {@link #await} return at once. */
    public void wake() {
        if (woken.compareAndSet(false, true)) {
            try {
                wakeWrite.use(n -> FdCalls.write(n, WAKE_BYTE));
            } catch (RuntimeException e) {
                // closed: nobody waits any more
            }
        }
    }

    /**
     * Waits until {@code server} has a connection pending, one of {@code sockets} is readable or
     * hung up (or already closed), {@link #wake()} was called, or {@code timeoutMillis} passed.
     *
     * @param server  the listener, or null to leave it out (while backing off)
     * @return bit 0: the server is ready; bit {@code i + 1}: socket {@code i} is ready
     * @param sockets       the connections to watch, in the order of the result's bits
     * @param timeoutMillis how long to wait at most, in milliseconds; negative waits without limit
     */
    public BitSet await(SeqPacketServer server, List<SeqPacketSocket> sockets, int timeoutMillis) {
        int count = 2 + sockets.size();
        if (pollfds.byteSize() < count * SocketCalls.POLLFD_SIZE) {
            pollfds = arena.allocate(SocketCalls.POLLFD_SIZE * Math.max(count, 2L * pollfds.byteSize() / SocketCalls.POLLFD_SIZE), 8);
        }
        BitSet ready = new BitSet(count);
        FdHandle[] held = new FdHandle[count];
        int wakeFd = wakeRead.acquire(); // throws if closed: nothing is held yet
        try {
            set(0, wakeFd);
            set(1, server == null ? -1 : acquire(server.handle(), 1, 0, held, ready));
            for (int i = 0; i < sockets.size(); i++) {
                set(i + 2, acquire(sockets.get(i).handle(), i + 2, i + 1, held, ready));
            }
            if (!ready.isEmpty()) {
                return ready; // a closed socket: report it without waiting
            }
            int r = SocketCalls.poll(pollfds, count, timeoutMillis);
            if (r < 0 && Errno.last() != Errno.EINTR) {
                throw Errno.failure("poll", count + " fds");
            }
            for (int i = 0; r > 0 && i < count; i++) {
                if (pollfds.get(JAVA_SHORT, i * SocketCalls.POLLFD_SIZE + 6) != 0 && i > 0) {
                    ready.set(i - 1);
                }
            }
            if (pollfds.get(JAVA_SHORT, 6) != 0) {
                FdCalls.read(wakeFd, drain);
                woken.set(false);
            }
            return ready;
        } finally {
            wakeRead.release();
            for (FdHandle h : held) {
                if (h != null) {
                    h.release();
                }
            }
        }
    }

    /** Holds {@code h} in {@code held[slot]} and returns its number; a closed one is reported ready (bit) and polled as -1. */
    private static int acquire(FdHandle h, int slot, int bit, FdHandle[] held, BitSet ready) {
        try {
            int n = h.acquire();
            held[slot] = h;
            return n;
        } catch (IllegalStateException closed) {
            ready.set(bit);
            return -1;
        }
    }

    private void set(int index, int fd) {
        long at = index * SocketCalls.POLLFD_SIZE;
        pollfds.set(JAVA_INT, at, fd); // a negative fd is ignored by poll(2)
        pollfds.set(JAVA_SHORT, at + 4, SocketCalls.POLLIN);
        pollfds.set(JAVA_SHORT, at + 6, (short) 0);
    }

    @Override
    public void close() {
        wakeWrite.close();
        wakeRead.close();
        arena.close();
    }
}
