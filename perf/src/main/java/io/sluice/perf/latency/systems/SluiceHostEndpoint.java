package io.sluice.perf.latency.systems;

import io.sluice.api.MessageHandler;
import io.sluice.channel.ChannelHost;
import io.sluice.perf.latency.Endpoint;
import io.sluice.perf.latency.RunSpec;
import io.sluice.ringbuffer.MpmcConsumer;
import io.sluice.ringbuffer.SpscProducer;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * The hosting side of {@link SluiceMixedSystem}: hosts the SPSC channel it sends on and the MPMC
 * channel it receives on, as the local consumer of the latter. Whoever attaches (a JVM or the C
 * client) does so in its own {@code awaitReady}; this side has nothing to wait for, since both
 * sides meet on the control file before anything is sent.
 */
final class SluiceHostEndpoint implements Endpoint, MessageHandler {
    private final ChannelHost host;
    private final SpscProducer out;
    private final MpmcConsumer in;
    private final OfferSender sender;
    private final int size;
    private long received;

    SluiceHostEndpoint(RunSpec spec) {
        this.host = ChannelHost.bind(SluiceMixedSystem.socket(spec));
        try {
            this.out = host.spsc(SluiceMixedSystem.DOWN, spec.ringCapacity()).producer();
            this.in = host.mpmc(SluiceMixedSystem.UP, SluiceMixedSystem.slotCount(spec), SluiceMixedSystem.slotLength(spec),
                    SluiceMixedSystem.MAX_PARTICIPANTS).localConsumer();
        } catch (RuntimeException e) {
            host.close();
            throw e;
        }
        this.size = spec.messageSize();
        this.sender = new OfferSender(out, size);
    }

    @Override
    public void awaitReady() {
        // The SPSC ring only: the MPMC consumer has no view of its region, and the warm-up
        // batches take its page faults before anything is measured.
        MemorySegment ring = out.buffer();
        for (long at = 0; at < ring.byteSize(); at += 4096) {
            ring.set(JAVA_LONG_UNALIGNED, at, ring.get(JAVA_LONG_UNALIGNED, at)); // a write fault now, not measured
        }
    }

    @Override
    public void send(long value) {
        sender.send(value);
    }

    @Override
    public long poll() {
        received = EMPTY;
        in.poll(this, 1);
        return received;
    }

    @Override
    public void onMessage(int type, MemorySegment message) {
        received = message.get(JAVA_LONG_UNALIGNED, 0);
    }

    @Override
    public void close() {
        host.close();
    }
}
