package io.sluice.memfd;

import io.sluice.api.ChannelNames;
import io.sluice.api.RegionRefusedException;
import io.sluice.api.SluiceException;
import io.sluice.api.SystemCallException;
import io.sluice.api.UntrustedText;
import io.sluice.memfd.libc.Errno;
import io.sluice.memfd.libc.FdCalls;
import io.sluice.memfd.libc.MemfdCalls;
import io.sluice.memfd.libc.MmapCalls;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Set;

/**
 * A region of shared memory backed by an anonymous memfd: reachable only by holding its fd,
 * gone when the last fd and mapping are closed, nothing left on disk.
 *
 * <p>Every mapping belongs to this region's shared {@link Arena}: {@link #close()} unmaps all of
 * them and closes the fd, exactly once, even when several threads close at the same time. After
 * close, any access through a segment this region handed out throws {@link IllegalStateException}
 * instead of touching unmapped memory. Read-only mappings are handed out through
 * {@link MemorySegment#asReadOnly()}, so a Java write throws instead of crashing the JVM.
 *
 * <p>The kernel name is {@code sluice:<name>}, so {@code /proc/PID/maps} shows
 * {@code /memfd:sluice:<name> (deleted)} and operators can see what each process holds. A region
 * this process creates gets mode {@code 0600}: a process of another uid that receives its fd
 * cannot re-open it through {@code /proc/self/fd} with more access than it was given.
 *
 * <p>The fd is held by one {@link OwnedFd}: after {@link #close()} no call can reach the number,
 * which the kernel may already have given to another file.
 *
 * <p>Mapping, sealing and closing are setup operations (system calls, synchronized); the
 * segments themselves are used lock-free.
 */
public final class MemfdRegion implements AutoCloseable {
    /** Prefix of every kernel memfd name Sluice creates. */
    public static final String NAME_PREFIX = "sluice:";
    /** Longest name accepted (the kernel allows 249 bytes including the prefix). */
    public static final int MAX_NAME_LENGTH = 200;
    /**
     * Largest region {@link #create} makes: 16 GiB. A guard against a size that is a typo or an
     * overflow; a host's own memory budget is usually far lower.
     */
    public static final long MAX_SIZE = 1L << 34;

    private static final Set<Seal> ALWAYS_REQUIRED = EnumSet.of(Seal.SHRINK, Seal.GROW);

    // Whether memfd_create accepted MFD_NOEXEC_SEAL (Linux >= 6.3); learnt on first use.
    private static volatile boolean noexecSealUnsupported;

    private final String name;
    private final long size;
    private final OwnedFd fd;
    private final Arena mappings = Arena.ofShared();
    private OwnedFd readOnlyFd; // guarded by this; opened on first use, closed with the region
    private boolean closed;     // guarded by this

    private MemfdRegion(String name, long size, OwnedFd fd) {
        this.name = name;
        this.size = size;
        this.fd = fd;
    }

    /**
     * Creates a region of {@code size} bytes, zero-filled, with {@code MFD_CLOEXEC |
     * MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL} (without the last on kernels older than 6.3), sealed
     * against no-one yet: add {@link Seal#SHRINK} and {@link Seal#GROW} before sharing it.
     *
     * @param name the channel or region name; the memfd is named {@code sluice:<name>} (what {@code /proc/<pid>/fd} shows)
     * @param size the size in bytes, 1 to {@link #MAX_SIZE}
     * @return the region, owned by the caller (close it)
     * @throws IllegalArgumentException if the name is not a valid region name or the size is out of range
     * @throws io.sluice.api.SystemCallException if {@code memfd_create} or {@code ftruncate} fails (e.g. {@code ENOMEM}, {@code EMFILE})
     */
    public static MemfdRegion create(String name, long size) {
        validateName(name);
        if (size <= 0 || size > MAX_SIZE) {
            throw new IllegalArgumentException("region '" + name + "': size " + size + " is outside 1.." + MAX_SIZE);
        }
        int fd;
        try {
            fd = createFd(NAME_PREFIX + name);
        } catch (SystemCallException e) {
            throw e.about("region '" + name + "'");
        }
        try {
            MemfdCalls.fchmod(fd, 0600);
            MemfdCalls.ftruncate(fd, size);
            return new MemfdRegion(name, size, OwnedFd.adopt(fd, "memfd '" + NAME_PREFIX + name + "'"));
        } catch (SystemCallException e) {
            FdCalls.closeQuietly(fd);
            throw e.about("region '" + name + "'");
        } catch (RuntimeException e) {
            FdCalls.closeQuietly(fd);
            throw e;
        }
    }

