package io.sluice.bridge;

import io.sluice.channel.ChannelHost;
import io.sluice.channel.HostedBroadcastChannel;
import io.sluice.ringbuffer.BroadcastProducer;
import io.sluice.testing.ChildJvm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.sluice.bridge.BridgeRig.TIMEOUT_S;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * kill -9 of the in side mid-stream, then a restart on the same socket and UDP port, as
 * docs/bridge.md says: the out side (HOLD) waits and goes on; the remote subscriber re-attaches to
 * the restarted in side and receives the rest in order, with at most one gap (what was in flight
 * when the in side died); the last message arrives; nothing is repeated.
 */
class BridgeRestartTest {
    private static final long COUNT = 300_000;

    @TempDir
    Path dir;

    @Test
    void theInSideKilledAndRestartedLosesOnlyWhatWasInFlight() throws Exception {
        Path source = dir.resolve("host1.sock");
        Path remote = dir.resolve("host2.sock");
        String udp = BridgeRig.unicast(BridgeRig.freeUdpPort());
        try (ChannelHost host = ChannelHost.bind(source)) {
            HostedBroadcastChannel ch = BridgeRig.sourceChannel(host);
            ChildJvm first = BridgeRig.bridgeIn(dir, remote, "md", udp);
            try (first; ChildJvm subscriber = BridgeRig.subscriber(remote, "md", COUNT - 1)) {
                first.awaitLine("bridge in: READY", TIMEOUT_S);
                subscriber.awaitLine("ATTACHED", TIMEOUT_S);
                try (ChildJvm out = BridgeRig.bridgeOut(dir, source, "md", udp)) {
                    out.awaitLine("bridge out: READY", TIMEOUT_S);
                    CompletableFuture<Void> publishing = CompletableFuture.runAsync(() -> BridgeRig.publish(ch.producer(), COUNT, out));
                    awaitPublished(ch.producer(), COUNT / 3, publishing);
                    first.kill(); // SIGKILL, mid-stream
                    first.waitFor(TIMEOUT_S);
                    try (ChildJvm second = BridgeRig.bridgeIn(dir, remote, "md", udp)) {
                        second.awaitLine("bridge in: READY", TIMEOUT_S);
                        String done = subscriber.awaitLine("DONE", TIMEOUT_S);
                        publishing.get(TIMEOUT_S, TimeUnit.SECONDS);
                        List<String> gaps = subscriber.lines("GAP");
                        System.out.printf("bridge restart: in side killed after %,d published; subscriber: %s, %s%n",
                                COUNT / 3, done, gaps);
                        String[] f = done.split(" ");
                        long received = Long.parseLong(f[1]), gapCount = Long.parseLong(f[2]), lost = Long.parseLong(f[3]);
                        assertEquals(COUNT, received + lost, "every message received or counted lost: " + done);
                        assertTrue(gapCount <= 1, "at most one gap, where the in side died: " + gaps);
                        // In flight: at most Aeron's receiver window (128 KiB by default), each frame
                        // here at least 64 bytes (Aeron's 32-byte header, the bridge's 16, 8 of payload).
                        assertTrue(lost <= 128 * 1024 / 64, "lost more than one receiver window: " + lost);
                        assertEquals(2, subscriber.lines("ATTACHED").size(), "attached to the first in side, then the second");
                        assertEquals(0, subscriber.waitFor(TIMEOUT_S), subscriber.output());
                        assertEquals("bridge out: STOPPED (stopped) forwarded=" + COUNT + " dropped=0 torn=0 lapped=0",
                                BridgeRig.stop(out, "out"));
                        String in = BridgeRig.stop(second, "in");
                        assertTrue(in.endsWith(" missed=0 malformed=0 sessions=1"), in);
                    }
                }
            }
        }
    }

    private static void awaitPublished(BroadcastProducer p, long messages, CompletableFuture<Void> publishing) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_S);
        while (p.publishedNextSequence() < messages) {
            if (publishing.isDone()) {
                publishing.get();
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("only " + p.publishedNextSequence() + " messages published in " + TIMEOUT_S + " s");
            }
            Thread.sleep(1); // polling a counter another thread advances, bounded by the deadline
        }
    }
}
