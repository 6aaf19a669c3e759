package io.sluice.cache;

import io.sluice.api.AttachRefusedException;
import io.sluice.api.ProtocolException;
import io.sluice.api.RefusalReason;
import io.sluice.api.RegionRefusedException;
import io.sluice.fdpassing.ReceivedMessage;
import io.sluice.fdpassing.SeqPacketServer;
import io.sluice.fdpassing.SeqPacketSocket;
import io.sluice.memfd.MemfdRegion;
import io.sluice.memfd.OwnedFd;
import io.sluice.memfd.ProcessResources;
import io.sluice.memfd.Seal;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
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
 * A fake host answers a reader's HELLO with forged messages: each is refused with an exception
 * naming what is wrong, and the reader keeps no fd, no mapping, no connection.
 */
class HostileHostTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path dir;
    private MemfdRegion table; // a valid sealed table of version 1

    @BeforeEach
    void warmUp() {
        // Load every class the paths under test use before fds are counted (jars stay open).
        try (MemfdRegion t = Tables.version(1).build("warm.v1", 1);
             SnapshotLease l = new SnapshotLease(io.sluice.cache.snapshot.SealedSnapshot.adopt(
                     io.sluice.testing.TestCalls.reopenReadOnly(t), t.size(), 1))) {
            Tables.matching(l);
        }
    }

    /** Runs a reader against a fake host that does {@code forge} after reading the HELLO; returns what the reader threw. */
    private Throwable refusal(Consumer<SeqPacketSocket> forge) throws Exception {
        long fdsBefore = ProcessResources.openFds();
        long mapsBefore = ProcessResources.sluiceMappings();
        Throwable thrown;
        try (SeqPacketServer server = SeqPacketServer.bind(dir.resolve("fake-" + System.nanoTime() + ".sock"))) {
            CompletableFuture<SnapshotSubscription> reader = CompletableFuture.supplyAsync(
                    () -> Caches.snapshot(server.path(), "refdata", WAIT));
            try (SeqPacketSocket conn = server.accept(WAIT)) {
                assertNotNull(conn, "the reader connected");
                try (ReceivedMessage hello = conn.receive(CacheMessages.MAX_HELLO_LENGTH, 0, WAIT)) {
                    assertEquals(CacheMessages.HELLO, CacheMessages.type(hello.data(), hello.fdCount()));
                    assertEquals(new CacheMessages.Hello(CacheMessages.KIND_SNAPSHOT, "refdata"), CacheMessages.decodeHello(hello.data()));
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

    private static <T extends Throwable> void assertRefused(Class<T> type, String part, Throwable thrown) {
        assertInstanceOf(type, thrown, String.valueOf(thrown));
        assertTrue(thrown.getMessage().contains(part), "'" + thrown.getMessage() + "' should say '" + part + "'");
    }

    private static byte[] publish(int kind, long version, long size) {
        return CacheMessages.publish(kind, version, size);
    }

    private static byte[] patched(byte[] message, int offset, int value) {
        ByteBuffer.wrap(message).order(ByteOrder.LITTLE_ENDIAN).putInt(offset, value);
        return message;
    }

    private void withTable(Runnable r) {
        table = Tables.version(1).build("fake.v1", 1);
        table.readOnlyFd(); // opened now, not while fds are counted
        try {
            r.run();
        } finally {
            table.close();
        }
    }

    @Test
    void wrongMagic() throws Exception {
        withTable(() -> assertRefusedQuietly(ProtocolException.class, "bad magic",
                c -> c.send(patched(publish(1, 1, table.size()), 0, 0x50414E53), table.fd())));
    }

    @Test
    void wrongLengthAndReservedBytes() throws Exception {
        withTable(() -> {
            assertRefusedQuietly(ProtocolException.class, "not a valid length",
                    c -> c.send(java.util.Arrays.copyOf(publish(1, 1, table.size()), 40), table.fd()));
            assertRefusedQuietly(ProtocolException.class, "reserved fields",
                    c -> c.send(patched(publish(1, 1, table.size()), 12, 7), table.fd()));
            assertRefusedQuietly(ProtocolException.class, "region size",
                    c -> c.send(publish(1, 1, -1L), table.fd()));
        });
    }

    @Test
    void wrongKind() throws Exception {
        withTable(() -> {
            assertRefusedQuietly(ProtocolException.class, "PUBLISH of a shared map, a snapshot was asked for",
                    c -> c.send(publish(2, 1, table.size()), table.fd()));
            assertRefusedQuietly(ProtocolException.class, "unknown region kind 9",
                    c -> c.send(publish(9, 1, table.size()), table.fd()));
        });
    }

    @Test
    void missingFdAndTwoFds() throws Exception {
        withTable(() -> {
            assertRefusedQuietly(ProtocolException.class, "carried 0 fds, expected 1",
                    c -> c.send(publish(1, 1, table.size())));
            assertRefusedQuietly(ProtocolException.class, "message carried 2 fds, at most 1 expected",
                    c -> c.send(publish(1, 1, table.size()), table.fd(), table.readOnlyFd()));
            assertRefusedQuietly(ProtocolException.class, "carried 1 fds, expected 0",
                    c -> c.send(CacheMessages.end(), table.fd()));
        });
    }

    @Test
    void aFdThatIsNoMemfd() throws Exception {
        try (OwnedFd devNull = io.sluice.testing.TestCalls.openReadOnly("/dev/null")) {
            assertRefusedQuietly(RegionRefusedException.class, "not a memfd", c -> c.send(publish(1, 1, 4096), devNull));
        }
    }

    @Test
    void anUnsealedMemfdAndAWrongSize() throws Exception {
        try (MemfdRegion unsealed = MemfdRegion.create("fake.unsealed", 4096)) {
            assertRefusedQuietly(RegionRefusedException.class, "missing", c -> c.send(publish(1, 1, 4096), unsealed.fd()));
        }
        try (MemfdRegion futureWriteOnly = MemfdRegion.create("fake.future-write", 4096)) {
            futureWriteOnly.addSeals(Seal.SHRINK, Seal.GROW, Seal.FUTURE_WRITE); // the owner could still write
            assertRefusedQuietly(RegionRefusedException.class, "missing WRITE",
                    c -> c.send(publish(1, 1, 4096), futureWriteOnly.fd()));
        }
        withTable(() -> assertRefusedQuietly(RegionRefusedException.class, "promised",
                c -> c.send(publish(1, 1, table.size() + 8), table.fd())));
    }

    @Test
    void aTableOfAnotherVersionThanAnnounced() throws Exception {
        withTable(() -> assertRefusedQuietly(io.sluice.cache.snapshot.CorruptSnapshotException.class,
                "header says version 1, the owner announced 2", c -> c.send(publish(1, 2, table.size()), table.fd())));
    }

    @Test
    void aForgedRefusalIsShownEscaped() throws Exception {
        Throwable t = refusal(c -> c.send(CacheMessages.refused(RefusalReason.ACCESS_DENIED, "no\n\u001b[31mFAKE LOG LINE")));
        assertRefused(AttachRefusedException.class, "no\\n\\x1b[31mFAKE LOG LINE", t);
        assertEquals(RefusalReason.ACCESS_DENIED, ((AttachRefusedException) t).reason());
    }

    @Test
    void aDecreasingVersionStopsTheSubscriptionWhichKeepsTheLastGoodOne() throws Exception {
        long fdsBefore = ProcessResources.openFds();
        try (SeqPacketServer server = SeqPacketServer.bind(dir.resolve("dec.sock"));
             MemfdRegion v5 = Tables.version(5).build("fake.v5", 5);
             MemfdRegion v3 = Tables.version(3).build("fake.v3", 3)) {
            CompletableFuture<SnapshotSubscription> reader = CompletableFuture.supplyAsync(
                    () -> Caches.snapshot(server.path(), "refdata", WAIT));
            try (SeqPacketSocket conn = server.accept(WAIT)) {
                conn.receive(CacheMessages.MAX_HELLO_LENGTH, 0, WAIT).close();
                conn.send(publish(1, 5, v5.size()), v5.fd());
                try (SnapshotSubscription sub = reader.get(WAIT.toSeconds(), TimeUnit.SECONDS)) {
                    long sluiceFds = ProcessResources.sluiceFds();
                    conn.send(publish(1, 3, v3.size()), v3.fd());
                    synchronized (sub) {
                        long deadline = System.nanoTime() + WAIT.toNanos();
                        while (!sub.isEnded() && System.nanoTime() < deadline) {
                            sub.wait(100);
                        }
                    }
                    assertTrue(sub.isEnded(), "the subscription stopped");
                    assertRefused(ProtocolException.class, "PUBLISH of version 3 after version 5", sub.failure());
                    assertEquals(sluiceFds, ProcessResources.sluiceFds(), "the refused version's fd was closed");
                    try (SnapshotLease s = sub.acquire()) {
                        assertEquals(5, s.version(), "the last good version stays readable");
                        assertEquals(Tables.entries(5), Tables.matching(s));
                    }
                }
            }
        }
        assertEquals(fdsBefore, ProcessResources.awaitOpenFds(fdsBefore, WAIT));
    }

    private void assertRefusedQuietly(Class<? extends Throwable> type, String part, Consumer<SeqPacketSocket> forge) {
        try {
            assertRefused(type, part, refusal(forge));
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
