package io.sluice.cache;

import io.sluice.api.AttachRefusedException;
import io.sluice.api.RefusalReason;
import io.sluice.api.SluiceException;
import io.sluice.api.SystemCallException;
import io.sluice.cache.map.SharedMapOptions;
import io.sluice.cache.map.SharedMapReader;
import io.sluice.memfd.ProcessResources;
import io.sluice.memfd.Seal;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A shared map served by a {@link CacheHost} and read through {@link Caches#map}, host and reader
 * in one JVM: the reader sees the owner's writes in place, holds the map only read-only, is told
 * of END and keeps the last state readable, and a name asked for with the call of the other kind
 * is refused saying what it is. Nothing leaks (fds, mappings). The same across processes:
 * {@code io.sluice.cache.map.ServedMapCrossProcessTest}.
 */
class MapSubscriptionTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final SharedMapOptions OPTIONS = SharedMapOptions.of(100, 16, 32);

    @TempDir
    Path dir;

    @BeforeEach
    void warmUp() throws Exception {
        // Load every class the paths under test use before fds are counted (jars stay open once read).
        try (CacheHost host = CacheHost.bind(dir.resolve("warm.sock"));
             PublishedMap map = host.map("warm", OPTIONS);
             PublishedSnapshot snap = host.snapshot("warm.snap")) {
            snap.publish(Tables.version(1));
            try (MapSubscription sub = Caches.map(host.path(), "warm")) {
                sub.isEnded();
                sub.awaitEnd(Duration.ofMillis(1));
            }
            assertThrows(AttachRefusedException.class, () -> Caches.map(host.path(), "warm.snap"));
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String value(SharedMapReader r, String key) {
        MemorySegment dst = MemorySegment.ofArray(new byte[32]);
        int n = r.get(bytes(key), dst);
        return n == SharedMapReader.ABSENT ? null : new String(dst.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
    }

    @Test
    void aReaderSeesTheOwnersWritesInPlaceAndIsToldOfTheEnd() throws Exception {
        long fdsBefore = ProcessResources.openFds();
        long mapsBefore = ProcessResources.sluiceMappings();
        try (CacheHost host = CacheHost.bind(dir.resolve("c.sock"));
             PublishedMap prices = host.map("prices", OPTIONS)) {
            prices.writer().put("EURUSD", bytes("1.0841"));
            try (MapSubscription sub = Caches.map(host.path(), "prices")) {
                assertEquals("prices", sub.name());
                assertEquals(1, prices.readerCount());
                assertEquals("1.0841", value(sub.reader(), "EURUSD"), "written before the reader came");
                prices.writer().put("EURUSD", bytes("1.0842"));
                prices.writer().put("GBPUSD", bytes("1.2710"));
                assertEquals("1.0842", value(sub.reader(), "EURUSD"), "the same pages: no message, no copy");
                assertEquals("1.2710", value(sub.reader(), "GBPUSD"));
                assertEquals(2, sub.reader().size());
                assertFalse(sub.isEnded(), "live while the map is served");
                assertFalse(sub.awaitEnd(Duration.ofMillis(20)), "no END while the map is served");

                prices.close(); // END
                assertTrue(sub.awaitEnd(WAIT), "END arrives");
                assertTrue(sub.isEnded());
                assertNull(sub.failure(), "END is no failure");
                assertEquals("1.0842", value(sub.reader(), "EURUSD"), "the last state stays readable after END");
                assertThrows(IllegalStateException.class, () -> prices.writer().put("EURUSD", bytes("9")),
                        "the owner's writer is closed with the published map");
                assertEquals(0, prices.readerCount());
            }
            // The name is free again, for either kind.
            try (PublishedSnapshot again = host.snapshot("prices")) {
                assertEquals("prices", again.name());
            }
        }
        assertEquals(fdsBefore, ProcessResources.awaitOpenFds(fdsBefore, WAIT), "open fds after close");
        assertEquals(mapsBefore, ProcessResources.sluiceMappings(), "nothing stays mapped");
    }

    @Test
    void theHostsCloseEndsEveryMapSubscription() throws Exception {
        long fdsBefore = ProcessResources.openFds();
        CacheHost host = CacheHost.bind(dir.resolve("h.sock"));
        PublishedMap map = host.map("m", OPTIONS);
        map.writer().put("k", bytes("v"));
        try (MapSubscription a = Caches.map(host.path(), "m");
             MapSubscription b = Caches.map(host.path(), "m")) {
            host.close();
            assertTrue(a.awaitEnd(WAIT) && b.awaitEnd(WAIT), "both told");
            assertNull(a.failure());
            assertNull(b.failure());
            assertEquals("v", value(b.reader(), "k"));
            map.close(); // after the host: a no-op
        }
        assertEquals(fdsBefore, ProcessResources.awaitOpenFds(fdsBefore, WAIT), "open fds after close");
    }

    @Test
    void theReadersMappingAndFdAreReadOnlyByTheKernel() throws Exception {
        try (CacheHost host = CacheHost.bind(dir.resolve("ro.sock"));
             PublishedMap map = host.map("ro", OPTIONS);
             MapSubscription sub = Caches.map(host.path(), "ro")) {
            map.writer().put("k", bytes("v"));
            assertTrue(sub.reader().region().seals().containsAll(EnumSet.of(Seal.SHRINK, Seal.GROW, Seal.FUTURE_WRITE, Seal.SEAL)),
                    "sealed before the reader got it: " + sub.reader().region().seals());
            SystemCallException e = assertThrows(SystemCallException.class, () -> sub.reader().region().mapReadWrite());
            assertTrue(Set.of("EACCES", "EPERM").contains(e.errnoName()), "a writable mapping of the reader's fd: " + e.errnoName());
            MemorySegment ro = sub.reader().segment();
            e = assertThrows(SystemCallException.class, () -> io.sluice.testing.TestCalls.mprotect(ro.address(), ro.byteSize(),
                    io.sluice.testing.TestCalls.PROT_READ | io.sluice.testing.TestCalls.PROT_WRITE));
            assertEquals("EACCES", e.errnoName(), "mprotect(PROT_WRITE) of the reader's mapping");
            assertEquals("v", value(sub.reader(), "k"), "nothing changed");
        }
    }

    @Test
    void aNameAskedForWithTheOtherKindsCallIsRefusedSayingWhatItIs() throws Exception {
        long fdsBefore = ProcessResources.openFds();
        try (CacheHost host = CacheHost.bind(dir.resolve("k.sock"));
             PublishedMap map = host.map("prices", OPTIONS);
             PublishedSnapshot snap = host.snapshot("refdata")) {
            snap.publish(Tables.version(1));
            AttachRefusedException e = assertThrows(AttachRefusedException.class, () -> Caches.snapshot(host.path(), "prices"));
            assertEquals(RefusalReason.UNKNOWN_CHANNEL, e.reason());
            assertTrue(e.getMessage().contains("'prices' is a shared map, not a snapshot"), e.getMessage());
            e = assertThrows(AttachRefusedException.class, () -> Caches.map(host.path(), "refdata"));
            assertEquals(RefusalReason.UNKNOWN_CHANNEL, e.reason());
            assertTrue(e.getMessage().contains("'refdata' is a snapshot, not a shared map"), e.getMessage());
            e = assertThrows(AttachRefusedException.class, () -> Caches.map(host.path(), "absent"));
            assertTrue(e.getMessage().contains("no shared map named 'absent'"), e.getMessage());
            assertEquals(3, host.refusals(RefusalReason.UNKNOWN_CHANNEL));

            // A name is one region, whatever its kind.
            SluiceException taken = assertThrows(SluiceException.class, () -> host.map("refdata", OPTIONS));
            assertTrue(taken.getMessage().contains("'refdata' is already served"), taken.getMessage());
            taken = assertThrows(SluiceException.class, () -> host.snapshot("prices"));
            assertTrue(taken.getMessage().contains("'prices' is already served"), taken.getMessage());
            assertEquals(0, map.readerCount());
        }
        assertEquals(fdsBefore, ProcessResources.awaitOpenFds(fdsBefore, WAIT), "open fds after the refusals");
    }

    @Test
    void badArgumentsAndAClosedHostMakeNoMap() {
        try (CacheHost host = CacheHost.bind(dir.resolve("f.sock"))) {
            assertThrows(IllegalArgumentException.class, () -> host.map("bad name", OPTIONS));
            assertThrows(NullPointerException.class, () -> host.map("m", null));
            try (PublishedMap m = host.map("m", OPTIONS)) {
                assertEquals("m", m.name(), "neither refusal took the name");
            }
            host.close();
            assertThrows(IllegalStateException.class, () -> host.map("m", OPTIONS), "a closed host makes no map");
        }
    }
}
