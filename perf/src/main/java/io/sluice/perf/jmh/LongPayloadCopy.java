package io.sluice.perf.jmh;

import io.sluice.memfd.MemfdRegion;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The copy a producer's {@code offer} makes, one thread, nothing else: a message from an off-heap
 * source into a memfd mapping of 1 MiB at the next offset, as into a ring, with
 * {@code MemorySegment.copy} (what every ring's {@code offer} does) or with the C library's
 * {@code memmove} through a critical downcall: how much faster a native copy of long payloads
 * would be, and from which length (docs/benchmarks.md).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 2, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@State(Scope.Thread)
public class LongPayloadCopy {
    private static final long RING = 1 << 20;
    @SuppressWarnings("restricted") // the fork runs with --enable-native-access
    private static final MethodHandle MEMMOVE = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("memmove").orElseThrow(),
            FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, JAVA_LONG), Linker.Option.critical(true));

    @Param({"4096", "16384", "32768", "65536"})
    public int length;

    MemfdRegion region;
    MemorySegment ring;
    MemorySegment source;
    long at;

    @Setup
    public void setUp() {
        region = MemfdRegion.create("jmh.copy", RING);
        ring = region.mapReadWrite();
        source = Arena.ofAuto().allocate(length, 64).fill((byte) 0x5a);
    }

    @TearDown
    public void tearDown() {
        region.close();
    }

    private long next() {
        long step = (length + 16 + 7) & ~7L; // a record: header and payload, 8-byte aligned
        at = at + step + length > RING ? 0 : at + step;
        return at;
    }

    @Benchmark
    public void segmentCopy() {
        MemorySegment.copy(source, 0, ring, next(), length);
    }

    @Benchmark
    public void memmove() throws Throwable {
        MemorySegment unused = (MemorySegment) MEMMOVE.invokeExact(ring.asSlice(next(), length), source, (long) length);
    }
}
