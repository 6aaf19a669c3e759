package io.sluice.channel;

import io.sluice.api.RingKind;
import io.sluice.api.Role;
import io.sluice.ringbuffer.BroadcastConsumer;
import io.sluice.ringbuffer.BroadcastRing;
import io.sluice.ringbuffer.BroadcastStart;
import io.sluice.ringbuffer.BroadcastWakeup;
import io.sluice.ringbuffer.RegionHeaderDescriptor;
import io.sluice.ringbuffer.SpscConsumer;
import io.sluice.ringbuffer.SpscConsumerPositionDescriptor;
import io.sluice.ringbuffer.SpscRing;
import io.sluice.ringbuffer.SpscWakeup;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;

/**
 * Attaching to channels hosted by another process ({@link ChannelHost}). Every method connects,
 * runs the handshake of {@code docs/protocol.md}, verifies the regions it receives, and returns
 * the same ring objects in-process code uses. Every attachment is {@link AutoCloseable}.
 *
 * <pre>{@code
 * try (ConsumerAttachment<BroadcastConsumer> md =
 *          Channels.broadcast(Path.of("/run/md.sock"), "md.quotes", BroadcastStart.NEWEST)) {
 *     while (running) {
 *         md.poll((type, payload) -> onQuote(payload), 64);
 *     }
 * }
 * }</pre>
 */
public final class Channels {
    private Channels() {
    }

    /** How long each handshake step may take by default. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);

    /**
     * Attaches as the consumer of an SPSC channel ({@link ChannelHost#spsc}); it starts where the
     * previous consumer stopped.
     *
     * @throws io.sluice.api.AttachRefusedException the host's refusal, with its reason
     * @param socket  the host's socket file
     * @param channel the channel's name on that host
     * @return the attachment, owned by the caller (close it to detach)
     */
    public static ConsumerAttachment<SpscConsumer> spsc(Path socket, String channel) {
        return spsc(socket, channel, DEFAULT_TIMEOUT);
    }

    /**
     * As {@link #spsc(Path, String)}, each handshake step waiting at most {@code timeout}.
     *
     * @param socket  the host's socket file
     * @param channel the channel's name on that host
     * @param timeout how long each handshake step may take, positive
     * @return the attachment, owned by the caller (close it to detach)
     * @throws io.sluice.api.AttachRefusedException the host's refusal, with its reason
     */
    public static ConsumerAttachment<SpscConsumer> spsc(Path socket, String channel, Duration timeout) {
        SpscConsumer[] made = new SpscConsumer[1];
        AttachSession s = AttachSession.attach(socket, channel, Role.CONSUMER, EnumSet.of(RingKind.SPSC), timeout,
                (data, position, welcome) -> {
                    // Start where the previous consumer stopped (the host says where), then attach:
                    // attaching checks that the ring has a record (or the next one) exactly there.
                    SpscRing.formatConsumerPosition(position, data.get(ValueLayout.JAVA_LONG_UNALIGNED,
                            RegionHeaderDescriptor.CAPACITY_OFFSET));
                    SpscConsumerPositionDescriptor.publishPosition(position, welcome.startPosition());
                    made[0] = SpscRing.attachConsumer(data, position, channel);
                });
        try {
            SpscWakeup parking = SpscWakeup.forConsumer(s.dataView(), s.positionView(), LibcFutex.INSTANCE);
            return new ConsumerAttachment<>(s, made[0], parking);
        } catch (RuntimeException e) {
            s.close();
            throw e;
        }
    }

    /**
     * Attaches as a consumer of a broadcast channel ({@link ChannelHost#broadcast}, either
     * policy), starting at the newest record or the oldest still available.
     *
     * @throws io.sluice.api.AttachRefusedException the host's refusal, with its reason
     * @param socket  the host's socket file
     * @param channel the channel's name on that host
     * @param start   where to start reading
     * @return the attachment, owned by the caller (close it to detach)
     */
    public static ConsumerAttachment<BroadcastConsumer> broadcast(Path socket, String channel, BroadcastStart start) {
        return broadcast(socket, channel, start, DEFAULT_TIMEOUT);
    }

