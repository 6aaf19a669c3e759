package io.sluice.perf.latency;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Pins the calling thread to one CPU ({@code sched_setaffinity(0, ...)}), for the in-process
 * rows whose two sides are threads of one JVM; the cross-process rows are pinned per process
 * with {@code taskset} by the launcher.
 */
final class Pinning {
    private static final int CPU_SET_BYTES = 128; // glibc's cpu_set_t: 1024 bits
    @SuppressWarnings("restricted") // peers run with --enable-native-access
    private static final MethodHandle SCHED_SETAFFINITY = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().findOrThrow("sched_setaffinity"),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));

    private Pinning() {
    }

    /** Pins the calling thread to {@code cpu}; false if the kernel refused (no such CPU). */
    static boolean pinCurrentThread(int cpu) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mask = arena.allocate(CPU_SET_BYTES);
            mask.set(ValueLayout.JAVA_BYTE, cpu / 8, (byte) (1 << (cpu % 8)));
            return (int) SCHED_SETAFFINITY.invokeExact(0, (long) CPU_SET_BYTES, mask) == 0;
        } catch (Throwable t) {
            throw new IllegalStateException("sched_setaffinity: " + t, t);
        }
    }
}
