package io.sluice.perf.latency.systems;

import io.sluice.api.BroadcastPolicy;
import io.sluice.api.MessageHandler;
import io.sluice.bridge.AeronMedia;
import io.sluice.bridge.BridgeFrameDescriptor;
import io.sluice.bridge.BridgeIn;
import io.sluice.bridge.BridgeOut;
import io.sluice.bridge.OutPolicy;
import io.sluice.bridge.SourceKind;
import io.sluice.channel.BroadcastOptions;
import io.sluice.channel.ChannelHost;
import io.sluice.channel.Channels;
import io.sluice.channel.ConsumerAttachment;
import io.sluice.channel.SpscOptions;
import io.sluice.perf.latency.Endpoint;
import io.sluice.perf.latency.Role;
import io.sluice.perf.latency.RunSpec;
import io.sluice.ringbuffer.BroadcastConsumer;
import io.sluice.ringbuffer.BroadcastStart;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.time.Duration;

import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * A round trip through four bridges, two per direction, as two machines would run it: each side
 * is a "host" that sends into a Sluice SPSC channel of its own, a {@code bridge out} (the channel's
 * consumer) offers it to Aeron over UDP on loopback, the other side's {@code bridge in} publishes
 * it into a broadcast channel there, and that side's application reads it from that channel as
 * its consumer. Everything of one side runs on its measured thread, as {@link AeronUdpEndpoint}
 * runs Aeron: the driver in INVOKER mode, the out side's work after each send, the in side's
 * before each poll. The difference between this row and {@code aeron-udp} is what the bridges
 * add: two Sluice hops per direction and the bridge's framing.
 */
public final class SluiceBridgeEndpoint implements Endpoint, MessageHandler {
    private final AeronMedia media;
    private final ChannelHost host;
    private final BridgeOut out;
    private final BridgeIn in;
    private final OfferSender sender;
    private final Path inSocket;
    private ConsumerAttachment<BroadcastConsumer> consumer;
    private long received;

    public static SluiceBridgeEndpoint open(Role role, RunSpec spec) {
        return new SluiceBridgeEndpoint(role == Role.INITIATOR, spec);
    }

    private SluiceBridgeEndpoint(boolean a, RunSpec spec) {
        UdpPorts ports = UdpPorts.of(spec);
        String side = a ? "a" : "b";
        Path outSocket = spec.workDir().resolve("bridge-" + side + ".sock");
        this.inSocket = spec.workDir().resolve("bridge-" + side + "-in.sock");
        this.media = AeronMedia.invoked(spec.workDir().resolve("aeron-bridge-" + side).toString());
        ChannelHost h = null;
        BridgeOut o = null;
        try {
            h = ChannelHost.bind(outSocket);
            this.sender = new OfferSender(h.spsc("out", SpscOptions.of(spec.ringCapacity())).producer(), spec.messageSize());
            o = BridgeOut.open(outSocket, "out", SourceKind.SPSC, BroadcastStart.OLDEST, media,
                    UdpPorts.publication(a ? ports.toB() : ports.toA(), spec, BridgeFrameDescriptor.HEADER_LENGTH),
                    AeronUdpEndpoint.STREAM, OutPolicy.HOLD, Duration.ZERO);
            this.in = BridgeIn.open(inSocket, "in", BroadcastOptions.of(BroadcastPolicy.BACK_PRESSURE, spec.ringCapacity())
                    .maxMessageLength(Math.max(64, spec.messageSize())), media, UdpPorts.unicast(a ? ports.toA() : ports.toB()),
                    AeronUdpEndpoint.STREAM);
        } catch (RuntimeException e) {
            if (o != null) {
                o.close();
            }
            if (h != null) {
                h.close();
            }
            media.close();
            throw e;
        }
        this.host = h;
        this.out = o;
    }

    @Override
    public void awaitReady() throws InterruptedException {
        consumer = Channels.broadcast(inSocket, "in", BroadcastStart.OLDEST);
        while (!out.isConnected() || !in.isConnected()) {
            Thread.sleep(1);
        }
        media.runDriverHere(); // from here on the measured thread runs the driver
    }

    @Override
    public void send(long value) {
        sender.send(value);
        while (out.doWork(1) == 0) {
            media.invokeDriver(); // the SPSC commit is visible to the out side at once: this does not loop
        }
        media.invokeDriver(); // the sender puts it on the wire now
    }

    @Override
    public void idle() {
        media.invokeDriver();
    }

    @Override
    public long poll() {
        received = EMPTY;
        media.invokeDriver(); // the receiver takes what the socket holds
        in.doWork(1);
        consumer.poll(this, 1);
        return received;
    }

    @Override
    public void onMessage(int type, MemorySegment message) {
        received = message.get(JAVA_LONG_UNALIGNED, 0);
    }

    @Override
    public void close() {
        try {
            if (consumer != null) {
                consumer.close();
            }
            in.close();
            out.close();
            host.close();
        } finally {
            media.close();
        }
    }
}
