package io.sluice.perf.jmh;

import io.sluice.ringbuffer.SpscConsumer;
import io.sluice.ringbuffer.SpscProducer;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * The Sluice SPSC ring, one producer thread and one consumer thread, over a memfd mapping (as a
 * channel uses it; the consumer reads through a read-only view), same data capacity, same copying
 * write and batched read as {@link AgronaRingThroughput}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 3, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
@State(Scope.Group)
public class SluiceSpscThroughput {
    @Param({"32", "256"})
    public int messageLength;

    MemfdSpscRing ring;
    SpscProducer producer;
    SpscConsumer consumer;
    MemorySegment source;

    @Setup
    public void setup() {
        ring = new MemfdSpscRing("jmh.spsc");
        producer = ring.producer;
        consumer = ring.consumer;
        source = Arena.ofAuto().allocate(messageLength, 8); // off-heap, like Agrona's direct source (and see latency/systems/Payload.offHeapMessage)
        source.set(JAVA_LONG_UNALIGNED, 0, 42L);
    }

    @TearDown
    public void tearDown() {
        ring.close();
    }

    @Benchmark
    @Group("sluiceSpsc")
    @GroupThreads(1)
    public void offer(ThroughputCounters c) {
        c.offered(producer.offer(1, source, 0, messageLength));
    }

    @Benchmark
    @Group("sluiceSpsc")
    @GroupThreads(1)
    public void poll(ThroughputCounters c, SluiceReader reader) {
        int n = consumer.poll(reader, Rings.POLL_LIMIT);
        c.polled(n);
    }
}
