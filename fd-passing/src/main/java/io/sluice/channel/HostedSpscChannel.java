package io.sluice.channel;

import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import io.sluice.api.CorruptRingException;
import io.sluice.api.RefusalReason;
import io.sluice.api.RingKind;
import io.sluice.api.Role;
import io.sluice.memfd.MemfdRegion;
import io.sluice.memfd.OwnedFd;
import io.sluice.memfd.Seal;
import io.sluice.ringbuffer.ConsumerFault;
import io.sluice.ringbuffer.SpscConsumerPositionDescriptor;
import io.sluice.ringbuffer.SpscProducer;
import io.sluice.ringbuffer.SpscRing;
import io.sluice.ringbuffer.SpscRingDescriptor;
import io.sluice.ringbuffer.SpscWakeup;

import java.lang.System.Logger.Level;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;

/**
 * An SPSC channel: the producer is in the hosting process, one consumer at a time attaches from
 * another process with a read-only mapping of the ring.
 *
 * <p>While no consumer is attached the producer follows a standby position region of the host's
 * own, holding where the last consumer stopped: the producer can fill the ring up to that point
 * and then waits. An attaching consumer starts exactly there (WELCOME's start position), so
 * nothing committed is skipped: what a dead consumer had not finished is delivered to the next.
 *
 * <p>The consumer is not trusted about its position. When it leaves, the host first stops the
 * producer reading its region ({@link SpscProducer#hold()}), then takes its last position as the
 * next start only if a record starts there between the last position the producer accepted and
 * the producer's tail ({@link SpscProducer#nextConsumerStart}); otherwise the next consumer starts
 * at the last accepted position, and what the liar claimed beyond it is delivered again. While it
 * is attached, the producer validates every position it reads; one that fails
 * ({@link io.sluice.ringbuffer.ConsumerFault}) makes the host detach the consumer with
 * {@code DETACH(BAD_POSITION)}.
 */
