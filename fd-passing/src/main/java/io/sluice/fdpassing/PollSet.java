package io.sluice.fdpassing;

import io.sluice.memfd.OwnedFd;
import io.sluice.memfd.libc.Libc;

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
    // the poller clears it before draining. A full pipe can therefore never block a waker.
    private final AtomicBoolean woken = new AtomicBoolean();
    private final Arena arena = Arena.ofShared();
    private final MemorySegment drain = arena.allocate(64);
    private MemorySegment pollfds = arena.allocate(Libc.POLLFD_SIZE * 64, 8); // poller thread only

    public PollSet() {
        int[] pipe = Libc.pipe();
        this.wakeRead = OwnedFd.adopt(pipe[0], "wake-up pipe (read end)");
        this.wakeWrite = OwnedFd.adopt(pipe[1], "wake-up pipe (write end)");
    }

    /** Any thread: makes the current (or next) {@link #await} return at once. */
    public void wake() {
        if (woken.compareAndSet(false, true)) {
            try {
                wakeWrite.use(n -> Libc.write(n, drain.asSlice(0, 1)));
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
     */
    public BitSet await(SeqPacketServer server, List<SeqPacketSocket> sockets, int timeoutMillis) {
        int count = 2 + sockets.size();
        if (pollfds.byteSize() < count * Libc.POLLFD_SIZE) {
            pollfds = arena.allocate(Libc.POLLFD_SIZE * Math.max(count, 2L * pollfds.byteSize() / Libc.POLLFD_SIZE), 8);
        }
        BitSet ready = new BitSet(count);
        FdHandle[] held = new FdHandle[count];
        try {
            set(0, wakeRead.acquire());
            if (server != null) {
                held[1] = acquire(server.handle(), 0, ready);
            }
            set(1, held[1] == null ? -1 : server.handle().fdForDiagnostics());
            for (int i = 0; i < sockets.size(); i++) {
                FdHandle h = acquire(sockets.get(i).handle(), i + 1, ready);
                held[i + 2] = h;
                set(i + 2, h == null ? -1 : h.fdForDiagnostics());
            }
            if (!ready.isEmpty()) {
                return ready; // a closed socket: report it without waiting
            }
            int r = SocketCalls.poll(pollfds, count, timeoutMillis);
            if (r < 0 && Libc.lastErrno() != Libc.EINTR) {
                throw Libc.failure("poll", count + " fds");
            }
            for (int i = 0; r > 0 && i < count; i++) {
                if (pollfds.get(JAVA_SHORT, i * Libc.POLLFD_SIZE + 6) != 0 && i > 0) {
                    ready.set(i - 1);
                }
            }
            if (pollfds.get(JAVA_SHORT, 6) != 0) {
                woken.set(false);
                Libc.read(wakeRead.numberForDiagnostics(), drain);
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

    private static FdHandle acquire(FdHandle h, int bit, BitSet ready) {
        try {
            h.acquire();
            return h;
        } catch (IllegalStateException closed) {
            ready.set(bit);
            return null;
        }
    }

    private void set(int index, int fd) {
        long at = index * Libc.POLLFD_SIZE;
        pollfds.set(JAVA_INT, at, fd); // a negative fd is ignored by poll(2)
        pollfds.set(JAVA_SHORT, at + 4, Libc.POLLIN);
        pollfds.set(JAVA_SHORT, at + 6, (short) 0);
    }

    @Override
    public void close() {
        wakeWrite.close();
        wakeRead.close();
        arena.close();
    }
}
