package io.sluice.perf.latency.systems;

import io.sluice.api.RingKind;
import io.sluice.channel.ChannelHost;
import io.sluice.channel.Channels;
import io.sluice.channel.ConsumerAttachment;
import io.sluice.perf.latency.Role;
import io.sluice.perf.latency.RunSpec;
import io.sluice.ringbuffer.BroadcastConsumer;
import io.sluice.ringbuffer.BroadcastProducer;
import io.sluice.ringbuffer.BroadcastStart;

import java.nio.file.Path;

/**
 * Sluice broadcast channels with one consumer each, one per direction, set up as
 * {@link SluiceSpscEndpoint} sets up its SPSC channels: each process hosts the channel it
 * produces into and attaches to the other's. Back-pressure policy (the producer waits for its
 * consumer, as every other row's does), {@link OfferSender}, one message per poll read in place,
 * busy-spin.
 * What fan-out costs a single subscriber next to the SPSC ring: the producer publishes Tail
 * Intent, Next Sequence, Tail and Latest for the consumers it does not know of yet, and the
 * consumer acquires Tail and checks the intent.
 */
final class SluiceBroadcastEndpoint extends SluiceEndpoint {
    private final ChannelHost host;
    private final BroadcastProducer out;
    private final Path peerSocket;
    private final String inName;
    private final int size;
    private ConsumerAttachment<BroadcastConsumer> attachment;

    SluiceBroadcastEndpoint(Role role, RunSpec spec) {
        boolean a = role == Role.INITIATOR;
        this.peerSocket = spec.workDir().resolve(a ? "bcast-b.sock" : "bcast-a.sock");
        this.inName = a ? "ba" : "ab";
        this.size = spec.messageSize();
        this.host = ChannelHost.bind(spec.workDir().resolve(a ? "bcast-a.sock" : "bcast-b.sock"));
        try {
            this.out = host.broadcast(a ? "ab" : "ba", RingKind.BROADCAST_BACKPRESSURE, spec.ringCapacity(), size, 1)
                    .producer();
        } catch (RuntimeException e) {
            host.close();
            throw e;
        }
    }

    @Override
    public void awaitReady() {
        attachment = attachWithRetry(() -> Channels.broadcastConsumer(peerSocket, inName, BroadcastStart.NEWEST));
        long deadline = System.nanoTime() + ATTACH_TIMEOUT.toNanos();
        connect(out, attachment.consumer(), size);
        // The other side attaches to our channel meanwhile: adopt its registration now, so
        // that the producer gates on it before the first message (an idle back-pressure
        // producer adopts joiners only when asked).
        while (out.requestedRegistration() == 0 || out.adoptedRegistration() < out.requestedRegistration()) {
            out.refreshConsumers();
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("broadcast channel: the other side did not attach within " + ATTACH_TIMEOUT);
            }
            Thread.onSpinWait();
        }
        touch(out.buffer());
    }

    @Override
    public void close() {
        if (attachment != null) {
            attachment.close();
        }
        host.close();
    }
}
