package io.sluice.channel;

import io.sluice.api.BroadcastPolicy;
import io.sluice.api.Role;
import io.sluice.ringbuffer.MpmcRingDescriptor;
import io.sluice.ringbuffer.MpmcWakeup;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The C client sleeps on broadcast and MPMC rings too ({@code sluice_poll_blocking}, park.c), and a
 * C MPMC producer wakes a parked Java consumer. The C side runs under ASan and UBSan.
 */
class NativeParkingTest {
    private static final long TIMEOUT_S = 60;
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT.withOrder(ByteOrder.LITTLE_ENDIAN);

    @TempDir
    Path dir;

    /** Waits (bounded) until the C child's one thread has been asleep for 20 samples in a row. */
    private static void awaitSleeping(NativeChild c) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_S);
        int asleep = 0;
        while (asleep < 20) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the C consumer never stayed asleep; its output:\n" + c.lines(""));
            }
            String stat = Files.readString(Path.of("/proc/" + c.pid() + "/stat"));
            asleep = stat.charAt(stat.lastIndexOf(')') + 2) == 'S' ? asleep + 1 : 0;
            Thread.sleep(1); // sampling the child's state; the bound is the deadline above
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"BACK_PRESSURE", "OVERWRITE", "MPMC"})
    void parkedCConsumerIsWokenByEachCommitAndTimesOut(String kind) throws Exception {
        Path socket = dir.resolve("park.sock");
        try (ChannelHost host = ChannelHost.bind(socket)) {
            boolean mpmc = kind.equals("MPMC");
            HostedBroadcastChannel bcast = mpmc ? null
                    : host.broadcast("p", BroadcastOptions.of(BroadcastPolicy.valueOf(kind), 4096).wakeParkedConsumers(true));
            HostedMpmcChannel work = mpmc ? host.mpmc("p", MpmcOptions.of(16, 64).wakeParkedConsumers(true)) : null;
            try (MpmcAttachment producer = mpmc ? work.attachLocal(Role.PRODUCER) : null;
                 NativeChild c = NativeChild.start(NativeChild.SANITIZED, "sluice_peer", "block", socket.toString(), "p",
                         Integer.toString(4 + WakeRounds.SPARE))) {
                assertTrue(c.awaitLine("ATTACHED", TIMEOUT_S).endsWith(" can-block"), "WELCOME's wake flag, any kind");
                MemorySegment ring = mpmc ? producer.producer().buffer() : null;
                WakeRounds.run(0, 4, s -> {
                    c.awaitLine("PARKING " + s, TIMEOUT_S);
                    awaitSleeping(c);
                }, s -> ParkedConsumersTest.send(mpmc ? producer : bcast.producer(), s), s -> c.awaitLine("GOT " + s, TIMEOUT_S),
                        () -> mpmc ? ring.get(U32, MpmcRingDescriptor.WAKE_SEQUENCE_OFFSET) : bcast.wakeups(), () -> c.lines("").toString());
                String timeout = c.awaitLine("TIMEOUT", TIMEOUT_S);
                String[] f = timeout.split(" ");
                assertEquals("0", f[1], "a blocking poll that times out returns 0: " + timeout);
                assertTrue(Long.parseLong(f[2]) >= 99, "it slept the whole 100 ms: " + timeout);
                c.assertExitsCleanly(TIMEOUT_S);
                if (mpmc) {
                    assertEquals(0, MpmcWakeup.parkedCount(ring), "the C consumer counted itself out after every sleep");
                }
            }
        }
    }

    @Test
    void cMpmcProducerWakesAParkedJavaConsumer() throws Exception {
        Path socket = dir.resolve("cprod.sock");
        long seed = NativeTestMessages.seed();
        long count = 50;
        try (ChannelHost host = ChannelHost.bind(socket)) {
            HostedMpmcChannel work = host.mpmc("w", MpmcOptions.of(64, 512).wakeParkedConsumers(true));
            try (MpmcAttachment consumer = work.attachLocal(Role.PARTICIPANT)) {
                MemorySegment ring = consumer.producer().buffer();
                long[] got = {0};
                boolean[] stop = {false};
                CompletableFuture<Void> taking = CompletableFuture.runAsync(() -> {
                    while (!stop[0]) {
                        consumer.pollBlocking((type, payload) -> {
                            if (type == 1000) {
                                stop[0] = true;
                            } else {
                                got[0]++;
                            }
                        }, 1, Duration.ofSeconds(TIMEOUT_S));
                    }
                });
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_S);
                while (MpmcWakeup.parkedCount(ring) == 0) { // the consumer is asleep before the C producer starts
                    assertTrue(System.nanoTime() < deadline, "the Java consumer never parked");
                    Thread.onSpinWait();
                }
                int before = ring.get(U32, MpmcRingDescriptor.WAKE_SEQUENCE_OFFSET);
                try (NativeChild c = NativeChild.start(NativeChild.SANITIZED, "sluice_peer", "mpmc-produce", socket.toString(),
                        "w", "7", Long.toString(count), Long.toString(seed), "496")) {
                    c.awaitLine("PRODUCED", TIMEOUT_S);
                    c.assertExitsCleanly(TIMEOUT_S);
                }
                // The consumer was counted parked when the first message came: that commit woke it.
                assertNotEquals(before, ring.get(U32, MpmcRingDescriptor.WAKE_SEQUENCE_OFFSET),
                        "the C producer found the Java consumer counted parked and woke it");
                try (MpmcAttachment stopper = work.attachLocal(Role.PRODUCER)) {
                    long at;
                    while ((at = stopper.tryClaim(1000, 0)) < 0) {
                        assertTrue(System.nanoTime() < deadline, "ring stayed full");
                        Thread.onSpinWait();
                    }
                    stopper.commit(at);
                }
                taking.get(TIMEOUT_S, TimeUnit.SECONDS);
                assertEquals(count, got[0]);
            }
        }
    }

    @Test
    void cMpmcProducerWakesOnEveryCommitWhileTheCountIsRaisedAndNeverWhileItIsZero() throws Exception {
        Path socket = dir.resolve("ccount.sock");
        long seed = NativeTestMessages.seed();
        try (ChannelHost host = ChannelHost.bind(socket)) {
            HostedMpmcChannel work = host.mpmc("w", MpmcOptions.of(256, 512).wakeParkedConsumers(true));
            try (MpmcAttachment local = work.attachLocal(Role.PRODUCER)) {
                MemorySegment ring = local.producer().buffer();
                // Nobody parked: 40 commits, no wake (no system call).
                int before = ring.get(U32, MpmcRingDescriptor.WAKE_SEQUENCE_OFFSET);
                runCProducer(socket, 40, seed);
                assertEquals(before, ring.get(U32, MpmcRingDescriptor.WAKE_SEQUENCE_OFFSET), "no wake while nobody sleeps");
                // A count left raised (a consumer killed asleep, say): every commit and abort wakes.
                ring.set(U32, MpmcRingDescriptor.PARKED_COUNT_OFFSET, 3);
                runCProducer(socket, 40, seed);
                assertEquals(before + 40, ring.get(U32, MpmcRingDescriptor.WAKE_SEQUENCE_OFFSET), "one wake per commit");
            }
        }
    }

    private static void runCProducer(Path socket, long count, long seed) throws Exception {
        try (NativeChild c = NativeChild.start(NativeChild.SANITIZED, "sluice_peer", "mpmc-produce", socket.toString(),
                "w", "7", Long.toString(count), Long.toString(seed), "496")) {
            c.awaitLine("PRODUCED", TIMEOUT_S);
            c.assertExitsCleanly(TIMEOUT_S);
        }
    }
}
