package io.sluice.channel;

import io.sluice.api.AttachRefusedException;
import io.sluice.api.BroadcastPolicy;
import io.sluice.api.MessageProducer;
import io.sluice.api.RefusalReason;
import io.sluice.api.RingKind;
import io.sluice.api.RingLayoutException;
import io.sluice.api.Role;
import io.sluice.ringbuffer.SpscProducer;
import io.sluice.testing.ChildJvm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The host's status region, read by a monitor over the socket, against a known workload with a
 * consumer in another JVM: every count exact. Taps read beside the consumer without its place.
 */
class HostStatusTest {
    private static final long TIMEOUT_S = 20;
    private static final ValueLayout.OfLong SEQ = ValueLayout.JAVA_LONG_UNALIGNED;

    @TempDir
    Path dir;

    /** Waits (bounded) until the host has published a snapshot that {@code ready} accepts. */
    private static HostStatusSnapshot awaitSnapshot(HostMonitor monitor, Predicate<HostStatusSnapshot> ready) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_S);
        HostStatusSnapshot s = monitor.snapshot();
        while (!ready.test(s)) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("no status update matched within " + TIMEOUT_S + " s; last: " + s);
            }
            LockSupport.parkNanos(10_000_000); // the host rewrites the region every 100 ms
            s = monitor.snapshot();
        }
        return s;
    }

    private static boolean send(MessageProducer p, long seq) {
        long at = p.tryClaim(ChannelPeer.DATA, 8);
        if (at == MessageProducer.INSUFFICIENT_CAPACITY) {
            return false;
        }
        p.buffer().set(SEQ, at, seq);
        p.commit(at);
        return true;
    }

    @Test
    void spscCountsAreExactAgainstAConsumerInAnotherJvm() throws Exception {
        Path socket = dir.resolve("s.sock");
        try (ChannelHost host = ChannelHost.bind(socket);
             HostMonitor monitor = Channels.monitor(socket)) {
            HostedSpscChannel ch = host.spsc("orders", SpscOptions.of(4096));
            SpscProducer producer = ch.producer();
            try (ChildJvm child = ChildJvm.start(ChannelPeer.class, "spsc-hold", socket.toString(), "orders", "10")) {
                child.awaitLine("ATTACHED", TIMEOUT_S);
                long seq = 0;
                while (seq < 10) {
                    assertTrue(send(producer, seq++));
                }
                child.awaitLine("HELD 10", TIMEOUT_S);
                while (send(producer, seq)) { // fill: the consumer no longer moves
                    seq++;
                }
                int refusedMore = 5;
                for (int i = 0; i < refusedMore; i++) {
                    assertEquals(MessageProducer.INSUFFICIENT_CAPACITY, producer.tryClaim(ChannelPeer.DATA, 8));
                }
                long committed = seq;
                long refused = refusedMore + 1;
                HostStatusSnapshot s = awaitSnapshot(monitor, x -> x.channel("orders") != null
                        && x.channel("orders").refusedClaims() == refused && !x.channel("orders").peers().isEmpty()
                        && x.channel("orders").peers().get(0).messagesRead() == 10);
                HostStatusSnapshot.Channel c = s.channel("orders");
                assertEquals(RingKind.SPSC, c.kind());
                assertEquals(4096, c.capacity());
                assertEquals(committed, c.committed());
                assertEquals(0, c.aborted());
                assertEquals(producer.position(), c.producerPosition());
                assertTrue(c.currentStallNanos() > 0, "the producer is held back now: " + c);
                assertEquals(1, c.peers().size(), c.peers().toString());
                HostStatusSnapshot.Peer p = c.peers().get(0);
                assertEquals(child.pid(), p.pid());
                assertEquals(Role.CONSUMER, p.role());
                // Ten 8-byte messages, 24 bytes a record, two to a 64-byte line: a third would start
                // 48 bytes into the line, where no record starts, so it starts the next line.
                assertEquals(5 * 64, p.position(), "ten 8-byte messages, two records a line");
                assertEquals(committed - 10, p.lagMessages());
                assertEquals(producer.position() - p.position(), p.lagBytes());
                assertEquals(1, s.attaches() - s.hostMonitors().size(), "the consumer");
                assertEquals(1, s.hostMonitors().size());
                assertEquals(ProcessHandle.current().pid(), s.hostPid());
            }
        }
    }

    @Test
    void aTapReadsBesideTheConsumerWithoutItsPlaceAndNeverHoldsTheProducer() throws Exception {
        Path socket = dir.resolve("t.sock");
        try (ChannelHost host = ChannelHost.bind(socket)) {
            HostedSpscChannel ch = host.spsc("orders", SpscOptions.of(4096));
            try (ChildJvm child = ChildJvm.start(ChannelPeer.class, "spsc-hold", socket.toString(), "orders", "1000000");
                 ChannelTap tap = Channels.tap(socket, "orders")) {
                child.awaitLine("ATTACHED", TIMEOUT_S);
                assertEquals(child.pid(), ch.consumer().peer().pid(), "the consumer keeps its place");
                List<Long> seen = new ArrayList<>();
                long seq = 0;
                for (; seq < 100; seq++) {
                    while (!send(ch.producer(), seq)) {
                        Thread.onSpinWait(); // the child consumes everything: room comes back
                    }
                    tap.poll((type, payload) -> {
                        long v = payload.get(SEQ, 0);
                        if (tap.isStillValid()) {
                            seen.add(v);
                        }
                    }, 16);
                }
                for (int i = 1; i < seen.size(); i++) {
                    assertEquals(seen.get(i - 1) + 1, (long) seen.get(i), "in order, none twice: " + seen);
                }
                assertTrue(seen.size() >= 90, "a tap polled after each send misses (almost) nothing: " + seen.size());
                assertEquals(RingKind.SPSC, tap.info().kind());
                assertEquals(child.pid(), ch.consumer().peer().pid());
                assertThrows(AttachRefusedException.class, () -> Channels.spsc(socket, "orders").close(),
                        "the one consumer's place is still taken");
            }
        }
    }

    @Test
    void aBackPressureTapDoesNotHoldTheProducer() throws Exception {
        Path socket = dir.resolve("b.sock");
        try (ChannelHost host = ChannelHost.bind(socket)) {
            HostedBroadcastChannel ch = host.broadcast("quotes",
                    BroadcastOptions.of(BroadcastPolicy.BACK_PRESSURE, 4096).maxConsumers(2));
            try (ChannelTap tap = Channels.tap(socket, "quotes")) {
                // No consumer: a tap that gated the producer would stop it after one ring's worth.
                for (long seq = 0; seq < 10_000; seq++) {
                    assertTrue(send(ch.producer(), seq), "refused at " + seq + ": the tap held the producer");
                }
                assertEquals(0, ch.producer().counters().refusedClaims());
                assertTrue(tap.poll((t, p) -> { }, 1000) > 0);
                assertTrue(tap.skips() > 0, "a tap that falls a lap behind skips ahead");
            }
        }
    }

    @Test
    void theStatusChannelIsForMonitorsAndItsNameIsReserved() throws Exception {
        Path socket = dir.resolve("r.sock");
        try (ChannelHost host = ChannelHost.bind(socket)) {
            AttachRefusedException e = assertThrows(AttachRefusedException.class,
                    () -> Channels.spsc(socket, HostStatusDescriptor.HOST_CHANNEL).close());
            assertEquals(RefusalReason.ROLE_NOT_ALLOWED, e.reason());
            assertThrows(IllegalArgumentException.class, () -> host.spsc(HostStatusDescriptor.HOST_CHANNEL, SpscOptions.of(4096)));
            try (HostMonitor m = Channels.monitor(socket)) {
                HostStatusSnapshot s = awaitSnapshot(m, x -> x.refusals().getOrDefault(RefusalReason.ROLE_NOT_ALLOWED, 0L) == 1);
                assertEquals(1, s.hostMonitors().size());
            }
        }
    }

    @Test
    void aForgedStatusRegionIsRefusedNamingWhatIsWrong() {
        try (Arena arena = Arena.ofConfined()) {
            long size = HostStatusDescriptor.regionSize(4);
            MemorySegment good = arena.allocate(size, 8);
            ValueLayout.OfLong u64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
            ValueLayout.OfInt u32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
            good.set(u64, HostStatusDescriptor.MAGIC_OFFSET, HostStatusDescriptor.MAGIC);
            good.set(u32, HostStatusDescriptor.VERSION_OFFSET, HostStatusDescriptor.LAYOUT_VERSION);
            good.set(u32, HostStatusDescriptor.HEADER_LENGTH_OFFSET, HostStatusDescriptor.HEADER_LENGTH);
            good.set(u32, HostStatusDescriptor.CHANNEL_SLOTS_OFFSET, HostStatusDescriptor.CHANNEL_SLOTS);
            good.set(u32, HostStatusDescriptor.PEER_SLOTS_OFFSET, 4);
            assertEquals(0, HostStatusSnapshot.read(good).channels().size());

            MemorySegment bad = arena.allocate(size, 8);
            bad.copyFrom(good);
            bad.set(u32, HostStatusDescriptor.PEER_SLOTS_OFFSET, 60_000);
            assertTrue(assertThrows(RingLayoutException.class, () -> HostStatusSnapshot.read(bad)).getMessage()
                    .contains("the mapping has"));
            bad.copyFrom(good);
            bad.set(u32, HostStatusDescriptor.CHANNELS_IN_USE_OFFSET, 1);
            bad.set(u32, HostStatusDescriptor.channelSlot(0) + HostStatusDescriptor.CH_NAME_LENGTH, 500);
            assertTrue(assertThrows(RingLayoutException.class, () -> HostStatusSnapshot.read(bad)).getMessage()
                    .contains("name of 500 bytes"));
            bad.copyFrom(good);
            bad.set(u32, HostStatusDescriptor.PEERS_IN_USE_OFFSET, 1);
            bad.set(u32, HostStatusDescriptor.peerSlot(HostStatusDescriptor.CHANNEL_SLOTS, 0) + HostStatusDescriptor.PEER_CHANNEL, 7);
            assertTrue(assertThrows(RingLayoutException.class, () -> HostStatusSnapshot.read(bad)).getMessage()
                    .contains("names channel slot 7"));
            bad.copyFrom(good);
            bad.set(u64, HostStatusDescriptor.SEQUENCE_OFFSET, 1); // a host that died mid-update
            assertThrows(IllegalStateException.class, () -> HostStatusSnapshot.read(bad));
            bad.copyFrom(good);
            bad.set(u64, HostStatusDescriptor.MAGIC_OFFSET, 42);
            assertThrows(RingLayoutException.class, () -> HostStatusSnapshot.read(bad));
        }
    }
}