    private static int createFd(String kernelName) {
        int flags = MemfdCalls.MFD_CLOEXEC | MemfdCalls.MFD_ALLOW_SEALING;
        if (!noexecSealUnsupported) {
            try {
                return MemfdCalls.memfdCreate(kernelName, flags | MemfdCalls.MFD_NOEXEC_SEAL);
            } catch (SystemCallException e) {
                if (e.errno() != Errno.EINVAL) {
                    throw e;
                }
                noexecSealUnsupported = true; // kernel < 6.3: fall back, never ask again
            }
        }
        return MemfdCalls.memfdCreate(kernelName, flags);
    }

    private static void validateName(String name) {
        String problem = ChannelNames.problem(name, MAX_NAME_LENGTH);
        if (problem != null) {
            throw new IllegalArgumentException("region " + problem);
        }
    }

    /**
     * Takes ownership of an fd received from a peer, after checking that it is what was
     * promised, in this order: a memfd (not a pipe, socket or file on disk), carrying at least
     * {@code requiredSeals} plus {@code SHRINK|GROW}, and only then — the size being final once
     * those two seals are on — exactly {@code expectedSize} bytes. Extra seals are accepted. On
     * refusal the fd is closed and {@link RegionRefusedException} says what was wrong.
     *
     * @param received      the fd as received; owned by the returned region, or closed on refusal
     * @param expectedSize  the size the peer promised, in bytes
     * @param requiredSeals seals it must carry besides {@code SHRINK|GROW}
     * @return the region, owned by the caller (close it)
     * @throws RegionRefusedException if the fd is not such a memfd
     */
    public static MemfdRegion adopt(OwnedFd received, long expectedSize, Set<Seal> requiredSeals) {
        int fd;
        try {
            fd = received.acquire();
        } catch (IllegalStateException e) {
            throw new RegionRefusedException(received.what() + " was closed before it could be adopted");
        }
        try {
            String name = verify(fd, expectedSize, requiredSeals);
            return new MemfdRegion(name, expectedSize, received);
        } catch (RuntimeException e) {
            received.close();
            if (e instanceof RegionRefusedException) {
                throw e;
            }
            throw new RegionRefusedException("fd " + fd + " refused: " + e.getMessage());
        } finally {
            received.release();
        }
    }

    /** The checks of {@link #adopt}, seals before size; returns the region name. */
    private static String verify(int fd, long expectedSize, Set<Seal> requiredSeals) {
        FdCalls.FileStat st = FdCalls.fstat(fd);
        if (!st.isRegularFile()) {
            throw new RegionRefusedException("fd " + fd + " is a " + st.typeName() + ", not a memfd");
        }
        String target = fdTarget(fd);
        if (!target.startsWith("/memfd:")) {
            throw new RegionRefusedException("fd " + fd + " is " + UntrustedText.escape(target) + " (a regular file), not a memfd");
        }
        String kernelName = UntrustedText.escape(target.substring("/memfd:".length()).replace(" (deleted)", ""));
        int mask;
        try {
            mask = MemfdCalls.seals(fd);
        } catch (SystemCallException e) {
            throw new RegionRefusedException("memfd '" + kernelName + "' does not support seals: " + e.getMessage());
        }
        EnumSet<Seal> have = Seal.fromMask(mask);
        EnumSet<Seal> need = EnumSet.copyOf(ALWAYS_REQUIRED);
        need.addAll(requiredSeals);
        if (!have.containsAll(need)) {
            EnumSet<Seal> missing = EnumSet.copyOf(need);
            missing.removeAll(have);
            throw new RegionRefusedException("memfd '" + kernelName + "' has seals " + Seal.describe(have)
                    + ", missing " + Seal.describe(missing));
        }
        // Only now is the size final (SHRINK|GROW are on): a size read before the seals could be
        // changed by the sender between our check and our mmap.
        long size = FdCalls.fstat(fd).size();
        if (size != expectedSize) {
            throw new RegionRefusedException("memfd '" + kernelName + "' is " + size + " bytes, promised " + expectedSize);
        }
        return kernelName.startsWith(NAME_PREFIX) ? kernelName.substring(NAME_PREFIX.length()) : kernelName;
    }

