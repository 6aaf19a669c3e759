package io.sluice.perf.latency.systems;

import io.sluice.channel.ChannelHost;
import io.sluice.channel.Channels;
import io.sluice.channel.ConsumerAttachment;
import io.sluice.perf.latency.Role;
import io.sluice.perf.latency.RunSpec;
import io.sluice.ringbuffer.SpscConsumer;
import io.sluice.ringbuffer.SpscProducer;

import java.nio.file.Path;

/**
 * Sluice SPSC channels, one per direction, exactly as an application uses them: each process
 * hosts the channel it produces into (a sealed memfd) and attaches to the other's as its
 * consumer through the socket, mapping the ring read-only. Sends with offer from an off-heap
 * message (see {@link OfferSender} for why not tryClaim/commit here); reads in place, one message
 * per poll; busy-spin.
 */
final class SluiceSpscEndpoint extends SluiceEndpoint {
    private final ChannelHost host;
    private final SpscProducer out;
    private final Path peerSocket;
    private final String inName;
    private final int size;
    private ConsumerAttachment<SpscConsumer> attachment;

    SluiceSpscEndpoint(Role role, RunSpec spec) {
        boolean a = role == Role.INITIATOR;
        Path mine = spec.workDir().resolve(a ? "sluice-a.sock" : "sluice-b.sock");
        this.peerSocket = spec.workDir().resolve(a ? "sluice-b.sock" : "sluice-a.sock");
        this.inName = a ? "ba" : "ab";
        this.host = ChannelHost.bind(mine);
        try {
            this.out = host.spsc(a ? "ab" : "ba", spec.ringCapacity()).producer();
        } catch (RuntimeException e) {
            host.close();
            throw e;
        }
        this.size = spec.messageSize();
    }

    @Override
    public void awaitReady() throws Exception {
        // Both sides have opened (hosted their outbound channel): attach to the other's.
        attachment = attachWithRetry(() -> Channels.spscConsumer(peerSocket, inName));
        connect(out, attachment.consumer(), size);
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
