package io.sluice.bridge.demo;

import io.sluice.api.BroadcastPolicy;
import io.sluice.bridge.BridgeCommand;
import io.sluice.channel.BroadcastOptions;
import io.sluice.channel.ChannelHost;
import io.sluice.channel.HostedBroadcastChannel;
import io.sluice.ringbuffer.BroadcastProducer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Two machines on one: "host 1" (this JVM publishing quotes into a Sluice broadcast channel, and
 * a {@code bridge out} process) and "host 2" (a {@code bridge in} process hosting the same
 * channel there, and two subscriber processes attached to it as to any local channel), joined
 * only by Aeron over UDP on loopback. Prints that every quote arrived, whole and in order, at
 * both subscribers, and exits 1 if not.
 *
 * <p>Run: {@code ./mvnw -q compile exec:exec -Ddemo=bridge}.
 */
public final class LoopbackDemo {
    private static final String CHANNEL = "md.quotes";
    private static final long QUOTES = 500_000;
    private static final long TIMEOUT_S = 90;

    private final Map<String, CompletableFuture<String>> lines = new ConcurrentHashMap<>();
    private final List<Process> processes = new ArrayList<>();

    public static void main(String[] args) throws Exception {
        Path dir = Files.createTempDirectory("sluice-bridge-");
        LoopbackDemo demo = new LoopbackDemo();
        boolean ok;
        try {
            ok = demo.run(dir);
        } finally {
            demo.processes.forEach(Process::destroyForcibly);
            try (Stream<Path> walk = Files.walk(dir)) {
                walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        System.exit(ok ? 0 : 1);
    }

    private boolean run(Path dir) throws Exception {
        Path host1 = dir.resolve("host1.sock");
        Path host2 = dir.resolve("host2.sock");
        int port;
        try (DatagramSocket probe = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
        String udp = "aeron:udp?endpoint=127.0.0.1:" + port;
        try (ChannelHost host = ChannelHost.bind(host1)) {
            HostedBroadcastChannel ch = host.broadcast(CHANNEL, BroadcastOptions.of(BroadcastPolicy.BACK_PRESSURE, 256 * 1024)
                    .maxMessageLength(DemoQuote.LENGTH));
            System.out.println("[host 1 publisher pid " + ProcessHandle.current().pid() + "] '" + CHANNEL
                    + "': broadcast, back-pressure, at " + host1);
            Process in = start("host 2 bridge in", BridgeCommand.class, "in", "--socket", host2.toString(), "--channel", CHANNEL,
                    "--aeron-channel", udp, "--max-message", Integer.toString(DemoQuote.LENGTH),
                    "--embedded-dir", dir.resolve("aeron-host2").toString());
            await("bridge in: READY");
            for (String name : List.of("A", "B")) {
                start("host 2 subscriber " + name, RemoteSubscriber.class, name, host2.toString(), CHANNEL, Long.toString(QUOTES));
                await("READY " + name);
            }
            Process out = start("host 1 bridge out", BridgeCommand.class, "out", "--socket", host1.toString(), "--channel", CHANNEL,
                    "--aeron-channel", udp, "--embedded-dir", dir.resolve("aeron-host1").toString());
            await("bridge out: READY");
            long started = System.nanoTime();
            publish(ch.producer(), out);
            String a = await("RESULT A");
            String b = await("RESULT B");
            double seconds = (System.nanoTime() - started) / 1e9;
            // SIGTERM through the process handle: each bridge prints its summary. (Process.destroy
            // would also close our end of its output, and the summary with it.)
            out.toHandle().destroy();
            in.toHandle().destroy();
            String outSummary = await("bridge out: STOPPED");
            String inSummary = await("bridge in: STOPPED");
            String expected = QUOTES + " " + QUOTES + " 0";
            boolean ok = a.equals("RESULT A " + expected) && b.equals("RESULT B " + expected);
            System.out.println();
            System.out.printf("  host 1 published %,d quotes; %s; %s%n", QUOTES, outSummary, inSummary);
            System.out.printf("  %s; %s   (received, in order, bad)%n", a, b);
            System.out.printf("  %.1f s end to end through bridge out -> UDP 127.0.0.1:%d -> bridge in%n", seconds, port);
            System.out.println(ok ? "  every message arrived, whole and in order, at both subscribers: OK"
                    : "  NOT OK: a subscriber missed or mangled quotes");
            return ok;
        }
    }

    private void publish(BroadcastProducer p, Process out) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_S);
        for (long s = 0; s < QUOTES; s++) {
            long at;
            while ((at = p.tryClaim(DemoQuote.TYPE, DemoQuote.LENGTH)) < 0) {
                if (System.nanoTime() > deadline || !out.isAlive()) {
                    throw new IllegalStateException("the channel stayed full at quote " + s + " (bridge out alive: " + out.isAlive() + ")");
                }
                Thread.onSpinWait();
            }
            DemoQuote.write(p.buffer(), at, s);
            p.commit(at);
        }
    }

    /** Starts {@code main} in a JVM like this one (same JDK, class path and flags); its lines go to {@link #await} or are echoed. */
    private Process start(String who, Class<?> main, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(o -> o.startsWith("--add-exports") || o.startsWith("--enable-native-access")
                        || o.startsWith("--sun-misc-unsafe-memory-access"))
                .toList());
        cmd.addAll(List.of("-XX:+UseSerialGC", "-Xmx128m", "-cp", System.getProperty("java.class.path"), main.getName()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        processes.add(p);
        Thread.ofPlatform().daemon().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    String l = line;
                    if (l.startsWith("READY ") || l.startsWith("RESULT ") || l.startsWith("bridge ")) {
                        // "bridge out: READY ...", "READY A", "RESULT A ...": the first two words name the line
                        String[] words = l.split(" ", 4);
                        String key = l.startsWith("bridge ") ? words[0] + " " + words[1] + " " + words[2] : words[0] + " " + words[1];
                        lines.computeIfAbsent(key, k -> new CompletableFuture<>()).complete(l);
                    }
                    if (!l.startsWith("READY ") && !l.startsWith("RESULT ")) {
                        System.out.println("[" + who + "] " + l);
                    }
                }
            } catch (IOException e) {
                System.out.println("[" + who + "] output lost: " + e);
            }
        });
        return p;
    }

    private String await(String key) throws Exception {
        return lines.computeIfAbsent(key, k -> new CompletableFuture<>()).get(TIMEOUT_S, TimeUnit.SECONDS);
    }
}
