package io.sluice.perf.latency.systems;

import io.sluice.api.Role;
import io.sluice.channel.ChannelHost;
import io.sluice.channel.Channels;
import io.sluice.channel.MpmcAttachment;
import io.sluice.channel.MpmcOptions;
import io.sluice.perf.latency.RunSpec;
import io.sluice.ringbuffer.MpmcConsumer;
import io.sluice.ringbuffer.MpmcProducer;

import java.nio.file.Path;

/**
 * One side of the {@code sluice-mpmc} row: an MPMC hop each way. Each side hosts the MPMC
 * channel it receives on, as its local consumer, and attaches to the other side's as a producer
 * (a participant mapping that ring read-write, as MPMC participants do). Slots as in
 * {@link SluiceMixedRows}; one producer per channel, so the claim never contends.
 */
final class SluiceMpmcEndpoint extends SluiceEndpoint {
    private final ChannelHost host;
    private final Path peerSocket;
    private final String outName;
    private final int size;
    private final MpmcConsumer in;
    private MpmcAttachment out;

    SluiceMpmcEndpoint(io.sluice.perf.latency.Role role, RunSpec spec) {
        boolean a = role == io.sluice.perf.latency.Role.INITIATOR;
        this.peerSocket = spec.workDir().resolve(a ? "mpmc-b.sock" : "mpmc-a.sock");
        this.outName = a ? "ab" : "ba";
        this.size = spec.messageSize();
        this.host = ChannelHost.bind(spec.workDir().resolve(a ? "mpmc-a.sock" : "mpmc-b.sock"));
        try {
            this.in = host.mpmc(a ? "ba" : "ab", MpmcOptions.of(SluiceMixedRows.slotCount(spec), SluiceMixedRows.slotLength(spec))
                    .maxParticipants(SluiceMixedRows.MAX_PARTICIPANTS)).attachLocal(Role.CONSUMER).consumer();
        } catch (RuntimeException e) {
            host.close();
            throw e;
        }
    }

    @Override
    public void awaitReady() {
        // Both sides have opened (hosted the channel they receive on): attach to the other's.
        out = attachWithRetry(() -> Channels.mpmc(peerSocket, outName, Role.PRODUCER));
        MpmcProducer producer = out.producer();
        connect(producer, in, size);
        touch(producer.buffer());
    }

    @Override
    public void close() {
        try {
            if (out != null) {
                out.close();
            }
        } finally {
            host.close();
        }
    }
}
