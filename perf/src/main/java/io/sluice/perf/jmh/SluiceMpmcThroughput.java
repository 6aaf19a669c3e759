package io.sluice.perf.jmh;

import io.sluice.ringbuffer.MpmcRing;
import io.sluice.memfd.MemfdRegion;
import io.sluice.ringbuffer.MpmcConsumer;
import io.sluice.ringbuffer.MpmcProducer;
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
 * The Sluice MPMC ring with one producer thread and one consumer thread, over a memfd mapping:
 * fixed slots of the smallest power of two holding header and message, as many as fit the same
 * data capacity as the byte rings. Compare with Agrona's {@code ManyToOneRingBuffer} and JCTools'
 * {@code MpmcArrayQueue} (which moves references, not bytes).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 3, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
@State(Scope.Group)
public class SluiceMpmcThroughput {
    @Param({"32", "256"})
    public int messageLength;

    MemfdRegion ring;
    MpmcProducer producer;
    MpmcConsumer consumer;
    MemorySegment source;

    @Setup
    public void setup() {
        int slots = Rings.mpmcSlots(messageLength);
        int slotLength = Rings.DATA_CAPACITY / slots;
        ring = MemfdRegion.create("jmh.mpmc", MpmcRing.regionSize(slots, slotLength));
        MemorySegment rw = ring.mapReadWrite();
        MpmcRing.format(rw, slots, slotLength, 4);
        producer = MpmcRing.attachProducer(rw, 1, "jmh");
        consumer = MpmcRing.attachConsumer(ring.mapReadWrite(), 2, "jmh");
        source = Arena.ofAuto().allocate(messageLength, 8); // off-heap, like Agrona's direct source (and see latency/systems/Payload.offHeapMessage)
        source.set(JAVA_LONG_UNALIGNED, 0, 42L);
    }

    @TearDown
    public void tearDown() {
        ring.close();
    }

    @Benchmark
    @Group("sluiceMpmc")
    @GroupThreads(1)
    public void offer(ThroughputCounters c) {
        c.offered(producer.offer(1, source, 0, messageLength));
    }

    @Benchmark
    @Group("sluiceMpmc")
    @GroupThreads(1)
    public void poll(ThroughputCounters c, SluiceReader reader) {
        int n = consumer.poll(reader, Rings.POLL_LIMIT);
        c.polled(n);
    }
}
