package io.sluice.cli;

import io.sluice.api.BroadcastPolicy;
import io.sluice.channel.BroadcastOptions;
import io.sluice.channel.ChannelHost;
import io.sluice.channel.HostedBroadcastChannel;
import io.sluice.ringbuffer.BroadcastProducer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code sluice stat} and {@code sluice tail} against a live host: output, JSON, exit codes. */
class StatTailCommandTest {
    @TempDir
    Path dir;

    record Run(int status, String out, String err) {
    }

    private static Run sluice(String... args) {
        CommandLine cmd = SluiceCommand.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        int status = cmd.execute(args);
        return new Run(status, out.toString(), err.toString());
    }

    private static void publish(BroadcastProducer p, int n) {
        for (int i = 0; i < n; i++) {
            long at = p.tryClaim(7, 8);
            p.buffer().set(ValueLayout.JAVA_LONG_UNALIGNED, at, 0x1122334455667788L);
            p.commit(at);
        }
    }

    /** Reads the status (JSON) until it contains {@code text}, at most 10 s. */
    private static void awaitStatus(Path socket, String text) {
        long deadline = System.nanoTime() + 10_000_000_000L;
        Run j;
        do {
            j = sluice("stat", "--json", "--interval", "10", socket.toString());
            if (j.status() == 0 && j.out().contains(text)) {
                return;
            }
        } while (System.nanoTime() < deadline);
        throw new AssertionError("the host's status did not show " + text + " within 10 s; last reading: " + j.out() + j.err());
    }

    @Test
    void statOnceShowsTheChannelWithExactCounts() {
        Path socket = dir.resolve("h.sock");
        try (ChannelHost host = ChannelHost.bind(socket)) {
            HostedBroadcastChannel ch = host.broadcast("md.quotes", BroadcastOptions.of(BroadcastPolicy.OVERWRITE, 4096));
            publish(ch.producer(), 123);
            // The host rewrites its status region every 100 ms: wait until it shows the 123, so
            // that both readings of --once see them and the rate is 0.
            awaitStatus(socket, "\"committed\":123,");
            Run r = sluice("stat", "--once", "--interval", "300", socket.toString());
            assertEquals(0, r.status(), r.err());
            assertTrue(r.out().startsWith("host " + socket + "  pid " + ProcessHandle.current().pid()), r.out());
            String row = r.out().lines().filter(l -> l.startsWith("md.quotes ")).findFirst().orElseThrow();
            assertTrue(row.matches("md\\.quotes\\s+BROADCAST_OVERWRITE\\s+4096\\s+\\d+\\s+123\\s+(0|-)\\s+0\\s+0\\.000 s"), row);

            Run j = sluice("stat", "--json", "--interval", "100", socket.toString());
            assertEquals(0, j.status(), j.err());
            assertTrue(j.out().contains("\"name\":\"md.quotes\",\"kind\":\"BROADCAST_OVERWRITE\",\"capacity\":4096"), j.out());
            assertTrue(j.out().contains("\"committed\":123,"), j.out());
            assertTrue(j.out().contains("\"aborted\":0,\"refusedClaims\":0"), j.out());
        }
    }

    @Test
    void tailPrintsMessagesAsTheyPass() throws Exception {
        Path socket = dir.resolve("t.sock");
        try (ChannelHost host = ChannelHost.bind(socket)) {
            HostedBroadcastChannel ch = host.broadcast("md.quotes", BroadcastOptions.of(BroadcastPolicy.OVERWRITE, 4096));
            CompletableFuture<Run> tail = CompletableFuture.supplyAsync(() -> sluice("tail", "--count", "3", "--bytes", "8",
                    socket.toString(), "md.quotes"));
            // The tap starts at the newest message: publish until it has printed three.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!tail.isDone() && System.nanoTime() - deadline < 0) {
                publish(ch.producer(), 1);
                Thread.onSpinWait();
            }
            Run r = tail.get(1, TimeUnit.SECONDS);
            assertEquals(0, r.status(), r.err());
            assertEquals("tail md.quotes (BROADCAST_OVERWRITE, capacity 4096)", r.out().lines().findFirst().orElseThrow());
            assertEquals(3, r.out().lines().filter(l -> l.equals("type 7 length 8 8877665544332211")).count(), r.out());
        }
    }

    @Test
    void noHostIsExitOneWithTheReasonAndABadOptionIsExitTwo() {
        Run r = sluice("stat", "--once", dir.resolve("nobody.sock").toString());
        assertEquals(1, r.status());
        assertTrue(r.err().startsWith("sluice stat: ") && r.err().contains("ENOENT"), r.err());
        Run t = sluice("tail", dir.resolve("nobody.sock").toString(), "x");
        assertEquals(1, t.status());
        assertTrue(t.err().startsWith("sluice tail: "), t.err());
        assertEquals(2, sluice("stat", "--interval", "1", "x.sock").status());
        assertEquals(2, sluice("tail", "x.sock").status());
        assertEquals(0, sluice("stat", "--help").status());
        assertEquals(0, sluice("tail", "--help").status());
    }
}
