package io.sluice.cache.map;

import io.sluice.api.Role;
import io.sluice.channel.ChannelHost;
import io.sluice.channel.HostedMpmcChannel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Lookups allocate nothing: copying into the caller's buffer, reading in place, contains, misses;
 * nor does the owner applying updates that came through its channel.
 */
class SharedMapAllocationTest {
    @TempDir
    Path dir;
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

    @Test
    void applyingUpdatesFromTheChannelAllocatesNothing() {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        SharedMapOptions options = SharedMapOptions.of(KEYS, 16, Checksummed.MAX_LENGTH);
        try (ChannelHost host = ChannelHost.bind(dir.resolve("alloc.sock"));
             SharedMapWriter w = SharedMapWriter.create("test.map-apply-alloc", options)) {
            HostedMpmcChannel channel = w.hostUpdates(host, "test.map-apply", SharedMapUpdates.channelOptions(options, 64));
            try (SharedMapUpdater updater = SharedMapUpdater.over(channel.attachLocal(Role.PRODUCER))) {
                MemorySegment[] keys = new MemorySegment[KEYS];
                MemorySegment[] values = new MemorySegment[KEYS];
                for (int i = 0; i < KEYS; i++) {
                    keys[i] = MemorySegment.ofArray(RacingReaderChild.key(i));
                    values[i] = MemorySegment.ofArray(Checksummed.of(i));
                }
                int rounds = 20_000;
                updates(w, updater, keys, values, rounds); // warm up: compiled code, not the interpreter
                long thread = Thread.currentThread().threadId();
                long before = threads.getThreadAllocatedBytes(thread);
                long applied = w.updatesApplied();
                updates(w, updater, keys, values, rounds);
                long allocated = threads.getThreadAllocatedBytes(thread) - before;
                assertEquals(rounds * 32L, w.updatesApplied() - applied);
                assertEquals(0, w.rejectedUpdates());
                // 640 000 updates sent and applied: 40 bytes each would be 25 MB.
                assertTrue(allocated < 64 * 1024, "updates allocated " + allocated + " bytes ("
                        + (double) allocated / (32.0 * rounds) + " B/update)");
            }
        }
    }

    private static void updates(SharedMapWriter w, SharedMapUpdater updater, MemorySegment[] keys,
                                MemorySegment[] values, int rounds) {
        for (int r = 0; r < rounds; r++) {
            for (int i = 0; i < 32; i++) {
                int k = (r * 32 + i) % KEYS;
                assertTrue(updater.offerPut(keys[k], values[k]), "the ring holds 64 updates");
            }
            int taken = 0;
            while (taken < 32) {
                taken += w.applyUpdates(32);
            }
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
