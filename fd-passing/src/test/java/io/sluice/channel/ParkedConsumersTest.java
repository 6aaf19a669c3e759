package io.sluice.channel;

import io.sluice.api.BroadcastPolicy;
import io.sluice.api.ConnectionClosedException;
import io.sluice.api.MessageProducer;
import io.sluice.api.Role;
import io.sluice.ringbuffer.BroadcastStart;
import io.sluice.ringbuffer.MpmcRingDescriptor;
import io.sluice.ringbuffer.MpmcWakeup;
import io.sluice.testing.ChildJvm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Broadcast and MPMC consumers sleep in the kernel too: a consumer in another JVM parks on an
 * empty ring and a commit wakes it; a timeout returns 0; a channel without wake-ups refuses to
 * block; closing the channel wakes sleepers; a garbage parked count never strands a consumer.
 */
class ParkedConsumersTest {
    private static final long TIMEOUT_S = 60;
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);

    @TempDir
    Path dir;

    static void send(MessageProducer p, long seq) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_S);
        long at;
        while ((at = p.tryClaim(1, 16)) < 0) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("ring stayed full at message " + seq);
            }
            Thread.onSpinWait();
        }
        p.buffer().set(JAVA_LONG_UNALIGNED, at, seq);
        p.commit(at);
    }

    @ParameterizedTest
    @EnumSource(BroadcastPolicy.class)
    void parkedBroadcastConsumerInAnotherJvmIsWokenByEachCommit(BroadcastPolicy policy) throws Exception {
        Path socket = dir.resolve("bcast.sock");
        try (ChannelHost host = ChannelHost.bind(socket)) {
            HostedBroadcastChannel ch = host.broadcast("quotes", BroadcastOptions.of(policy, 4096).wakeParkedConsumers(true));
            try (ChildJvm child = ChildJvm.start(ChannelPeer.class, "bcast-block", socket.toString(), "quotes",
                    Integer.toString(4 + WakeRounds.SPARE))) {
                WakeRounds.run(0, 4, s -> asleep(child, s), s -> send(ch.producer(), s),
                        s -> child.awaitLine("GOT " + s, TIMEOUT_S), ch::wakeups, child::output);
                assertEquals(0, child.waitFor(TIMEOUT_S), child.output());
            }
        }
    }

    /** The child announced message {@code seq} and sleeps (asleep in 20 samples in a row). */
    static void asleep(ChildJvm child, long seq) throws Exception {
        child.awaitLine("PARKING " + seq, TIMEOUT_S);
        BlockingWaitTest.awaitSleeping(child);
    }

    @Test
    void parkedMpmcConsumerInAnotherJvmIsWokenByEachCommit() throws Exception {
        Path socket = dir.resolve("mpmc.sock");
        try (ChannelHost host = ChannelHost.bind(socket)) {
            HostedMpmcChannel ch = host.mpmc("work", MpmcOptions.of(16, 64).wakeParkedConsumers(true));
            try (MpmcAttachment producer = ch.attachLocal(Role.PRODUCER);
                 ChildJvm child = ChildJvm.start(ChannelPeer.class, "mpmc-block", socket.toString(), "work",
                         Integer.toString(4 + WakeRounds.SPARE))) {
                MemorySegment ring = producer.producer().buffer();
                // The wake sequence moves when a commit finds the consumer counted parked and wakes it.
                WakeRounds.run(0, 4, s -> asleep(child, s), s -> send(producer, s),
                        s -> child.awaitLine("GOT " + s, TIMEOUT_S),
                        () -> ring.get(U32, MpmcRingDescriptor.WAKE_SEQUENCE_OFFSET), child::output);
                assertEquals(0, child.waitFor(TIMEOUT_S), child.output());
                assertEquals(0, MpmcWakeup.parkedCount(ring), "every consumer that parked counted itself out again");
            }
        }
    }

    @Test
    void aTimeoutReturnsZero() {
        Path socket = dir.resolve("timeout.sock");
        try (ChannelHost host = ChannelHost.bind(socket)) {
            host.broadcast("b", BroadcastOptions.of(BroadcastPolicy.OVERWRITE, 4096).wakeParkedConsumers(true));
            HostedMpmcChannel m = host.mpmc("m", MpmcOptions.of(16, 64).wakeParkedConsumers(true));
            try (var b = Channels.broadcast(socket, "b", BroadcastStart.OLDEST);
                 MpmcAttachment local = m.attachLocal(Role.PARTICIPANT);
                 MpmcAttachment remote = Channels.mpmc(socket, "m", Role.CONSUMER)) {
                for (ChannelPeer.BlockingPoll poll : new ChannelPeer.BlockingPoll[] {b::pollBlocking, local::pollBlocking,
                        remote::pollBlocking}) {
                    long start = System.nanoTime();
                    assertEquals(0, poll.pollBlocking((type, payload) -> { }, 1, Duration.ofMillis(120)));
                    assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(120), "slept the whole timeout");
                }
                assertEquals(0, MpmcWakeup.parkedCount(local.producer().buffer()), "each counted itself out again");
            }
        }
    }

    @Test
    void withoutTheOptionPollBlockingThrowsAndCanBlockSaysSo() {
        Path socket = dir.resolve("nowake.sock");
        try (ChannelHost host = ChannelHost.bind(socket)) {
            host.broadcast("b", BroadcastOptions.of(BroadcastPolicy.BACK_PRESSURE, 4096));
            HostedMpmcChannel m = host.mpmc("m", MpmcOptions.of(16, 64));
            HostedMpmcChannel w = host.mpmc("w", MpmcOptions.of(16, 64).wakeParkedConsumers(true));
            try (var b = Channels.broadcast(socket, "b", BroadcastStart.OLDEST);
                 MpmcAttachment remote = Channels.mpmc(socket, "m", Role.CONSUMER);
                 MpmcAttachment local = m.attachLocal(Role.PARTICIPANT);
                 MpmcAttachment producerOnly = w.attachLocal(Role.PRODUCER)) {
                assertFalse(b.canBlock());
                assertFalse(remote.canBlock());
                assertFalse(local.canBlock());
                assertFalse(b.info().wakesParkedConsumers());
                IllegalStateException e = assertThrows(IllegalStateException.class,
                        () -> b.pollBlocking((type, payload) -> { }, 1, Duration.ofSeconds(1)));
                assertEquals("channel 'b' does not wake parked consumers: its host must enable it (spin or back off instead)",
                        e.getMessage());
                e = assertThrows(IllegalStateException.class,
                        () -> remote.pollBlocking((type, payload) -> { }, 1, Duration.ofSeconds(1)));
                assertEquals("channel 'm' does not wake parked consumers: its host must enable it (spin or back off instead)",
                        e.getMessage());
                assertThrows(IllegalStateException.class, () -> local.pollBlocking((type, payload) -> { }, 1, Duration.ofSeconds(1)));
                assertTrue(producerOnly.canBlock());
                e = assertThrows(IllegalStateException.class,
                        () -> producerOnly.pollBlocking((type, payload) -> { }, 1, Duration.ofSeconds(1)));
                assertTrue(e.getMessage().contains("no consumer"), e.getMessage());
            }
        }
    }

    /** The wakes the host itself made (commits of its producer; close; MPMC recoveries). */
    private static long hostWakeups(HostedChannel ch) {
        return switch (ch) {
            case HostedSpscChannel s -> s.wakeups();
            case HostedBroadcastChannel b -> b.wakeups();
            case HostedMpmcChannel m -> m.wakeups();
        };
    }

    @ParameterizedTest
    @ValueSource(strings = {"spsc", "bcast", "mpmc"})
    void closingTheChannelWakesASleeperInAnotherJvm(String kind) throws Exception {
        Path socket = dir.resolve("close.sock");
        try (ChannelHost host = ChannelHost.bind(socket)) {
            HostedChannel ch = switch (kind) {
                case "spsc" -> host.spsc("c", SpscOptions.of(4096).wakeParkedConsumers(true));
                case "bcast" -> host.broadcast("c", BroadcastOptions.of(BroadcastPolicy.OVERWRITE, 4096).wakeParkedConsumers(true));
                default -> host.mpmc("c", MpmcOptions.of(16, 64).wakeParkedConsumers(true));
            };
            try (ChildJvm child = ChildJvm.start(ChannelPeer.class, kind + "-sleep", socket.toString(), "c")) {
                child.awaitLine("PARKING", TIMEOUT_S);
                BlockingWaitTest.awaitSleeping(child);
                long before = hostWakeups(ch);
                ch.close();
                assertEquals(before + 1, hostWakeups(ch), "closing bumped the wake sequence and woke the sleepers");
                String closed = child.awaitLine("CLOSED", TIMEOUT_S);
                assertEquals(0, child.waitFor(TIMEOUT_S), child.output());
                assertFalse(child.output().contains("UNEXPECTED"), child.output());
                assertTrue(closed.startsWith("CLOSED "), closed);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {-1, -7, 1, 12345, Integer.MAX_VALUE, Integer.MIN_VALUE})
    void aGarbageParkedCountNeverStrandsAConsumer(int garbage) throws Exception {
        Path socket = dir.resolve("garbage.sock");
        try (ChannelHost host = ChannelHost.bind(socket)) {
            HostedMpmcChannel ch = host.mpmc("g", MpmcOptions.of(16, 64).wakeParkedConsumers(true));
            try (MpmcAttachment producer = ch.attachLocal(Role.PRODUCER);
                 MpmcAttachment consumer = Channels.mpmc(socket, "g", Role.CONSUMER)) {
                MemorySegment ring = producer.producer().buffer();
                for (long s = 0; s < 5; s++) {
                    ring.set(U32, MpmcRingDescriptor.PARKED_COUNT_OFFSET, garbage); // a hostile participant's write
                    long[] got = {-1};
                    CompletableFuture<Integer> woken = CompletableFuture.supplyAsync(() -> consumer.pollBlocking(
                            (type, payload) -> got[0] = payload.get(JAVA_LONG_UNALIGNED, 0), 1, Duration.ofSeconds(TIMEOUT_S)));
                    send(producer, s);
                    assertEquals(1, woken.get(10, TimeUnit.SECONDS), "delivered within one slice whatever the count said");
                    assertEquals(s, got[0]);
                }
                // Nothing the consumer did took the count below zero.
                int now = MpmcWakeup.parkedCount(ring);
                assertTrue(garbage < 0 ? now >= garbage : now >= 0, "count " + now + " after garbage " + garbage);
            }
        }
    }

    @Test
    void theCountIsResetWhenTheLastConsumerLeaves() throws Exception {
        Path socket = dir.resolve("reset.sock");
        try (ChannelHost host = ChannelHost.bind(socket)) {
            HostedMpmcChannel ch = host.mpmc("r", MpmcOptions.of(16, 64).wakeParkedConsumers(true));
            try (MpmcAttachment producer = ch.attachLocal(Role.PRODUCER)) {
                MemorySegment ring = producer.producer().buffer();
                MpmcAttachment consumer = Channels.mpmc(socket, "r", Role.CONSUMER);
                // A consumer killed while asleep leaves the count one too high: producers wake needlessly.
                ring.set(U32, MpmcRingDescriptor.PARKED_COUNT_OFFSET, 1);
                int before = ring.get(U32, MpmcRingDescriptor.WAKE_SEQUENCE_OFFSET);
                send(producer, 0);
                assertNotEquals(before, ring.get(U32, MpmcRingDescriptor.WAKE_SEQUENCE_OFFSET), "a needless wake, no more");
                consumer.close();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_S);
                while (MpmcWakeup.parkedCount(ring) != 0) {
                    assertTrue(System.nanoTime() < deadline, "the host reset the count once no consumer was left");
                    Thread.onSpinWait();
                }
            }
        }
    }

    @Test
    void aSleeperInThisProcessWakesOnCloseWithConnectionClosed() throws Exception {
        Path socket = dir.resolve("local.sock");
        try (ChannelHost host = ChannelHost.bind(socket)) {
            HostedMpmcChannel ch = host.mpmc("l", MpmcOptions.of(16, 64).wakeParkedConsumers(true));
            MpmcAttachment consumer = ch.attachLocal(Role.CONSUMER);
            CompletableFuture<Integer> sleeper = CompletableFuture.supplyAsync(
                    () -> consumer.pollBlocking((type, payload) -> { }, 1, Duration.ofSeconds(TIMEOUT_S)));
            ch.close();
            ExecutionException e = assertThrows(ExecutionException.class, () -> sleeper.get(10, TimeUnit.SECONDS));
            assertInstanceOf(ConnectionClosedException.class, e.getCause());
            consumer.close();
        }
    }
}
