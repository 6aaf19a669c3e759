package io.sluice.examples;

import io.sluice.fdpassing.PeerCredentials;
import io.sluice.fdpassing.ReceivedMessage;
import io.sluice.fdpassing.SeqPacketServer;
import io.sluice.fdpassing.SeqPacketSocket;
import io.sluice.memfd.MemfdRegion;
import io.sluice.memfd.Seal;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The foundation in one run: this JVM creates a memfd region, writes into it, seals it
 * SHRINK|GROW|FUTURE_WRITE and hosts a socket; a second JVM attaches, receives the fd, reads
 * the data in place, and then tries every way to write it. The kernel refuses each one.
 *
 * <p>Run: {@code ./mvnw -q compile exec:exec -Ddemo=seals}
 */
public final class SealDemo {
    private static final long SIZE = 64 * 1024;
    private static final Duration WAIT = Duration.ofSeconds(30);

    public static void main(String[] args) throws Exception {
        if (args.length == 2 && args[0].equals("attach")) {
            attach(Path.of(args[1]));
        } else {
            host();
        }
    }

    private static void host() throws Exception {
        Path dir = Files.createTempDirectory("sluice-demo-");
        Path socket = dir.resolve("demo.sock");
        try (MemfdRegion region = MemfdRegion.create("demo.prices", SIZE);
             SeqPacketServer server = SeqPacketServer.bind(socket)) {
            MemorySegment rw = region.mapReadWrite();
            rw.set(JAVA_LONG, 0, 10_250L);
            say("host", "created memfd 'sluice:demo.prices' (" + SIZE + " bytes, fd " + region.fd().numberForDiagnostics()
                    + "), mapped read-write, wrote price 10250");
            region.addSeals(Seal.SHRINK, Seal.GROW, Seal.FUTURE_WRITE);
            region.addSeals(Seal.SEAL); // the seals are final: no peer can add one of its own
            say("host", "sealed it " + Seal.describe(region.seals()) + "; my own mapping stays writable");
            say("host", "listening on " + socket + " (mode 0600); starting a second JVM");

            Process peer = startPeer(socket);
            try (SeqPacketSocket conn = server.accept(WAIT)) {
                if (conn == null) {
                    throw new IllegalStateException("the second JVM did not connect within " + WAIT);
                }
                PeerCredentials who = conn.peerCredentials();
                say("host", "peer connected: " + who + " (SO_PEERCRED; the JVM we started is pid " + peer.pid() + ")");
                conn.send("region".getBytes(StandardCharsets.UTF_8), region.fd());
                say("host", "sent the fd over SCM_RIGHTS");
                awaitLine(conn); // peer has read the first value
                rw.set(JAVA_LONG, 0, 10_275L);
                say("host", "wrote a new price 10275 through my mapping");
                conn.send("updated".getBytes(StandardCharsets.UTF_8));
                awaitLine(conn); // peer finished its attempts
                say("host", "price is still " + rw.get(JAVA_LONG, 0) + ": nothing the peer tried changed it");
                conn.send("bye".getBytes(StandardCharsets.UTF_8));
            } finally {
                if (!peer.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
                    peer.destroyForcibly();
                }
            }
        } finally {
            Files.deleteIfExists(socket);
            Files.deleteIfExists(dir);
        }
    }

    private static Process startPeer(Path socket) throws Exception {
        return DemoJvm.start(List.of(), SealDemo.class, "attach", socket.toString());
    }

    private static void attach(Path socket) {
        try (SeqPacketSocket conn = SeqPacketSocket.connect(socket)) {
            say("peer", "connected to " + socket);
            MemfdRegion region;
            try (ReceivedMessage m = conn.receive(64, 1, WAIT)) {
                region = MemfdRegion.adopt(m.takeFd(0), SIZE, EnumSet.of(Seal.SHRINK, Seal.GROW, Seal.FUTURE_WRITE));
            }
            try (region) {
                say("peer", "received fd " + region.fd().numberForDiagnostics() + ": memfd 'sluice:" + region.name() + "', " + region.size()
                        + " bytes, seals " + Seal.describe(region.seals()) + " -- checked before mapping");
                MemorySegment ro = region.mapReadOnly();
                say("peer", "mapped it read-only; price = " + ro.get(JAVA_LONG, 0) + " (read in place, no copy)");
                conn.send("read".getBytes(StandardCharsets.UTF_8));
                awaitLine(conn);
                say("peer", "price = " + ro.get(JAVA_LONG, 0) + " (the host's later write, same pages)");
                say("peer", "now trying to write the region:");
                WriteAttempts.tryAll(region, ro).forEach((key, outcome) ->
                        say("peer", "  " + WriteAttempts.describe(key) + ": " + verdict(outcome)));
                conn.send("done".getBytes(StandardCharsets.UTF_8));
                awaitLine(conn);
            }
        }
    }

    private static String verdict(String outcome) {
        if (outcome.equals("ALLOWED")) {
            return "ALLOWED (this should not happen)";
        }
        return outcome.startsWith("E") ? "refused by the kernel, " + outcome : "refused by the JVM, " + outcome;
    }

    private static void awaitLine(SeqPacketSocket conn) {
        try (ReceivedMessage _ = conn.receive(64, 0, WAIT)) {
            // the content is a step marker; arriving is what matters
        }
    }

    private static void say(String who, String what) {
        System.out.println("[" + who + " pid " + ProcessHandle.current().pid() + "] " + what);
        System.out.flush();
    }
}
