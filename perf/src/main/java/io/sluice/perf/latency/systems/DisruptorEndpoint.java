package io.sluice.perf.latency.systems;

import com.lmax.disruptor.BusySpinWaitStrategy;
import com.lmax.disruptor.EventPoller;
import com.lmax.disruptor.RingBuffer;
import io.sluice.perf.latency.Endpoint;
import io.sluice.perf.latency.Role;
import io.sluice.perf.latency.RunSpec;

/**
 * The LMAX Disruptor, a single-producer ring per direction, between two pinned threads of one
 * JVM: context, not IPC. The sender claims a slot ({@code next}, only once there is capacity,
 * so it never parks), copies value and payload into the slot's preallocated event and
 * publishes; the receiver uses an {@code EventPoller} (gating the ring), one event per poll.
 */
public final class DisruptorEndpoint implements Endpoint, EventPoller.Handler<DisruptorEndpoint.Event> {
    static final class Event {
        long value;
        final byte[] payload;

        Event(int size) {
            payload = new byte[size - 8];
        }
    }

    private final RingBuffer<Event> out;
    private final EventPoller<Event> poller;
    private final byte[] payload;
    private long received;

    public static DisruptorEndpoint open(Role role, RunSpec spec) {
        int slots = Integer.highestOneBit(InProcessPairs.slots(spec));
        int size = spec.messageSize();
        InProcessPairs.Pair<RingBuffer<Event>> pair = InProcessPairs.pair(role, spec,
                () -> RingBuffer.createSingleProducer(() -> new Event(size), slots, new BusySpinWaitStrategy()));
        return new DisruptorEndpoint(pair.out(role), pair.in(role), size);
    }

    DisruptorEndpoint(RingBuffer<Event> out, RingBuffer<Event> in, int size) {
        this.out = out;
        this.poller = in.newPoller();
        in.addGatingSequences(poller.getSequence());
        this.payload = Payload.of(size);
    }

    @Override
    public void send(long value) {
        while (!out.hasAvailableCapacity(1)) {
            // full: spin (next() would park for a while)
        }
        long sequence = out.next();
        Event event = out.get(sequence);
        event.value = value;
        System.arraycopy(payload, 0, event.payload, 0, payload.length);
        out.publish(sequence);
    }

    @Override
    public long poll() {
        received = EMPTY;
        try {
            poller.poll(this);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        return received;
    }

    @Override
    public boolean onEvent(Event event, long sequence, boolean endOfBatch) {
        received = event.value;
        return false; // one event per poll
    }

    @Override
    public void close() {
    }
}
