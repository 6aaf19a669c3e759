package io.sluice.cache;

import io.sluice.api.AttachRefusedException;
import io.sluice.api.ConnectionClosedException;
import io.sluice.api.RefusalReason;
import io.sluice.channel.AccessPolicy;
import io.sluice.fdpassing.ReceivedMessage;
import io.sluice.fdpassing.SeqPacketSocket;
import io.sluice.memfd.MemfdRegion;
import io.sluice.memfd.ProcessResources;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Readers that break the protocol are answered REFUSED with the reason and dropped; a reader the
 * access policy does not admit is refused ACCESS_DENIED; an honest reader is served throughout,
 * and the host leaks nothing.
 */
class HostileReaderTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    /** Sends {@code message} (with {@code fd} if not null) and returns the host's REFUSED; then expects end of stream. */
    private static CacheMessages.Refused answerTo(Path socket, byte[] message, MemfdRegion fd) {
        try (SeqPacketSocket raw = SeqPacketSocket.connect(socket)) {
            if (fd == null) {
                raw.send(message);
            } else {
                raw.send(message, fd.fd());
            }
            CacheMessages.Refused r;
            try (ReceivedMessage m = raw.receive(CacheMessages.MAX_LENGTH, 0, WAIT)) {
                assertEquals(CacheMessages.REFUSED, CacheMessages.type(m.data(), m.fdCount()));
                r = CacheMessages.decodeRefused(m.data());
            }
            assertThrows(ConnectionClosedException.class, () -> raw.receive(CacheMessages.MAX_LENGTH, 0, WAIT),
                    "the host closes after REFUSED");
            return r;
        }
    }

    private static byte[] hello(String name) {
        return CacheMessages.hello(CacheMessages.KIND_SNAPSHOT, name);
    }

    @Test
    void garbageIsRefusedAndDroppedWhileAnHonestReaderIsServed() throws Exception {
        try {
            Caches.snapshot(dir.resolve("nobody.sock"), "x", WAIT);
        } catch (io.sluice.api.SystemCallException expected) {
            // ENOENT: loads the client's classes before fds are counted (jars stay open)
        }
        long fdsBefore = ProcessResources.openFds();
        try (CacheHost host = CacheHost.bind(dir.resolve("c.sock"));
             PublishedSnapshot snap = host.snapshot("refdata");
             MemfdRegion stray = MemfdRegion.create("stray", 4096)) {
            stray.readOnlyFd();
            snap.publish(Tables.version(1));
            try (SnapshotSubscription honest = Caches.snapshot(host.path(), "refdata")) {
                Path socket = host.path();
                assertEquals(RefusalReason.MALFORMED, answerTo(socket, new byte[]{1, 2, 3}, null).reason());
                assertTrue(answerTo(socket, "GET / HTTP/1.1\r\n\r\n".getBytes(), null).text().contains("bad magic"));
                byte[] lying = hello("refdata");
                ByteBuffer.wrap(lying).order(ByteOrder.LITTLE_ENDIAN).putShort(10, (short) 100);
                assertTrue(answerTo(socket, lying, null).text().contains("name length 100"));
                assertTrue(answerTo(socket, hello("refdata"), stray).text().contains("fd"), "a HELLO with an fd");
                assertTrue(answerTo(socket, CacheMessages.end(), null).text().contains("END where a HELLO was due"));
                byte[] otherVersion = hello("refdata");
                ByteBuffer.wrap(otherVersion).order(ByteOrder.LITTLE_ENDIAN).putShort(4, (short) 9);
                assertEquals(RefusalReason.VERSION_MISMATCH, answerTo(socket, otherVersion, null).reason());
                CacheMessages.Refused unknown = answerTo(socket, hello("nothing.here"), null);
                assertEquals(RefusalReason.UNKNOWN_CHANNEL, unknown.reason());
                assertTrue(unknown.text().contains("no snapshot named 'nothing.here'"), unknown.text());
                assertEquals(RefusalReason.UNKNOWN_CHANNEL,
                        answerTo(socket, CacheMessages.hello(CacheMessages.KIND_SHARED_MAP, "refdata"), null).reason());

                // Subscribed, then it talks: dropped after its PUBLISH.
                try (SeqPacketSocket chatty = SeqPacketSocket.connect(socket)) {
                    chatty.send(hello("refdata"));
                    chatty.receive(CacheMessages.MAX_LENGTH, 1, WAIT).close();
                    chatty.send(new byte[]{42});
                    assertThrows(ConnectionClosedException.class, () -> chatty.receive(CacheMessages.MAX_LENGTH, 1, WAIT));
                }
                // Silent: no HELLO within the timeout is covered by the TIMEOUT path (5 s by default; not waited for here).

                assertEquals(2, snap.publish(Tables.version(2)));
                assertTrue(honest.awaitVersion(2, WAIT), "the honest reader got version 2: " + honest.failure());
                try (SnapshotLease s = honest.acquire()) {
                    assertEquals(Tables.entries(2), Tables.matching(s));
                }
                assertEquals(1, snap.readerCount(), "only the honest reader is subscribed");
                assertEquals(5, host.refusals(RefusalReason.MALFORMED));
            }
        }
        assertEquals(fdsBefore, ProcessResources.awaitOpenFds(fdsBefore, WAIT), "the host leaked no fd");
    }

    @Test
    void aReaderTheAccessPolicyDoesNotAdmitGetsRefusedWithTheReason() {
        int self = (int) ProcessHandle.current().pid();
        int other = self == 1 ? 2 : 1;
        try (CacheHost host = CacheHost.bind(dir.resolve("p.sock"),
                CacheHostOptions.defaults().accessPolicy(AccessPolicy.sameUser().onlyPids(other)));
             PublishedSnapshot snap = host.snapshot("refdata")) {
            snap.publish(Tables.version(1));
            AttachRefusedException e = assertThrows(AttachRefusedException.class, () -> Caches.snapshot(host.path(), "refdata"));
            assertEquals(RefusalReason.ACCESS_DENIED, e.reason());
            assertTrue(e.getMessage().contains("pid " + self + " is not admitted"), e.getMessage());
            assertEquals(1, host.refusals(RefusalReason.ACCESS_DENIED));
            assertEquals(0, snap.readerCount());
        }
    }
}
