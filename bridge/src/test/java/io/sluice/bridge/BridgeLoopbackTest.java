package io.sluice.bridge;

import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import io.sluice.channel.ChannelHost;
import io.sluice.channel.HostedBroadcastChannel;
import io.sluice.testing.ChildJvm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static io.sluice.bridge.BridgeRig.TIMEOUT_S;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A million messages from a publisher on "host 1" to a subscriber on "host 2", through
 * publisher -> bridge out -> UDP on loopback -> bridge in -> subscriber, five processes:
 * every message arrives, in order, every byte as sent; both bridges count exactly a million.
 */
class BridgeLoopbackTest {
    private static final long COUNT = 1_000_000;

    @TempDir
    Path dir;

    @Test
    void aMillionMessagesCrossTwoBridgesOverUdpInOrderAndIntact() throws Exception {
        Path source = dir.resolve("host1.sock");
        Path remote = dir.resolve("host2.sock");
        String udp = BridgeRig.unicast(BridgeRig.freeUdpPort());
        try (ChannelHost host = ChannelHost.bind(source);
             ChildJvm in = BridgeRig.bridgeIn(dir, remote, "md", udp)) {
            HostedBroadcastChannel ch = BridgeRig.sourceChannel(host);
            in.awaitLine("bridge in: READY", TIMEOUT_S);
            try (ChildJvm subscriber = BridgeRig.subscriber(remote, "md", COUNT - 1)) {
                subscriber.awaitLine("ATTACHED", TIMEOUT_S);
                try (ChildJvm out = BridgeRig.bridgeOut(dir, source, "md", udp)) {
                    out.awaitLine("bridge out: READY", TIMEOUT_S);
                    long started = System.nanoTime();
                    BridgeRig.publish(ch.producer(), COUNT, out);
                    String done = subscriber.awaitLine("DONE", TIMEOUT_S);
                    double seconds = (System.nanoTime() - started) / 1e9;
                    System.out.printf("bridge loopback: %,d messages in %.1f s (%,.0f msg/s) through out -> UDP -> in%n",
                            COUNT, seconds, COUNT / seconds);
                    assertEquals("DONE " + COUNT + " 0 0", done, "received, gaps, lost");
                    assertEquals(0, subscriber.waitFor(TIMEOUT_S), subscriber.output());
                    assertEquals("bridge out: STOPPED (stopped) forwarded=" + COUNT + " dropped=0 torn=0 lapped=0",
                            BridgeRig.stop(out, "out"));
                }
                assertEquals("bridge in: STOPPED published=" + COUNT + " missed=0 malformed=0 sessions=1",
                        BridgeRig.stop(in, "in"));
            }
        }
    }

    @Test
    void bothSidesCanUseAnExternalMediaDriver() throws Exception {
        long count = 100_000;
        Path source = dir.resolve("host1.sock");
        Path remote = dir.resolve("host2.sock");
        String udp = BridgeRig.unicast(BridgeRig.freeUdpPort());
        String aeronDir = dir.resolve("aeron-external").toString();
        // A driver of its own, as an operator runs it (here in the test's JVM; the bridges reach it by its directory).
        try (MediaDriver driver = MediaDriver.launch(new MediaDriver.Context().aeronDirectoryName(aeronDir)
                .threadingMode(ThreadingMode.SHARED).dirDeleteOnStart(true).dirDeleteOnShutdown(true));
             ChannelHost host = ChannelHost.bind(source);
             ChildJvm in = BridgeRig.bridgeIn(dir, remote, "md", udp, "--aeron-dir", aeronDir)) {
            HostedBroadcastChannel ch = BridgeRig.sourceChannel(host);
            in.awaitLine("bridge in: READY", TIMEOUT_S);
            try (ChildJvm subscriber = BridgeRig.subscriber(remote, "md", count - 1)) {
                subscriber.awaitLine("ATTACHED", TIMEOUT_S);
                try (ChildJvm out = BridgeRig.bridgeOut(dir, source, "md", udp, "--aeron-dir", aeronDir)) {
                    assertTrue(out.awaitLine("bridge out: READY", TIMEOUT_S).endsWith("(Aeron external, " + aeronDir + ")"));
                    BridgeRig.publish(ch.producer(), count, out);
                    assertEquals("DONE " + count + " 0 0", subscriber.awaitLine("DONE", TIMEOUT_S));
                    BridgeRig.stop(out, "out");
                }
                assertEquals("bridge in: STOPPED published=" + count + " missed=0 malformed=0 sessions=1", BridgeRig.stop(in, "in"));
            }
        }
    }
}
