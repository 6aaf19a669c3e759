package io.sluice.perf.jmh;

import io.sluice.api.BroadcastPolicy;
import io.sluice.api.MessageHandler;
import io.sluice.ringbuffer.BroadcastConsumer;
import io.sluice.ringbuffer.BroadcastProducer;
import io.sluice.ringbuffer.BroadcastRing;
import io.sluice.ringbuffer.BroadcastStart;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * What each consumer of a broadcast ring adds, with 1, 2 and 3 consumers, both policies, one
 * thread (so no cache line changes hands: the CPU cost alone; this machine has two CPUs, too few
 * to give three consumers and a producer one each).
 * <ul>
 *   <li>{@code offerThenEachPolls}: the producer offers one 32-byte message, then every consumer
 *       polls it: the whole fan-out of one message;</li>
 *   <li>{@code offerBatch}: the producer offers {@value #BATCH} messages, then every consumer
 *       drains them in one poll; per message. With back-pressure the producer reads every
 *       consumer's position when it refreshes its room, so what the producer pays per consumer
 *       shows as the step from one consumer count to the next, beside the consumers' own share.</li>
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@State(Scope.Thread)
public class BroadcastFanOutCost {
    static final int BATCH = 64;
    private static final int MESSAGE_LENGTH = 32;

    @Param({"1", "2", "3"})
    public int consumers;

    @Param({"BACK_PRESSURE", "OVERWRITE"})
    public BroadcastPolicy policy;

    BroadcastProducer producer;
    BroadcastConsumer[] readers;
    MemorySegment payload;
    final Value value = new Value();
    long sequence;

    @Setup
    public void setup() {
        Arena arena = Arena.ofAuto();
        MemorySegment ring = arena.allocate(BroadcastRing.regionSize(Rings.DATA_CAPACITY), 4096);
        BroadcastRing.format(ring, policy, Rings.DATA_CAPACITY);
        producer = BroadcastRing.attachProducer(ring, "jmh.fanout");
        readers = new BroadcastConsumer[consumers];
        for (int i = 0; i < consumers; i++) {
            MemorySegment position = arena.allocate(BroadcastRing.consumerPositionRegionSize(), 128);
            readers[i] = BroadcastRing.attachConsumer(ring.asReadOnly(), position, BroadcastStart.NEWEST, "jmh.fanout." + i);
            if (policy == BroadcastPolicy.BACK_PRESSURE) {
                readers[i].registered(producer.addConsumer(position.asReadOnly()));
            }
        }
        producer.refreshConsumers();
        payload = arena.allocate(MESSAGE_LENGTH);
    }

    @Benchmark
    public long offerThenEachPolls() {
        payload.set(JAVA_LONG_UNALIGNED, 0, ++sequence);
        if (!producer.offer(1, payload, 0, MESSAGE_LENGTH)) {
            throw new IllegalStateException("refused with every consumer caught up");
        }
        long sum = 0;
        for (BroadcastConsumer reader : readers) {
            while (reader.poll(value, 1) == 0) {
                // a padding record at the end of the data area: poll again
            }
            sum += value.value;
        }
        return sum;
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long offerBatch() {
        for (int i = 0; i < BATCH; i++) {
            payload.set(JAVA_LONG_UNALIGNED, 0, ++sequence);
            if (!producer.offer(1, payload, 0, MESSAGE_LENGTH)) {
                throw new IllegalStateException("refused with every consumer caught up");
            }
        }
        long sum = 0;
        for (BroadcastConsumer reader : readers) {
            int left = BATCH;
            while (left > 0) {
                left -= reader.poll(value, left);
            }
            sum += value.value;
        }
        return sum;
    }

    static final class Value implements MessageHandler {
        long value;

        @Override
        public void onMessage(int type, MemorySegment message) {
            value = message.get(JAVA_LONG_UNALIGNED, 0);
        }
    }
}
