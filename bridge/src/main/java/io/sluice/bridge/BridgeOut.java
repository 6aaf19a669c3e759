package io.sluice.bridge;

import io.aeron.Publication;
import io.sluice.api.BackOffIdleStrategy;
import io.sluice.api.ConnectionClosedException;
import io.sluice.api.IdleStrategy;
import io.sluice.api.MessageConsumer;
import io.sluice.api.MessageHandler;
import io.sluice.api.RingKind;
import io.sluice.channel.Channels;
import io.sluice.channel.ConsumerAttachment;
import io.sluice.ringbuffer.BroadcastConsumer;
import io.sluice.ringbuffer.BroadcastStart;
import org.agrona.concurrent.UnsafeBuffer;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

/**
 * The out side of a bridge: reads a local channel as one of its consumers and offers every
 * message, type and bytes, to an Aeron publication, one Aeron message per Sluice message
 * ({@link BridgeFrameDescriptor}). Not thread safe: one thread calls {@link #doWork} or
 * {@link #run}.
 *
 * <p>Messages of a back-pressure or SPSC channel are stable while read, so they are offered
 * straight from the ring's mapping (Aeron copies them into its term buffer: one copy). Those of
 * an overwrite channel may be overwritten while read: they are copied first and offered only if
 * the copy is intact ({@link BroadcastConsumer#isStillValid()}); a torn one is counted as lost
 * and its bridge sequence skipped.
 */
