package io.sluice.bridge;

import io.sluice.channel.ChannelHost;
import io.sluice.channel.HostedBroadcastChannel;
import io.sluice.testing.ChildJvm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.MulticastSocket;
import java.net.NetworkInterface;
import java.net.SocketTimeoutException;
import java.nio.file.Path;

import static io.sluice.bridge.BridgeRig.TIMEOUT_S;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * One out side, two in sides ("two receiving hosts") on one multicast group over loopback: each
 * in side's subscriber receives every message, in order and intact. Skipped, saying why, where
 * the loopback interface does not carry multicast.
 */
class BridgeMulticastTest {
    private static final long COUNT = 200_000;
    private static final String GROUP = "239.255.77.";

    @TempDir
    Path dir;

    @Test
    void twoInSidesOnOneGroupEachReceiveEveryMessage() throws Exception {
        int port = BridgeRig.freeUdpPort();
        String group = GROUP + (1 + 2 * (port % 120)); // odd: Aeron takes the next address for control
        String why = multicastOnLoopback(group, port);
        assumeTrue(why == null, () -> "no multicast on loopback here: " + why);
        String udp = "aeron:udp?endpoint=" + group + ":" + port + "|interface=127.0.0.1|ttl=0";
        Path source = dir.resolve("host1.sock");
        Path b = dir.resolve("host2.sock");
        Path c = dir.resolve("host3.sock");
        try (ChannelHost host = ChannelHost.bind(source);
             ChildJvm inB = BridgeRig.bridgeIn(dir, b, "md", udp);
             ChildJvm inC = BridgeRig.bridgeIn(dir, c, "md", udp)) {
            HostedBroadcastChannel ch = BridgeRig.sourceChannel(host);
            inB.awaitLine("bridge in: READY", TIMEOUT_S);
            inC.awaitLine("bridge in: READY", TIMEOUT_S);
            try (ChildJvm subB = BridgeRig.subscriber(b, "md", COUNT - 1);
                 ChildJvm subC = BridgeRig.subscriber(c, "md", COUNT - 1)) {
                subB.awaitLine("ATTACHED", TIMEOUT_S);
                subC.awaitLine("ATTACHED", TIMEOUT_S);
                try (ChildJvm out = BridgeRig.bridgeOut(dir, source, "md", udp)) {
                    out.awaitLine("bridge out: READY", TIMEOUT_S);
                    BridgeRig.publish(ch.producer(), COUNT, out);
                    String doneB = subB.awaitLine("DONE", TIMEOUT_S);
                    String doneC = subC.awaitLine("DONE", TIMEOUT_S);
                    System.out.printf("bridge multicast %s: host 2 %s, host 3 %s%n", udp, doneB, doneC);
                    assertEquals("DONE " + COUNT + " 0 0", doneB);
                    assertEquals("DONE " + COUNT + " 0 0", doneC);
                    BridgeRig.stop(out, "out");
                }
            }
        }
    }

    /** Null if a datagram sent to the group on loopback comes back to a member; else why not. */
    private static String multicastOnLoopback(String group, int port) {
        try (MulticastSocket s = new MulticastSocket(new InetSocketAddress(port))) {
            NetworkInterface lo = NetworkInterface.getByInetAddress(InetAddress.getLoopbackAddress());
            s.setNetworkInterface(lo);
            s.joinGroup(new InetSocketAddress(InetAddress.getByName(group), port), lo);
            s.setSoTimeout(2000);
            byte[] ping = {1, 2, 3};
            s.send(new DatagramPacket(ping, ping.length, InetAddress.getByName(group), port));
            s.receive(new DatagramPacket(new byte[16], 16));
            return null;
        } catch (SocketTimeoutException e) {
            return "a datagram to " + group + " on lo did not come back in 2 s";
        } catch (IOException e) {
            return e.toString();
        }
    }
}
