package io.sluice.testing;

import io.sluice.api.SystemCallException;
import io.sluice.memfd.MemfdRegion;
import io.sluice.memfd.OwnedFd;
import io.sluice.memfd.libc.Errno;
import io.sluice.memfd.libc.FdCalls;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * System calls only tests make: a second fd on a region (what a receiver holds), and
 * {@code mprotect}, the call a hostile consumer makes to upgrade its read-only mapping. Sluice
 * itself never changes a mapping's protection, so that call is bound here, in test code, rather
 * than in {@code io.sluice.memfd.libc}. Tests run on the class path, where this code reaches the
 * libc package like any other.
 */
public final class TestCalls {
    private TestCalls() {
    }

    /** {@code PROT_READ} of {@code mmap(2)} and {@code mprotect(2)}. */
    public static final int PROT_READ = 1;
    /** {@code PROT_WRITE} of {@code mmap(2)} and {@code mprotect(2)}. */
    public static final int PROT_WRITE = 2;

    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final MethodHandle MPROTECT = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("mprotect").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT),
            Linker.Option.captureCallState("errno"));

    /**
     * A second fd on the region's memfd, opened {@code O_RDONLY} through {@code /proc/self/fd}, as a
     * receiver would hold it ({@code SCM_RIGHTS} gives the same); owned by the caller.
     *
     * @param region an open region
     * @return the new fd
     */
    public static OwnedFd reopenReadOnly(MemfdRegion region) {
        int fd = region.fd().apply(n -> FdCalls.open("/proc/self/fd/" + n, FdCalls.O_RDONLY | FdCalls.O_CLOEXEC, 0));
        return OwnedFd.adopt(fd, "reopened " + region.name());
    }

    /**
     * Opens {@code path} {@code O_RDONLY | O_CLOEXEC}: an fd that is not a memfd, for tests that
     * hand a peer the wrong kind of file; owned by the caller.
     *
     * @param path the file to open, e.g. {@code /dev/null}
     * @return the new fd
     */
    public static OwnedFd openReadOnly(String path) {
        return OwnedFd.adopt(FdCalls.open(path, FdCalls.O_RDONLY | FdCalls.O_CLOEXEC, 0), path);
    }

    /**
     * {@code mprotect(address, length, prot)}; throws {@link SystemCallException} naming the errno on refusal.
     *
     * @param address page-aligned start of a mapping
     * @param length  bytes from there
     * @param prot    {@link #PROT_READ}, {@link #PROT_WRITE} or-ed, or 0
     */
    public static void mprotect(long address, long length, int prot) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int r = (int) MPROTECT.invokeExact(state, MemorySegment.ofAddress(address), length, prot);
            if (r != 0) {
                int errno = (int) CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno")).get(state, 0L);
                throw new SystemCallException("mprotect", errno, Errno.name(errno), Errno.description(errno),
                        "length=" + length + " prot=" + prot);
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