    /**
     * As {@link #broadcast(Path, String, BroadcastStart)}, each handshake step waiting at most {@code timeout}.
     *
     * @param socket  the host's socket file
     * @param channel the channel's name on that host
     * @param start   where to start reading
     * @param timeout how long each handshake step may take, positive
     * @return the attachment, owned by the caller (close it to detach)
     * @throws io.sluice.api.AttachRefusedException the host's refusal, with its reason
     */
    public static ConsumerAttachment<BroadcastConsumer> broadcast(Path socket, String channel, BroadcastStart start,
                                                                  Duration timeout) {
        BroadcastConsumer[] made = new BroadcastConsumer[1];
        AttachSession s = AttachSession.attach(socket, channel, Role.CONSUMER,
                EnumSet.of(RingKind.BROADCAST_BACKPRESSURE, RingKind.BROADCAST_OVERWRITE), timeout,
                (data, position, welcome) -> made[0] = BroadcastRing.attachConsumer(data, position, start, channel));
        try {
            BroadcastConsumer c = made[0];
            if (s.registration() > 0) {
                c.registered(s.registration());
            }
            BroadcastWakeup parking = BroadcastWakeup.forConsumer(s.dataView(), s.positionView(), LibcFutex.INSTANCE);
            return new ConsumerAttachment<>(s, c, parking);
        } catch (RuntimeException e) {
            s.close();
            throw e;
        }
    }

    /**
     * Attaches to an MPMC channel ({@link ChannelHost#mpmc}) as producer, consumer or participant
     * (both), as the hosting process does with {@link HostedMpmcChannel#attachLocal}.
     *
     * @throws io.sluice.api.AttachRefusedException the host's refusal, with its reason
     * @param socket  the host's socket file
     * @param channel the channel's name on that host
     * @param role    {@link Role#PRODUCER}, {@link Role#CONSUMER} or {@link Role#PARTICIPANT}
     * @return the attachment, owned by the caller (close it to detach)
     */
    public static MpmcAttachment mpmc(Path socket, String channel, Role role) {
        return mpmc(socket, channel, role, DEFAULT_TIMEOUT);
    }

    /**
     * As {@link #mpmc(Path, String, Role)}, each handshake step waiting at most {@code timeout}.
     *
     * @param socket  the host's socket file
     * @param channel the channel's name on that host
     * @param role    {@link Role#PRODUCER}, {@link Role#CONSUMER} or {@link Role#PARTICIPANT}
     * @param timeout how long each handshake step may take, positive
     * @return the attachment, owned by the caller (close it to detach)
     * @throws io.sluice.api.AttachRefusedException the host's refusal, with its reason
     */
    public static MpmcAttachment mpmc(Path socket, String channel, Role role, Duration timeout) {
        AttachSession s = AttachSession.attach(socket, channel, role, Set.of(RingKind.MPMC), timeout, null);
        MemorySegment ring;
        try {
            ring = s.data().mapReadWrite();
        } catch (RuntimeException e) {
            s.close();
            throw e;
        }
        return MpmcAttachment.of(s, role, s.welcome().participantId(), ring);
    }

    /**
     * Watches the host at {@code socket}: its status region, read-only, as {@code sluice stat}
     * shows it. Takes no place in any channel.
     *
     * @param socket the host's socket file
     * @return the monitor, owned by the caller (close it to detach)
     * @throws io.sluice.api.AttachRefusedException the host's refusal, with its reason
     */
    public static HostMonitor monitor(Path socket) {
        return monitor(socket, DEFAULT_TIMEOUT);
    }

    /**
     * As {@link #monitor(Path)}, with a handshake timeout.
     *
     * @param socket  the host's socket file
     * @param timeout how long each handshake step may take, positive
     * @return the monitor, owned by the caller (close it to detach)
     * @throws io.sluice.api.AttachRefusedException the host's refusal, with its reason
     */
    public static HostMonitor monitor(Path socket, Duration timeout) {
        return new HostMonitor(AttachSession.attach(socket, HostStatusDescriptor.HOST_CHANNEL, Role.MONITOR,
                EnumSet.noneOf(RingKind.class), timeout, null));
    }

    /**
     * Taps the SPSC or broadcast channel {@code channel}: reads its messages as they pass, without
     * a consumer's place and without ever holding its producer back ({@link ChannelTap}).
     *
     * @param socket  the host's socket file
     * @param channel the channel's name on that host
     * @return the tap, at the newest message, owned by the caller (close it to detach)
     * @throws io.sluice.api.AttachRefusedException the host's refusal, with its reason
     * @throws io.sluice.api.SluiceException        if the channel is MPMC (nothing passes by there)
     */
    public static ChannelTap tap(Path socket, String channel) {
        return tap(socket, channel, DEFAULT_TIMEOUT);
    }

    /**
     * As {@link #tap(Path, String)}, with a handshake timeout.
     *
     * @param socket  the host's socket file
     * @param channel the channel's name on that host
     * @param timeout how long each handshake step may take, positive
     * @return the tap, owned by the caller (close it to detach)
     * @throws io.sluice.api.AttachRefusedException the host's refusal, with its reason
     * @throws io.sluice.api.SluiceException        if the channel is MPMC
     */
    public static ChannelTap tap(Path socket, String channel, Duration timeout) {
        return ChannelTap.attach(AttachSession.attach(socket, channel, Role.MONITOR, EnumSet.allOf(RingKind.class),
                timeout, null));
    }
}
