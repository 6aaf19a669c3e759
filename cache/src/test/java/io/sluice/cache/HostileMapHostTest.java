package io.sluice.cache;

import io.sluice.api.ConnectionClosedException;
import io.sluice.api.ProtocolException;
import io.sluice.api.RegionRefusedException;
import io.sluice.cache.map.CorruptMapException;
import io.sluice.cache.map.SharedMapOptions;
import io.sluice.cache.map.SharedMapWriter;
import io.sluice.fdpassing.ReceivedMessage;
import io.sluice.fdpassing.SeqPacketServer;
import io.sluice.fdpassing.SeqPacketSocket;
import io.sluice.memfd.MemfdRegion;
import io.sluice.memfd.ProcessResources;
import io.sluice.memfd.Seal;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A fake host answers a map reader's HELLO with forged messages, or breaks the protocol after a
 * good PUBLISH: each is refused (or ends the subscription) with an exception naming what is
 * wrong, and the reader keeps no fd, no mapping and no connection it should not.
 */
class HostileMapHostTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final SharedMapOptions OPTIONS = SharedMapOptions.of(8, 8, 8);

    @TempDir
    Path dir;

    @BeforeEach
    void warmUp() {
        // Load every class the paths under test use before fds are counted (jars stay open).
        try (SharedMapWriter w = SharedMapWriter.create("warm.map", OPTIONS)) {
            io.sluice.cache.map.SharedMapReader.adopt(io.sluice.testing.TestCalls.reopenReadOnly(w.region()), w.regionSize()).close();
        }
    }

    /** Runs a map reader against a fake host that does {@code forge} after the HELLO; returns what the reader threw. */
    private Throwable refusal(Consumer<SeqPacketSocket> forge) throws Exception {
        long fdsBefore = ProcessResources.openFds();
        long mapsBefore = ProcessResources.sluiceMappings();
        Throwable thrown;
        try (SeqPacketServer server = SeqPacketServer.bind(dir.resolve("fake-" + System.nanoTime() + ".sock"))) {
            CompletableFuture<MapSubscription> reader = CompletableFuture.supplyAsync(() -> Caches.map(server.path(), "prices", WAIT));
            try (SeqPacketSocket conn = server.accept(WAIT)) {
                assertNotNull(conn, "the reader connected");
                try (ReceivedMessage hello = conn.receive(CacheMessages.MAX_HELLO_LENGTH, 0, WAIT)) {
                    assertEquals(new CacheMessages.Hello(CacheMessages.KIND_SHARED_MAP, "prices"), CacheMessages.decodeHello(hello.data()));
                }
                forge.accept(conn);
                try {
                    reader.get(WAIT.toSeconds(), TimeUnit.SECONDS).close();
                    return fail("the reader accepted a forged answer");
                } catch (ExecutionException e) {
                    thrown = e.getCause();
                }
            }
        }
        assertEquals(fdsBefore, ProcessResources.awaitOpenFds(fdsBefore, WAIT), "open fds after the refusal");
        assertEquals(mapsBefore, ProcessResources.sluiceMappings(), "nothing stays mapped");
        return thrown;
    }

    private void assertRefused(Class<? extends Throwable> type, String part, Consumer<SeqPacketSocket> forge) throws Exception {
        Throwable thrown = refusal(forge);
        assertInstanceOf(type, thrown, String.valueOf(thrown));
        assertTrue(thrown.getMessage().contains(part), "'" + thrown.getMessage() + "' should say '" + part + "'");
    }

    @Test
    void aMapOfAnotherVersionOrKind() throws Exception {
        try (SharedMapWriter w = SharedMapWriter.create("fake.map", OPTIONS)) {
            w.readOnlyFd(); // opened now, not while fds are counted
            assertRefused(ProtocolException.class, "PUBLISH of version 2 (a shared map is published once, as version 1)",
                    c -> c.send(CacheMessages.publish(CacheMessages.KIND_SHARED_MAP, 2, w.regionSize()), w.readOnlyFd()));
            assertRefused(ProtocolException.class, "PUBLISH of a snapshot, a shared map was asked for",
                    c -> c.send(CacheMessages.publish(CacheMessages.KIND_SNAPSHOT, 1, w.regionSize()), w.readOnlyFd()));
        }
    }

    @Test
    void sealsAreCheckedBeforeTheSizeAndTheSizeBeforeTheHeader() throws Exception {
        try (MemfdRegion writable = MemfdRegion.create("fake.writable", 4096)) {
            writable.addSeals(Seal.SHRINK, Seal.GROW); // the owner could still hand out writable mappings
            assertRefused(RegionRefusedException.class, "missing FUTURE_WRITE",
                    c -> c.send(CacheMessages.publish(CacheMessages.KIND_SHARED_MAP, 1, 8192), writable.fd()));
        }
        try (SharedMapWriter w = SharedMapWriter.create("fake.map", OPTIONS)) {
            w.readOnlyFd();
            assertRefused(RegionRefusedException.class, "promised " + (w.regionSize() + 8),
                    c -> c.send(CacheMessages.publish(CacheMessages.KIND_SHARED_MAP, 1, w.regionSize() + 8), w.readOnlyFd()));
        }
        try (MemfdRegion blank = MemfdRegion.create("fake.blank", 4096)) {
            blank.mapReadWrite();
            blank.addSeals(Seal.SHRINK, Seal.GROW, Seal.FUTURE_WRITE); // sealed right, but no map in it
            assertRefused(CorruptMapException.class, "magic",
                    c -> c.send(CacheMessages.publish(CacheMessages.KIND_SHARED_MAP, 1, 4096), blank.fd()));
        }
    }

    /** A good PUBLISH, the connection closed by the fake host, then {@code after}; returns the subscription's failure once it ended. */
    private Throwable failureAfter(Consumer<SeqPacketSocket> after) throws Exception {
        long fdsBefore = ProcessResources.openFds();
        Throwable failure;
        try (SeqPacketServer server = SeqPacketServer.bind(dir.resolve("after-" + System.nanoTime() + ".sock"));
             SharedMapWriter w = SharedMapWriter.create("fake.map", OPTIONS)) {
            w.put("k", new byte[]{7});
            CompletableFuture<MapSubscription> reader = CompletableFuture.supplyAsync(() -> Caches.map(server.path(), "prices", WAIT));
            SeqPacketSocket conn = server.accept(WAIT);
            assertNotNull(conn, "the reader connected");
            try (conn) {
                conn.receive(CacheMessages.MAX_HELLO_LENGTH, 0, WAIT).close();
                conn.send(CacheMessages.publish(CacheMessages.KIND_SHARED_MAP, 1, w.regionSize()), w.readOnlyFd());
            }
            try (MapSubscription sub = reader.get(WAIT.toSeconds(), TimeUnit.SECONDS)) {
                long sluiceFds = ProcessResources.sluiceFds();
                after.accept(conn);
                assertTrue(sub.awaitEnd(WAIT), "the subscription ended");
                assertTrue(sub.isEnded());
                failure = sub.failure();
                assertEquals(sluiceFds, ProcessResources.sluiceFds(), "no fd that came after the PUBLISH is kept");
                assertTrue(sub.reader().contains("k"), "the map stays readable");
            }
        }
        assertEquals(fdsBefore, ProcessResources.awaitOpenFds(fdsBefore, WAIT), "open fds after close");
        return failure;
    }

    @Test
    void aHostGoneWithoutEndIsAFailure() throws Exception {
        Throwable failure = failureAfter(conn -> { }); // the fake host has closed the connection already
        assertInstanceOf(ConnectionClosedException.class, failure, "a host gone without END: " + failure);
    }

    @Test
    void anythingButEndAfterThePublishIsAFailure() throws Exception {
        long fdsBefore = ProcessResources.openFds();
        try (SeqPacketServer server = SeqPacketServer.bind(dir.resolve("second.sock"));
             SharedMapWriter w = SharedMapWriter.create("fake.map", OPTIONS)) {
            w.readOnlyFd();
            CompletableFuture<MapSubscription> reader = CompletableFuture.supplyAsync(() -> Caches.map(server.path(), "prices", WAIT));
            try (SeqPacketSocket conn = server.accept(WAIT)) {
                assertNotNull(conn, "the reader connected");
                conn.receive(CacheMessages.MAX_HELLO_LENGTH, 0, WAIT).close();
                conn.send(CacheMessages.publish(CacheMessages.KIND_SHARED_MAP, 1, w.regionSize()), w.readOnlyFd());
                try (MapSubscription sub = reader.get(WAIT.toSeconds(), TimeUnit.SECONDS)) {
                    long sluiceFds = ProcessResources.sluiceFds();
                    conn.send(CacheMessages.publish(CacheMessages.KIND_SHARED_MAP, 2, w.regionSize()), w.readOnlyFd());
                    assertTrue(sub.awaitEnd(WAIT), "the subscription ended");
                    assertInstanceOf(ProtocolException.class, sub.failure());
                    assertTrue(sub.failure().getMessage().contains("PUBLISH after the PUBLISH (a shared map is published once: only END may follow)"),
                            sub.failure().getMessage());
                    assertEquals(sluiceFds, ProcessResources.sluiceFds(), "the second PUBLISH's fd was closed");
                }
            }
        }
        assertEquals(fdsBefore, ProcessResources.awaitOpenFds(fdsBefore, WAIT), "open fds after close");
    }
}
