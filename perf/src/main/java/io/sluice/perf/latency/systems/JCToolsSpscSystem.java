package io.sluice.perf.latency.systems;

import io.sluice.perf.latency.Endpoint;
import io.sluice.perf.latency.LatencySystem;
import io.sluice.perf.latency.Role;
import io.sluice.perf.latency.RunSpec;
import io.sluice.perf.latency.Scenario;
import org.jctools.queues.SpscArrayQueue;

import java.util.List;
import java.util.Set;

/**
 * JCTools {@code SpscArrayQueue}, one per direction, between two pinned threads of one JVM:
 * context, not IPC. It moves references: the sender copies value and payload into a
 * preallocated message from a pool (as many as the queue can hold, plus two, so none is reused
 * while still queued or being read) and offers that.
 */
public final class JCToolsSpscSystem implements LatencySystem {
    @Override
    public String id() {
        return "jctools";
    }

    @Override
    public String label() {
        return "JCTools SpscArrayQueue, two threads of one JVM (in-process context row, not IPC)";
    }

    @Override
    public Kind kind() {
        return Kind.IN_PROCESS;
    }

    @Override
    public Set<Scenario> scenarios() {
        return Set.of(Scenario.PING_PONG, Scenario.FIXED_RATE, Scenario.THROUGHPUT);
    }

    @Override
    public List<String> classpathSets() {
        return List.of("jctools");
    }

    @Override
    public List<String> jvmArgs() {
        return List.of("--sun-misc-unsafe-memory-access=allow");
    }

    @Override
    public Endpoint open(Role role, RunSpec spec) {
        return QueueEndpoint.open(role, spec); // peer types stay out of this class (see Systems)
    }

    static final class Message {
        long value;
        final byte[] payload;

        Message(int size) {
            payload = new byte[size - 8];
        }
    }

    static final class QueueEndpoint implements Endpoint {
        private final SpscArrayQueue<Message> out;
        private final SpscArrayQueue<Message> in;
        private final Message[] pool;
        private final byte[] payload;
        private int next;

        static QueueEndpoint open(Role role, RunSpec spec) {
            int slots = InProcessPairs.slots(spec);
            InProcessPairs.Pair<SpscArrayQueue<Message>> pair = InProcessPairs.pair(role, spec, () -> new SpscArrayQueue<>(slots));
            return new QueueEndpoint(pair.out(role), pair.in(role), spec.messageSize());
        }

        QueueEndpoint(SpscArrayQueue<Message> out, SpscArrayQueue<Message> in, int size) {
            this.out = out;
            this.in = in;
            this.pool = new Message[out.capacity() + 2];
            for (int i = 0; i < pool.length; i++) {
                pool[i] = new Message(size);
            }
            this.payload = Payload.of(size);
        }

        @Override
        public void send(long value) {
            Message m = pool[next];
            next = next + 1 == pool.length ? 0 : next + 1;
            m.value = value;
            System.arraycopy(payload, 0, m.payload, 0, payload.length);
            while (!out.offer(m)) {
                // full: spin
            }
        }

        @Override
        public long poll() {
            Message m = in.poll();
            return m == null ? EMPTY : m.value;
        }

        @Override
        public void close() {
        }
    }
}
