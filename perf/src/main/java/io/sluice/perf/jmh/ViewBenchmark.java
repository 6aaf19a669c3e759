package io.sluice.perf.jmh;

import io.sluice.memfd.MemfdRegion;
import io.sluice.views.agrona.ReadOnlySegmentBuffer;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.TimeUnit;

/**
 * Decoding a 64-byte SBE-style message ({@link Quote64}: an 8-byte header checked as an SBE
 * decoder checks it, then seven fields read at fixed offsets) from 64 messages laid end to end,
 * one per call in turn. What each row decodes from:
 * <ul>
 *   <li>{@code viewWrapPayload}: a read-only memfd mapping (as a consumer's ring is mapped), each
 *       message a slice of it as a ring hands payloads to its handler, decoded through a
 *       {@link ReadOnlySegmentBuffer} re-pointed with {@code wrapPayload(buffer, payload)}: must be
 *       0 B/op;</li>
 *   <li>{@code viewWrapSlice}: the same with {@code wrap(payload)}, which keeps the slice in the view
 *       (the 40 B/op that {@code wrapPayload} avoids), as context;</li>
 *   <li>{@code segmentDirect}: the same mapping read with {@code MemorySegment.get} and little-endian
 *       layouts, no view and no decoder object: the floor for FFM code;</li>
 *   <li>{@code agronaUnsafeBuffer}: the same decoder over Agrona's {@code UnsafeBuffer} wrapping a
 *       direct {@code ByteBuffer} (the usual SBE setup; Unsafe, no read-only protection).</li>
 * </ul>
 * Each row runs in a fork of its own, so the decoder's call sites see one buffer class.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 3, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED",
        "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
@State(Scope.Thread)
public class ViewBenchmark {
    static final int MESSAGES = 64;
    static final int AREA = MESSAGES * Quote64.LENGTH;

    MemfdRegion region;
    /** The read-only mapping: what a consumer's {@code buffer()} is. */
    MemorySegment mapping;
    UnsafeBuffer unsafe;
    final ReadOnlySegmentBuffer view = new ReadOnlySegmentBuffer();
    final Quote64 decoder = new Quote64();
    int next;

    @Setup
    public void setup() {
        region = MemfdRegion.create("bench.views", AREA);
        region.fill(s -> {
            for (int i = 0; i < MESSAGES; i++) {
                Quote64.encode(s, (long) i * Quote64.LENGTH, i);
            }
        });
        mapping = region.mapReadOnly();
        ByteBuffer direct = ByteBuffer.allocateDirect(AREA).order(ByteOrder.LITTLE_ENDIAN);
        MemorySegment.ofBuffer(direct).copyFrom(mapping);
        unsafe = new UnsafeBuffer(direct);
    }

    @TearDown
    public void close() {
        region.close();
    }

    private long nextOffset() {
        int i = next;
        next = (i + 1) & (MESSAGES - 1);
        return (long) i * Quote64.LENGTH;
    }

    @Benchmark
    public long viewWrapPayload() {
        MemorySegment payload = mapping.asSlice(nextOffset(), Quote64.LENGTH); // as the ring hands it over
        view.wrapPayload(mapping, payload);
        return decoder.wrap(view, 0).sum();
    }

    @Benchmark
    public long viewWrapSlice() {
        MemorySegment payload = mapping.asSlice(nextOffset(), Quote64.LENGTH);
        view.wrap(payload);
        return decoder.wrap(view, 0).sum();
    }

    @Benchmark
    public long segmentDirect() {
        return Quote64.sum(mapping, nextOffset());
    }

    @Benchmark
    public long agronaUnsafeBuffer() {
        return decoder.wrap(unsafe, (int) nextOffset()).sum();
    }

    /**
     * A 64-byte message in SBE's shape: header (block length 56, template 2, schema 77, version 1,
     * four little-endian u16), then instrument id, bid, ask (i64), bid size, ask size (i32), send
     * time, sequence, flags (i64). A flyweight decoder over any {@link DirectBuffer}, as SBE
     * generates, and the same reads over a segment.
     */
    public static final class Quote64 {
        static final int LENGTH = 64;
        static final int HEADER_LENGTH = 8;
        static final int BLOCK_LENGTH = 56;
        static final int TEMPLATE_ID = 2;
        static final int SCHEMA_ID = 77;
        static final ByteOrder ORDER = ByteOrder.LITTLE_ENDIAN;
        static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ORDER);
        static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ORDER);
        static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ORDER);

        private DirectBuffer buffer;
        private int offset;

        static void encode(MemorySegment s, long at, long seq) {
            s.set(U16, at, (short) BLOCK_LENGTH);
            s.set(U16, at + 2, (short) TEMPLATE_ID);
            s.set(U16, at + 4, (short) SCHEMA_ID);
            s.set(U16, at + 6, (short) 1);
            s.set(I64, at + 8, 1000 + seq);
            s.set(I64, at + 16, 99_500 + seq);
            s.set(I64, at + 24, 100_500 + seq);
            s.set(I32, at + 32, 10 + (int) seq);
            s.set(I32, at + 36, 20 + (int) seq);
            s.set(I64, at + 40, 123_456_789L * seq);
            s.set(I64, at + 48, seq);
            s.set(I64, at + 56, seq & 3);
        }

        /** Checks the header as an SBE decoder would, then points at the block. */
        Quote64 wrap(DirectBuffer buffer, int offset) {
            int blockLength = buffer.getShort(offset, ORDER) & 0xFFFF;
            int templateId = buffer.getShort(offset + 2, ORDER) & 0xFFFF;
            int schemaId = buffer.getShort(offset + 4, ORDER) & 0xFFFF;
            if (templateId != TEMPLATE_ID || schemaId != SCHEMA_ID || blockLength < BLOCK_LENGTH) {
                throw new IllegalArgumentException("not a Quote64: template " + templateId + ", schema " + schemaId);
            }
            buffer.boundsCheck(offset, LENGTH);
            this.buffer = buffer;
            this.offset = offset + HEADER_LENGTH;
            return this;
        }

        /** Every field read, combined so none can be skipped. */
        long sum() {
            return buffer.getLong(offset, ORDER) + buffer.getLong(offset + 8, ORDER) + buffer.getLong(offset + 16, ORDER)
                    + buffer.getInt(offset + 24, ORDER) + buffer.getInt(offset + 28, ORDER)
                    + buffer.getLong(offset + 32, ORDER) + buffer.getLong(offset + 40, ORDER)
                    + buffer.getLong(offset + 48, ORDER);
        }

        /** The same header check and reads straight from a segment. */
        static long sum(MemorySegment s, long at) {
            int blockLength = s.get(U16, at) & 0xFFFF;
            int templateId = s.get(U16, at + 2) & 0xFFFF;
            int schemaId = s.get(U16, at + 4) & 0xFFFF;
            if (templateId != TEMPLATE_ID || schemaId != SCHEMA_ID || blockLength < BLOCK_LENGTH) {
                throw new IllegalArgumentException("not a Quote64: template " + templateId + ", schema " + schemaId);
            }
            long b = at + HEADER_LENGTH;
            return s.get(I64, b) + s.get(I64, b + 8) + s.get(I64, b + 16) + s.get(I32, b + 24) + s.get(I32, b + 28)
                    + s.get(I64, b + 32) + s.get(I64, b + 40) + s.get(I64, b + 48);
        }
    }
}
