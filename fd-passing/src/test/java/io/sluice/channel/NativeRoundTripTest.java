package io.sluice.channel;

import io.sluice.api.Role;
import io.sluice.ringbuffer.MpmcConsumer;
import io.sluice.ringbuffer.SpscProducer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Java -> C -> Java round trips: a ping on an SPSC channel, which a C process consumes and sends
 * back as a pong on an MPMC channel (the C client has no producer role on SPSC: that producer is
 * its host). The shape the latency harness's C row would take; here it checks every message comes
 * back, in order, and prints the RTT as a first indication (not a benchmark: the build machine is
 * shared and nothing is pinned).
 */
class NativeRoundTripTest {
    private static final long TIMEOUT_S = 60;

    @TempDir
    Path dir;

    @Test
    void everyPingComesBackFromTheCProcessInOrder() throws Exception {
        Path socket = dir.resolve("rtt.sock");
        int count = 20_000;
        try (ChannelHost host = ChannelHost.bind(socket)) {
            HostedSpscChannel ping = host.spsc("ping", SpscOptions.of(64 * 1024));
            HostedMpmcChannel pong = host.mpmc("pong", MpmcOptions.of(1024, 64).maxParticipants(4));
            MpmcConsumer back = pong.attachLocal(Role.CONSUMER).consumer();
            SpscProducer out = ping.producer();
            long[] rtt = new long[count];
            try (NativeChild echo = NativeChild.start(NativeChild.RELEASE, "sluice_peer", "echo", socket.toString(), "ping",
                    "pong", Integer.toString(count))) {
                echo.awaitLine("ATTACHED", TIMEOUT_S);
                long[] got = new long[1];
                for (int i = 0; i < count; i++) {
                    long sent = System.nanoTime();
                    long at = out.tryClaim(1, 16);
                    out.buffer().set(JAVA_LONG_UNALIGNED, at, i);
                    out.buffer().set(JAVA_LONG_UNALIGNED, at + 8, sent);
                    out.commit(at);
                    long deadline = sent + TimeUnit.SECONDS.toNanos(TIMEOUT_S);
                    int spins = 0;
                    got[0] = -1;
                    while (back.poll((type, p) -> got[0] = p.get(JAVA_LONG_UNALIGNED, 0), 1) == 0) {
                        if (System.nanoTime() > deadline) {
                            throw new AssertionError("no pong for ping " + i + "; C output:\n" + echo.output());
                        }
                        NativeTestMessages.backOff(++spins);
                    }
                    rtt[i] = System.nanoTime() - sent;
                    assertEquals(i, got[0], "pongs come back in order");
                }
                assertEquals("ECHOED " + count, echo.awaitLine("ECHOED", TIMEOUT_S));
                echo.assertExitsCleanly(TIMEOUT_S);
            }
            Arrays.sort(rtt);
            System.out.printf("Java -> C -> Java RTT (SPSC ping, MPMC pong; shared, unpinned machine): p50 %.1f us, "
                    + "p99 %.1f us over %,d round trips%n", rtt[count / 2] / 1e3, rtt[count * 99 / 100] / 1e3, count);
        }
    }
}
