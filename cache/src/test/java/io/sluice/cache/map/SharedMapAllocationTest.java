package io.sluice.cache.map;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Lookups allocate nothing: copying into the caller's buffer, reading in place, contains, misses. */
class SharedMapAllocationTest {
    private static final int KEYS = 100;
    private long sum;

    @Test
    void lookupsAllocateNothing() {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        try (SharedMapWriter w = SharedMapWriter.create("test.map-alloc", SharedMapOptions.of(KEYS, 16, Checksummed.MAX_LENGTH));
             SharedMapReader r = SharedMapReader.adopt(io.sluice.testing.TestCalls.reopenReadOnly(w.region()), w.regionSize())) {
            MemorySegment[] keys = new MemorySegment[KEYS * 2];
            for (int i = 0; i < keys.length; i++) {
                keys[i] = MemorySegment.ofArray(RacingReaderChild.key(i));
                if (i < KEYS) {
                    w.put(keys[i], MemorySegment.ofArray(Checksummed.of(i)));
                }
            }
            MemorySegment dst = MemorySegment.ofArray(new byte[Checksummed.MAX_LENGTH]);
            ValueReader<Boolean> reader = (map, at, length) -> {
                sum += map.get(Checksummed.U64, at) + length;
                return Boolean.TRUE;
            };
            int rounds = 200_000;
            lookups(r, keys, dst, reader, rounds); // warm up: compiled code, not the interpreter
            long thread = Thread.currentThread().threadId();
            long before = threads.getThreadAllocatedBytes(thread);
            int found = lookups(r, keys, dst, reader, rounds);
            long allocated = threads.getThreadAllocatedBytes(thread) - before;
            assertEquals(rounds / 2 * 3, found, "hits: half the keys are absent");
            // 600 000 lookups: anything per lookup would show as megabytes.
            assertTrue(allocated < 64 * 1024, "lookups allocated " + allocated + " bytes (" + (double) allocated / (3.0 * rounds) + " B/op)");
        }
    }

    private int lookups(SharedMapReader r, MemorySegment[] keys, MemorySegment dst, ValueReader<Boolean> reader, int rounds) {
        int found = 0;
        for (int i = 0; i < rounds; i++) {
            MemorySegment key = keys[i % keys.length];
            if (r.get(key, dst) >= 0) {
                found++;
            }
            if (r.read(key, reader) != null) {
                found++;
            }
            if (r.contains(key)) {
                found++;
            }
        }
        return found;
    }
}
