package io.sluice.adversarial;

import io.sluice.memfd.libc.Errno;
import io.sluice.memfd.libc.FdCalls;
import io.sluice.memfd.libc.SocketCalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * A client that speaks raw bytes on an {@code AF_UNIX, SOCK_SEQPACKET} socket, with none of the
 * checks {@code SeqPacketSocket} makes on what it sends: zero-length packets, any length, any fds
 * (the same number many times over, up to the kernel's 253), half-closes. For the fuzzer and the
 * floods; its own calls are the raw system calls of {@link SocketCalls}.
 */
final class RawClient implements AutoCloseable {
    static final int SHUT_WR = 1;
    private static final int EINPROGRESS = 115;
    private static final int MAX_RECEIVE = 64 * 1024;
    private static final long CONTROL_BYTES = SocketCalls.cmsgSpace(4L * 253);

    private final int fd;
    private boolean closed;

    private RawClient(int fd) {
        this.fd = fd;
    }

    /** A fresh, unconnected {@code SOCK_SEQPACKET} socket's fd (to pass as an fd of the "socket" kind); the caller closes it. */
    static int unconnectedSocket() {
        int s = socket(0);
        if (s < 0) {
            throw Errno.failure("socket", "AF_UNIX SOCK_SEQPACKET");
        }
        return s;
    }

    private static int socket(int extraFlags) {
        return SocketCalls.socket(SocketCalls.AF_UNIX, SocketCalls.SOCK_SEQPACKET | SocketCalls.SOCK_CLOEXEC | extraFlags, 0);
    }

    /** Connects (blocking: waits while the listener's backlog is full). */
    static RawClient connect(Path path) {
        int fd = socket(0);
        if (fd < 0) {
            throw Errno.failure("socket", path.toString());
        }
        int r;
        while ((r = connectOnce(fd, path)) != 0 && Errno.last() == Errno.EINTR) {
            // again
        }
        if (r != 0) {
            RuntimeException e = Errno.failure("connect", path.toString());
            FdCalls.closeQuietly(fd);
            throw e;
        }
        return new RawClient(fd);
    }

    /**
     * Connects without waiting: null if the listener's backlog is full ({@code EAGAIN}), so that a
     * flood can go on trying without blocking on a host that stopped accepting.
     */
    static RawClient tryConnect(Path path) {
        int fd = socket(SocketCalls.SOCK_NONBLOCK);
        if (fd < 0) {
            throw Errno.failure("socket", path.toString());
        }
        int r = connectOnce(fd, path);
        int errno = Errno.last();
        if (r != 0 && errno != EINPROGRESS) {
            FdCalls.closeQuietly(fd);
            if (errno == Errno.EAGAIN || errno == Errno.EINTR) {
                return null;
            }
            throw Errno.failure("connect", path.toString());
        }
        return new RawClient(fd);
    }

    private static int connectOnce(int fd, Path path) {
        byte[] bytes = path.toString().getBytes(StandardCharsets.UTF_8);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment addr = arena.allocate(SocketCalls.SOCKADDR_UN_SIZE, 8);
            addr.set(JAVA_SHORT, 0, (short) SocketCalls.AF_UNIX);
            MemorySegment.copy(bytes, 0, addr, ValueLayout.JAVA_BYTE, SocketCalls.SUN_PATH_OFFSET, bytes.length);
            return SocketCalls.connect(fd, addr, (int) SocketCalls.SOCKADDR_UN_SIZE);
        }
    }

    int fd() {
        return fd;
    }

    /**
     * Sends one packet of {@code data} (possibly empty) carrying {@code fds} (possibly none, the
     * same number any number of times). Returns 0, or the errno of a failed send ({@code EPIPE}
     * once the host has closed: a refused peer that goes on talking).
     */
    int send(byte[] data, int... fds) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(Math.max(1, data.length));
            MemorySegment.copy(data, 0, buf, ValueLayout.JAVA_BYTE, 0, data.length);
            MemorySegment iov = arena.allocate(SocketCalls.IOVEC_SIZE, 8);
            iov.set(ADDRESS, 0, buf);
            iov.set(JAVA_LONG, 8, data.length);
            MemorySegment msg = arena.allocate(SocketCalls.MSGHDR_SIZE, 8);
            msg.set(ADDRESS, SocketCalls.MSG_IOV, iov);
            msg.set(JAVA_LONG, SocketCalls.MSG_IOVLEN, 1);
            if (fds.length > 0) {
                long space = SocketCalls.cmsgSpace(4L * fds.length);
                MemorySegment control = arena.allocate(space, 8);
                control.set(JAVA_LONG, SocketCalls.CMSG_LEN_OFF, SocketCalls.cmsgLen(4L * fds.length));
                control.set(JAVA_INT, SocketCalls.CMSG_LEVEL_OFF, SocketCalls.SOL_SOCKET);
                control.set(JAVA_INT, SocketCalls.CMSG_TYPE_OFF, SocketCalls.SCM_RIGHTS);
                for (int i = 0; i < fds.length; i++) {
                    control.set(JAVA_INT, SocketCalls.CMSG_HDR + 4L * i, fds[i]);
                }
                msg.set(ADDRESS, SocketCalls.MSG_CONTROL, control);
                msg.set(JAVA_LONG, SocketCalls.MSG_CONTROLLEN, space);
            }
            while (true) {
                long n = SocketCalls.sendmsg(fd, msg, SocketCalls.MSG_NOSIGNAL);
                if (n >= 0) {
                    if (n != data.length) {
                        throw new AssertionError("sendmsg sent " + n + " of " + data.length + " bytes");
                    }
                    return 0;
                }
                int errno = Errno.last();
                if (errno != Errno.EINTR) {
                    return errno;
                }
            }
        }
    }

    /** The peer stops reading from us: it sees end of stream; we can still read what it sends. */
    void shutdownWrite() {
        int r = SocketCalls.shutdown(fd, SHUT_WR);
        if (r != 0 && Errno.last() != 107 /* ENOTCONN: the host closed already */) {
            throw Errno.failure("shutdown", "raw client");
        }
    }

    /** What one read gave: a packet (bytes, the fds that came with it), end of stream, or nothing in time. */
    record Received(byte[] data, int[] fds, boolean eof, boolean timedOut) {
        static final Received EOF = new Received(new byte[0], new int[0], true, false);
        static final Received TIMED_OUT = new Received(new byte[0], new int[0], false, true);

        boolean isMessage() {
            return !eof && !timedOut;
        }

        /** Closes the fds that came with the packet. */
        void closeFds() {
            for (int f : fds) {
                FdCalls.closeQuietly(f);
            }
        }

        @Override
        public String toString() {
            return eof ? "EOF" : timedOut ? "nothing (timed out)" : data.length + " bytes, " + fds.length + " fds";
        }
    }

    /**
     * The next packet, end of stream, or {@link Received#TIMED_OUT} after {@code timeout}. A
     * connection reset (the host closed with our packets unread: the kernel then reports
     * {@code ECONNRESET} once) is skipped: what the host sent before it is still queued and is
     * read next.
     */
    Received receive(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pfd = arena.allocate(SocketCalls.POLLFD_SIZE, 4);
            MemorySegment buf = arena.allocate(MAX_RECEIVE);
            MemorySegment iov = arena.allocate(SocketCalls.IOVEC_SIZE, 8);
            MemorySegment control = arena.allocate(CONTROL_BYTES, 8);
            MemorySegment msg = arena.allocate(SocketCalls.MSGHDR_SIZE, 8);
            while (true) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return Received.TIMED_OUT;
                }
                pfd.set(JAVA_INT, 0, fd);
                pfd.set(JAVA_SHORT, 4, SocketCalls.POLLIN);
                pfd.set(JAVA_SHORT, 6, (short) 0);
                int ready = SocketCalls.poll(pfd, 1L, (int) Math.max(1, Math.min(1000, left / 1_000_000)));
                if (ready < 0 && Errno.last() != Errno.EINTR) {
                    throw Errno.failure("poll", "raw client");
                }
                if (ready <= 0) {
                    continue;
                }
                iov.set(ADDRESS, 0, buf);
                iov.set(JAVA_LONG, 8, (long) MAX_RECEIVE);
                msg.fill((byte) 0);
                msg.set(ADDRESS, SocketCalls.MSG_IOV, iov);
                msg.set(JAVA_LONG, SocketCalls.MSG_IOVLEN, 1);
                msg.set(ADDRESS, SocketCalls.MSG_CONTROL, control);
                msg.set(JAVA_LONG, SocketCalls.MSG_CONTROLLEN, CONTROL_BYTES);
                long n = SocketCalls.recvmsg(fd, msg, SocketCalls.MSG_DONTWAIT | SocketCalls.MSG_CMSG_CLOEXEC);
                if (n < 0) {
                    int errno = Errno.last();
                    if (errno == Errno.EINTR || errno == Errno.EAGAIN || errno == Errno.ECONNRESET) {
                        continue; // a reset is reported once; the queue behind it is read next
                    }
                    throw Errno.failure("recvmsg", "raw client");
                }
                int[] fds = fds(control, msg.get(JAVA_LONG, SocketCalls.MSG_CONTROLLEN));
                if ((msg.get(JAVA_INT, SocketCalls.MSG_FLAGS) & (SocketCalls.MSG_TRUNC | SocketCalls.MSG_CTRUNC)) != 0) {
                    for (int f : fds) {
                        FdCalls.closeQuietly(f);
                    }
                    throw new AssertionError("the host sent a packet longer than " + MAX_RECEIVE + " bytes or with too many fds");
                }
                if (n == 0 && fds.length == 0) {
                    return Received.EOF;
                }
                byte[] data = new byte[(int) n];
                MemorySegment.copy(buf, ValueLayout.JAVA_BYTE, 0, data, 0, data.length);
                return new Received(data, fds, false, false);
            }
        }
    }

    private static int[] fds(MemorySegment control, long length) {
        int[] fds = new int[0];
        long off = 0;
        while (off + SocketCalls.CMSG_HDR <= length) {
            long len = control.get(JAVA_LONG, off + SocketCalls.CMSG_LEN_OFF);
            if (len < SocketCalls.CMSG_HDR || off + len > length) {
                break;
            }
            if (control.get(JAVA_INT, off + SocketCalls.CMSG_LEVEL_OFF) == SocketCalls.SOL_SOCKET
                    && control.get(JAVA_INT, off + SocketCalls.CMSG_TYPE_OFF) == SocketCalls.SCM_RIGHTS) {
                int count = (int) ((len - SocketCalls.CMSG_HDR) / 4);
                int base = fds.length;
                fds = Arrays.copyOf(fds, base + count);
                for (int i = 0; i < count; i++) {
                    fds[base + i] = control.get(JAVA_INT, off + SocketCalls.CMSG_HDR + 4L * i);
                }
            }
            off += (len + 7) & ~7L;
        }
        return fds;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            FdCalls.closeQuietly(fd);
        }
    }
}