public final class BridgeOut implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(BridgeOut.class.getName());

    private final ConsumerAttachment<? extends MessageConsumer> source;
    private final BroadcastConsumer lappable; // non-null on an overwrite channel: copy, then check
    private final Publication publication;
    private final AeronMedia media; // an invoked driver runs only when this thread runs it
    private final OutPolicy policy;
    private final long dropAfterNanos;
    private final IdleStrategy offerIdle = new BackOffIdleStrategy();
    private final Arena arena = Arena.ofShared(); // the header, and the staging copy of an overwrite channel
    private final UnsafeBuffer header;
    private final UnsafeBuffer payload = new UnsafeBuffer(0, 0);
    private final MemorySegment stagingSegment;
    private final UnsafeBuffer staging;
    private final MessageHandler handler = this::forward;
    private BooleanSupplier stop = () -> false;
    private final AtomicBoolean closed = new AtomicBoolean();

    private long sequence;
    private long forwarded;
    private long dropped;
    private long torn;

    private BridgeOut(ConsumerAttachment<? extends MessageConsumer> source, Publication publication, AeronMedia media,
                      OutPolicy policy, Duration dropAfter) {
        this.source = source;
        this.publication = publication;
        this.media = media;
        this.policy = policy;
        this.dropAfterNanos = dropAfter.toNanos();
        int max = source.info().maxMessageLength();
        this.header = new UnsafeBuffer(arena.allocate(BridgeFrameDescriptor.HEADER_LENGTH, Long.BYTES).address(),
                BridgeFrameDescriptor.HEADER_LENGTH);
        this.lappable = source.info().kind() == RingKind.BROADCAST_OVERWRITE ? (BroadcastConsumer) source.consumer() : null;
        this.stagingSegment = lappable == null ? null : arena.allocate(Math.max(max, 8), 64);
        this.staging = lappable == null ? null : new UnsafeBuffer(stagingSegment.address(), (int) stagingSegment.byteSize());
    }

    /**
     * Attaches to the local channel and adds the Aeron publication.
     *
     * @param socket       the local host's socket
     * @param channel      the local channel's name
     * @param kind         how to attach to it
     * @param start        where a broadcast consumer starts (ignored for SPSC)
     * @param media        the Aeron to publish through
     * @param aeronChannel the Aeron channel URI, e.g. {@code aeron:udp?endpoint=host2:40123}
     * @param streamId     the Aeron stream id
     * @param policy       what to do when Aeron does not take a message
     * @param dropAfter    with {@link OutPolicy#DROP}, how long to keep offering a message first
     * @return the out side, attached; close it to detach
     * @throws IllegalArgumentException if the channel's largest message does not fit an Aeron
     *                                  message with the bridge header
     */
    public static BridgeOut open(Path socket, String channel, SourceKind kind, BroadcastStart start, AeronMedia media,
                                 String aeronChannel, int streamId, OutPolicy policy, Duration dropAfter) {
        Objects.requireNonNull(policy, "policy");
        Objects.requireNonNull(dropAfter, "dropAfter");
        if (dropAfter.isNegative()) {
            throw new IllegalArgumentException("drop timeout " + dropAfter + " is negative");
        }
        ConsumerAttachment<? extends MessageConsumer> source = kind == SourceKind.SPSC
                ? Channels.spsc(socket, channel)
                : Channels.broadcast(socket, channel, Objects.requireNonNull(start, "start"));
        Publication publication = null;
        try {
            publication = media.aeron().addPublication(aeronChannel, streamId);
            int needed = source.info().maxMessageLength() + BridgeFrameDescriptor.HEADER_LENGTH;
            if (needed > publication.maxMessageLength()) {
                throw new IllegalArgumentException("channel '" + channel + "': its largest message (" + source.info().maxMessageLength()
                        + " bytes) and the bridge header do not fit Aeron's largest message on " + aeronChannel + " ("
                        + publication.maxMessageLength() + " bytes; a longer term length raises it)");
            }
            BridgeOut out = new BridgeOut(source, publication, media, policy, dropAfter);
            LOG.log(System.Logger.Level.INFO, "bridge out: channel ''{0}'' ({1}) -> {2} stream {3}, policy {4}",
                    channel, source.info().kind(), aeronChannel, Integer.toString(streamId), policy);
            return out;
        } catch (RuntimeException e) {
            if (publication != null) {
                publication.close();
            }
            source.close();
            throw e;
        }
    }

    /**
     * Forwards what the channel holds, up to {@code limit} messages.
     *
     * @return messages taken from the channel (forwarded, dropped or torn)
     */
    public int doWork(int limit) {
        return source.poll(handler, limit);
    }

    /**
     * Forwards until {@code stop} says so or the local host is gone (the channel's poll says so
     * once it has delivered everything the host committed).
     *
     * @param stop checked between messages, and while a message waits for Aeron
     * @param idle how to wait while the channel is empty
     * @return why it returned: "stopped" or "host gone"
     */
    public String run(BooleanSupplier stop, IdleStrategy idle) {
        this.stop = stop;
        try {
            while (!stop.getAsBoolean()) {
                idle.idle(doWork(64));
            }
        } catch (ConnectionClosedException e) {
            // The host closed the channel or went away, and everything it committed was taken.
            LOG.log(System.Logger.Level.INFO, "bridge out: {0}", e.getMessage());
            return "host gone";
        }
        return "stopped";
    }

    /**
     * The handler: small, so that it inlines into the ring's poll and the payload slice it is
     * handed is never allocated; it keeps the slice's address and length, and the offer happens in
     * {@link #offer}, which takes no slice.
     */
    private void forward(int type, MemorySegment message) {
        int length = (int) message.byteSize();
        if (lappable != null) {
            MemorySegment.copy(message, 0, stagingSegment, 0, length);
            if (!lappable.isStillValid()) {
                torn++;
                sequence++;
                return;
            }
            offer(type, staging, length);
        } else {
            payload.wrap(message.address(), length);
            offer(type, payload, length);
        }
    }

    private void offer(int type, UnsafeBuffer body, int length) {
        header.putInt(BridgeFrameDescriptor.TYPE_OFFSET, type, ByteOrder.LITTLE_ENDIAN);
        header.putLong(BridgeFrameDescriptor.SEQUENCE_OFFSET, sequence, ByteOrder.LITTLE_ENDIAN);
        long deadline = 0;
        offerIdle.reset();
        while (true) {
            long result = publication.offer(header, 0, BridgeFrameDescriptor.HEADER_LENGTH, body, 0, length);
            if (result > 0) {
                forwarded++;
                break;
            }
            if (result == Publication.CLOSED || result == Publication.MAX_POSITION_EXCEEDED) {
                throw new IllegalStateException("bridge out: the Aeron publication " + publication.channel() + " stream "
                        + publication.streamId() + " cannot take more (" + Publication.errorString(result) + ")");
            }
            // NOT_CONNECTED, BACK_PRESSURED, ADMIN_ACTION: the remote side is not there yet or slow.
            if (policy == OutPolicy.DROP) {
                long now = System.nanoTime();
                if (deadline == 0) {
                    deadline = now + dropAfterNanos;
                }
                if (now - deadline >= 0) {
                    dropped++;
                    break;
                }
            }
            if (stop.getAsBoolean()) {
                // Leaving with the message unsent: it is consumed, so count it as dropped.
                dropped++;
                break;
            }
            if (media.invokeDriver() == 0) { // an invoked driver must run for Aeron to take more
                offerIdle.idle();
            }
        }
        sequence++;
    }

    /** {@return messages Aeron took} */
    public long forwarded() {
        return forwarded;
    }

    /** {@return messages dropped: the remote side did not take them in time (DROP), or the bridge stopped} */
    public long dropped() {
        return dropped;
    }

    /** {@return messages of an overwrite channel found overwritten while copied (lost, not sent)} */
    public long torn() {
        return torn;
    }

    /** {@return messages an overwrite channel's producer overwrote before the bridge read them} */
    public long lapped() {
        return lappable == null ? 0 : lappable.lostMessages();
    }

    /** {@return whether a remote subscriber is connected} */
    public boolean isConnected() {
        return publication.isConnected();
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            publication.close();
        } finally {
            try {
                source.close();
            } finally {
                arena.close();
            }
        }
    }
}
