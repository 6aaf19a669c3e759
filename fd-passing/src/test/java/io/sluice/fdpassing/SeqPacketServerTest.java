package io.sluice.fdpassing;

import io.sluice.api.ConnectionClosedException;
import io.sluice.api.ProtocolException;
import io.sluice.api.SluiceException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SeqPacketServerTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    @Test
    void socketFileIsOwnerOnlyByDefault() throws Exception {
        try (SeqPacketServer server = SeqPacketServer.bind(dir.resolve("mode.sock"))) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(server.path())));
        }
    }

    @Test
    void liveSocketIsNeverClobbered() {
        Path p = dir.resolve("live.sock");
        try (SeqPacketServer first = SeqPacketServer.bind(p)) {
            SluiceException e = assertThrows(SluiceException.class, () -> SeqPacketServer.bind(p));
            assertTrue(e.getMessage().contains("a live process is listening there"), e.getMessage());
            // The liveness probe shows up at the first server as a connection that ends at once...
            try (SeqPacketSocket probe = first.accept(WAIT)) {
                assertThrows(ConnectionClosedException.class, () -> probe.receive(16, 0, WAIT));
            }
            // ...and the first server keeps working.
            try (SeqPacketSocket c = SeqPacketSocket.connect(p); SeqPacketSocket a = first.accept(WAIT)) {
                c.send("ping".getBytes(StandardCharsets.UTF_8));
                try (ReceivedMessage m = a.receive(16, 0, WAIT)) {
                    assertEquals("ping", new String(m.bytes(), StandardCharsets.UTF_8));
                }
            }
        }
    }

    @Test
    void staleSocketIsCleanedUp() throws Exception {
        Path p = dir.resolve("stale.sock");
        // A listener that went away without removing its socket file.
        try (ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.bind(UnixDomainSocketAddress.of(p));
        }
        assertTrue(Files.exists(p));
        try (SeqPacketServer server = SeqPacketServer.bind(p); SeqPacketSocket c = SeqPacketSocket.connect(p)) {
            assertTrue(server.accept(WAIT) != null);
        }
    }

    @Test
    void nonSocketFileIsRefused() throws Exception {
        Path p = Files.writeString(dir.resolve("not-a-socket"), "data");
        SluiceException e = assertThrows(SluiceException.class, () -> SeqPacketServer.bind(p));
        assertTrue(e.getMessage().contains("exists and is not a socket"), e.getMessage());
        assertEquals("data", Files.readString(p));
    }

    @Test
    void closeRemovesTheSocketFileAndWakesABlockedAccept() throws Exception {
        SeqPacketServer server = SeqPacketServer.bind(dir.resolve("wake.sock"));
        CompletableFuture<Throwable> blocked = CompletableFuture.supplyAsync(() -> {
            try {
                server.accept();
                return null;
            } catch (Throwable t) {
                return t;
            }
        });
        assertFalse(blocked.isDone());
        server.close();
        Throwable t = blocked.get(10, TimeUnit.SECONDS);
        assertTrue(t instanceof IllegalStateException, String.valueOf(t));
        assertFalse(Files.exists(server.path()));
    }

    @Test
    void acceptTimesOutWithNull() {
        try (SeqPacketServer server = SeqPacketServer.bind(dir.resolve("quiet.sock"))) {
            assertNull(server.accept(Duration.ofMillis(50)));
        }
    }

    @Test
    void peerCloseIsSeenAsConnectionClosed() {
        try (SeqPacketServer server = SeqPacketServer.bind(dir.resolve("eof.sock"))) {
            SeqPacketSocket client = SeqPacketSocket.connect(server.path());
            try (SeqPacketSocket conn = server.accept(WAIT)) {
                client.close();
                assertThrows(ConnectionClosedException.class, () -> conn.receive(16, 0, WAIT));
            }
        }
    }

    @Test
    void silentPeerTimesOutWithAClearError() {
        try (SeqPacketServer server = SeqPacketServer.bind(dir.resolve("silent.sock"));
             SeqPacketSocket client = SeqPacketSocket.connect(server.path());
             SeqPacketSocket conn = server.accept(WAIT)) {
            ProtocolException e = assertThrows(ProtocolException.class, () -> conn.receive(16, 0, Duration.ofMillis(50)));
            assertTrue(e.getMessage().contains("no message within"), e.getMessage());
        }
    }

    @Test
    void inProcessPeerCredentialsAreOurOwn() throws Exception {
        try (SeqPacketServer server = SeqPacketServer.bind(dir.resolve("cred.sock"));
             SeqPacketSocket client = SeqPacketSocket.connect(server.path());
             SeqPacketSocket conn = server.accept(WAIT)) {
            PeerCredentials c = conn.peerCredentials();
            assertEquals(ProcessHandle.current().pid(), c.pid());
            assertEquals(CrossProcessRegionTest.procSelf("uid"), c.uid());
        }
    }

    @Test
    void tooLongPathIsRefusedClearly() {
        Path p = dir.resolve("x".repeat(120));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SeqPacketServer.bind(p));
        assertTrue(e.getMessage().contains("longer than the 107 bytes"), e.getMessage());
    }
}
