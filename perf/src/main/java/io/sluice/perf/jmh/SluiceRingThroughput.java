package io.sluice.perf.jmh;

import io.sluice.api.MessageConsumer;
import io.sluice.api.MessageProducer;
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
 * One producer thread and one consumer thread on a Sluice ring over a memfd mapping, with the same
 * copying write and batched read as {@link AgronaRingThroughput}; a subclass opens the ring. The
 * producer and consumer are held by their interfaces: each JMH fork runs one subclass, so those
 * call sites see one class and are inlined as if typed by it.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 3, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
@State(Scope.Group)
public abstract class SluiceRingThroughput {
    @Param({"32", "256"})
    public int messageLength;

    AutoCloseable ring;
    MessageProducer producer;
    MessageConsumer consumer;
    MemorySegment source;

    /** Creates the ring and sets {@link #producer} and {@link #consumer}; returns what tear-down closes. */
    abstract AutoCloseable open();

    @Setup
    public void setup() {
        ring = open();
        source = Arena.ofAuto().allocate(messageLength, 8); // off-heap, like Agrona's direct source (and see latency/systems/Payload.offHeapMessage)
        source.set(JAVA_LONG_UNALIGNED, 0, 42L);
    }

    @TearDown
    public void tearDown() throws Exception {
        ring.close();
    }

    @Benchmark
    @Group("sluice")
    @GroupThreads(1)
    public void offer(ThroughputCounters c) {
        c.offered(producer.offer(1, source, 0, messageLength));
    }

    @Benchmark
    @Group("sluice")
    @GroupThreads(1)
    public void poll(ThroughputCounters c, SluiceReader reader) {
        c.polled(consumer.poll(reader, Rings.POLL_LIMIT));
    }
}
