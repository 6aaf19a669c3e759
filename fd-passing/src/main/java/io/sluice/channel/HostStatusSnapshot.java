package io.sluice.channel;

import io.sluice.api.RefusalReason;
import io.sluice.api.RingKind;
import io.sluice.api.RingLayoutException;
import io.sluice.api.Role;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static io.sluice.channel.HostStatusDescriptor.*;

/**
 * One consistent reading of a host's status region ({@link HostStatusDescriptor}): the host's
 * counts, its channels with their producer figures, and every attached peer. Made by
 * {@link HostMonitor#snapshot()}, or by {@link #read} from any mapping of a status region.
 *
 * @param hostPid        the host process
 * @param hostStarted    when the host bound, in milliseconds since the epoch
 * @param updatedAt      when the host last rewrote the region, in milliseconds since the epoch
 * @param attaches       attachments that joined a channel or the host's status
 * @param detaches       attachments that ended, for any cause
 * @param hangUps        of those, the ones whose peer closed its connection or died
 * @param recoveries     MPMC recoveries of a departed participant's slots
 * @param stuckDetaches  consumers detached because they held a producer too long
 * @param refusals       refusals by reason (only reasons refused at least once)
 * @param channels       the hosted channels, by name
 * @param hostMonitors   peers watching the host's status
 */
