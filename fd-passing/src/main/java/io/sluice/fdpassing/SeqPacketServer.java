package io.sluice.fdpassing;

import io.sluice.api.SluiceException;
import io.sluice.api.SystemCallException;
import io.sluice.memfd.OwnedFd;
import io.sluice.memfd.libc.Errno;
import io.sluice.memfd.libc.FdCalls;
import io.sluice.memfd.libc.SocketCalls;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Set;

/**
 * A listening {@code AF_UNIX, SOCK_SEQPACKET} socket bound to a filesystem path.
 *
 * <p>Binding is careful about what is already at the path: a live socket (something accepts
 * connections there) is never clobbered; a stale one (left by a process that died; connecting
 * is refused) is removed; anything that is not a socket is refused. The socket file gets mode
 * 0600 by default, and never exists at its final path with any looser mode: it is bound inside
 * a fresh 0700 directory, chmod-ed, then renamed into place.
 *
 * <p>{@link #close()} stops listening, wakes any thread blocked in {@link #accept}, and removes the
 * socket file if it is still ours.
 */
public final class SeqPacketServer implements AutoCloseable {
    /** Default mode of the socket file: the owner only. */
    public static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

    private static final int BACKLOG = 64;

    private final FdHandle handle;
    private final Path path;
    private final Object fileKey; // identity of our socket inode, to unlink only our own file
    private final Object spareLock = new Object();
    private OwnedFd spare; // guarded by spareLock: a descriptor kept to give up when out of fds; null if none

    private SeqPacketServer(int fd, Path path, Object fileKey) {
        this.handle = new FdHandle(fd, "server socket " + path);
        this.path = path;
        this.fileKey = fileKey;
        this.spare = openSpare();
    }

    /**
     * Binds with mode 0600.
     *
     * @param path where the socket file goes (a stale socket whose listener is gone is replaced)
     * @return the listening server, owned by the caller (close it)
     */
    public static SeqPacketServer bind(Path path) {
        return bind(path, OWNER_ONLY);
    }

