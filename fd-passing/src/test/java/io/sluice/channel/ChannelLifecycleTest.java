package io.sluice.channel;

import io.sluice.api.AttachRefusedException;
import io.sluice.api.BroadcastPolicy;
import io.sluice.api.ConnectionClosedException;
import io.sluice.api.RefusalReason;
import io.sluice.api.RegionRefusedException;
import io.sluice.api.Role;
import io.sluice.memfd.ProcessResources;
import io.sluice.memfd.libc.FdCalls;
import io.sluice.ringbuffer.BroadcastStart;
import io.sluice.ringbuffer.SpscConsumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A channel's life as its host and its peers see it: closing takes the name away at once and
 * never lets a peer reach the closed region's fd number; every close is idempotent in any order.
 */
class ChannelLifecycleTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    @Test
    void aClosedChannelLeavesTheNameTableAtOnceAndItsFdNumberReachesNoPeer() throws Exception {
        Path socket = dir.resolve("host.sock");
        Path file = Files.writeString(dir.resolve("secret.txt"), "the host's private file");
        try (ChannelHost host = ChannelHost.bind(socket)) {
            HostedSpscChannel ch = host.spsc("orders", SpscOptions.of(4096));
            ch.close();
            assertNull(host.channel("orders"), "the closed channel is out of the table");
            // The host opens files of its own; one of them likely takes the closed region's number.
            List<Integer> opened = new ArrayList<>();
            try {
                for (int i = 0; i < 8; i++) {
                    opened.add(FdCalls.open(file.toString(), FdCalls.O_RDONLY | FdCalls.O_CLOEXEC, 0));
                }
                AttachRefusedException e = assertThrows(AttachRefusedException.class,
                        () -> Channels.spsc(socket, "orders").close());
                assertEquals(RefusalReason.UNKNOWN_CHANNEL, e.reason(), e.getMessage());
            } finally {
                opened.forEach(FdCalls::closeQuietly);
            }
            HostedSpscChannel again = host.spsc("orders", SpscOptions.of(4096)); // the name is free again
            assertSame(again, host.channel("orders"));
        }
    }

    @Test
    void attachesRacingACloseGetARefusalOrTheRegionNeverAnotherFile() throws Exception {
        Path socket = dir.resolve("race.sock");
        Path file = Files.writeString(dir.resolve("other.txt"), "not a ring");
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try (ChannelHost host = ChannelHost.bind(socket)) {
            for (int round = 0; round < 100; round++) {
                HostedSpscChannel ch = host.spsc("racy", SpscOptions.of(4096));
                Future<String> attach = pool.submit(() -> {
                    try (ConsumerAttachment<SpscConsumer> c = Channels.spsc(socket, "racy", WAIT)) {
                        return "attached";
                    } catch (AttachRefusedException e) {
                        return e.reason().name();
                    } catch (ConnectionClosedException e) {
                        return "closed";
                    } catch (RegionRefusedException e) {
                        return "REGION REFUSED: " + e.getMessage(); // the old defect: a recycled fd arrived
                    }
                });
                Thread.onSpinWait();
                ch.close();
                int other = FdCalls.open(file.toString(), FdCalls.O_RDONLY | FdCalls.O_CLOEXEC, 0);
                try {
                    String outcome = attach.get(20, TimeUnit.SECONDS);
                    assertTrue(List.of("attached", "UNKNOWN_CHANNEL", "CHANNEL_CLOSED", "closed").contains(outcome),
                            "round " + round + ": " + outcome);
                } finally {
                    FdCalls.closeQuietly(other);
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void closingAChannelThenItsHostOrTheOtherWayRoundOrAllAtOnceNeverThrows() throws Exception {
        for (int order = 0; order < 3; order++) {
            Path socket = dir.resolve("order" + order + ".sock");
            ChannelHost host = ChannelHost.bind(socket);
            HostedSpscChannel spsc = host.spsc("s", SpscOptions.of(4096).wakeParkedConsumers(true));
            HostedBroadcastChannel bcast = host.broadcast("b", BroadcastOptions.of(BroadcastPolicy.BACK_PRESSURE, 4096)
                    .maxMessageLength(256).maxConsumers(4));
            HostedMpmcChannel mpmc = host.mpmc("m", MpmcOptions.of(16, 64).maxParticipants(4));
            MpmcAttachment local = mpmc.attachLocal(Role.PARTICIPANT);
            List<AutoCloseable> all = List.of(spsc, bcast, mpmc, local, host);
            if (order == 0) {
                for (AutoCloseable c : all) {
                    c.close();
                }
            } else if (order == 1) {
                for (AutoCloseable c : all.reversed()) {
                    c.close();
                }
            } else {
                ExecutorService pool = Executors.newFixedThreadPool(4);
                CyclicBarrier start = new CyclicBarrier(4);
                List<Future<?>> fs = new ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    fs.add(pool.submit(() -> {
                        start.await(5, TimeUnit.SECONDS);
                        for (AutoCloseable c : all) {
                            c.close();
                        }
                        return null;
                    }));
                }
                for (Future<?> f : fs) {
                    f.get(20, TimeUnit.SECONDS); // any exception fails here
                }
                pool.shutdownNow();
            }
            for (AutoCloseable c : all) {
                c.close(); // and once more, each
            }
            assertTrue(spsc.isClosed() && bcast.isClosed() && mpmc.isClosed());
        }
    }

    @Test
    void anAttachedConsumerIsToldWhyWhenItsChannelCloses() throws Exception {
        Path socket = dir.resolve("detach.sock");
        try (ChannelHost host = ChannelHost.bind(socket)) {
            HostedBroadcastChannel ch = host.broadcast("quotes", BroadcastOptions.of(BroadcastPolicy.OVERWRITE, 4096)
                    .maxMessageLength(256).maxConsumers(4));
            try (var c = Channels.broadcast(socket, "quotes", BroadcastStart.OLDEST)) {
                ch.close();
                assertTrue(c.awaitHostGone(WAIT), "the consumer saw the end");
                ConnectionClosedException e = assertThrows(ConnectionClosedException.class, () -> c.poll((t, p) -> { }, 16));
                assertEquals(RefusalReason.CHANNEL_CLOSED, e.reason());
                assertTrue(e.getMessage().contains("channel 'quotes': the host ended this attachment (CHANNEL_CLOSED)"),
                        e.getMessage());
            }
        }
    }

    @Test
    void aThousandHostedAndClosedChannelsLeaveNoFdOrMappingBehind() throws Exception {
        Path socket = dir.resolve("churn.sock");
        try (ChannelHost host = ChannelHost.bind(socket)) {
            host.spsc("warm", SpscOptions.of(4096)).close();
            long fds = ProcessResources.openFds();
            long maps = ProcessResources.sluiceMappings();
            for (int i = 0; i < 1000; i++) {
                HostedChannel ch = switch (i % 3) {
                    case 0 -> host.spsc("c" + i, SpscOptions.of(4096));
                    case 1 -> host.broadcast("c" + i, BroadcastOptions.of(BroadcastPolicy.BACK_PRESSURE, 4096)
                            .maxMessageLength(256).maxConsumers(2));
                    default -> host.mpmc("c" + i, MpmcOptions.of(16, 64).maxParticipants(2));
                };
                ch.close();
            }
            assertEquals(fds, ProcessResources.openFds(), "fds");
            assertEquals(maps, ProcessResources.sluiceMappings(), "mappings");
            assertEquals(0, host.memoryUsed(), "every byte returned to the budget");
        } catch (AssertionError e) {
            throw e;
        } catch (Exception e) {
            fail(e);
        }
    }
}
