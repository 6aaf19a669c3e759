package io.sluice.perf.latency.systems;

import io.sluice.api.Role;
import io.sluice.channel.ChannelHost;
import io.sluice.channel.MpmcOptions;
import io.sluice.channel.SpscOptions;
import io.sluice.perf.latency.RunSpec;
import io.sluice.ringbuffer.MpmcConsumer;
import io.sluice.ringbuffer.SpscProducer;

/**
 * The hosting side of {@link SluiceMixedRows}: hosts the SPSC channel it sends on and the MPMC
 * channel it receives on, as the local consumer of the latter. Whoever attaches (a JVM or the C
 * client) does so in its own {@code awaitReady}; this side has nothing to wait for, since both
 * sides meet on the control file before anything is sent.
 */
final class SluiceHostEndpoint extends SluiceEndpoint {
    private final ChannelHost host;
    private final SpscProducer out;

    SluiceHostEndpoint(RunSpec spec) {
        this.host = ChannelHost.bind(SluiceMixedRows.socket(spec));
        try {
            this.out = host.spsc(SluiceMixedRows.DOWN, SpscOptions.of(spec.ringCapacity())).producer();
            MpmcConsumer in = host.mpmc(SluiceMixedRows.UP, MpmcOptions.of(SluiceMixedRows.slotCount(spec), SluiceMixedRows.slotLength(spec))
                    .maxParticipants(SluiceMixedRows.MAX_PARTICIPANTS)).attachLocal(Role.CONSUMER).consumer();
            connect(out, in, spec.messageSize());
        } catch (RuntimeException e) {
            host.close();
            throw e;
        }
    }

    @Override
    public void awaitReady() {
        // The SPSC ring only: the MPMC consumer has no view of its region, and the warm-up
        // batches take its page faults before anything is measured.
        touch(out.buffer());
    }

    @Override
    public void close() {
        host.close();
    }
}
