package io.sluice.fdpassing;

import io.sluice.api.ConnectionClosedException;
import io.sluice.api.ProtocolException;
import io.sluice.memfd.OwnedFd;
import io.sluice.memfd.libc.Errno;
import io.sluice.memfd.libc.FdCalls;
import io.sluice.memfd.libc.SocketCalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A connected {@code AF_UNIX, SOCK_SEQPACKET} socket: reliable, ordered, message boundaries kept,
 * and able to carry file descriptors ({@code SCM_RIGHTS}).
 *
 * <p>Receiving is defensive: fds arrive with {@code MSG_CMSG_CLOEXEC} (no leak into child
 * processes), a truncated message or control block ({@code MSG_TRUNC}, {@code MSG_CTRUNC}) or more
 * fds than the caller allows is refused with {@link ProtocolException}, and every fd that arrived
 * on a refused message is closed before the exception leaves.
 *
 * <p>Thread safety: one sender and one receiver may work concurrently, and {@link #close()} may be
 * called from any thread at any time (see {@link FdHandle}).
 */
public final class SeqPacketSocket implements AutoCloseable {
    /** The kernel's limit on fds in one {@code SCM_RIGHTS} message ({@code SCM_MAX_FD}). */
    public static final int MAX_FDS_PER_MESSAGE = 253;
    /** Largest message this class sends or receives. */
    public static final int MAX_MESSAGE_BYTES = 64 * 1024;

    // Room for SCM_MAX_FD fds: a peer that sends more fds than allowed is seen, and its fds
    // closed by us, instead of the kernel silently dropping them behind MSG_CTRUNC.
    private static final long CONTROL_BYTES = SocketCalls.cmsgSpace(4L * MAX_FDS_PER_MESSAGE);

    private final FdHandle handle;
    private final String description;
    // Accepted (host-side) sockets never block in send: a peer that does not read its socket
    // must not stall the thread that serves every connection.
    private final boolean nonBlockingSends;

    SeqPacketSocket(int fd, String description) {
        this(fd, description, false);
    }

    SeqPacketSocket(int fd, String description, boolean nonBlockingSends) {
        this.handle = new FdHandle(fd, description);
        this.description = description;
        this.nonBlockingSends = nonBlockingSends;
    }

    /**
     * Connects to a listening socket at {@code path}.
     *
     * @param path the listening socket's file
     * @return the connection, owned by the caller (close it)
     * @throws io.sluice.api.SystemCallException if the connect fails (e.g. {@code ENOENT}, {@code ECONNREFUSED}, {@code EACCES})
     */
    public static SeqPacketSocket connect(Path path) {
        int fd = SocketCalls.socket(SocketCalls.AF_UNIX, SocketCalls.SOCK_SEQPACKET | SocketCalls.SOCK_CLOEXEC, 0);
        if (fd < 0) {
            throw Errno.failure("socket", "AF_UNIX SOCK_SEQPACKET");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment addr = SocketAddress.of(path, arena);
            while (true) {
                int r = SocketCalls.connect(fd, addr, (int) SocketCalls.SOCKADDR_UN_SIZE);
                if (r == 0) {
                    break;
                }
                if (Errno.last() != Errno.EINTR) {
                    throw Errno.failure("connect", path.toString());
                }
            }
            return new SeqPacketSocket(fd, "socket to " + path);
        } catch (RuntimeException e) {
            FdCalls.closeQuietly(fd);
            throw e;
        }
    }

    /**
     * Sends one message carrying {@code fds} (possibly none). Each fd is held (acquired) for the
     * duration of the call, so a concurrent close cannot make this send a recycled number; a fd
     * that is already closed fails the send with {@link IllegalStateException} before anything is
     * sent. The fds stay open here.
     *
     * @param data the whole message, one packet
     * @param fds  descriptors to pass with it ({@code SCM_RIGHTS}); the peer gets its own copies
     */
    public void send(byte[] data, OwnedFd... fds) {
        if (data.length == 0) {
            throw new IllegalArgumentException("empty messages are not sent: a zero-byte read means end of stream");
        }
        if (data.length > MAX_MESSAGE_BYTES) {
            throw new IllegalArgumentException("message of " + data.length + " bytes exceeds " + MAX_MESSAGE_BYTES);
        }
        if (fds.length > MAX_FDS_PER_MESSAGE) {
            throw new IllegalArgumentException(fds.length + " fds exceed the kernel's " + MAX_FDS_PER_MESSAGE + " per message");
        }
        int held = 0;
        int[] numbers = new int[fds.length];
        try {
            for (; held < fds.length; held++) {
                numbers[held] = fds[held].acquire();
            }
            sendHeld(data, numbers);
        } finally {
            for (int i = 0; i < held; i++) {
                fds[i].release();
            }
        }
    }

    private void sendHeld(byte[] data, int[] fds) {
        int fd = handle.acquire();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(data.length);
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
                long n = SocketCalls.sendmsg(fd, msg, SocketCalls.MSG_NOSIGNAL | (nonBlockingSends ? SocketCalls.MSG_DONTWAIT : 0));
                if (n >= 0) {
                    if (n != data.length) { // cannot happen on SOCK_SEQPACKET; say so loudly if it does
                        throw new ProtocolException(description + ": sendmsg sent " + n + " of " + data.length + " bytes");
                    }
                    return;
                }
                int errno = Errno.last();
                if (errno == Errno.EINTR) {
                    continue;
                }
                if (errno == Errno.EAGAIN && nonBlockingSends) {
                    throw new ProtocolException(description + ": the peer's receive queue is full: it does not read its socket");
                }
                if (errno == Errno.EPIPE || errno == Errno.ECONNRESET) {
                    throw new ConnectionClosedException(description + ": peer has closed the connection ("
                            + Errno.name(errno) + " on sendmsg)");
                }
                throw Errno.failure("sendmsg", description);
            }
        } finally {
            handle.release();
        }
    }

    /**
     * Receives one message of at most {@code maxBytes} bytes and {@code maxFds} fds.
     *
     * @param timeout how long to wait for a message; null waits until one arrives or the socket closes
     * @return the message; the caller owns it and must close it (closing closes the fds it did not take)
     * @throws ConnectionClosedException if the peer closed the connection (or died)
     * @throws ReceiveTimeoutException if no message arrived within {@code timeout}
     * @throws ProtocolException if the message or its control data was truncated, or carried more
     *                           fds than {@code maxFds}
     * @param maxBytes the longest message accepted; a longer one is a {@link ProtocolException}
     * @param maxFds   the most fds accepted with it
     */
    public ReceivedMessage receive(int maxBytes, int maxFds, Duration timeout) {
        checkMaxBytes(maxBytes);
        int fd = handle.acquire();
        try {
            while (true) {
                if (!waitReadable(fd, timeout)) {
                    throw new ReceiveTimeoutException(description + ": no message within " + timeout);
                }
                ReceivedMessage m = receiveNow(fd, maxBytes, maxFds);
                if (m != null) {
                    return m;
                }
                // woken but nothing there (spurious): wait again
            }
        } finally {
            handle.release();
        }
    }

    /**
     * Receives one message if one is waiting, without blocking: for a caller that polls many
     * sockets at once ({@link PollSet}).
     *
     * @return the message (the caller owns it), or null if none is waiting
     * @throws ConnectionClosedException if the peer closed the connection (or died), or sent a
     *                                   zero-length packet, which is indistinguishable from it
     * @throws ProtocolException as {@link #receive}
     * @param maxBytes the longest message accepted
     * @param maxFds   the most fds accepted with it
     */
    public ReceivedMessage tryReceive(int maxBytes, int maxFds) {
        checkMaxBytes(maxBytes);
        int fd = handle.acquire();
        try {
            return receiveNow(fd, maxBytes, maxFds);
        } finally {
            handle.release();
        }
    }

    private static void checkMaxBytes(int maxBytes) {
        if (maxBytes <= 0 || maxBytes > MAX_MESSAGE_BYTES) {
            throw new IllegalArgumentException("maxBytes must be in 1.." + MAX_MESSAGE_BYTES + ", was " + maxBytes);
        }
    }

    /** One non-blocking recvmsg on {@code fd}, which the caller holds acquired. Null if nothing is waiting. */
    private ReceivedMessage receiveNow(int fd, int maxBytes, int maxFds) {
        try (Arena arena = Arena.ofConfined()) {
            // One byte more than allowed: a longer message then shows as n > maxBytes (or
            // MSG_TRUNC), never as a silently cut one.
            MemorySegment buf = arena.allocate(maxBytes + 1L);
            MemorySegment iov = arena.allocate(SocketCalls.IOVEC_SIZE, 8);
            iov.set(ADDRESS, 0, buf);
            iov.set(JAVA_LONG, 8, maxBytes + 1L);
            MemorySegment control = arena.allocate(CONTROL_BYTES, 8);
            MemorySegment msg = arena.allocate(SocketCalls.MSGHDR_SIZE, 8);
            msg.set(ADDRESS, SocketCalls.MSG_IOV, iov);
            msg.set(JAVA_LONG, SocketCalls.MSG_IOVLEN, 1);
            msg.set(ADDRESS, SocketCalls.MSG_CONTROL, control);
            msg.set(JAVA_LONG, SocketCalls.MSG_CONTROLLEN, CONTROL_BYTES);
            long n;
            while (true) {
                n = SocketCalls.recvmsg(fd, msg, SocketCalls.MSG_CMSG_CLOEXEC | SocketCalls.MSG_DONTWAIT);
                if (n >= 0) {
                    break;
                }
                int errno = Errno.last();
                if (errno == Errno.EINTR) {
                    continue;
                }
                if (errno == Errno.EAGAIN) {
                    if (handle.isClosed()) {
                        throw new ConnectionClosedException(description + " was closed");
                    }
                    return null;
                }
                if (errno == Errno.ECONNRESET) {
                    throw new ConnectionClosedException(description + ": connection reset by peer");
                }
                throw Errno.failure("recvmsg", description);
            }
            int flags = msg.get(JAVA_INT, SocketCalls.MSG_FLAGS);
            OwnedFd[] fds = collectFds(control, msg.get(JAVA_LONG, SocketCalls.MSG_CONTROLLEN));
            // Copied with the array overload, not toArray: toArray copies segment to segment, a
            // heap one as the destination, and that single heap receiver in the JDK's shared
            // segment-copy code was enough for C2 to compile every later segment copy in the
            // process (a producer writing a message from an off-heap buffer) with virtual calls
            // (docs/benchmarks.md, "What moved the numbers").
            byte[] bytes = new byte[(int) Math.min(n, maxBytes)];
            MemorySegment.copy(buf, ValueLayout.JAVA_BYTE, 0, bytes, 0, bytes.length);
            ReceivedMessage received = new ReceivedMessage(bytes, fds);
            try {
                if ((flags & SocketCalls.MSG_CTRUNC) != 0) {
                    throw new ProtocolException(description + ": control data truncated (MSG_CTRUNC): the peer sent more than "
                            + MAX_FDS_PER_MESSAGE + " fds or unexpected control messages; " + fds.length + " fds closed");
                }
                if ((flags & SocketCalls.MSG_TRUNC) != 0 || n > maxBytes) {
                    throw new ProtocolException(description + ": message longer than the " + maxBytes
                            + " bytes allowed; " + fds.length + " fds closed");
                }
                if (n == 0 && fds.length == 0) {
                    // End of stream; a zero-length packet reads exactly the same, and is taken as it.
                    throw new ConnectionClosedException(description + ": peer closed the connection");
                }
                if (fds.length > maxFds) {
                    throw new ProtocolException(description + ": message carried " + fds.length
                            + " fds, at most " + maxFds + " expected; all closed");
                }
                return received;
            } catch (RuntimeException e) {
                received.close();
                throw e;
            }
        }
    }

    /** Walks the control messages; every SCM_RIGHTS fd is collected so that it can be closed. */
    private OwnedFd[] collectFds(MemorySegment control, long controlLength) {
        int[] fds = new int[0];
        long off = 0;
        boolean malformed = false;
        while (off + SocketCalls.CMSG_HDR <= controlLength) {
            long len = control.get(JAVA_LONG, off + SocketCalls.CMSG_LEN_OFF);
            if (len < SocketCalls.CMSG_HDR || off + len > controlLength) {
                malformed = true; // the kernel wrote it, so this should not happen; still, stay in bounds
                break;
            }
            int level = control.get(JAVA_INT, off + SocketCalls.CMSG_LEVEL_OFF);
            int type = control.get(JAVA_INT, off + SocketCalls.CMSG_TYPE_OFF);
            if (level == SocketCalls.SOL_SOCKET && type == SocketCalls.SCM_RIGHTS) {
                int count = (int) ((len - SocketCalls.CMSG_HDR) / 4);
                int base = fds.length;
                fds = Arrays.copyOf(fds, base + count);
                for (int i = 0; i < count; i++) {
                    fds[base + i] = control.get(JAVA_INT, off + SocketCalls.CMSG_HDR + 4L * i);
                }
            }
            off += (len + 7) & ~7L;
        }
        if (malformed) {
            for (int f : fds) {
                FdCalls.closeQuietly(f);
            }
            throw new ProtocolException(description + ": malformed control message; " + fds.length + " fds closed");
        }
        OwnedFd[] owned = new OwnedFd[fds.length];
        for (int i = 0; i < fds.length; i++) {
            owned[i] = OwnedFd.adopt(fds[i], "fd " + i + " received on " + description);
        }
        return owned;
    }

    /** Waits for a message (or the peer's hang-up) until {@code timeout} (null: no limit). */
    private boolean waitReadable(int fd, Duration timeout) {
        boolean ready = handle.awaitReadable(fd, timeout == null ? Long.MAX_VALUE : System.nanoTime() + timeout.toNanos());
        if (!ready && handle.isClosed()) {
            throw new ConnectionClosedException(description + " was closed");
        }
        return ready;
    }

    /**
     * The kernel's record of the peer process ({@code SO_PEERCRED}), taken at connect time.
     *
     * @return the peer's pid, uid and gid
     */
    public PeerCredentials peerCredentials() {
        int fd = handle.acquire();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cred = arena.allocate(SocketCalls.UCRED_SIZE, 4);
            MemorySegment len = arena.allocate(JAVA_INT);
            len.set(JAVA_INT, 0, (int) SocketCalls.UCRED_SIZE);
            if (SocketCalls.getsockopt(fd, SocketCalls.SOL_SOCKET, SocketCalls.SO_PEERCRED, cred, len) != 0) {
                throw Errno.failure("getsockopt(SO_PEERCRED)", description);
            }
            return new PeerCredentials(cred.get(JAVA_INT, 0), cred.get(JAVA_INT, 4), cred.get(JAVA_INT, 8));
        } finally {
            handle.release();
        }
    }

    /** The handle, for {@link PollSet}. */
    FdHandle handle() {
        return handle;
    }

    /**
     * Whether {@link #close()} was called.
     *
     * @return true once close was called
     */
    public boolean isClosed() {
        return handle.isClosed();
    }

    /** Shuts the connection down (the peer sees end of stream at once) and releases the fd. */
    @Override
    public void close() {
        handle.close();
    }

    @Override
    public String toString() {
        return description;
    }
}
