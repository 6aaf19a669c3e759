package io.sluice.bridge;

import io.aeron.ControlledFragmentAssembler;
import io.aeron.Image;
import io.aeron.Subscription;
import io.aeron.logbuffer.ControlledFragmentHandler.Action;
import io.aeron.logbuffer.Header;
import io.sluice.api.IdleStrategy;
import io.sluice.channel.BroadcastOptions;
import io.sluice.channel.ChannelHost;
import io.sluice.channel.HostedBroadcastChannel;
import io.sluice.ringbuffer.BroadcastProducer;
import org.agrona.DirectBuffer;
import org.agrona.collections.Int2ObjectHashMap;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

/**
 * The in side of a bridge: hosts a local broadcast channel and publishes into it every message an
 * Aeron subscription receives, type and bytes, so remote subscribers attach to it exactly as to
 * any local channel. Not thread safe: one thread calls {@link #doWork} or {@link #run}.
 *
 * <p>When the local channel has no room (a back-pressure channel held by a slow subscriber) the
 * fragment is left in Aeron's image and taken again on the next poll: the subscription stops
 * advancing, and Aeron's flow control holds the remote publication, whose out side then holds
 * or drops by its policy ({@link OutPolicy}).
 *
 * <p>Every frame is checked before use ({@link BridgeFrameDescriptor}); per Aeron session it
 * checks the bridge sequence and counts the messages it never received (a gap: dropped by the out
 * side, lost to a restart, or lost on an overwrite source).
 */
