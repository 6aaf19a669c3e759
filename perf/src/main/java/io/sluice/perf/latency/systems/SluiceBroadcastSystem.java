package io.sluice.perf.latency.systems;

import io.sluice.api.MessageHandler;
import io.sluice.api.RingKind;
import io.sluice.channel.ChannelHost;
import io.sluice.channel.Channels;
import io.sluice.channel.ConsumerAttachment;
import io.sluice.perf.latency.Endpoint;
import io.sluice.perf.latency.LatencySystem;
import io.sluice.perf.latency.Role;
import io.sluice.perf.latency.RunSpec;
import io.sluice.perf.latency.Scenario;
import io.sluice.ringbuffer.BroadcastConsumer;
import io.sluice.ringbuffer.BroadcastProducer;
import io.sluice.ringbuffer.BroadcastStart;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;

import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * Sluice broadcast channels with one consumer each, one per direction, set up as
 * {@link SluiceSpscSystem} sets up its SPSC channels: each process hosts the channel it
 * produces into and attaches to the other's. Back-pressure policy (the producer waits for its
 * consumer, as every other row's does), {@link OfferSender}, one message per poll read in place,
 * busy-spin.
 * What fan-out costs a single subscriber next to the SPSC ring: the producer publishes Tail
 * Intent, Next Sequence, Tail and Latest for the consumers it does not know of yet, and the
 * consumer acquires Tail and checks the intent.
 */
public final class SluiceBroadcastSystem implements LatencySystem {
    @Override
    public String id() {
        return "sluice-broadcast";
    }

    @Override
    public String label() {
        return "Sluice broadcast channel (back-pressure, one consumer) over sealed memfds, attached by socket";
    }

    @Override
    public Kind kind() {
        return Kind.IPC;
    }

    @Override
    public Set<Scenario> scenarios() {
        return Set.of(Scenario.PING_PONG, Scenario.FIXED_RATE, Scenario.THROUGHPUT);
    }

    @Override
    public List<String> classpathSets() {
        return List.of();
    }

    @Override
    public List<String> jvmArgs() {
        return List.of();
    }

    @Override
    public Endpoint open(Role role, RunSpec spec) {
        return new BroadcastEndpoint(role, spec);
    }

    static final class BroadcastEndpoint implements Endpoint, MessageHandler {
        private static final Duration READY_TIMEOUT = Duration.ofSeconds(30);

        private final ChannelHost host;
        private final BroadcastProducer out;
        private final Path peerSocket;
        private final String inName;
        private final OfferSender sender;
        private final int size;
        private ConsumerAttachment<BroadcastConsumer> attachment;
        private BroadcastConsumer in;
        private long received;

        BroadcastEndpoint(Role role, RunSpec spec) {
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
            this.sender = new OfferSender(out, size);
        }

        @Override
        public void awaitReady() {
            long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
            while (attachment == null) {
                try {
                    attachment = Channels.broadcastConsumer(peerSocket, inName, BroadcastStart.NEWEST);
                } catch (RuntimeException e) {
                    if (System.nanoTime() > deadline) {
                        throw e;
                    }
                    Thread.onSpinWait();
                }
            }
            in = attachment.consumer();
            // The other side attaches to our channel meanwhile: adopt its registration now, so
            // that the producer gates on it before the first message (an idle back-pressure
            // producer adopts joiners only when asked).
            while (out.requestedRegistration() == 0 || out.adoptedRegistration() < out.requestedRegistration()) {
                out.refreshConsumers();
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("broadcast channel: the other side did not attach within " + READY_TIMEOUT);
                }
                Thread.onSpinWait();
            }
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
            if (attachment != null) {
                attachment.close();
            }
            host.close();
        }
    }
}
