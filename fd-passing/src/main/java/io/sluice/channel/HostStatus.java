package io.sluice.channel;

import io.sluice.api.RingKind;
import io.sluice.api.Role;
import io.sluice.memfd.MemfdRegion;
import io.sluice.memfd.OwnedFd;
import io.sluice.memfd.Seal;
import io.sluice.ringbuffer.BroadcastConsumerPositionDescriptor;
import io.sluice.ringbuffer.BroadcastProducer;
import io.sluice.ringbuffer.MpmcRingInspector;
import io.sluice.ringbuffer.ProducerCounters;
import io.sluice.ringbuffer.SpscConsumerPositionDescriptor;
import io.sluice.ringbuffer.SpscProducer;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.List;

import static io.sluice.channel.HostStatusDescriptor.*;

/**
 * The writer of a host's status region ({@link HostStatusDescriptor}): made when the host binds,
 * rewritten by the host's thread a few times a second from the channels, their attachments, the
 * producers' {@link ProducerCounters} and the counts consumers publish in their position regions;
 * handed to monitors as an {@code O_RDONLY} fd of the sealed memfd. Host thread only, but for
 * {@link #readOnlyFd} and {@link #close}.
 *
 * <p>Nothing here runs on a producer's or consumer's path: the host reads counters they keep
 * anyway (opaque loads, see {@link ProducerCounters}) and positions they publish anyway (acquire
 * loads), so watching costs the rings nothing but the cache misses of these reads.
 */
