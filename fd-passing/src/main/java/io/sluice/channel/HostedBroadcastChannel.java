package io.sluice.channel;

import io.sluice.api.BroadcastPolicy;
import io.sluice.api.RefusalReason;
import io.sluice.api.RingKind;
import io.sluice.api.Role;
import io.sluice.memfd.MemfdRegion;
import io.sluice.memfd.OwnedFd;
import io.sluice.memfd.Seal;
import io.sluice.ringbuffer.BroadcastConsumerPositionDescriptor;
import io.sluice.ringbuffer.BroadcastProducer;
import io.sluice.ringbuffer.BroadcastRing;
import io.sluice.ringbuffer.BroadcastRingDescriptor;
import io.sluice.ringbuffer.BroadcastWakeup;
import io.sluice.ringbuffer.ConsumerFault;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A broadcast channel: the producer is in the hosting process; up to {@code maxConsumers}
 * consumers attach from other processes, each with a read-only mapping of the ring and a
 * position region of its own that the producer reads (back-pressure) or that only monitors
 * (overwrite).
 *
 * <p>A back-pressure producer validates every position it reads; a consumer that publishes one no
 * honest consumer can have is dropped from its gate by the producer and detached by the host
 * ({@code DETACH(BAD_POSITION)}).
 *
 * <p>When a consumer's connection ends (it closed, or died) the host removes it from the
 * producer's gate at once: a back-pressured producer is no longer held back by it from its next
 * claim on. Its position region stays mapped until the producer has adopted the consumer set
 * without it (the ring's Gated Registration says so), then is closed.
 */
public final class HostedBroadcastChannel extends HostedChannel {
    private final BroadcastProducer producer;
    private final boolean backpressure;
    private final int maxConsumers;
    private int consumers;                                        // guarded by this: joined, not yet left
    private final Map<Attachment, Long> registrations = new HashMap<>(); // guarded by this
    private final RetiredRegions retired; // guarded by this: versions are generations
    // The ring region: the committed tail the host's watch reads (opaque, StallWatch).
    private final MemorySegment ring;
    private final StallWatch stalls;      // guarded by this
    private final Map<Attachment, Watched> watched = new HashMap<>(); // guarded by this
    private long lapsSeen;                // guarded by this: laps the consumers published, summed
    private final BroadcastWakeup waker;  // null unless the producer wakes parked consumers

    /** What the host's watch last saw of one consumer (guarded by the channel's lock). */
    private static final class Watched {
        long position = Long.MIN_VALUE; // none seen yet
        long unmovedSince;
        long laps;                      // 0 at format: a lap before the first look is still reported
        long lost;
    }

    private HostedBroadcastChannel(String name, RingKind kind, long capacity, MemfdRegion data, MemorySegment ring,
                                   int maxConsumers, boolean wakes) {
        super(name, kind, capacity, data);
        this.backpressure = kind == RingKind.BROADCAST_BACKPRESSURE;
        this.maxConsumers = maxConsumers;
        this.producer = BroadcastRing.attachProducer(ring, name);
        this.retired = new RetiredRegions(producer::isDoneWith);
        this.ring = ring;
        this.stalls = new StallWatch(this, producer.counters());
        if (backpressure) {
            // On the producer thread, inside a claim: only hand the fault to the host's thread.
            producer.onConsumerFault(fault -> onHostThread(() -> consumerFaulted(fault)));
        }
        this.waker = wakes ? BroadcastWakeup.forProducer(ring, LibcFutex.INSTANCE) : null;
        if (waker != null) {
            producer.wakeParkedConsumersWith(waker);
        }
    }

    /**
     * How many commits found a consumer asleep and woke the sleepers (0 if this channel does not wake).
     *
     * @return the count so far
     */
    public long wakeups() {
        return waker == null ? 0 : waker.wakes();
    }

    @Override
    int welcomeFlags() {
        return waker != null ? HandshakeDescriptor.WELCOME_FLAG_BLOCKING_WAKE : 0;
    }

    @Override
    void wakeParkedConsumers() {
        if (waker != null) {
            waker.wake();
        }
    }

    static HostedBroadcastChannel create(String name, BroadcastOptions options) {
        RingKind kind = options.policy().ringKind();
        long capacity = options.capacity();
        int maxMessageLength = options.maxMessageLength();
        int maxConsumers = options.maxConsumers();
        MemfdRegion data = MemfdRegion.create(name, BroadcastRing.regionSize(capacity));
        try {
            MemorySegment ring = data.mapReadWrite();
            BroadcastRing.format(ring, BroadcastPolicy.of(kind), capacity, maxMessageLength);
            data.addSeals(Seal.SHRINK, Seal.GROW, Seal.FUTURE_WRITE);
            data.addSeals(Seal.SEAL); // final: no peer can add a seal of its own
            data.readOnlyFd(); // what consumers receive: opened now, so that a failure shows here
            return new HostedBroadcastChannel(name, kind, capacity, data, ring, maxConsumers,
                    options.wakeParkedConsumers());
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
    public BroadcastProducer producer() {
        return producer;
    }

    @Override
    synchronized void admit(Role role) {
        if (role != Role.CONSUMER) {
            throw new Refused(RefusalReason.ROLE_NOT_ALLOWED, "broadcast channel '" + name()
                    + "' takes consumers only; its producer is the hosting process");
        }
        checkRoom();
    }

    private void checkRoom() {
        if (consumers >= maxConsumers) {
            throw new Refused(RefusalReason.CHANNEL_FULL, "broadcast channel '" + name() + "' has its "
                    + maxConsumers + " consumers already");
        }
    }

    /**
     * The position of the slowest attached consumer, as they publish it (acquire), or the
     * producer's published position if none is attached (host thread: the status region).
     */
    long slowestPosition() {
        long slowest = producer.publishedPosition();
        for (Attachment a : attachments()) {
            MemorySegment pv = a.positionView();
            if (pv != null && a.role() == Role.CONSUMER) {
                try {
                    slowest = Math.min(slowest, BroadcastConsumerPositionDescriptor.position(pv));
                } catch (IllegalStateException released) {
                    // it left while we read
                }
            }
        }
        return slowest;
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
        return BroadcastConsumerPositionDescriptor.REGION_SIZE;
    }

    @Override
    int maxMessageLength() {
        return producer.maxMessageLength();
    }

    @Override
    String checkPositionRegion(Attachment attachment) {
        try {
            BroadcastConsumerPositionDescriptor.validate(attachment.positionView(), "broadcast channel '" + name() + "'");
            return null;
        } catch (RuntimeException e) {
            return e.getMessage();
        }
    }

    @Override
    synchronized long joined(Attachment attachment) {
        checkRoom(); // others may have completed their handshakes since this one was admitted
        long registration = backpressure ? producer.addConsumer(attachment.positionView()) : 0; // may throw: nothing changed yet
        if (backpressure) {
            registrations.put(attachment, registration);
        }
        if (waker != null) {
            // Before READY: the consumer cannot park until then, so the producer checks its flag
            // from its first park on (the argument: BroadcastWakeup, "The consumer set").
            waker.addConsumer(attachment.positionView());
        }
        consumers++;
        retired.closeDone();
        return registration; // 0 without back-pressure: the producer never reads positions
    }

    /** The producer refused a position and stopped gating on it (host thread): detach the consumer. */
    private synchronized void consumerFaulted(ConsumerFault fault) {
        for (Map.Entry<Attachment, Long> e : registrations.entrySet()) {
            if (e.getValue() == fault.registration()) {
                expel(e.getKey(), RefusalReason.BAD_POSITION, fault.reason());
                return;
            }
        }
    }

    @Override
    synchronized void left(Attachment attachment) {
        watched.remove(attachment);
        consumers--;
        if (waker != null) {
            waker.removeConsumer(attachment.positionView()); // before its region is closed below
        }
        Long registration = registrations.remove(attachment);
        MemfdRegion region = attachment.takePositionRegion();
        if (registration != null) {
            producer.removeConsumer(registration);
            retired.retire(region, producer.requestedRegistration());
        } else if (region != null) {
            region.close();
        }
        retired.closeDone();
    }

    /**
     * The host's look (under this object's lock): each consumer's published lap count, reported
     * when it rose (JFR {@code io.sluice.Lap}); on a back-pressure ring a stall beyond the
     * threshold, and with the stuck-consumer policy on, the gating consumers whose position has
     * not moved for the timeout while the producer has waited at least as long, with records
     * still to read, detached.
     */
    @Override
    synchronized void watchRing(long now, HostOptions options) {
        long stalled = backpressure ? stalls.look(now, options.stallLogThreshold().toNanos(), this::holder) : -1;
        Duration timeout = options.stuckConsumerTimeout();
        long t = timeout.toNanos();
        long tail = tail();
        List<Attachment> stuck = new ArrayList<>(0);
        for (Attachment a : attachments()) {
            MemorySegment view = a.positionView();
            if (view == null) {
                continue;
            }
            Watched w = watched.computeIfAbsent(a, k -> new Watched());
            long laps = StallWatch.opaque(view, BroadcastConsumerPositionDescriptor.LAPS_OFFSET);
            long lost = StallWatch.opaque(view, BroadcastConsumerPositionDescriptor.LOST_OFFSET);
            if (laps > w.laps) {
                ChannelEvents.lapped(this, a, laps - w.laps, lost - w.lost, laps, lost);
                lapsSeen += laps - w.laps;
            }
            w.laps = laps; // a count that went back (a liar) is the base from now on
            w.lost = lost;
            long position = StallWatch.opaque(view, BroadcastConsumerPositionDescriptor.POSITION_OFFSET);
            if (position != w.position) {
                w.position = position;
                w.unmovedSince = now;
            } else if (t > 0 && stalled >= t && now - w.unmovedSince >= t && position != tail
                    && registrations.containsKey(a)) {
                stuck.add(a);
            }
        }
        for (Attachment a : stuck) {
            Watched w = watched.get(a);
            expelStuck(a, w.position, now - w.unmovedSince, stalled, timeout);
        }
    }

    /** What holds the producer: the gating consumer furthest behind, as published. */
    private StallWatch.Holder holder() {
        long tail = tail();
        Attachment slowest = null;
        long lowest = tail;
        for (Attachment a : registrations.keySet()) {
            MemorySegment view = a.positionView();
            long position = view == null ? tail : StallWatch.opaque(view, BroadcastConsumerPositionDescriptor.POSITION_OFFSET);
            if (slowest == null || position < lowest) {
                slowest = a;
                lowest = position;
            }
        }
        return new StallWatch.Holder(slowest, lowest, tail - lowest);
    }

    /** The committed tail, as the producer publishes it to consumers. */
    private long tail() {
        return StallWatch.opaque(ring, BroadcastRingDescriptor.TAIL_OFFSET);
    }

    /**
     * Laps the consumers have published since they attached, summed as the host's watch saw them
     * rise (each also a JFR {@code io.sluice.Lap} event).
     */
    synchronized long lapsSeen() {
        return lapsSeen;
    }

    @Override
    synchronized void ringClosing(long now) {
        stalls.channelClosing(now);
    }

    @Override
    RetiredRegions retiredRegions() {
        return retired;
    }
}
