package io.sluice.channel;

import io.sluice.api.AttachRefusedException;
import io.sluice.api.BroadcastPolicy;
import io.sluice.api.LimitExceededException;
import io.sluice.api.RefusalReason;
import io.sluice.api.Role;
import io.sluice.fdpassing.ReceivedMessage;
import io.sluice.fdpassing.SeqPacketSocket;
import io.sluice.memfd.ProcessResources;
import io.sluice.ringbuffer.SpscConsumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every size is bounded before anything is allocated, a host's memory is budgeted, and no peer
 * can hold more of a host than its share: connections are capped in all and per uid, a handshake
 * that stalls holds no place in a channel, and the host runs one thread however many connect.
 */
class HostLimitsTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    @Test
    void absurdSizesAreRefusedBeforeAnyAllocationNamingTheOptionAndItsBound() {
        try (ChannelHost host = ChannelHost.bind(dir.resolve("sizes.sock"))) {
            long fds = ProcessResources.openFds();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> host.spsc("huge", SpscOptions.of(1L << 40)));
            assertTrue(e.getMessage().startsWith("SpscOptions.capacity: ") && e.getMessage().contains("1099511627776"),
                    e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> host.broadcast("huge.b", BroadcastOptions.of(BroadcastPolicy.OVERWRITE, 1L << 31)
                            .maxMessageLength(1024).maxConsumers(4)));
            assertTrue(e.getMessage().startsWith("BroadcastOptions.capacity: ") && e.getMessage().contains("2147483648"),
                    e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> host.mpmc("huge.m", MpmcOptions.of(1 << 30, 1 << 30)
                    .maxParticipants(4)));
            assertTrue(e.getMessage().contains("1073741824"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> host.broadcast("many", BroadcastOptions.of(BroadcastPolicy.OVERWRITE, 4096)
                            .maxMessageLength(256).maxConsumers(Integer.MAX_VALUE)));
            assertTrue(e.getMessage().contains("BroadcastOptions.maxConsumers 2147483647 is outside 1..4096"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> host.mpmc("ids", MpmcOptions.of(16, 64).maxParticipants(0)));
            assertTrue(e.getMessage().contains("MpmcOptions.maxParticipants 0 is outside 1.."), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> BroadcastOptions.of(BroadcastPolicy.BACK_PRESSURE, 4096).maxMessageLength(4096));
            assertTrue(e.getMessage().contains("BroadcastOptions.maxMessageLength 4096 is outside 0..2016 for capacity 4096"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> MpmcOptions.of(3, 64));
            assertTrue(e.getMessage().startsWith("MpmcOptions: slot count 3 is not a power of two"), e.getMessage());
            assertEquals(fds, ProcessResources.openFds(), "nothing was created");
            assertEquals(0, host.memoryUsed());
        }
    }

    @Test
    void aChannelBeyondTheMemoryBudgetIsRefusedAndClosingGivesItBack() {
        try (ChannelHost host = ChannelHost.bind(dir.resolve("budget.sock"), HostOptions.defaults().memoryBudget(1 << 20))) {
            HostedSpscChannel first = host.spsc("first", SpscOptions.of(1 << 19));
            LimitExceededException e = assertThrows(LimitExceededException.class, () -> host.spsc("second", SpscOptions.of(1 << 19)));
            assertTrue(e.getMessage().startsWith("channel 'second': needs 524416 bytes of shared memory; the host's memory"
                    + " budget of 1048576 bytes has 524160 left"), e.getMessage());
            first.close();
            host.spsc("second", SpscOptions.of(1 << 19)).close(); // fits now
            assertEquals(0, host.memoryUsed());
        }
    }

    @Test
    void optionsOutOfRangeAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> HostOptions.defaults().memoryBudget(0));
        assertThrows(IllegalArgumentException.class, () -> HostOptions.defaults().memoryBudget(1L << 50));
        assertThrows(IllegalArgumentException.class, () -> HostOptions.defaults().maxConnections(0));
        assertThrows(IllegalArgumentException.class, () -> HostOptions.defaults().maxConnectionsPerUid(100_000));
        assertThrows(IllegalArgumentException.class, () -> HostOptions.defaults().handshakeTimeout(Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> HostOptions.defaults().stallLogThreshold(Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> HostOptions.defaults().stallLogThreshold(Duration.ofDays(1)));
        assertThrows(IllegalArgumentException.class, () -> HostOptions.defaults().stuckConsumerTimeout(Duration.ofMillis(1)));
        assertThrows(IllegalArgumentException.class, () -> HostOptions.defaults().stuckConsumerTimeout(Duration.ofMillis(-1)));
        assertTrue(HostOptions.defaults().stuckConsumerTimeout().isZero(), "the stuck-consumer policy is off by default");
        assertEquals(Duration.ofSeconds(1), HostOptions.defaults().stallLogThreshold());
        // The host looks at its channels often enough for the shortest threshold, and at least once a second.
        assertEquals(250_000_000L, ChannelHost.watchInterval(HostOptions.defaults()));
        assertEquals(75_000_000L, ChannelHost.watchInterval(HostOptions.defaults().stuckConsumerTimeout(Duration.ofMillis(300))));
        assertEquals(1_000_000_000L, ChannelHost.watchInterval(HostOptions.defaults().stallLogThreshold(Duration.ofMinutes(1))));
    }

    @Test
    void aHandshakeStalledAfterWelcomeHoldsNoPlaceInTheChannel() throws Exception {
        Path socket = dir.resolve("stall.sock");
        try (ChannelHost host = ChannelHost.bind(socket)) {
            host.spsc("orders", SpscOptions.of(4096));
            List<SeqPacketSocket> stalled = new ArrayList<>();
            try {
                for (int i = 0; i < 3; i++) { // HELLO, take the WELCOME, then say nothing
                    SeqPacketSocket s = SeqPacketSocket.connect(socket);
                    stalled.add(s);
                    s.send(Handshake.hello(Role.CONSUMER, "orders"));
                    try (ReceivedMessage m = s.receive(HandshakeDescriptor.MAX_MESSAGE_BYTES, 1, WAIT)) {
                        assertEquals(HandshakeDescriptor.WELCOME, Handshake.type(m.data()));
                    }
                }
                // The one consumer place of the SPSC channel is still free for an honest consumer.
                try (ConsumerAttachment<SpscConsumer> c = Channels.spsc(socket, "orders", WAIT)) {
                    assertTrue(c.isHostAlive());
                }
            } finally {
                stalled.forEach(SeqPacketSocket::close);
            }
        }
    }

    @Test
    void connectionsBeyondThePerUidCapAreRefusedAtOnceAndTheHostRunsOneThread() throws Exception {
        Path socket = dir.resolve("cap.sock");
        HostOptions options = HostOptions.defaults().maxConnections(16).maxConnectionsPerUid(8);
        try (ChannelHost host = ChannelHost.bind(socket, options)) {
            host.spsc("orders", SpscOptions.of(4096));
            List<SeqPacketSocket> silent = new ArrayList<>();
            try {
                for (int i = 0; i < 8; i++) {
                    silent.add(SeqPacketSocket.connect(socket));
                }
                for (int i = 0; i < 20; i++) { // a flood beyond the cap: each refused, none kept
                    try (SeqPacketSocket s = SeqPacketSocket.connect(socket);
                         ReceivedMessage m = s.receive(HandshakeDescriptor.MAX_MESSAGE_BYTES, 0, WAIT)) {
                        Handshake.Refuse r = Handshake.decodeRefuse(m.data(), "host");
                        assertEquals(RefusalReason.CONNECTION_LIMIT, r.reason());
                        assertEquals("uid " + AccessPolicy.currentUid() + " has its 8 connections to this host", r.text());
                    }
                }
                AttachRefusedException e = assertThrows(AttachRefusedException.class,
                        () -> Channels.spsc(socket, "orders", WAIT).close());
                assertEquals(RefusalReason.CONNECTION_LIMIT, e.reason());
                assertEquals(21, host.refusals(RefusalReason.CONNECTION_LIMIT));
                long hostThreads = Thread.getAllStackTraces().keySet().stream()
                        .filter(t -> t.getName().startsWith("sluice-host")).count();
                assertEquals(1, hostThreads, "one thread serves every connection");
            } finally {
                silent.forEach(SeqPacketSocket::close);
            }
            // Once the silent ones are gone, an honest consumer is served again.
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (true) {
                try (ConsumerAttachment<SpscConsumer> c = Channels.spsc(socket, "orders", WAIT)) {
                    break;
                } catch (AttachRefusedException e) {
                    // the host sees the silent ones' end of stream asynchronously: bounded retry
                    assertEquals(RefusalReason.CONNECTION_LIMIT, e.reason());
                    assertTrue(System.nanoTime() < deadline, "still refused after " + WAIT);
                    Thread.onSpinWait();
                }
            }
        }
    }

    @Test
    void silentConnectionsTimeOutAndAreClosed() throws Exception {
        Path socket = dir.resolve("timeout.sock");
        try (ChannelHost host = ChannelHost.bind(socket, HostOptions.defaults().handshakeTimeout(Duration.ofMillis(200)));
             SeqPacketSocket s = SeqPacketSocket.connect(socket);
             ReceivedMessage m = s.receive(HandshakeDescriptor.MAX_MESSAGE_BYTES, 0, WAIT)) {
            Handshake.Refuse r = Handshake.decodeRefuse(m.data(), "host");
            assertEquals(RefusalReason.TIMEOUT, r.reason());
            assertEquals(1, host.refusals(RefusalReason.TIMEOUT));
        }
    }
}
