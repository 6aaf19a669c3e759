package io.sluice.bridge;

import io.sluice.channel.ChannelHost;
import io.sluice.channel.HostedSpscChannel;
import io.sluice.channel.SpscOptions;
import io.sluice.testing.ChildJvm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static io.sluice.bridge.BridgeRig.TIMEOUT_S;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * An out side with DROP and nobody on the far side: it takes the SPSC channel's consumer place,
 * drops every message at once (Aeron: not connected) and counts it, so the producer is never
 * held; when the local host goes, it stops by itself and exits 0.
 */
class BridgeDropTest {
    private static final long COUNT = 50_000;

    @TempDir
    Path dir;

    @Test
    void withDropAndNoRemoteSideEveryMessageIsCountedDroppedAndTheProducerIsNeverHeld() throws Exception {
        Path source = dir.resolve("host1.sock");
        String udp = BridgeRig.unicast(BridgeRig.freeUdpPort()); // nobody listens there
        ChildJvm out;
        try (ChannelHost host = ChannelHost.bind(source)) {
            HostedSpscChannel ch = host.spsc("orders", SpscOptions.of(64 * 1024));
            out = BridgeRig.bridgeOut(dir, source, "orders", udp, "--source", "SPSC", "--policy", "DROP", "--drop-after", "0");
            out.awaitLine("bridge out: READY", TIMEOUT_S);
            BridgeRig.publish(ch.producer(), COUNT, out); // fails if DROP ever holds the producer for long
            // Closing the host now: what it committed stays readable in the out side's mapping,
            // and the out side stops only once it has taken all of it.
        }
        try (out) {
            assertEquals("bridge out: STOPPED (host gone) forwarded=0 dropped=" + COUNT + " torn=0 lapped=0",
                    out.awaitLine("bridge out: STOPPED", TIMEOUT_S));
            assertEquals(0, out.waitFor(TIMEOUT_S), out.output());
        }
    }
}