    /**
     * Binds and listens on {@code path}, whose socket file gets {@code permissions}.
     *
     * @param path        where the socket file goes, at most 107 bytes as an absolute path (a stale
     *                    socket whose listener is gone is replaced)
     * @param permissions the socket file's mode: who may connect
     * @return the listening server, owned by the caller (close it); closing it removes the file
     */
    public static SeqPacketServer bind(Path path, Set<PosixFilePermission> permissions) {
        Path target = path.toAbsolutePath();
        if (!SocketAddress.fits(target)) {
            throw new IllegalArgumentException("socket path is longer than the " + SocketAddress.MAX_PATH_BYTES
                    + " bytes sockaddr_un holds: " + target);
        }
        clearStale(target);
        // Non-blocking listener: a connection aborted between poll and accept4 yields EAGAIN
        // instead of a hang. Accepted sockets do not inherit it (accept4 flags decide).
        int fd = SocketCalls.socket(SocketCalls.AF_UNIX, SocketCalls.SOCK_SEQPACKET | SocketCalls.SOCK_CLOEXEC | SocketCalls.SOCK_NONBLOCK, 0);
        if (fd < 0) {
            throw Errno.failure("socket", "AF_UNIX SOCK_SEQPACKET");
        }
        try {
            bindPrivately(fd, target, permissions);
            if (SocketCalls.listen(fd, BACKLOG) != 0) {
                throw Errno.failure("listen", target.toString());
            }
            Object key = Files.readAttributes(target, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
            return new SeqPacketServer(fd, target, key);
        } catch (IOException e) {
            FdCalls.closeQuietly(fd);
            throw new UncheckedIOException("binding " + target + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            FdCalls.closeQuietly(fd);
            throw e;
        }
    }

    /** Removes a stale socket at {@code path}; refuses a live one or a non-socket. */
    private static void clearStale(Path path) {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (!isSocket(path)) {
            throw new SluiceException("cannot bind " + path + ": it exists and is not a socket");
        }
        try (SeqPacketSocket _ = SeqPacketSocket.connect(path)) {
            throw new SluiceException("cannot bind " + path + ": a live process is listening there");
        } catch (SystemCallException e) {
            if (e.errno() != Errno.ECONNREFUSED && e.errno() != Errno.ENOENT) {
                throw new SluiceException("cannot bind " + path + ": probing the existing socket failed: " + e.getMessage(), e);
            }
        }
        try {
            Files.deleteIfExists(path); // stale: its listener is gone
        } catch (IOException e) {
            throw new UncheckedIOException("removing stale socket " + path + ": " + e.getMessage(), e);
        }
    }

    private static boolean isSocket(Path path) {
        try {
            Object mode = Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
            return ((Integer) mode & FdCalls.S_IFMT) == FdCalls.S_IFSOCK;
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    /**
     * bind(2) creates the socket file with the process umask. To never expose it with a looser
     * mode, bind inside a new 0700 directory next to the target, chmod, then rename into place
     * (rename keeps the inode, and so the listening socket). Falls back to bind-then-chmod when the
     * temporary path would not fit {@code sun_path}.
     */
    private static void bindPrivately(int fd, Path target, Set<PosixFilePermission> permissions) throws IOException {
        Path parent = target.getParent();
        Path dir = Files.createTempDirectory(parent, ".sluice-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        try {
            Path temp = dir.resolve("s");
            boolean viaTemp = SocketAddress.fits(temp);
            Path bindPath = viaTemp ? temp : target;
            try (Arena arena = Arena.ofConfined()) {
                if (SocketCalls.bind(fd, SocketAddress.of(bindPath, arena), (int) SocketCalls.SOCKADDR_UN_SIZE) != 0) {
                    throw Errno.failure("bind", bindPath.toString());
                }
            }
            Files.setPosixFilePermissions(bindPath, permissions);
            if (viaTemp) {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            }
        } finally {
            Files.deleteIfExists(dir.resolve("s"));
            Files.deleteIfExists(dir);
        }
    }

    /**
     * The socket's path.
     *
     * @return the path bound
     */
    public Path path() {
        return path;
    }

    /**
     * Waits for and accepts the next connection.
     *
     * @return the connection, owned by the caller
     */
    public SeqPacketSocket accept() {
        SeqPacketSocket s = accept(null);
        if (s == null) {
            throw new IllegalStateException("unreachable: accept without timeout returned nothing");
        }
        return s;
    }

    /**
     * Accepts the next connection, waiting at most {@code timeout} (null: no limit).
     *
     * @return the connection, or null if none arrived in time
     * @throws IllegalStateException if the server is (or gets) closed
     * @param timeout how long to wait at most; null waits without limit
     */
    public SeqPacketSocket accept(Duration timeout) {
        long deadline = timeout == null ? Long.MAX_VALUE : System.nanoTime() + timeout.toNanos();
        int fd = handle.acquire();
        try {
            while (true) {
                if (!handle.awaitReadable(fd, deadline)) {
                    if (handle.isClosed()) {
                        throw new IllegalStateException("server socket " + path + " is closed");
                    }
                    return null;
                }
                if (handle.isClosed()) { // closed while the connection was pending
                    throw new IllegalStateException("server socket " + path + " is closed");
                }
                int client = SocketCalls.accept4(fd, SocketCalls.SOCK_CLOEXEC); // listener is non-blocking: never hangs here
                if (client >= 0) {
                    return new SeqPacketSocket(client, "connection on " + path, true);
                }
                int errno = Errno.last();
                if (errno != Errno.EINTR && errno != Errno.EAGAIN && errno != Errno.ECONNABORTED) {
                    throw Errno.failure("accept4", path.toString());
                }
            }
        } finally {
            handle.release();
        }
    }

    /**
     * Accepts a pending connection without waiting: for a caller that polls the listener with
     * other fds ({@link PollSet}).
     *
     * <p>When the process is out of descriptors ({@code EMFILE}, {@code ENFILE}) the pending
     * connection would stay in the backlog and the listener would stay readable: a caller that
     * polls would spin. So this gives up a spare descriptor it keeps for the purpose, accepts the
     * connection, closes it at once (the peer sees end of stream instead of hanging), takes the
     * spare back, and throws the {@code EMFILE}: the caller backs off and says so.
     *
     * @return the connection, or null if none is pending
     * @throws IllegalStateException if the server is closed
     * @throws SystemCallException   if accepting failed ({@code errnoName()} says why)
     */
    public SeqPacketSocket tryAccept() {
        int fd = handle.acquire();
        try {
            while (true) {
                int client = SocketCalls.accept4(fd, SocketCalls.SOCK_CLOEXEC);
                if (client >= 0) {
                    return new SeqPacketSocket(client, "connection on " + path, true);
                }
                int errno = Errno.last();
                if (errno == Errno.EINTR || errno == Errno.ECONNABORTED) {
                    continue;
                }
                if (errno == Errno.EAGAIN) {
                    return null;
                }
                SystemCallException failure = Errno.failure("accept4", path.toString());
                if (errno == Errno.EMFILE || errno == Errno.ENFILE) {
                    shedOne(fd);
                }
                throw failure;
            }
        } finally {
            handle.release();
        }
    }

    /**
     * Out of fds: uses the spare to accept one pending connection and drop it. Without a spare
     * (an earlier attempt to take it back lost the race for the freed number), it tries to take
     * one now, so that shedding works again once any descriptor is free.
     */
    private void shedOne(int listener) {
        synchronized (spareLock) {
            if (spare == null) {
                if (!handle.isClosed()) {
                    spare = openSpare();
                }
                return;
            }
            spare.close();
            spare = null;
            int client = SocketCalls.accept4(listener, SocketCalls.SOCK_CLOEXEC);
            if (client >= 0) {
                FdCalls.closeQuietly(client);
            }
            spare = openSpare();
        }
    }

    private static OwnedFd openSpare() {
        try {
            return OwnedFd.adopt(FdCalls.open("/dev/null", FdCalls.O_RDONLY | FdCalls.O_CLOEXEC, 0), "spare descriptor");
        } catch (SystemCallException e) {
            return null; // taken by someone else meanwhile: the next shed tries again
        }
    }

    /** The handle, for {@link PollSet}. */
    FdHandle handle() {
        return handle;
    }

    /** Stops listening, wakes blocked {@link #accept} calls, removes the socket file if still ours. */
    @Override
    public void close() {
        if (handle.isClosed()) {
            return;
        }
        handle.close();
        synchronized (spareLock) {
            if (spare != null) {
                spare.close();
                spare = null;
            }
        }
        try {
            if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
                Object key = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
                if (key != null && key.equals(fileKey)) {
                    Files.deleteIfExists(path);
                }
            }
        } catch (IOException ignored) {
            // best effort: a leftover socket file is detected as stale by the next bind
        }
    }

    @Override
    public String toString() {
        return "SeqPacketServer[" + path + "]";
    }
}
