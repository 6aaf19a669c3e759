package io.sluice.perf.jmh;

import io.sluice.api.BroadcastPolicy;
import io.sluice.api.MessageHandler;
import io.sluice.ringbuffer.BroadcastConsumer;
import io.sluice.ringbuffer.BroadcastProducer;
import io.sluice.ringbuffer.BroadcastRing;
import io.sluice.ringbuffer.BroadcastStart;
import io.sluice.ringbuffer.SpscConsumer;
import io.sluice.ringbuffer.SpscProducer;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;
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
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * The CPU cost of one message on the latency harness's hot path, without the cache-line
 * transfers: one thread sends a message exactly as the harness's endpoints do (claim, the 8-byte
 * value, the payload, commit) and polls it back (limit 1, the handler reads the value). What a
 * ring's code adds to each one-way trip of the ping-pong rows, Sluice and Agrona side by side.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 3, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED",
        "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
@State(Scope.Thread)
public class SendPollCost {
    @Param({"32", "256"})
    public int messageLength;

    MemfdSpscRing ring;
    SpscProducer producer;
    SpscConsumer consumer;
    MemorySegment payload;
    final SluiceValue sluiceValue = new SluiceValue();

    RingBuffer agrona;
    UnsafeBuffer agronaBuffer;
    UnsafeBuffer agronaPayload;
    final AgronaValue agronaValue = new AgronaValue();

    BroadcastProducer broadcastProducer;
    BroadcastConsumer broadcastConsumer;

    long sequence;

    @Setup
    public void setup() {
        ring = new MemfdSpscRing("jmh.cost");
        producer = ring.producer;
        consumer = ring.consumer;
        payload = Arena.ofAuto().allocate(messageLength); // off-heap, as the harness's Sluice rows (Payload.offHeapMessage)

        Arena shared = Arena.ofAuto();
        MemorySegment bcRing = shared.allocate(BroadcastRing.regionSize(Rings.DATA_CAPACITY), 4096);
        BroadcastRing.format(bcRing, BroadcastPolicy.OVERWRITE, Rings.DATA_CAPACITY);
        broadcastProducer = BroadcastRing.attachProducer(bcRing, "jmh.cost.broadcast");
        broadcastConsumer = BroadcastRing.attachConsumer(bcRing.asReadOnly(),
                shared.allocate(BroadcastRing.consumerPositionRegionSize(), 128), BroadcastStart.NEWEST, "jmh.cost.broadcast");

        agronaBuffer = new UnsafeBuffer(ByteBuffer.allocateDirect(Rings.DATA_CAPACITY + RingBufferDescriptor.TRAILER_LENGTH));
        agrona = new OneToOneRingBuffer(agronaBuffer);
        agronaPayload = new UnsafeBuffer(new byte[messageLength]); // heap, as the harness's Agrona row
    }

    @TearDown
    public void tearDown() {
        ring.close();
    }

    @Benchmark
    public long sluice() {
        long value = ++sequence;
        long at = producer.tryClaim(1, messageLength);
        MemorySegment buffer = producer.buffer();
        buffer.set(JAVA_LONG_UNALIGNED, at, value);
        MemorySegment.copy(payload, 0, buffer, at + 8, messageLength - 8);
        producer.commit(at);
        while (consumer.poll(sluiceValue, 1) == 0) {
            // never taken: Sluice's poll skips a padding record and reads on from offset 0
        }
        return sluiceValue.value;
    }

    /** The same on an overwrite broadcast ring with one consumer that publishes its position (and counts). */
    @Benchmark
    public long sluiceBroadcast() {
        long value = ++sequence;
        long at = broadcastProducer.tryClaim(1, messageLength);
        MemorySegment buffer = broadcastProducer.buffer();
        buffer.set(JAVA_LONG_UNALIGNED, at, value);
        MemorySegment.copy(payload, 0, buffer, at + 8, messageLength - 8);
        broadcastProducer.commit(at);
        while (broadcastConsumer.poll(sluiceValue, 1) == 0) {
            // never taken: the record was committed above
        }
        return sluiceValue.value;
    }

    @Benchmark
    public long agrona() {
        long value = ++sequence;
        int index = agrona.tryClaim(1, messageLength);
        agronaBuffer.putLong(index, value);
        agronaBuffer.putBytes(index + 8, agronaPayload, 0, messageLength - 8);
        agrona.commit(index);
        while (agrona.read(agronaValue, 1) == 0) {
            // a poll that meets the padding record at the end of the buffer returns 0 (Agrona
            // reads one contiguous block per call), as in the harness: poll again
        }
        return agronaValue.value;
    }

    static final class SluiceValue implements MessageHandler {
        long value;

        @Override
        public void onMessage(int type, MemorySegment message) {
            value = message.get(JAVA_LONG_UNALIGNED, 0);
        }
    }

    static final class AgronaValue implements org.agrona.concurrent.MessageHandler {
        long value;

        @Override
        public void onMessage(int msgTypeId, org.agrona.MutableDirectBuffer buffer, int index, int length) {
            value = buffer.getLong(index);
        }
    }
}