public final class HostedSpscChannel extends HostedChannel {
    private static final VarHandle COUNT = ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN).varHandle()
            .withInvokeExactBehavior();
    private long consumedByDeparted; // guarded by this
    private static final System.Logger LOG = System.getLogger(ChannelEvents.LOGGER);
    private final long capacity;
    private final Arena standbyArena = Arena.ofShared();
    private final MemorySegment standby;
    private final SpscProducer producer;
    private Attachment consumer;                 // guarded by this
    private long consumerGeneration;             // guarded by this: the hand-over that brought the consumer
    // Departed consumers' position regions, until the producer has switched away from them.
    private final RetiredRegions retired; // guarded by this

    private final boolean wakes;
    private SpscWakeup waker; // null unless wakes

    // The ring's header: the producer position the host's watch reads (opaque, StallWatch).
    private final MemorySegment ringHeader;
    private final StallWatch stalls;             // guarded by this
    // The stuck-consumer watch (guarded by this): the consumer last looked at, its position then,
    // and when the host first saw it there.
    private Attachment watchedConsumer;
    private long watchedPosition;
    private long unmovedSince;

    private HostedSpscChannel(String name, MemfdRegion data, MemorySegment ring, long capacity, boolean wakes) {
        super(name, RingKind.SPSC, capacity, data);
        this.capacity = capacity;
        this.standby = standbyArena.allocate(SpscRing.consumerPositionRegionSize(), 128);
        SpscRing.formatConsumerPosition(standby, capacity);
        this.producer = SpscRing.attachProducer(ring, standby, name);
        this.retired = new RetiredRegions(producer::isDoneWith);
        this.ringHeader = ring.asSlice(0, SpscRingDescriptor.HEADER_LENGTH);
        this.stalls = new StallWatch(this, producer.counters());
        // On the producer thread, inside a claim: only hand the fault to the host's thread.
        producer.onConsumerFault(fault -> onHostThread(() -> consumerFaulted(fault)));
        this.wakes = wakes;
        if (wakes) {
            waker = SpscWakeup.forProducer(ring, LibcFutex.INSTANCE);
            producer.wakeParkedConsumersWith(waker);
        }
    }

    /**
     * How many commits found the consumer asleep and woke it (0 if this channel does not wake).
     *
     * @return the count so far
     */
    public long wakeups() {
        return waker == null ? 0 : waker.wakes();
    }

    @Override
    int welcomeFlags() {
        return wakes ? HandshakeDescriptor.WELCOME_FLAG_BLOCKING_WAKE : 0;
    }

    static HostedSpscChannel create(String name, SpscOptions options) {
        long capacity = options.capacity();
        boolean wakes = options.wakeParkedConsumers();
        MemfdRegion data = MemfdRegion.create(name, SpscRing.regionSize(capacity));
        try {
            MemorySegment ring = data.mapReadWrite();
            SpscRing.format(ring, capacity);
            // The producer's mapping exists: from now on nobody else can map it writable.
            data.addSeals(Seal.SHRINK, Seal.GROW, Seal.FUTURE_WRITE);
            data.addSeals(Seal.SEAL); // final: no peer can add a seal of its own
            data.readOnlyFd(); // what consumers receive: opened now, so that a failure shows here
            return new HostedSpscChannel(name, data, ring, capacity, wakes);
        } catch (RuntimeException e) {
            data.close();
            throw e;
        }
    }

    /**
     * The producer, for the hosting process's one producer thread.
     *
     * @return the producer; not thread-safe: one thread claims and commits
     */
    public SpscProducer producer() {
        return producer;
    }

    /**
     * The attached consumer, or null.
     *
     * @return the consumer's attachment, or null while none is attached
     */
    public synchronized Attachment consumer() {
        return consumer;
    }

    @Override
    synchronized void admit(Role role) {
        if (role != Role.CONSUMER) {
            throw new Refused(RefusalReason.ROLE_NOT_ALLOWED, "spsc channel '" + name()
                    + "' takes consumers only; its producer is the hosting process");
        }
        if (consumer != null) {
            throw new Refused(RefusalReason.CHANNEL_FULL, "spsc channel '" + name() + "' already has a consumer");
        }
    }

    /** {@return messages consumed by the consumers that left (their own counts; for the status region)} */
    synchronized long consumedByDeparted() {
        return consumedByDeparted;
    }

    @Override
    OwnedFd readOnlyFd() {
        return data.readOnlyFd();
    }

    @Override
    OwnedFd dataFdFor(Role role) {
        return data.readOnlyFd();
    }

    @Override
    long positionRegionSize(Role role) {
        return SpscRing.consumerPositionRegionSize();
    }

    @Override
    long startPosition(Role role) {
        return SpscConsumerPositionDescriptor.position(standby);
    }

    @Override
    int maxMessageLength() {
        return producer.maxMessageLength();
    }

    @Override
    String checkPositionRegion(Attachment attachment) {
        MemorySegment view = attachment.positionView();
        try {
            SpscConsumerPositionDescriptor.validate(view, RingKind.SPSC, capacity, "spsc channel '" + name() + "'");
        } catch (RuntimeException e) {
            return e.getMessage();
        }
        long start = startPosition(Role.CONSUMER);
        long theirs = SpscConsumerPositionDescriptor.position(view);
        return theirs == start ? null : "consumer position region starts at " + theirs + ", the channel's start is " + start;
    }

    @Override
    synchronized long joined(Attachment attachment) {
        if (consumer != null) { // another consumer completed its handshake first
            throw new Refused(RefusalReason.CHANNEL_FULL, "spsc channel '" + name() + "' already has a consumer");
        }
        consumerGeneration = producer.followConsumer(attachment.positionView()); // may throw: nothing changed yet
        consumer = attachment;
        retired.closeDone();
        return 0;
    }

    /** The producer refused a position (host thread): detach the consumer that published it. */
    private synchronized void consumerFaulted(ConsumerFault fault) {
        Attachment liar = consumer;
        if (liar != null && fault.registration() == consumerGeneration) {
            expel(liar, RefusalReason.BAD_POSITION, fault.reason());
        }
    }

    @Override
    synchronized void left(Attachment attachment) {
        if (consumer != attachment) {
            return;
        }
        // First the producer stops reading the departed consumer's region; only then is deciding
        // where the next one starts race-free.
        producer.hold();
        long departed = SpscConsumerPositionDescriptor.position(attachment.positionView());
        // Its count of messages consumed, kept so that the next consumer's lag in messages adds up
        // (opaque: the consumer stores it opaque; it is a figure for monitors, trusted for nothing).
        consumedByDeparted += (long) COUNT.getOpaque(attachment.positionView(),
                SpscConsumerPositionDescriptor.MESSAGES_CONSUMED_OFFSET);
        long start;
        try {
            start = producer.nextConsumerStart(departed);
        } catch (CorruptRingException e) { // only this process writes the data area: a defect here
            LOG.log(Level.ERROR, "spsc channel '" + name() + "': " + e.getMessage());
            start = producer.validatedPosition();
        }
        if (start != departed) {
            long next = start;
            LOG.log(Level.WARNING, () -> "spsc channel '" + name() + "': " + attachment + " left at position " + departed
                    + ", where no record starts between " + next + " and the producer; the next consumer starts at " + next);
        }
        SpscConsumerPositionDescriptor.publishPosition(standby, start);
        long generation = producer.followConsumer(standby);
        consumer = null;
        retired.retire(attachment.takePositionRegion(), generation);
        retired.closeDone();
    }

    /**
     * The host's look (under this object's lock): a stall beyond the threshold is reported; with
     * the stuck-consumer policy on, a consumer whose position has not moved for the timeout while
     * the producer has waited at least as long, with records still to read, is detached. The
     * standby region (no consumer) is never detached: it holds what the next consumer receives.
     */
    @Override
    synchronized void watchRing(long now, HostOptions options) {
        long stalled = stalls.look(now, options.stallLogThreshold().toNanos(), this::holder);
        Attachment c = consumer;
        if (c == null) {
            watchedConsumer = null;
            return;
        }
        long position = SpscConsumerPositionDescriptor.position(c.positionView());
        if (c != watchedConsumer || position != watchedPosition) {
            watchedConsumer = c;
            watchedPosition = position;
            unmovedSince = now;
            return;
        }
        Duration timeout = options.stuckConsumerTimeout();
        long t = timeout.toNanos();
        if (t > 0 && stalled >= t && now - unmovedSince >= t && producerPosition() != position) {
            watchedConsumer = null;
            expelStuck(c, position, now - unmovedSince, stalled, timeout);
        }
    }

    /** What holds the producer: the consumer, or the standby region that keeps the last one's place. */
    private StallWatch.Holder holder() {
        Attachment c = consumer;
        long position = SpscConsumerPositionDescriptor.position(c == null ? standby : c.positionView());
        return new StallWatch.Holder(c, position, producerPosition() - position);
    }

    /** The position after the producer's last commit, as it published it for monitors. */
    private long producerPosition() {
        return StallWatch.opaque(ringHeader, SpscRingDescriptor.PRODUCER_POSITION_OFFSET);
    }

    @Override
    synchronized void ringClosing(long now) {
        stalls.channelClosing(now);
    }

    @Override
    RetiredRegions retiredRegions() {
        return retired;
    }

    @Override
    void wakeParkedConsumers() {
        if (waker != null) {
            waker.wake();
        }
    }

    @Override
    void closeRing() {
        standbyArena.close();
    }
}
