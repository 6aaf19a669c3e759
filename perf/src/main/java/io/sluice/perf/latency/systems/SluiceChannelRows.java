package io.sluice.perf.latency.systems;

import io.sluice.api.BroadcastPolicy;
import io.sluice.channel.BroadcastOptions;
import io.sluice.channel.Channels;
import io.sluice.channel.SpscOptions;
import io.sluice.perf.latency.Endpoint;
import io.sluice.perf.latency.Role;
import io.sluice.perf.latency.RunSpec;
import io.sluice.ringbuffer.BroadcastProducer;
import io.sluice.ringbuffer.BroadcastStart;

/**
 * The Sluice rows where each process hosts the channel it sends on and attaches to the other's,
 * as two applications would ({@link SluiceChannelEndpoint}): {@code sluice-spsc},
 * {@code sluice-broadcast} and {@code sluice-mpmc}. Both send with {@link OfferSender} and read one message per poll in
 * place, busy-spinning. Every scenario.
 */
public final class SluiceChannelRows {
    private SluiceChannelRows() {
    }

    /** SPSC channels, one per direction, the consumer mapping the ring read-only. */
    public static Endpoint spsc(Role role, RunSpec spec) {
        return new SluiceChannelEndpoint<>(role, spec, "sluice",
                        (host, name) -> host.spsc(name, SpscOptions.of(spec.ringCapacity())).producer(),
                        Channels::spsc, producer -> { });
    }

    /**
     * Broadcast channels with one consumer each, back-pressure policy (the producer waits for its
     * consumer, as every other row's does): what fan-out costs a single subscriber next to the
     * SPSC ring. The producer publishes Tail Intent, Next Sequence, Tail and Latest for the
     * consumers it does not know of yet, and the consumer acquires Tail and checks the intent.
     */
    public static Endpoint broadcast(Role role, RunSpec spec) {
        return new SluiceChannelEndpoint<>(role, spec, "bcast",
                        (host, name) -> host.broadcast(name, BroadcastOptions.of(BroadcastPolicy.BACK_PRESSURE, spec.ringCapacity())
                                .maxMessageLength(spec.messageSize()).maxConsumers(1)).producer(),
                        (socket, name) -> Channels.broadcast(socket, name, BroadcastStart.NEWEST),
                        SluiceChannelRows::awaitGated);
    }

    /**
     * MPMC channels, one per direction (an MPMC hop each way): each side hosts the one it
     * receives on and attaches to the other's as a producer ({@link SluiceMpmcEndpoint}).
     * Ping-pong only.
     */
    public static Endpoint mpmc(Role role, RunSpec spec) {
        return new SluiceMpmcEndpoint(role, spec);
    }

    /**
     * Waits until the producer gates on the consumer the other side attached: an idle
     * back-pressure producer adopts joiners only when asked, and the first message must not go
     * out before it does.
     */
    private static void awaitGated(BroadcastProducer producer) {
        long deadline = System.nanoTime() + SluiceEndpoint.ATTACH_TIMEOUT.toNanos();
        while (producer.requestedRegistration() == 0 || producer.adoptedRegistration() < producer.requestedRegistration()) {
            producer.refreshConsumers();
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("broadcast channel: the other side did not attach within "
                        + SluiceEndpoint.ATTACH_TIMEOUT);
            }
            Thread.onSpinWait();
        }
    }
}
