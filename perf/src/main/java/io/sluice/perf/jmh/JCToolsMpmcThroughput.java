package io.sluice.perf.jmh;

import org.jctools.queues.MpmcArrayQueue;
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

import java.util.concurrent.TimeUnit;

/**
 * JCTools {@code MpmcArrayQueue}, one producer thread and one consumer thread: in-process
 * context for the MPMC ring. It moves references, not bytes: the producer offers preallocated
 * messages of {@code messageLength} bytes without copying a payload, which flatters it against
 * rings that copy the payload into shared memory. The queue holds as many entries as the Sluice
 * MPMC ring has slots.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 3, jvmArgsAppend = {"--sun-misc-unsafe-memory-access=allow"})
@State(Scope.Group)
public class JCToolsMpmcThroughput {
    @Param({"32", "256"})
    public int messageLength;

    MpmcArrayQueue<byte[]> queue;
    byte[] message;

    @Setup
    public void setup() {
        queue = new MpmcArrayQueue<>(Rings.mpmcSlots(messageLength));
        message = new byte[messageLength];
    }

    @Benchmark
    @Group("jctools")
    @GroupThreads(1)
    public void offer(ThroughputCounters c) {
        c.offered(queue.offer(message));
    }

    @Benchmark
    @Group("jctools")
    @GroupThreads(1)
    public void poll(ThroughputCounters c, Blackhole bh) {
        int n = 0;
        byte[] m;
        while (n < Rings.POLL_LIMIT && (m = queue.poll()) != null) {
            bh.consume(m[0]);
            n++;
        }
        c.polled(n);
    }
}