public record HostStatusSnapshot(long hostPid, long hostStarted, long updatedAt, long attaches, long detaches,
                                 long hangUps, long recoveries, long stuckDetaches, Map<RefusalReason, Long> refusals,
                                 List<Channel> channels, List<Peer> hostMonitors) {

    /**
     * A channel as the host last published it.
     *
     * @param name             the channel's name
     * @param kind             its ring kind
     * @param capacity         data bytes (MPMC: slots)
     * @param maxMessageLength the longest message
     * @param producerPosition bytes committed so far, padding included (MPMC: the tail, in slots)
     * @param consumerPosition the slowest consumer's position (MPMC: the head, in slots)
     * @param committed        messages the host's producer committed (-1 for MPMC: its producers count in their processes)
     * @param aborted          claims aborted (-1 for MPMC)
     * @param refusedClaims    claims refused for want of room: back-pressure (-1 for MPMC)
     * @param stalledNanos     time the producer was held back, in all (-1 for MPMC)
     * @param currentStallNanos the stall in progress, 0 if none
     * @param peers            the attached peers, consumers and monitors
     */
    public record Channel(String name, RingKind kind, long capacity, int maxMessageLength, long producerPosition,
                          long consumerPosition, long committed, long aborted, long refusedClaims, long stalledNanos,
                          long currentStallNanos, List<Peer> peers) {
    }

    /**
     * An attached peer.
     *
     * @param role          its role (null if the region names an unknown one)
     * @param participantId its MPMC participant id, else 0
     * @param pid           its pid, as {@code SO_PEERCRED} gave it
     * @param uid           its uid
     * @param gid           its gid
     * @param attachmentId  the host's number for the attachment
     * @param attachedAt    when it joined, in milliseconds since the epoch
     * @param position      a consumer's published position, -1 if it has none
     * @param lagBytes      bytes between the producer and it, -1 if unknown
     * @param lagMessages   messages between the producer and it, -1 if unknown
     * @param messagesRead  messages it has read (its own count), -1 if unknown
     * @param laps          times it was lapped (broadcast)
     * @param lost          messages those laps took from it
     */
    public record Peer(Role role, int participantId, int pid, int uid, int gid, long attachmentId, long attachedAt,
                       long position, long lagBytes, long lagMessages, long messagesRead, long laps, long lost) {
    }

    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle WORD = ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN).varHandle()
            .withInvokeExactBehavior();
    private static final int MAX_SLOTS = 1 << 16;
    /**
     * How long a reader keeps trying for a stable copy. A count of spins was not enough: a host
     * descheduled mid-update on a busy machine holds the sequence odd for milliseconds.
     */
    private static final long STABLE_COPY_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(2);
    private static final int SPINS_BEFORE_PARKING = 100;

    /**
     * Reads a status region: copies it under its seqlock, then decodes the copy, bounding every
     * count and index by the header it checked against the mapping.
     *
     * @param region a read-only mapping of a status region, 8-byte aligned
     * @return the figures of one update
     * @throws RingLayoutException   if the header is not a status region's, or the mapping is
     *                               shorter than it says, or a count or index is out of range
     * @throws IllegalStateException if no stable copy could be made within two seconds (the host
     *                               died mid-update, or rewrites without pause)
     */
    public static HostStatusSnapshot read(MemorySegment region) {
        if (region.byteSize() < HEADER_LENGTH) {
            throw new RingLayoutException("status region of " + region.byteSize() + " bytes is shorter than its header");
        }
        long magic = region.get(U64, MAGIC_OFFSET);
        int version = region.get(U32, VERSION_OFFSET);
        int headerLength = region.get(U32, HEADER_LENGTH_OFFSET);
        int channelSlots = region.get(U32, CHANNEL_SLOTS_OFFSET);
        int peerSlots = region.get(U32, PEER_SLOTS_OFFSET);
        if (magic != MAGIC || version != LAYOUT_VERSION || headerLength != HEADER_LENGTH) {
            throw new RingLayoutException("not a status region of layout " + LAYOUT_VERSION + ": magic 0x"
                    + Long.toHexString(magic) + ", version " + version + ", header length " + headerLength);
        }
        if (channelSlots < 0 || channelSlots > MAX_SLOTS || peerSlots < 0 || peerSlots > MAX_SLOTS) {
            throw new RingLayoutException("status region: " + channelSlots + " channel slots and " + peerSlots
                    + " peer slots, at most " + MAX_SLOTS + " each");
        }
        long needed = peerSlot(channelSlots, peerSlots);
        if (needed > region.byteSize()) {
            throw new RingLayoutException("status region: its slots need " + needed + " bytes, the mapping has "
                    + region.byteSize());
        }
        MemorySegment copy = MemorySegment.ofArray(new long[(int) ((needed + 7) / 8)]);
        long start = System.nanoTime();
        for (int attempt = 0; ; attempt++) {
            long before = (long) WORD.getAcquire(region, SEQUENCE_OFFSET);
            if ((before & 1) == 0) {
                MemorySegment.copy(region, 0, copy, 0, needed);
                VarHandle.loadLoadFence(); // the copy's loads before the sequence's reload
                if ((long) WORD.getAcquire(region, SEQUENCE_OFFSET) == before) {
                    return decode(copy, channelSlots, peerSlots);
                }
            }
            if (System.nanoTime() - start > STABLE_COPY_TIMEOUT_NS) {
                throw new IllegalStateException("status region: no stable copy in "
                        + TimeUnit.NANOSECONDS.toMillis(STABLE_COPY_TIMEOUT_NS) + " ms (" + attempt
                        + " attempts; the host died mid-update or rewrites without pause)");
            }
            if (attempt < SPINS_BEFORE_PARKING) {
                Thread.onSpinWait();
            } else {
                LockSupport.parkNanos(100_000); // the writer is likely descheduled: give it the core
            }
        }
    }

    private static HostStatusSnapshot decode(MemorySegment v, int channelSlots, int peerSlots) {
        int channelsInUse = v.get(U32, CHANNELS_IN_USE_OFFSET);
        int peersInUse = v.get(U32, PEERS_IN_USE_OFFSET);
        if (channelsInUse < 0 || channelsInUse > channelSlots || peersInUse < 0 || peersInUse > peerSlots) {
            throw new RingLayoutException("status region: " + channelsInUse + " channels and " + peersInUse
                    + " peers in use, of " + channelSlots + " and " + peerSlots + " slots");
        }
        Map<RefusalReason, Long> refusals = new EnumMap<>(RefusalReason.class);
        for (RefusalReason r : RefusalReason.values()) {
            if (r.code() < REFUSAL_CODES) {
                long n = v.get(U64, REFUSALS_OFFSET + 8L * r.code());
                if (n != 0) {
                    refusals.put(r, n);
                }
            }
        }
        List<List<Peer>> peersOf = new ArrayList<>();
        for (int i = 0; i < channelsInUse; i++) {
            peersOf.add(new ArrayList<>());
        }
        List<Peer> hostMonitors = new ArrayList<>();
        for (int j = 0; j < peersInUse; j++) {
            long at = peerSlot(channelSlots, j);
            int channel = v.get(U32, at + PEER_CHANNEL);
            Peer p = new Peer(Role.fromCode(v.get(U32, at + PEER_ROLE)), v.get(U32, at + PEER_PARTICIPANT),
                    v.get(U32, at + PEER_PID), v.get(U32, at + PEER_UID), v.get(U32, at + PEER_GID),
                    v.get(U64, at + PEER_ATTACHMENT), v.get(U64, at + PEER_ATTACHED_AT), v.get(U64, at + PEER_POSITION),
                    v.get(U64, at + PEER_LAG_BYTES), v.get(U64, at + PEER_LAG_MESSAGES), v.get(U64, at + PEER_MESSAGES_READ),
                    v.get(U64, at + PEER_LAPS), v.get(U64, at + PEER_LOST));
            if (channel == PEER_OF_HOST) {
                hostMonitors.add(p);
            } else if (channel >= 1 && channel <= channelsInUse) {
                peersOf.get(channel - 1).add(p);
            } else {
                throw new RingLayoutException("status region: peer slot " + j + " names channel slot " + channel
                        + ", outside 1.." + channelsInUse);
            }
        }
        List<Channel> channels = new ArrayList<>();
        for (int i = 0; i < channelsInUse; i++) {
            long at = channelSlot(i);
            int nameLength = v.get(U32, at + CH_NAME_LENGTH);
            if (nameLength < 0 || nameLength > CH_NAME_CAPACITY) {
                throw new RingLayoutException("status region: channel slot " + i + " has a name of " + nameLength
                        + " bytes, at most " + CH_NAME_CAPACITY);
            }
            byte[] name = new byte[nameLength];
            MemorySegment.copy(v, ValueLayout.JAVA_BYTE, at + CH_NAME, name, 0, nameLength);
            channels.add(new Channel(new String(name, StandardCharsets.US_ASCII), RingKind.fromCode(v.get(U32, at + CH_KIND)),
                    v.get(U64, at + CH_CAPACITY), v.get(U32, at + CH_MAX_MESSAGE_LENGTH),
                    v.get(U64, at + CH_PRODUCER_POSITION), v.get(U64, at + CH_CONSUMER_POSITION),
                    v.get(U64, at + CH_COMMITTED), v.get(U64, at + CH_ABORTED), v.get(U64, at + CH_REFUSED),
                    v.get(U64, at + CH_STALLED_NANOS), v.get(U64, at + CH_CURRENT_STALL_NANOS),
                    List.copyOf(peersOf.get(i))));
        }
        return new HostStatusSnapshot(v.get(U64, HOST_PID_OFFSET), v.get(U64, HOST_STARTED_OFFSET),
                v.get(U64, UPDATED_AT_OFFSET), v.get(U64, ATTACHES_OFFSET), v.get(U64, DETACHES_OFFSET),
                v.get(U64, HANG_UPS_OFFSET), v.get(U64, RECOVERIES_OFFSET), v.get(U64, STUCK_DETACHES_OFFSET),
                refusals, List.copyOf(channels), List.copyOf(hostMonitors));
    }

    /**
     * The channel named {@code name}, if the host published it.
     *
     * @param name a channel name
     * @return the channel, or null
     */
    public Channel channel(String name) {
        for (Channel c : channels) {
            if (c.name().equals(name)) {
                return c;
            }
        }
        return null;
    }
}
