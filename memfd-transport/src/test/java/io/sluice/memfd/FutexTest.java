package io.sluice.memfd;

import io.sluice.memfd.libc.FutexCalls;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FutexTest {
    @Test
    void waitTimesOutWhenNobodyWakes() {
        try (MemfdRegion r = MemfdRegion.create("test.futex-timeout", 4096)) {
            MemorySegment word = r.mapReadWrite();
            assertFalse(FutexCalls.futexWait(word, 0, 1_000_000L));
        }
    }

    @Test
    void waitReturnsAtOnceWhenTheWordAlreadyChanged() {
        try (MemfdRegion r = MemfdRegion.create("test.futex-changed", 4096)) {
            MemorySegment word = r.mapReadWrite();
            word.set(JAVA_INT, 0, 7);
            assertTrue(FutexCalls.futexWait(word, 6, 5_000_000_000L));
        }
    }

    @Test
    void wakeThroughAReadOnlyMappingWakesAWaiterOnAnotherMapping() throws Exception {
        try (MemfdRegion r = MemfdRegion.create("test.futex-wake", 4096)) {
            MemorySegment waiterView = r.mapReadWrite();
            MemorySegment wakerView = r.mapReadOnly(); // as a producer holding a consumer's sealed region
            CompletableFuture<Boolean> woken = CompletableFuture.supplyAsync(() -> FutexCalls.futexWait(waiterView, 0, 20_000_000_000L));
            // Wake until the waiter has been seen asleep and woken (bounded: the future's own timeout).
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            int total = 0;
            while (!woken.isDone() && System.nanoTime() < deadline) {
                total += FutexCalls.futexWake(wakerView, 1);
                Thread.onSpinWait();
            }
            assertTrue(woken.get(1, TimeUnit.SECONDS), "waiter returned because it was woken");
            assertEquals(1, total, "exactly one waiter was woken");
        }
    }
}
