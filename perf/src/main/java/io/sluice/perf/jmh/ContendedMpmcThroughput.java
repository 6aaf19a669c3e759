package io.sluice.perf.jmh;

import io.sluice.memfd.MemfdRegion;
import io.sluice.ringbuffer.MpmcConsumer;
import io.sluice.ringbuffer.MpmcProducer;
import io.sluice.ringbuffer.MpmcRing;
import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * Several producer threads against one consumer thread: the Sluice MPMC ring (each producer thread
 * attached with its own participant id, all on one mapping) against Agrona's
 * {@code ManyToOneRingBuffer} (one instance shared by the producer threads), same data capacity,
 * same copying write and batched read as {@link AgronaRingThroughput}.
 *
 * <p>Two producers by default; the thread counts come from JMH's {@code -tg} (offer first, then
 * poll): {@code -tg 4,1} for four producers. With more runnable threads than CPUs the producers
 * are preempted while they hold a claim, which is the contended case this measures.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 3, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED",
        "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class ContendedMpmcThroughput {
    /** Participant ids the ring accepts: up to 8 producers and the consumer. */
    private static final int MAX_PARTICIPANTS = 9;

    /** The Sluice ring, shared by the group's threads; each producer thread attaches its own producer. */
    @State(Scope.Group)
    public static class SluiceRing {
        @Param({"32", "256"})
        public int messageLength;

        MemfdRegion region;
        MemorySegment mapping;
        MemorySegment source;
        MpmcConsumer consumer;
        final AtomicInteger nextProducerId = new AtomicInteger(2);

        @Setup
        public void setup() {
            int slots = Rings.mpmcSlots(messageLength);
            int slotLength = Rings.DATA_CAPACITY / slots;
            region = MemfdRegion.create("jmh.mpmc.contended", MpmcRing.regionSize(slots, slotLength));
            mapping = region.mapReadWrite();
            MpmcRing.format(mapping, slots, slotLength, MAX_PARTICIPANTS);
            consumer = MpmcRing.attachConsumer(mapping, 1, "jmh");
            source = Arena.ofAuto().allocate(messageLength, 8);
            source.set(JAVA_LONG_UNALIGNED, 0, 42L);
        }

        @TearDown
        public void tearDown() {
            region.close();
        }
    }

    /** One producer thread's own attachment. */
    @State(Scope.Thread)
    public static class SluiceProducer {
        MpmcProducer producer;

        @Setup
        public void setup(SluiceRing ring) {
            producer = MpmcRing.attachProducer(ring.mapping, ring.nextProducerId.getAndIncrement(), "jmh");
        }
    }

    /** Agrona's many-to-one ring, shared by the group's producer threads. */
    @State(Scope.Group)
    public static class AgronaRing {
        @Param({"32", "256"})
        public int messageLength;

        ManyToOneRingBuffer buffer;
        UnsafeBuffer source;

        @Setup
        public void setup() {
            UnsafeBuffer memory = new UnsafeBuffer(
                    ByteBuffer.allocateDirect(Rings.DATA_CAPACITY + RingBufferDescriptor.TRAILER_LENGTH));
            buffer = new ManyToOneRingBuffer(memory);
            source = new UnsafeBuffer(ByteBuffer.allocateDirect(messageLength));
            source.putLong(0, 42L);
        }
    }

    /** Agrona's consumer handler: reads the first word in place, like {@link SluiceReader}. */
    @State(Scope.Thread)
    public static class AgronaReader implements MessageHandler {
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
    @Group("sluice")
    @GroupThreads(2)
    public void offer(SluiceRing ring, SluiceProducer p, ThroughputCounters c) {
        c.offered(p.producer.offer(1, ring.source, 0, ring.messageLength));
    }

    @Benchmark
    @Group("sluice")
    @GroupThreads(1)
    public void poll(SluiceRing ring, SluiceReader reader, ThroughputCounters c) {
        c.polled(ring.consumer.poll(reader, Rings.POLL_LIMIT));
    }

    @Benchmark
    @Group("agrona")
    @GroupThreads(2)
    public void offerAgrona(AgronaRing ring, ThroughputCounters c) {
        c.offered(ring.buffer.write(1, ring.source, 0, ring.messageLength));
    }

    @Benchmark
    @Group("agrona")
    @GroupThreads(1)
    public void pollAgrona(AgronaRing ring, AgronaReader reader, ThroughputCounters c) {
        c.polled(ring.buffer.read(reader, Rings.POLL_LIMIT));
    }
}
