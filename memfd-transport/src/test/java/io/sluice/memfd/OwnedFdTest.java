package io.sluice.memfd;

import io.sluice.api.SystemCallException;
import io.sluice.memfd.libc.FdCalls;
import io.sluice.memfd.libc.MemfdCalls;
import io.sluice.memfd.libc.MmapCalls;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OwnedFdTest {

    @Test
    void aClosedFdHandsOutNoNumberSoARecycledNumberIsNeverReached() throws Exception {
        MemfdRegion region = MemfdRegion.create("test.recycled", 4096);
        OwnedFd fd = region.fd();
        int number = fd.numberForDiagnostics();
        region.close();
        // The kernel reuses the lowest free number: open files until one gets it (another thread
        // of the JVM may take it first; then that file is the "someone else" the number now names).
        Path file = Files.createTempFile("sluice-recycled", ".txt");
        List<Integer> opened = new ArrayList<>();
        try {
            for (int i = 0; i < 64 && !opened.contains(number); i++) {
                opened.add(FdCalls.open(file.toString(), FdCalls.O_RDONLY | FdCalls.O_CLOEXEC, 0));
            }
            assertTrue(OpenFds.isOpen(number), "the number names another file now");
            IllegalStateException e = assertThrows(IllegalStateException.class, fd::acquire);
            assertTrue(e.getMessage().contains("memfd 'sluice:test.recycled' is closed"), e.getMessage());
            assertThrows(IllegalStateException.class, () -> fd.use(n -> { }));
        } finally {
            opened.forEach(FdCalls::closeQuietly);
            Files.deleteIfExists(file);
        }
    }

    @Test
    void closeWaitsForCallsInFlightAndClosesExactlyOnce() throws Exception {
        long seed = new SplittableRandom().nextLong();
        SplittableRandom random = new SplittableRandom(seed);
        long before = ProcessResources.openFds();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            for (int round = 0; round < 300; round++) {
                int raw = FdCalls.open("/dev/null", FdCalls.O_RDONLY | FdCalls.O_CLOEXEC, 0);
                AtomicInteger wrongFile = new AtomicInteger();
                OwnedFd fd = OwnedFd.adopt(raw, "/dev/null #" + round);
                CountDownLatch go = new CountDownLatch(1);
                List<Future<?>> users = new ArrayList<>();
                int spins = random.nextInt(50);
                for (int t = 0; t < 3; t++) {
                    users.add(pool.submit(() -> {
                        go.await();
                        for (int i = 0; i < 20; i++) {
                            try {
                                fd.use(n -> {
                                    // while held, the number still names our /dev/null
                                    if (!FdCalls.fstat(n).typeName().equals("character device")) {
                                        wrongFile.incrementAndGet();
                                    }
                                });
                            } catch (IllegalStateException closed) {
                                return null;
                            }
                        }
                        return null;
                    }));
                }
                users.add(pool.submit(() -> {
                    go.await();
                    for (int i = 0; i < spins; i++) {
                        Thread.onSpinWait();
                    }
                    fd.close();
                    fd.close(); // idempotent
                    return null;
                }));
                go.countDown();
                for (Future<?> f : users) {
                    f.get(10, TimeUnit.SECONDS);
                }
                assertEquals(0, wrongFile.get(), "seed " + seed + ": a held number named another file");
                assertTrue(fd.isClosed());
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(before, ProcessResources.awaitOpenFds(before, java.time.Duration.ofSeconds(5)),
                "seed " + seed + ": every fd closed exactly once");
    }

    @Test
    void regionsAreMode0600() throws Exception {
        try (MemfdRegion r = MemfdRegion.create("test.mode", 4096)) {
            int mode = r.fd().apply(n -> {
                try {
                    return (Integer) Files.getAttribute(Path.of("/proc/self/fd/" + n), "unix:mode");
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            assertEquals(0600, mode & 07777, "mode " + Integer.toOctalString(mode));
        }
    }

    @Test
    void theReadOnlyFdCannotAddSealsWriteOrAllocate() {
        try (MemfdRegion r = MemfdRegion.create("test.read-only-fd", 4096)) {
            r.mapReadWrite();
            r.addSeals(Seal.SHRINK, Seal.GROW);
            OwnedFd ro = r.readOnlyFd();
            assertEquals(FdCalls.O_RDONLY, ro.apply(n -> FdCalls.fcntl(n, FdCalls.F_GETFL, 0)) & FdCalls.O_ACCMODE);
            SystemCallException seal = assertThrows(SystemCallException.class,
                    () -> ro.use(n -> FdCalls.fcntl(n, MemfdCalls.F_ADD_SEALS, Seal.FUTURE_WRITE.bit())));
            assertEquals("EPERM", seal.errnoName());
            try (Arena a = Arena.ofConfined()) {
                SystemCallException write = assertThrows(SystemCallException.class, () -> ro.use(n -> FdCalls.write(n, a.allocate(8))));
                assertEquals("EBADF", write.errnoName());
            }
            SystemCallException map = assertThrows(SystemCallException.class,
                    () -> ro.use(n -> MmapCalls.mmap(4096, MmapCalls.PROT_READ | MmapCalls.PROT_WRITE, MmapCalls.MAP_SHARED, n)));
            assertEquals("EACCES", map.errnoName());
            assertFalse(r.seals().contains(Seal.FUTURE_WRITE), "nothing was added through it");
            assertTrue(ro == r.readOnlyFd(), "one read-only fd per region");
        }
    }

    @Test
    void sealSealMakesEverySealFinal() {
        try (MemfdRegion r = MemfdRegion.create("test.seal-seal", 4096)) {
            r.addSeals(Seal.SHRINK, Seal.GROW, Seal.SEAL);
            SystemCallException e = assertThrows(SystemCallException.class, () -> r.addSeals(Seal.FUTURE_WRITE));
            assertEquals("EPERM", e.errnoName());
            assertTrue(e.getMessage().startsWith("region 'test.seal-seal': adding seals FUTURE_WRITE: fcntl(F_ADD_SEALS): EPERM"),
                    e.getMessage());
        }
    }
}
