package io.sluice.perf.jmh;

import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;

/**
 * Agrona's {@code OneToOneRingBuffer} and {@code ManyToOneRingBuffer} (one producer thread, one
 * consumer thread) over an {@code UnsafeBuffer} of the same data capacity as the Sluice rings:
 * the peer to beat. Copying write, batched read, the handler reads the first word.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 3, jvmArgsAppend = {"--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow"})
@State(Scope.Group)
public class AgronaRingThroughput {
    @Param({"32", "256"})
    public int messageLength;

    @Param({"OneToOne", "ManyToOne"})
    public String ring;

    RingBuffer buffer;
    UnsafeBuffer source;

    @Setup
    public void setup() {
        int capacity = Rings.DATA_CAPACITY;
        UnsafeBuffer memory = new UnsafeBuffer(ByteBuffer.allocateDirect(capacity + RingBufferDescriptor.TRAILER_LENGTH));
        buffer = ring.equals("OneToOne") ? new OneToOneRingBuffer(memory) : new ManyToOneRingBuffer(memory);
        source = new UnsafeBuffer(ByteBuffer.allocateDirect(messageLength));
        source.putLong(0, 42L);
    }

    @State(Scope.Thread)
    public static class Reader implements MessageHandler {
        Blackhole bh;

        @Setup
        public void setup(Blackhole bh) {
            this.bh = bh;
        }

        @Override
        public void onMessage(int msgTypeId, org.agrona.MutableDirectBuffer buffer, int index, int length) {
            bh.consume(buffer.getLong(index));
        }
    }

    @Benchmark
    @Group("agrona")
    @GroupThreads(1)
    public void offer(ThroughputCounters c) {
        c.offered(buffer.write(1, source, 0, messageLength));
    }

    @Benchmark
    @Group("agrona")
    @GroupThreads(1)
    public void poll(ThroughputCounters c, Reader reader) {
        int n = buffer.read(reader, Rings.POLL_LIMIT);
        c.polled(n);
    }

}
