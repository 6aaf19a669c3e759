package io.sluice.memfd.libc;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.function.Consumer;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Mapping a file into memory: {@code mmap}, {@code munmap}, and the restricted
 * {@link MemorySegment#reinterpret} that turns the raw address into a segment with a size and
 * a lifetime. Each call throws {@link io.sluice.api.SystemCallException} on failure.
 */
public final class MmapCalls {
    private MmapCalls() {
    }

    public static final int PROT_NONE = 0;
    public static final int PROT_READ = 1;
    public static final int PROT_WRITE = 2;
    public static final int PROT_EXEC = 4;
    public static final int MAP_SHARED = 0x01;
    public static final int MAP_POPULATE = 0x8000;

    private static final MethodHandle MMAP = Downcalls.capturingErrno("mmap",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle MUNMAP =
            Downcalls.capturingErrno("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));

    /** {@code mmap(NULL, length, prot, flags, fd, 0)}; returns the raw address. */
    public static long mmap(long length, int prot, int flags, int fd) {
        MemorySegment p;
        try {
            p = (MemorySegment) MMAP.invokeExact(Errno.buffer(), MemorySegment.NULL, length, prot, flags, fd, 0L);
        } catch (Throwable t) {
            throw Downcalls.unexpected(t);
        }
        if (p.address() == -1L) { // MAP_FAILED
            throw Errno.failure("mmap", "fd=" + fd + " length=" + length + " prot=" + protName(prot));
        }
        return p.address();
    }

    /** {@code munmap(address, length)}. */
    public static void munmap(long address, long length) {
        int r;
        try {
            r = (int) MUNMAP.invokeExact(Errno.buffer(), MemorySegment.ofAddress(address), length);
        } catch (Throwable t) {
            throw Downcalls.unexpected(t);
        }
        if (r != 0) {
            throw Errno.failure("munmap", "length=" + length);
        }
    }

    /**
     * Gives a zero-length native segment at {@code address} the given size and lifetime. This is
     * the restricted {@code reinterpret} call; it lives here so that only this module needs
     * native access.
     */
    public static MemorySegment segmentAt(long address, long size, Arena arena, Consumer<MemorySegment> cleanup) {
        return MemorySegment.ofAddress(address).reinterpret(size, arena, cleanup);
    }

    /** {@code PROT_READ|PROT_WRITE} for exception messages. */
    static String protName(int prot) {
        if (prot == PROT_NONE) {
            return "PROT_NONE";
        }
        StringBuilder sb = new StringBuilder();
        if ((prot & PROT_READ) != 0) sb.append("PROT_READ|");
        if ((prot & PROT_WRITE) != 0) sb.append("PROT_WRITE|");
        if ((prot & PROT_EXEC) != 0) sb.append("PROT_EXEC|");
        sb.setLength(sb.length() - 1);
        return sb.toString();
    }
}
