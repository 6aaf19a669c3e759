package io.sluice.memfd;

import io.sluice.api.RegionRefusedException;
import io.sluice.api.SluiceException;
import io.sluice.api.SystemCallException;
import io.sluice.memfd.OwnedFd;
import io.sluice.memfd.libc.FdCalls;
import io.sluice.memfd.libc.MemfdCalls;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.ArrayList;

import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MemfdRegionTest {

    @Test
    void regionIsNamedForOperatorsInProcMaps() throws Exception {
        try (MemfdRegion r = MemfdRegion.create("test.maps-name", 8192)) {
            r.mapReadWrite();
            assertTrue(ProcessResources.maps().stream().anyMatch(l -> l.contains("/memfd:sluice:test.maps-name")),
                    "/proc/self/maps should show memfd:sluice:test.maps-name");
            String link = Files.readSymbolicLink(Path.of("/proc/self/fd/" + r.fd().numberForDiagnostics())).toString();
            assertTrue(link.startsWith("/memfd:sluice:test.maps-name"), link);
        }
    }

    @Test
    void writesThroughOneMappingAreSeenThroughAnother() {
        try (MemfdRegion r = MemfdRegion.create("test.two-maps", 4096)) {
            MemorySegment rw = r.mapReadWrite();
            MemorySegment ro = r.mapReadOnly();
            rw.set(JAVA_LONG, 64, 0x5EA1EDL);
            assertEquals(0x5EA1EDL, ro.get(JAVA_LONG, 64));
            assertTrue(ro.isReadOnly());
        }
    }

    @Test
    void javaWriteToReadOnlyMappingThrowsInsteadOfCrashing() {
        try (MemfdRegion r = MemfdRegion.create("test.ro-write", 4096)) {
            MemorySegment ro = r.mapReadOnly();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ro.set(JAVA_LONG, 0, 1L));
            assertTrue(e.getMessage().contains("read-only"), e.getMessage());
        }
    }

    @Test
    void newRegionCarriesNoexecSealWhereTheKernelSupportsIt() {
        try (MemfdRegion r = MemfdRegion.create("test.noexec", 4096)) {
            // MFD_NOEXEC_SEAL (Linux 6.3+) shows up as F_SEAL_EXEC; older kernels: no seals yet.
            assertTrue(r.seals().contains(Seal.EXEC) || r.seals().isEmpty(), "seals: " + r.seals());
        }
    }

    @Test
    void sealsOfAnotherHoldersFdAreTheRegionsSeals(@TempDir Path dir) throws Exception {
        try (MemfdRegion r = MemfdRegion.create("test.sealsof", 4096)) {
            r.addSeals(Seal.SHRINK, Seal.GROW);
            Path link = Path.of("/proc/self/fd/" + r.fd().numberForDiagnostics());
            assertEquals(r.seals(), MemfdRegion.sealsOf(link));
            r.restrictFutureAccess(Protection.READ_ONLY);
            assertTrue(MemfdRegion.sealsOf(link).contains(Seal.FUTURE_WRITE), "seals are read anew, not cached");
        }
        Path plain = Files.writeString(dir.resolve("plain"), "x");
        SystemCallException notSealable = assertThrows(SystemCallException.class, () -> MemfdRegion.sealsOf(plain));
        assertEquals("EINVAL", notSealable.errnoName());
        SystemCallException missing = assertThrows(SystemCallException.class, () -> MemfdRegion.sealsOf(dir.resolve("missing")));
        assertEquals("ENOENT", missing.errnoName());
    }

    @Test
    void sealsAreReportedAsAdded() {
        try (MemfdRegion r = MemfdRegion.create("test.seals", 4096)) {
            r.addSeals(Seal.SHRINK, Seal.GROW);
            assertTrue(r.seals().containsAll(EnumSet.of(Seal.SHRINK, Seal.GROW)));
            SystemCallException e = assertThrows(SystemCallException.class, () -> r.fd().use(fd -> MemfdCalls.ftruncate(fd, 8192)));
            assertEquals("EPERM", e.errnoName());
            assertTrue(e.getMessage().startsWith("ftruncate: EPERM"), e.getMessage());
        }
    }

    @Test
    void restrictingToReadOnlyKeepsExistingWritableMappingButRefusesNewOnes() {
        try (MemfdRegion r = MemfdRegion.create("test.setprot", 4096)) {
            MemorySegment rw = r.mapReadWrite();
            r.restrictFutureAccess(Protection.READ_ONLY);
            assertTrue(r.seals().contains(Seal.FUTURE_WRITE));
            rw.set(JAVA_LONG, 0, 42L); // the existing writable mapping keeps working
            assertEquals(42L, r.mapReadOnly().get(JAVA_LONG, 0));
            SystemCallException e = assertThrows(SystemCallException.class, r::mapReadWrite);
            assertEquals("mmap", e.call());
            assertEquals("EPERM", e.errnoName());
            assertTrue(e.getMessage().startsWith("region 'test.setprot': mmap: EPERM"), e.getMessage());
            assertThrows(SluiceException.class, () -> r.restrictFutureAccess(Protection.READ_WRITE));
        }
    }

    @Test
    void writeSealFailsWithEbusyWhileAWritableMappingExists() {
        try (MemfdRegion r = MemfdRegion.create("test.seal-write", 4096)) {
            r.mapReadWrite();
            SystemCallException e = assertThrows(SystemCallException.class, () -> r.addSeals(Seal.WRITE));
            assertEquals("EBUSY", e.errnoName());
        }
    }

    @Test
    void filledRegionCanBeSealedImmutableForEveryone() {
        try (MemfdRegion r = MemfdRegion.create("test.fill-then-seal", 4096)) {
            MemorySegment[] leaked = new MemorySegment[1];
            r.fill(seg -> {
                seg.set(JAVA_LONG, 8, 77L);
                leaked[0] = seg;
            });
            r.addSeals(Seal.SHRINK, Seal.GROW, Seal.WRITE); // no writable mapping left: no EBUSY
            assertEquals(77L, r.mapReadOnly().get(JAVA_LONG, 8));
            assertThrows(IllegalStateException.class, () -> leaked[0].get(JAVA_LONG, 8), "fill's segment dies with the call");
            SystemCallException e = assertThrows(SystemCallException.class, r::mapReadWrite);
            assertEquals("EPERM", e.errnoName());
        }
    }

    @Test
    void segmentsAreUnusableAfterCloseInsteadOfTouchingUnmappedMemory() {
        MemfdRegion r = MemfdRegion.create("test.after-close", 4096);
        MemorySegment rw = r.mapReadWrite();
        int fd = r.fd().numberForDiagnostics();
        r.close();
        assertThrows(IllegalStateException.class, () -> rw.get(JAVA_LONG, 0));
        assertFalse(OpenFds.isOpen(fd), "fd should be closed");
        assertThrows(IllegalStateException.class, () -> r.fd().acquire(), "a closed region hands out no fd number");
        assertThrows(IllegalStateException.class, r::mapReadOnly);
        r.close(); // idempotent
    }

    @Test
    void concurrentCloseUnmapsAndClosesExactlyOnce() throws Exception {
        long fdsBefore = ProcessResources.openFds();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            for (int round = 0; round < 200; round++) {
                MemfdRegion r = MemfdRegion.create("test.concurrent-close", 4096);
                r.mapReadWrite();
                r.mapReadOnly();
                CyclicBarrier start = new CyclicBarrier(4);
                List<Future<?>> fs = new ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    fs.add(pool.submit(() -> {
                        start.await(5, TimeUnit.SECONDS);
                        r.close();
                        return null;
                    }));
                }
                for (Future<?> f : fs) {
                    f.get(10, TimeUnit.SECONDS); // any exception (double munmap/close) fails here
                }
                assertTrue(r.isClosed());
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(0, ProcessResources.sluiceMappings());
        assertEquals(fdsBefore, ProcessResources.openFds());
    }

    @Test
    void adoptRefusesAMemfdWithoutTheRequiredSealsAndClosesIt() {
        try (MemfdRegion r = MemfdRegion.create("test.adopt-unsealed", 4096)) {
            r.addSeals(Seal.SHRINK, Seal.GROW);
            int dup = r.fd().apply(fd -> FdCalls.open("/proc/self/fd/" + fd, FdCalls.O_RDWR | FdCalls.O_CLOEXEC, 0));
            RegionRefusedException e = assertThrows(RegionRefusedException.class,
                    () -> MemfdRegion.adopt(OwnedFd.adopt(dup, "dup"), 4096, EnumSet.of(Seal.FUTURE_WRITE)));
            assertTrue(e.getMessage().contains("missing FUTURE_WRITE"), e.getMessage());
            assertFalse(OpenFds.isOpen(dup));
        }
    }

    @Test
    void badNamesAndSizesAreRefusedClearly() {
        assertThrows(IllegalArgumentException.class, () -> MemfdRegion.create("", 4096));
        assertThrows(IllegalArgumentException.class, () -> MemfdRegion.create("a/b", 4096));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MemfdRegion.create("x", 0));
        assertTrue(e.getMessage().contains("size 0 is outside 1.."), e.getMessage());
        long fds = ProcessResources.openFds();
        e = assertThrows(IllegalArgumentException.class, () -> MemfdRegion.create("typo", 1L << 40));
        assertTrue(e.getMessage().contains("region 'typo': size 1099511627776 is outside 1.." + MemfdRegion.MAX_SIZE), e.getMessage());
        assertEquals(fds, ProcessResources.openFds(), "refused before memfd_create");
        assertThrows(IllegalArgumentException.class, () -> MemfdRegion.create("new\nline", 4096));
        assertThrows(IllegalArgumentException.class, () -> MemfdRegion.create("esc\u001b[2J", 4096));
    }

    @Test
    void tenThousandLifecyclesLeaveNoFdOrMappingBehind() {
        // Warm up the code paths first, so lazily created JVM resources are not counted as leaks.
        cycle(100);
        long fds = ProcessResources.openFds();
        long mappings = ProcessResources.sluiceMappings();
        int maps = ProcessResources.maps().size();
        cycle(10_000);
        assertEquals(fds, ProcessResources.openFds(), "open fds after 10,000 cycles");
        assertEquals(mappings, ProcessResources.sluiceMappings(), "sluice mappings after 10,000 cycles");
        assertEquals(0, ProcessResources.sluiceFds(), "sluice memfds still open");
        int mapsAfter = ProcessResources.maps().size();
        // The JVM itself may map or unmap a few areas meanwhile (code cache, GC); a leak of one
        // mapping per cycle would show as thousands.
        assertTrue(Math.abs(mapsAfter - maps) < 50, "/proc/self/maps went from " + maps + " to " + mapsAfter + " lines");
    }

    private static void cycle(int n) {
        for (int i = 0; i < n; i++) {
            try (MemfdRegion r = MemfdRegion.create("test.lifecycle", 16384)) {
                MemorySegment rw = r.mapReadWrite();
                rw.set(JAVA_LONG, 0, i);
                r.addSeals(Seal.SHRINK, Seal.GROW);
                r.restrictFutureAccess(Protection.READ_ONLY);
                MemorySegment ro = r.mapReadOnly();
                if (ro.get(JAVA_LONG, 0) != i) {
                    throw new AssertionError("cycle " + i + " read back " + ro.get(JAVA_LONG, 0));
                }
            }
        }
    }
}
