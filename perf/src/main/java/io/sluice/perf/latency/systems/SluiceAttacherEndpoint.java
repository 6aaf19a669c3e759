package io.sluice.perf.latency.systems;

import io.sluice.api.Role;
import io.sluice.channel.Channels;
import io.sluice.channel.ConsumerAttachment;
import io.sluice.channel.MpmcAttachment;
import io.sluice.perf.latency.RunSpec;
import io.sluice.ringbuffer.MpmcProducer;
import io.sluice.ringbuffer.SpscConsumer;

import java.nio.file.Path;

/**
 * The attaching JVM of {@link SluiceMixedRows}: the SPSC channel's consumer and an MPMC
 * producer, what the C client is in the two C rows. It attaches in {@link #awaitReady()}, not
 * in {@code open}: the host may be side B, which opens after A.
 */
final class SluiceAttacherEndpoint extends SluiceEndpoint {
    private final Path socket;
    private final int size;
    private ConsumerAttachment<SpscConsumer> down;
    private MpmcAttachment up;

    SluiceAttacherEndpoint(RunSpec spec) {
        this.socket = SluiceMixedRows.socket(spec);
        this.size = spec.messageSize();
    }

    @Override
    public void awaitReady() {
        down = attachWithRetry(() -> Channels.spsc(socket, SluiceMixedRows.DOWN));
        up = attachWithRetry(() -> Channels.mpmc(socket, SluiceMixedRows.UP, Role.PRODUCER));
        MpmcProducer out = up.producer();
        connect(out, down.consumer(), size);
        touch(out.buffer());
    }

    @Override
    public void close() {
        if (up != null) {
            up.close();
        }
        if (down != null) {
            down.close();
        }
    }
}