final class HostStatus implements AutoCloseable {
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    // Aligned views for the seqlock word and for counts other processes store opaque.
    private static final VarHandle WORD = ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN).varHandle()
            .withInvokeExactBehavior();

    private final MemfdRegion region;
    private final MemorySegment view;
    private final int peerSlots;
    private long sequence;

    private HostStatus(MemfdRegion region, MemorySegment view, int peerSlots) {
        this.region = region;
        this.view = view;
        this.peerSlots = peerSlots;
    }

    /** Creates, formats and seals the region of a host that takes at most {@code peerSlots} connections. */
    static HostStatus create(String hostName, int peerSlots) {
        MemfdRegion region = MemfdRegion.create(hostName + ".status", regionSize(peerSlots));
        try {
            MemorySegment view = region.mapReadWrite();
            view.set(U64, MAGIC_OFFSET, MAGIC);
            view.set(U32, VERSION_OFFSET, LAYOUT_VERSION);
            view.set(U32, HEADER_LENGTH_OFFSET, HEADER_LENGTH);
            view.set(U32, CHANNEL_SLOTS_OFFSET, CHANNEL_SLOTS);
            view.set(U32, PEER_SLOTS_OFFSET, peerSlots);
            view.set(U64, REGION_SIZE_OFFSET, region.size());
            view.set(U64, HOST_PID_OFFSET, ProcessHandle.current().pid());
            view.set(U64, HOST_STARTED_OFFSET, System.currentTimeMillis());
            region.addSeals(Seal.SHRINK, Seal.GROW, Seal.FUTURE_WRITE); // our mapping keeps writing; nobody else can
            region.addSeals(Seal.SEAL);
            region.readOnlyFd(); // what monitors receive: opened now, so that a failure shows here
            return new HostStatus(region, view, peerSlots);
        } catch (RuntimeException e) {
            region.close();
            throw e;
        }
    }

    /** The fd a monitor receives: the memfd opened {@code O_RDONLY}. Any thread. */
    OwnedFd readOnlyFd() {
        return region.readOnlyFd();
    }

    /** Bytes of the region. */
    long size() {
        return region.size();
    }

    /**
     * Rewrites everything after the header under the seqlock (host thread).
     *
     * @param channels the hosted channels, in any order
     * @param monitors attachments watching the whole host
     * @param counters the host's counts
     */
    void publish(Collection<HostedChannel> channels, Collection<Attachment> monitors, HostCounters counters) {
        final MemorySegment v = view;
        final long begin = sequence + 1;
        // Odd: readers that load it retry; the fence keeps the field stores below after it.
        WORD.setOpaque(v, SEQUENCE_OFFSET, begin);
        VarHandle.storeStoreFence();
        v.set(U64, UPDATED_AT_OFFSET, System.currentTimeMillis());
        v.set(U64, ATTACHES_OFFSET, counters.attaches.get());
        v.set(U64, DETACHES_OFFSET, counters.detaches.get());
        v.set(U64, HANG_UPS_OFFSET, counters.hangUps.get());
        v.set(U64, RECOVERIES_OFFSET, counters.recoveries.get());
        v.set(U64, STUCK_DETACHES_OFFSET, counters.stuckDetaches.get());
        for (int code = 0; code < REFUSAL_CODES; code++) {
            v.set(U64, REFUSALS_OFFSET + 8L * code, counters.refusals(code));
        }
        long now = System.nanoTime();
        int slot = 0;
        int peer = 0;
        for (HostedChannel ch : channels) {
            if (slot == CHANNEL_SLOTS) {
                break; // the rest are not shown; Channels In Use says how many are
            }
            List<Attachment> attached = ch.attachments();
            long at = channelSlot(slot);
            long producerPosition = writeChannel(v, at, ch, attached.size(), now);
            for (Attachment a : attached) {
                if (peer < peerSlots) {
                    writePeer(v, peerSlot(CHANNEL_SLOTS, peer++), slot + 1, a, ch, producerPosition);
                }
            }
            slot++;
        }
        for (Attachment a : monitors) {
            if (peer < peerSlots) {
                writePeer(v, peerSlot(CHANNEL_SLOTS, peer++), PEER_OF_HOST, a, null, 0);
            }
        }
        v.set(U32, CHANNELS_IN_USE_OFFSET, slot);
        v.set(U32, PEERS_IN_USE_OFFSET, peer);
        for (int i = slot; i < CHANNEL_SLOTS; i++) {
            v.set(U32, channelSlot(i) + CH_KIND, 0);
        }
        for (int j = peer; j < peerSlots; j++) {
            v.set(U32, peerSlot(CHANNEL_SLOTS, j) + PEER_CHANNEL, 0);
        }
        sequence = begin + 1;
        WORD.setRelease(v, SEQUENCE_OFFSET, sequence); // publishes the stores above to an acquire load of it
    }

    /** Fills one channel slot; returns the producer position peers' lag is measured from. */
    private static long writeChannel(MemorySegment v, long at, HostedChannel ch, int peers, long now) {
        ChannelInfo info = ch.info();
        long producerPosition;
        long consumerPosition;
        ProducerCounters counters;
        switch (ch) {
            case HostedSpscChannel spsc -> {
                SpscProducer p = spsc.producer();
                producerPosition = p.publishedPosition();
                consumerPosition = p.validatedPosition();
                counters = p.counters();
            }
            case HostedBroadcastChannel bc -> {
                BroadcastProducer p = bc.producer();
                producerPosition = p.publishedPosition();
                consumerPosition = bc.slowestPosition();
                counters = p.counters();
            }
            case HostedMpmcChannel mpmc -> {
                MpmcRingInspector inspector = mpmc.inspector();
                long tail;
                long head;
                try {
                    tail = inspector.tailSlot().position();
                    head = inspector.headSlot().position();
                } catch (RuntimeException closedOrCorrupt) {
                    tail = -1;
                    head = -1;
                }
                producerPosition = tail;
                consumerPosition = head;
                counters = null; // its producers count in their own processes
            }
        }
        v.set(U32, at + CH_KIND, info.kind().code());
        v.set(U32, at + CH_MAX_MESSAGE_LENGTH, info.maxMessageLength());
        v.set(U64, at + CH_CAPACITY, info.capacity());
        v.set(U64, at + CH_PRODUCER_POSITION, producerPosition);
        v.set(U64, at + CH_CONSUMER_POSITION, consumerPosition);
        v.set(U64, at + CH_COMMITTED, counters == null ? -1 : counters.committed());
        v.set(U64, at + CH_ABORTED, counters == null ? -1 : counters.aborted());
        v.set(U64, at + CH_REFUSED, counters == null ? -1 : counters.refusedClaims());
        v.set(U64, at + CH_STALLED_NANOS, counters == null ? -1 : counters.stalledNanos(now));
        long since = counters == null ? ProducerCounters.NOT_STALLED : counters.stallingSince();
        v.set(U64, at + CH_CURRENT_STALL_NANOS, since == ProducerCounters.NOT_STALLED ? 0 : Math.max(0, now - since));
        v.set(U32, at + CH_PEERS, peers);
        byte[] name = info.name().getBytes(StandardCharsets.US_ASCII);
        int n = Math.min(name.length, CH_NAME_CAPACITY);
        v.set(U32, at + CH_NAME_LENGTH, n);
        MemorySegment.copy(name, 0, v, ValueLayout.JAVA_BYTE, at + CH_NAME, n);
        return producerPosition;
    }

    private static void writePeer(MemorySegment v, long at, int channel, Attachment a, HostedChannel ch,
                                  long producerPosition) {
        v.set(U32, at + PEER_CHANNEL, channel);
        v.set(U32, at + PEER_ROLE, a.role().code());
        v.set(U32, at + PEER_PARTICIPANT, a.participantId());
        v.set(U32, at + PEER_PID, a.peer().pid());
        v.set(U32, at + PEER_UID, a.peer().uid());
        v.set(U32, at + PEER_GID, a.peer().gid());
        v.set(U64, at + PEER_ATTACHMENT, a.id());
        v.set(U64, at + PEER_ATTACHED_AT, a.attachedAtMillis());
        long position = -1;
        long lagBytes = -1;
        long lagMessages = -1;
        long read = -1;
        long laps = 0;
        long lost = 0;
        MemorySegment pv = a.positionView();
        if (pv != null && a.role() == Role.CONSUMER) {
            try {
                if (ch instanceof HostedSpscChannel spsc) {
                    position = SpscConsumerPositionDescriptor.position(pv);
                    read = (long) WORD.getOpaque(pv, SpscConsumerPositionDescriptor.MESSAGES_CONSUMED_OFFSET);
                    lagMessages = Math.max(0, spsc.producer().counters().committed() - spsc.consumedByDeparted() - read);
                } else if (ch instanceof HostedBroadcastChannel bc) {
                    position = BroadcastConsumerPositionDescriptor.position(pv);
                    read = (long) WORD.getOpaque(pv, BroadcastConsumerPositionDescriptor.DELIVERED_OFFSET);
                    long next = (long) WORD.getOpaque(pv, BroadcastConsumerPositionDescriptor.NEXT_SEQUENCE_OFFSET);
                    lagMessages = next < 0 ? -1 : Math.max(0, bc.producer().publishedNextSequence() - next);
                    laps = (long) WORD.getOpaque(pv, BroadcastConsumerPositionDescriptor.LAPS_OFFSET);
                    lost = (long) WORD.getOpaque(pv, BroadcastConsumerPositionDescriptor.LOST_OFFSET);
                }
                lagBytes = position < 0 ? -1 : Math.max(0, producerPosition - position);
            } catch (IllegalStateException released) {
                // the attachment left while we read: its region is unmapped; the row says "unknown"
            }
        }
        v.set(U64, at + PEER_POSITION, position);
        v.set(U64, at + PEER_LAG_BYTES, lagBytes);
        v.set(U64, at + PEER_LAG_MESSAGES, lagMessages);
        v.set(U64, at + PEER_MESSAGES_READ, read);
        v.set(U64, at + PEER_LAPS, laps);
        v.set(U64, at + PEER_LOST, lost);
    }

    @Override
    public void close() {
        region.close();
    }
}