public final class BridgeIn implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(BridgeIn.class.getName());

    private final ChannelHost host;
    private final HostedBroadcastChannel channel;
    private final BroadcastProducer producer;
    private final UnsafeBuffer ring;
    private final int maxMessageLength;
    private final Subscription subscription;
    private final ControlledFragmentAssembler assembler = new ControlledFragmentAssembler(this::onMessage);
    private final Int2ObjectHashMap<long[]> nextBySession = new Int2ObjectHashMap<>(); // poll thread only
    private int lastSession; // the session of the last message, and its entry: one stream, no lookup per message
    private long[] lastNext;
    private final AtomicBoolean closed = new AtomicBoolean();

    private long published;
    private long missed;
    private long malformed;
    private long sessions;

    private BridgeIn(ChannelHost host, HostedBroadcastChannel channel, Subscription subscription) {
        this.host = host;
        this.channel = channel;
        this.producer = channel.producer();
        this.ring = new UnsafeBuffer(producer.buffer().address(), Math.toIntExact(producer.buffer().byteSize()));
        this.maxMessageLength = producer.maxMessageLength();
        this.subscription = subscription;
    }

    /**
     * Binds the local host, creates its broadcast channel and subscribes to the Aeron stream.
     *
     * @param socket       where the local host binds (its subscribers attach there)
     * @param channel      the local channel's name
     * @param options      the local channel's policy and sizes; its largest message must hold the
     *                     largest the out side sends
     * @param media        the Aeron to subscribe through
     * @param aeronChannel the Aeron channel URI, e.g. {@code aeron:udp?endpoint=0.0.0.0:40123}
     * @param streamId     the Aeron stream id
     * @return the in side, serving; close it to stop serving and unsubscribe
     */
    public static BridgeIn open(Path socket, String channel, BroadcastOptions options, AeronMedia media,
                                String aeronChannel, int streamId) {
        ChannelHost host = ChannelHost.bind(socket);
        try {
            HostedBroadcastChannel ch = host.broadcast(channel, options);
            Subscription subscription = media.aeron().addSubscription(aeronChannel, streamId,
                    BridgeIn::joined, BridgeIn::left);
            LOG.log(System.Logger.Level.INFO, "bridge in: {0} stream {1} -> channel ''{2}'' ({3}, {4} bytes) at {5}",
                    aeronChannel, Integer.toString(streamId), channel, options.policy(), Long.toString(options.capacity()), socket);
            return new BridgeIn(host, ch, subscription);
        } catch (RuntimeException e) {
            host.close();
            throw e;
        }
    }

    /**
     * Publishes what the subscription holds, up to {@code limit} fragments.
     *
     * @return fragments taken
     */
    public int doWork(int limit) {
        return subscription.controlledPoll(assembler, limit);
    }

    /**
     * Publishes until {@code stop} says so.
     *
     * @param stop checked between polls
     * @param idle how to wait while nothing arrives
     */
    public void run(BooleanSupplier stop, IdleStrategy idle) {
        while (!stop.getAsBoolean()) {
            idle.idle(doWork(64));
        }
    }

    private Action onMessage(DirectBuffer buffer, int offset, int length, Header header) {
        if (length < BridgeFrameDescriptor.HEADER_LENGTH) {
            return malformed(header, "a frame of " + length + " bytes, shorter than the bridge header");
        }
        int type = buffer.getInt(offset + BridgeFrameDescriptor.TYPE_OFFSET, ByteOrder.LITTLE_ENDIAN);
        long sequence = buffer.getLong(offset + BridgeFrameDescriptor.SEQUENCE_OFFSET, ByteOrder.LITTLE_ENDIAN);
        int payloadLength = length - BridgeFrameDescriptor.HEADER_LENGTH;
        if (type <= 0 || payloadLength > maxMessageLength || sequence < 0) {
            return malformed(header, "type " + type + ", sequence " + sequence + ", " + payloadLength
                    + " payload bytes (this channel's largest message: " + maxMessageLength + ")");
        }
        long at = producer.tryClaim(type, payloadLength);
        if (at < 0) {
            return Action.ABORT; // no room: Aeron keeps the fragment for the next poll
        }
        ring.putBytes(Math.toIntExact(at), buffer, offset + BridgeFrameDescriptor.HEADER_LENGTH, payloadLength);
        producer.commit(at);
        published++;
        long[] next = header.sessionId() == lastSession ? lastNext : nextBySession.get(header.sessionId());
        if (next == null) {
            next = new long[] {sequence};
            nextBySession.put(header.sessionId(), next);
            sessions++;
            LOG.log(System.Logger.Level.INFO, "bridge in: session {0}: first message is bridge message {1}",
                    Integer.toUnsignedString(header.sessionId()), Long.toString(sequence));
        }
        if (sequence != next[0]) {
            if (sequence > next[0]) {
                missed += sequence - next[0];
                LOG.log(System.Logger.Level.WARNING, "bridge in: session {0}: {1} messages missing before bridge message {2}",
                        Integer.toUnsignedString(header.sessionId()), Long.toString(sequence - next[0]), Long.toString(sequence));
            } else {
                LOG.log(System.Logger.Level.WARNING, "bridge in: session {0}: bridge message {1} after {2}",
                        Integer.toUnsignedString(header.sessionId()), Long.toString(sequence), Long.toString(next[0] - 1));
            }
        }
        next[0] = sequence + 1;
        lastSession = header.sessionId();
        lastNext = next;
        return Action.CONTINUE;
    }

    private Action malformed(Header header, String what) {
        malformed++;
        LOG.log(System.Logger.Level.WARNING, "bridge in: session {0}: malformed frame skipped: {1}",
                Integer.toUnsignedString(header.sessionId()), what);
        return Action.CONTINUE;
    }

    private static void joined(Image image) {
        LOG.log(System.Logger.Level.INFO, "bridge in: session {0} from {1} joined at stream position {2}",
                Integer.toUnsignedString(image.sessionId()), image.sourceIdentity(), Long.toString(image.joinPosition()));
    }

    private static void left(Image image) {
        LOG.log(System.Logger.Level.INFO, "bridge in: session {0} from {1} left at stream position {2}",
                Integer.toUnsignedString(image.sessionId()), image.sourceIdentity(), Long.toString(image.position()));
    }

    /** {@return messages published into the local channel} */
    public long published() {
        return published;
    }

    /** {@return messages missing from the bridge sequence: never received} */
    public long missed() {
        return missed;
    }

    /** {@return frames skipped as malformed} */
    public long malformed() {
        return malformed;
    }

    /** {@return Aeron sessions (out sides, or restarts of one) seen so far} */
    public long sessions() {
        return sessions;
    }

    /** {@return whether an out side is connected} */
    public boolean isConnected() {
        return subscription.isConnected();
    }

    /** {@return the local channel} */
    public HostedBroadcastChannel channel() {
        return channel;
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            subscription.close();
        } finally {
            host.close();
        }
    }
}
