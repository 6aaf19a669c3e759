package io.sluice.perf.latency.systems;

import io.sluice.api.MessageHandler;
import io.sluice.api.Role;
import io.sluice.channel.Channels;
import io.sluice.channel.ConsumerAttachment;
import io.sluice.channel.MpmcAttachment;
import io.sluice.perf.latency.Endpoint;
import io.sluice.perf.latency.RunSpec;
import io.sluice.ringbuffer.MpmcProducer;
import io.sluice.ringbuffer.SpscConsumer;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;
import java.time.Duration;

import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * The attaching JVM of {@link SluiceMixedSystem}: the SPSC channel's consumer and an MPMC
 * producer, what the C client is in the two C rows. It attaches in {@link #awaitReady()}, not
 * in {@code open}: the host may be side B, which opens after A.
 */
final class SluiceAttacherEndpoint implements Endpoint, MessageHandler {
    /** Pre-touch by an atomic add of zero: the host's process maps the same ring read-write. */
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    private final Path socket;
    private OfferSender sender;
    private final int size;
    private ConsumerAttachment<SpscConsumer> down;
    private MpmcAttachment up;
    private SpscConsumer in;
    private MpmcProducer out;
    private long received;

    SluiceAttacherEndpoint(RunSpec spec) {
        this.socket = SluiceMixedSystem.socket(spec);
        this.size = spec.messageSize();
    }

    @Override
    public void awaitReady() {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            try {
                if (down == null) {
                    down = Channels.spscConsumer(socket, SluiceMixedSystem.DOWN);
                }
                up = Channels.mpmc(socket, SluiceMixedSystem.UP, Role.PRODUCER);
                break;
            } catch (RuntimeException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.onSpinWait();
            }
        }
        in = down.consumer();
        out = up.producer();
        sender = new OfferSender(out, size);
        MemorySegment ring = out.buffer();
        for (long at = 0; at < ring.byteSize(); at += 4096) {
            long unused = (long) LONG.getAndAdd(ring, at, 0L); // a write fault now, not measured
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
        if (up != null) {
            up.close();
        }
        if (down != null) {
            down.close();
        }
    }
}