    private static String fdTarget(int fd) {
        try {
            return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
        } catch (IOException e) {
            throw new RegionRefusedException("fd " + fd + ": cannot read /proc/self/fd/" + fd + ": " + e);
        }
    }

    /**
     * The name given at creation, without the {@code sluice:} prefix.
     *
     * @return the name
     */
    public String name() {
        return name;
    }

    /**
     * Size in bytes; final once {@code SHRINK|GROW} are sealed.
     *
     * @return the size in bytes
     */
    public long size() {
        return size;
    }

    /**
     * The region's fd, as opened (read-write if this process created the region), for passing to
     * a peer: {@code SeqPacketSocket.send} holds it for the duration of the call. Owned by this
     * region: do not close it.
     *
     * @return the fd, valid until this region is closed
     */
    public OwnedFd fd() {
        return fd;
    }

    /**
     * An fd for the same memfd opened {@code O_RDONLY} (re-opened through {@code /proc/self/fd}),
     * for peers that may only read: with it they cannot add seals, {@code write(2)},
     * {@code fallocate} or map the region writable, whatever its seals. Opened on first use and
     * owned by this region.
     *
     * @return the read-only fd, valid until this region is closed
     */
    public synchronized OwnedFd readOnlyFd() {
        ensureOpen();
        if (readOnlyFd == null) {
            int ro = fd.apply(n -> {
                try {
                    return FdCalls.open("/proc/self/fd/" + n, FdCalls.O_RDONLY | FdCalls.O_CLOEXEC, 0);
                } catch (SystemCallException e) {
                    throw e.about("region '" + name + "': re-opening read-only");
                }
            });
            readOnlyFd = OwnedFd.adopt(ro, "memfd '" + NAME_PREFIX + name + "' (read-only)");
        }
        return readOnlyFd;
    }

    /**
     * Maps the whole region {@code PROT_READ|PROT_WRITE, MAP_SHARED}, every page populated up front
     * so that no first-touch fault lands on a measured path. Fails with {@code mmap: EPERM} if
     * the region is sealed {@code FUTURE_WRITE} or {@code WRITE}.
     *
     * @return a segment of {@link #size()} bytes, unmapped when this region is closed
     */
    public synchronized MemorySegment mapReadWrite() {
        return map(MmapCalls.PROT_READ | MmapCalls.PROT_WRITE);
    }

    /**
     * Maps the whole region {@code PROT_READ, MAP_SHARED}, as a read-only segment: a Java write
     * through it throws {@link IllegalArgumentException} ("Attempt to write a read-only segment") rather than killing the JVM.
     *
     * @return a read-only segment of {@link #size()} bytes, unmapped when this region is closed
     */
    public synchronized MemorySegment mapReadOnly() {
        return map(MmapCalls.PROT_READ).asReadOnly();
    }

    private MemorySegment map(int prot) {
        ensureOpen();
        long address = fd.apply(n -> {
            try {
                return MmapCalls.mmap(size, prot, MmapCalls.MAP_SHARED | MmapCalls.MAP_POPULATE, n);
            } catch (SystemCallException e) {
                throw e.about("region '" + name + "'");
            }
        });
        try {
            long length = size;
            return MmapCalls.segmentAt(address, size, mappings, s -> MmapCalls.munmap(address, length));
        } catch (RuntimeException e) {
            MmapCalls.munmap(address, size);
            throw e;
        }
    }

