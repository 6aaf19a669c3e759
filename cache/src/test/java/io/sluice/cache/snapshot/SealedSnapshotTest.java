package io.sluice.cache.snapshot;

import io.sluice.memfd.OwnedFd;
import io.sluice.api.RegionRefusedException;
import io.sluice.api.SystemCallException;
import io.sluice.memfd.MemfdRegion;
import io.sluice.memfd.ProcessResources;
import io.sluice.memfd.Seal;
import io.sluice.testing.TestCalls;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A built snapshot is immutable for everyone, its owner included, and a receiver checks seals,
 * size, header and version before trusting it, leaking nothing when it refuses.
 */
class SealedSnapshotTest {

    private static SnapshotWriter smallTable() {
        SnapshotWriter w = new SnapshotWriter();
        for (int i = 0; i < 100; i++) {
            w.put("SYM" + i, ("ref data " + i).getBytes());
        }
        return w;
    }

    /** A second fd on the same memfd, as a receiver would get it ({@code SCM_RIGHTS} does the same). */
    private static OwnedFd reopen(MemfdRegion region) {
        return TestCalls.reopenReadOnly(region);
    }

    private static String errno(Runnable r) {
        SystemCallException e = assertThrows(SystemCallException.class, r::run);
        return e.errnoName();
    }

    @Test
    void aBuiltSnapshotIsSealedAgainstWritesByEveryoneIncludingItsOwner() {
        try (MemfdRegion region = smallTable().build("test.snapshot-sealed", 1)) {
            Set<Seal> seals = region.seals();
            assertTrue(seals.containsAll(EnumSet.of(Seal.SHRINK, Seal.GROW, Seal.WRITE)), "seals " + seals);
            byte[] before = region.mapReadOnly().toArray(ValueLayout.JAVA_BYTE);

            assertEquals("EPERM", errno(region::mapReadWrite), "the owner's own writable mmap");
            MemorySegment ro = region.mapReadOnly();
            Map<String, String> attempts = WriteAttempts.tryAll(region, ro);
            assertEquals("EPERM", attempts.get("reopen_map_rw"), "re-open read-write and map: " + attempts);
            assertEquals("EPERM", attempts.get("write"), "write(2): " + attempts);
            assertEquals("EPERM", attempts.get("grow"), "ftruncate larger: " + attempts);
            assertEquals("EPERM", attempts.get("shrink"), "ftruncate to zero: " + attempts);
            assertEquals("IllegalArgumentException", attempts.get("java_store"), "a Java store: " + attempts);
            String mprotect = errno(() -> TestCalls.mprotect(ro.address(), region.size(), TestCalls.PROT_READ | TestCalls.PROT_WRITE));
            assertTrue(Set.of("EACCES", "EPERM").contains(mprotect), "mprotect(PROT_WRITE): " + mprotect);

            assertArrayEquals(before, region.mapReadOnly().toArray(ValueLayout.JAVA_BYTE), "no byte changed");
        }
    }

    @Test
    void anAdoptedSnapshotIsLookedUpInPlaceAndCloses() {
        try (MemfdRegion owner = smallTable().build("test.snapshot-adopt", 4)) {
            long fds = ProcessResources.sluiceFds();
            long maps = ProcessResources.sluiceMappings();
            MemorySegment value;
            try (SealedSnapshot s = SealedSnapshot.adopt(reopen(owner), owner.size(), 4)) {
                assertEquals(4, s.version());
                assertEquals(fds + 1, ProcessResources.sluiceFds());
                assertEquals(maps + 1, ProcessResources.sluiceMappings());
                value = s.reader().get("SYM42");
                assertArrayEquals("ref data 42".getBytes(), value.toArray(ValueLayout.JAVA_BYTE));
            }
            assertEquals(fds, ProcessResources.sluiceFds(), "fd closed");
            assertEquals(maps, ProcessResources.sluiceMappings(), "mapping unmapped");
            assertThrows(IllegalStateException.class, () -> value.get(ValueLayout.JAVA_BYTE, 0),
                    "a slice of a closed snapshot throws instead of touching unmapped memory");
        }
    }

    /** Adopting {@code fd} must fail with {@code type}, and leave no fd and no mapping behind. */
    private static <T extends Throwable> T assertRefusedWithoutLeak(Class<T> type, OwnedFd fd, long size, long version, String part) {
        long fds = ProcessResources.openFds() - 1; // the fd under test is about to be consumed
        long maps = ProcessResources.sluiceMappings();
        T e = assertThrows(type, () -> SealedSnapshot.adopt(fd, size, version));
        assertTrue(e.getMessage().contains(part), "message '" + e.getMessage() + "' should contain '" + part + "'");
        assertEquals(fds, ProcessResources.openFds(), "the refused fd was closed");
        assertEquals(maps, ProcessResources.sluiceMappings(), "nothing stays mapped");
        return e;
    }

    @Test
    void aRegionWithoutWriteSealIsRefusedBeforeMapping() {
        SnapshotWriter w = smallTable();
        try (MemfdRegion region = MemfdRegion.create("test.snapshot-future-write", w.regionSize())) {
            w.writeTo(region.mapReadWrite(), 1); // the owner keeps a writable mapping: FUTURE_WRITE only
            region.addSeals(Seal.SHRINK, Seal.GROW, Seal.FUTURE_WRITE);
            assertRefusedWithoutLeak(RegionRefusedException.class, reopen(region), region.size(), 1, "missing WRITE");
        }
    }

    @Test
    void aRegionOfAnotherSizeThanAnnouncedIsRefused() {
        try (MemfdRegion region = smallTable().build("test.snapshot-size", 1)) {
            assertRefusedWithoutLeak(RegionRefusedException.class, reopen(region), region.size() + 8, 1, "promised");
        }
    }

    @Test
    void aTableOfAnotherVersionThanAnnouncedIsRefused() {
        try (MemfdRegion region = smallTable().build("test.snapshot-version", 2)) {
            assertRefusedWithoutLeak(CorruptSnapshotException.class, reopen(region), region.size(), 3,
                    "header says version 2, the owner announced 3");
        }
    }

    @Test
    void aSealedRegionThatIsNoTableIsRefused() {
        try (MemfdRegion region = MemfdRegion.create("test.snapshot-garbage", 4096)) {
            region.fill(s -> s.fill((byte) 0x5A));
            region.addSeals(SnapshotWriter.SEALS);
            assertRefusedWithoutLeak(CorruptSnapshotException.class, reopen(region), 4096, 1, "bad magic");
        }
    }
}
