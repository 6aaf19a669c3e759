package io.sluice.perf.latency.systems;

import io.sluice.perf.latency.Endpoint;
import io.sluice.perf.latency.Role;
import io.sluice.perf.latency.RunSpec;
import org.jctools.queues.SpscArrayQueue;

/**
 * JCTools {@code SpscArrayQueue}, one per direction, between two pinned threads of one JVM:
 * context, not IPC. It moves references: the sender copies value and payload into a
 * preallocated message from a pool (as many as the queue can hold, plus two, so none is reused
 * while still queued or being read) and offers that.
 */
public final class JCToolsEndpoint implements Endpoint {
    static final class Message {
        long value;
        final byte[] payload;

        Message(int size) {
            payload = new byte[size - 8];
        }
    }

    private final SpscArrayQueue<Message> out;
    private final SpscArrayQueue<Message> in;
    private final Message[] pool;
    private final byte[] payload;
    private int next;

    public static JCToolsEndpoint open(Role role, RunSpec spec) {
        int slots = InProcessPairs.slots(spec);
        InProcessPairs.Pair<SpscArrayQueue<Message>> pair = InProcessPairs.pair(role, spec, () -> new SpscArrayQueue<>(slots));
        return new JCToolsEndpoint(pair.out(role), pair.in(role), spec.messageSize());
    }

    JCToolsEndpoint(SpscArrayQueue<Message> out, SpscArrayQueue<Message> in, int size) {
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