    /**
     * Maps the region read-write only for the duration of {@code writer}, then unmaps it: the
     * way to fill a region that will be sealed {@link Seal#WRITE} (immutable for everyone), which
     * the kernel refuses while any writable mapping exists. The segment is unusable after the
     * call returns.
     *
     * @param writer fills the segment; must not keep it past the call
     */
    public synchronized void fill(java.util.function.Consumer<MemorySegment> writer) {
        ensureOpen();
        long address = fd.apply(n -> {
            try {
                return MmapCalls.mmap(size, MmapCalls.PROT_READ | MmapCalls.PROT_WRITE, MmapCalls.MAP_SHARED, n);
            } catch (SystemCallException e) {
                throw e.about("region '" + name + "'");
            }
        });
        try (Arena scratch = Arena.ofConfined()) {
            writer.accept(MmapCalls.segmentAt(address, size, scratch, null));
        } finally {
            MmapCalls.munmap(address, size);
        }
    }

    /**
     * Adds seals; seals are permanent. {@code WRITE} fails with EBUSY while a writable mapping exists.
     *
     * @param seals the seals to add; those already on are kept
     */
    public synchronized void addSeals(Set<Seal> seals) {
        ensureOpen();
        int mask = Seal.mask(seals);
        try {
            fd.use(n -> MemfdCalls.addSeals(n, mask));
        } catch (SystemCallException e) {
            throw e.about("region '" + name + "': adding seals " + Seal.describe(seals));
        }
    }

    /**
     * Adds seals; see {@link #addSeals(Set)}.
     *
     * @param first a seal to add
     * @param rest  more seals to add
     */
    public void addSeals(Seal first, Seal... rest) {
        addSeals(EnumSet.of(first, rest));
    }

    /**
     * The seals the kernel reports for this region now.
     *
     * @return the seals, a new set
     */
    public synchronized Set<Seal> seals() {
        ensureOpen();
        return Seal.fromMask(fd.apply(n -> MemfdCalls.seals(n)));
    }

    /**
     * The seals of a memfd another process holds, read without mapping it: {@code path} names
     * one of its fds (for example {@code /proc/PID/fd/N}, readable for processes of the same
     * user), which is opened {@code O_RDONLY}, asked {@code F_GET_SEALS} and closed. For tools
     * that show who holds what; seals are per memfd, so the answer is the holder's too.
     *
     * @param path a path that opens the memfd
     * @return the seals, a new set
     * @throws SystemCallException if the path cannot be opened or is not a sealable file
     */
    public static Set<Seal> sealsOf(Path path) {
        try (OwnedFd fd = OwnedFd.adopt(FdCalls.open(path.toString(), FdCalls.O_RDONLY | FdCalls.O_CLOEXEC, 0),
                "seal query of " + path)) {
            return Seal.fromMask(fd.apply(n -> MemfdCalls.seals(n)));
        }
    }

    /**
     * Restricts what any future mapping of this region may do (the spirit of Android's
     * {@code ASharedMemory_setProt}). {@link Protection#READ_ONLY} adds
     * {@code F_SEAL_FUTURE_WRITE}: every later writable {@code mmap}, {@code mprotect(PROT_WRITE)},
     * {@code write(2)} is refused by the kernel, for this process and every peer, while the
     * writable mappings that already exist keep working. Access can only shrink:
     * asking for {@link Protection#READ_WRITE} on a read-only region throws.
     *
     * @param protection what later mappings may do
     * @throws IllegalStateException if it would widen access
     */
    public synchronized void restrictFutureAccess(Protection protection) {
        ensureOpen();
        if (protection == Protection.READ_ONLY) {
            addSeals(Seal.FUTURE_WRITE);
        } else if (seals().contains(Seal.FUTURE_WRITE) || seals().contains(Seal.WRITE)) {
            throw new SluiceException("region '" + name + "' is sealed read-only; write access cannot be restored");
        }
    }

    /**
     * Whether {@link #close()} has run.
     *
     * @return true once closed
     */
    public synchronized boolean isClosed() {
        return closed;
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("region '" + name + "' is closed");
        }
    }

    /**
     * Unmaps every mapping of this region and closes its fd. Idempotent and safe to call from
     * several threads at once: only the first call does the work.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        OwnedFd ro;
        synchronized (this) {
            ro = readOnlyFd;
        }
        try {
            mappings.close(); // runs each mapping's munmap
        } finally {
            fd.close();
            if (ro != null) {
                ro.close();
            }
        }
    }

    @Override
    public String toString() {
        return "MemfdRegion[" + name + ", " + size + " bytes, fd " + fd.numberForDiagnostics() + "]";
    }
}
