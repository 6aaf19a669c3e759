package io.sluice.cache;

import io.sluice.memfd.ProcessResources;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A reader and its host in one JVM: leases keep versions mapped; lookups allocate nothing. */
class SnapshotSubscriptionTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private static long mapsOf(String region) {
        return ProcessResources.maps().stream().filter(l -> l.contains("memfd:sluice:" + region + " ")).count();
    }

    @Test
    void aVersionHeldByALeaseStaysMappedUntilReleasedEvenAfterANewOneArrived() throws Exception {
        long fdsBefore = ProcessResources.sluiceFds();
        try (CacheHost host = CacheHost.bind(dir.resolve("c.sock"));
             PublishedSnapshot snap = host.snapshot("held")) {
            snap.publish(Tables.version(1));
            List<Long> told = new CopyOnWriteArrayList<>();
            CountDownLatch toldOnce = new CountDownLatch(1);
            try (SnapshotSubscription sub = Caches.snapshot(host.path(), "held")) {
                sub.addListener(v -> {
                    told.add(v);
                    toldOnce.countDown();
                });
                assertEquals(1, sub.version());
                SnapshotLease v1 = sub.acquire();
                MemorySegment value = v1.get("k7");
                snap.publish(Tables.version(2));
                assertTrue(sub.awaitVersion(2, WAIT), "version 2 arrives");
                // awaitVersion returns once version 2 is current; the receiving thread drops its hold
                // on version 1 and tells the listeners after that: wait for it before counting.
                assertTrue(toldOnce.await(WAIT.toMillis(), TimeUnit.MILLISECONDS), "the listener is told of version 2");
                assertEquals(List.of(2L), told);
                assertEquals(1, mapsOf("held.v1"), "v1 is still mapped: a lease holds it");
                assertEquals("v1:7", new String(value.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8));
                try (SnapshotLease v2 = sub.acquire()) {
                    assertEquals(2, v2.version(), "new acquires get the new version");
                    assertEquals(Tables.entries(2), Tables.matching(v2));
                }
                v1.close();
                assertEquals(0, mapsOf("held.v1"), "the last release of a replaced version unmaps it");
                assertThrows(IllegalStateException.class, () -> value.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0),
                        "a slice of an unmapped version throws, never reads freed memory");
                assertThrows(IllegalStateException.class, v1::close, "released more often than acquired");
                assertEquals(1, mapsOf("held.v2"));
            }
            assertEquals(0, mapsOf("held.v2"), "close unmaps the current version");
        }
        assertEquals(fdsBefore, ProcessResources.sluiceFds());
    }

    @Test
    void acquiringAndLookingUpAllocateNothing() throws Exception {
        try (CacheHost host = CacheHost.bind(dir.resolve("a.sock"));
             PublishedSnapshot snap = host.snapshot("alloc")) {
            snap.publish(Tables.version(1));
            try (SnapshotSubscription sub = Caches.snapshot(host.path(), "alloc")) {
                MemorySegment[] keys = new MemorySegment[64];
                for (int i = 0; i < keys.length; i++) {
                    keys[i] = MemorySegment.ofArray(("k" + i * 3).getBytes(StandardCharsets.UTF_8));
                }
                long found = 0;
                for (int round = 0; round < 20; round++) {
                    found += lookUp(sub, keys); // warm up: compiled before measuring
                }
                allocatedBytes(); // the reflective call's own first-use costs, outside the measure
                long before = allocatedBytes();
                found += lookUp(sub, keys);
                long allocated = allocatedBytes() - before;
                assertTrue(found > 0);
                assertTrue(allocated < 1024, allocated + " bytes allocated by 640,000 acquire/findEntry/release");
            }
        }
    }

    /**
     * This thread's allocated bytes (com.sun.management.ThreadMXBean), reached reflectively: the
     * cache module does not read java.management, and tests run on the class path.
     */
    private static long allocatedBytes() throws Exception {
        return (Long) ALLOCATED.invoke(THREADS);
    }

    private static final Object THREADS;
    private static final java.lang.reflect.Method ALLOCATED;

    static {
        try {
            THREADS = Class.forName("java.lang.management.ManagementFactory").getMethod("getThreadMXBean").invoke(null);
            ALLOCATED = Class.forName("com.sun.management.ThreadMXBean").getMethod("getCurrentThreadAllocatedBytes");
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static long lookUp(SnapshotSubscription sub, MemorySegment[] keys) {
        long sum = 0;
        for (int i = 0; i < 10_000; i++) {
            try (SnapshotLease s = sub.acquire()) {
                for (MemorySegment key : keys) {
                    long entry = s.findEntry(key);
                    if (entry >= 0) {
                        sum += s.reader().valueLength(entry) + s.segment().get(java.lang.foreign.ValueLayout.JAVA_BYTE, s.reader().valueOffset(entry));
                    }
                }
            }
        }
        return sum;
    }
}
