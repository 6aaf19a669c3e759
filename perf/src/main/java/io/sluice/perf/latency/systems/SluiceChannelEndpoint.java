package io.sluice.perf.latency.systems;

import io.sluice.api.MessageConsumer;
import io.sluice.api.MessageProducer;
import io.sluice.channel.ChannelHost;
import io.sluice.channel.ConsumerAttachment;
import io.sluice.perf.latency.Role;
import io.sluice.perf.latency.RunSpec;

import java.nio.file.Path;
import java.util.function.BiFunction;
import java.util.function.Consumer;

/**
 * One side of a {@link SluiceChannelRows} row, as an application would be: it hosts the
 * channel it sends on ({@code ab} from A, {@code ba} from B, a sealed memfd behind a socket of
 * its own) and, once both sides have opened, attaches to the other side's channel as its
 * consumer, mapping that ring read-only.
 *
 * @param <P> the producer of the hosted channel
 * @param <C> the consumer of the attached one
 */
final class SluiceChannelEndpoint<P extends MessageProducer, C extends MessageConsumer> extends SluiceEndpoint {
    private final ChannelHost host;
    private final P out;
    private final Path peerSocket;
    private final String inName;
    private final int size;
    private final BiFunction<Path, String, ConsumerAttachment<C>> attach;
    private final Consumer<P> whenAttached;
    private ConsumerAttachment<C> attachment;

    /**
     * @param socketPrefix the sockets are {@code <prefix>-a.sock} and {@code <prefix>-b.sock}
     * @param hostChannel  creates the outbound channel of that name on the host, returns its producer
     * @param attach       attaches to the other side's channel of that name as its consumer
     * @param whenAttached runs once both attachments exist, before the pre-touch
     */
    SluiceChannelEndpoint(Role role, RunSpec spec, String socketPrefix, BiFunction<ChannelHost, String, P> hostChannel,
                          BiFunction<Path, String, ConsumerAttachment<C>> attach, Consumer<P> whenAttached) {
        boolean a = role == Role.INITIATOR;
        this.peerSocket = spec.workDir().resolve(socketPrefix + (a ? "-b.sock" : "-a.sock"));
        this.inName = a ? "ba" : "ab";
        this.size = spec.messageSize();
        this.attach = attach;
        this.whenAttached = whenAttached;
        this.host = ChannelHost.bind(spec.workDir().resolve(socketPrefix + (a ? "-a.sock" : "-b.sock")));
        try {
            this.out = hostChannel.apply(host, a ? "ab" : "ba");
        } catch (RuntimeException e) {
            host.close();
            throw e;
        }
    }

    @Override
    public void awaitReady() {
        // Both sides have opened (hosted their outbound channel): attach to the other's.
        attachment = attachWithRetry(() -> attach.apply(peerSocket, inName));
        connect(out, attachment.consumer(), size);
        whenAttached.accept(out);
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
