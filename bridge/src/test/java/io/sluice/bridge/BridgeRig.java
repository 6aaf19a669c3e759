package io.sluice.bridge;

import io.sluice.api.BroadcastPolicy;
import io.sluice.api.MessageProducer;
import io.sluice.channel.BroadcastOptions;
import io.sluice.channel.ChannelHost;
import io.sluice.channel.HostedBroadcastChannel;
import io.sluice.testing.ChildJvm;

import java.io.IOException;
import java.net.DatagramSocket;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Starts the bridge tests' processes: each bridge side and each subscriber is a JVM of its own. */
final class BridgeRig {
    static final long TIMEOUT_S = 120;
    /** What Agrona, under Aeron, needs on JDK 25 (the bridge pom's aeron.flags). */
    static final String[] AERON_FLAGS = {"--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED",
            "--sun-misc-unsafe-memory-access=allow"};

    private BridgeRig() {
    }

    /** A UDP port free at the time of asking, on loopback. */
    static int freeUdpPort() throws IOException {
        try (DatagramSocket s = new DatagramSocket(0, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    static String unicast(int port) {
        return "aeron:udp?endpoint=127.0.0.1:" + port;
    }

    static ChildJvm bridgeOut(Path dir, Path socket, String channel, String aeronChannel, String... more) throws IOException {
        List<String> args = new java.util.ArrayList<>(List.of("out", "--socket", socket.toString(), "--channel", channel,
                "--aeron-channel", aeronChannel));
        args.addAll(media(dir, "aeron-out-", more));
        return ChildJvm.launcher(BridgeCommand.class).jvmOptions(AERON_FLAGS).withoutStdin().start(args.toArray(String[]::new));
    }

    static ChildJvm bridgeIn(Path dir, Path socket, String channel, String aeronChannel, String... more) throws IOException {
        List<String> args = new java.util.ArrayList<>(List.of("in", "--socket", socket.toString(), "--channel", channel,
                "--aeron-channel", aeronChannel, "--max-message", Integer.toString(Quotes.MAX_LENGTH)));
        args.addAll(media(dir, "aeron-in-", more));
        return ChildJvm.launcher(BridgeCommand.class).jvmOptions(AERON_FLAGS).withoutStdin().start(args.toArray(String[]::new));
    }

    /** {@code more}, with an embedded driver's directory under the test's unless it names an external driver. */
    private static List<String> media(Path dir, String prefix, String... more) {
        List<String> args = new java.util.ArrayList<>(List.of(more));
        if (!args.contains("--aeron-dir")) {
            args.addAll(List.of("--embedded-dir", dir.resolve(prefix + System.nanoTime()).toString()));
        }
        return args;
    }

    static ChildJvm subscriber(Path socket, String channel, long last) throws IOException {
        return ChildJvm.launcher(BridgeSubscriber.class).withoutStdin().start(socket.toString(), channel, Long.toString(last));
    }

    /** The source channel of the tests on "host 1": broadcast, back-pressure, 256 KiB, the quotes' largest message. */
    static HostedBroadcastChannel sourceChannel(ChannelHost host) {
        return host.broadcast("md", BroadcastOptions.of(BroadcastPolicy.BACK_PRESSURE, 256 * 1024).maxMessageLength(Quotes.MAX_LENGTH));
    }

    /** Publishes quotes 0..count-1, waiting while the ring is full, at most {@link #TIMEOUT_S} and while {@code out} lives. */
    static void publish(MessageProducer p, long count, ChildJvm out) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_S);
        for (long s = 0; s < count; s++) {
            long at;
            while ((at = p.tryClaim(Quotes.TYPE, Quotes.length(s))) < 0) {
                if (System.nanoTime() > deadline || !out.isAlive()) {
                    throw new AssertionError("the ring stayed full at message " + s + "; bridge out:\n" + out.output());
                }
                Thread.onSpinWait();
            }
            Quotes.write(p.buffer(), at, s);
            p.commit(at);
        }
    }

    /** SIGTERM: the bridge stops, prints its summary and exits 143 (128 + SIGTERM), as a JVM does. */
    static String stop(ChildJvm bridge, String side) throws InterruptedException {
        ProcessHandle.of(bridge.pid()).ifPresent(ProcessHandle::destroy);
        String line = bridge.awaitLine("bridge " + side + ": STOPPED", TIMEOUT_S);
        if (bridge.waitFor(TIMEOUT_S) != 143) {
            throw new AssertionError("bridge " + side + " exited " + bridge.exitValue() + ":\n" + bridge.output());
        }
        return line;
    }
}
