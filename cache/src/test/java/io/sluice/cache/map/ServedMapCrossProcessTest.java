package io.sluice.cache.map;

import io.sluice.cache.CacheHost;
import io.sluice.cache.PublishedMap;
import io.sluice.channel.ChannelHost;
import io.sluice.memfd.ProcessResources;
import io.sluice.testing.ChildJvm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A shared map served by a {@link CacheHost} and read by other JVMs through
 * {@link io.sluice.cache.Caches#map}, as applications use it: a reader JVM racing the owner sees
 * only whole values (checksummed), cannot write the map by any means the kernel offers, is told
 * of the map's close and then reads exactly the values last written, and leaks nothing; updates
 * a second JVM sends through the map's MPMC channel reach a third JVM's lookups. No sleeps: every
 * wait is for an event, bounded.
 */
class ServedMapCrossProcessTest {
    private static final long DEADLINE_NANOS = 90_000_000_000L;
    private static final int KEYS = 48;
    private static final long FINAL = 1L << 40; // the values written last: key i holds FINAL + i

    @TempDir
    Path dir;

    @Test
    void aReaderJvmReadsTheServedMapWhileTheOwnerWritesAndIsToldOfItsClose() throws Exception {
        long sluiceFdsBefore = ProcessResources.sluiceFds();
        Path socket = dir.resolve("maps.sock");
        try (CacheHost host = CacheHost.bind(socket);
             PublishedMap prices = host.map("test.served", SharedMapOptions.of(64, 16, Checksummed.MAX_LENGTH))) {
            SharedMapWriter w = prices.writer();
            MemorySegment value = MemorySegment.ofArray(new byte[Checksummed.MAX_LENGTH]);
            MemorySegment[] keys = new MemorySegment[KEYS];
            for (int i = 0; i < KEYS; i++) {
                keys[i] = MemorySegment.ofArray(RacingReaderChild.key(i));
                w.put(keys[i], value.asSlice(0, Checksummed.write(value, i)));
            }
            try (ChildJvm child = ChildJvm.launcher(ServedMapReaderChild.class).withoutStdin()
                    .start("race", socket.toString(), "test.served", "1500", Integer.toString(KEYS), Long.toString(FINAL))) {
                String writes = child.awaitLine("writes ", 30);
                assertEquals(1, prices.readerCount(), "the reader is subscribed");
                assertFalse(writes.contains("ALLOWED"), "the kernel refuses every write of the reader: " + writes);
                assertTrue(writes.contains("mmap_rw=EACCES") && writes.contains("mprotect=EACCES"),
                        "a writable mapping of the reader's read-only fd, and PROT_WRITE on its mapping: " + writes);

                // Write at full speed until the child reports (it reads for 1.5 s by its own clock).
                long deadline = System.nanoTime() + DEADLINE_NANOS;
                long n = KEYS;
                while (child.lines("read ").isEmpty()) {
                    for (int batch = 0; batch < 4096; batch++, n++) {
                        w.put(keys[(int) (n % KEYS)], value.asSlice(0, Checksummed.write(value, n)));
                    }
                    assertTrue(System.nanoTime() < deadline && child.isAlive(), () -> "no report from the child:\n" + child.output());
                }
                Map<String, Long> r = parse(child.lines("read ").getFirst());
                System.out.println("served map, racing reader: " + r + ", owner wrote " + w.updatesApplied() + " updates");
                assertEquals(0L, r.get("torn"), "values that were not written whole: " + r);
                assertEquals(0L, r.get("absent"), "a key live all along was reported absent: " + r);
                assertTrue(r.get("lookups") > 1_000, "the child looked up: " + r);
                assertTrue(r.get("newest") >= KEYS, "the child saw the owner's writes as they were made: " + r);

                for (int i = 0; i < KEYS; i++) {
                    w.put(keys[i], value.asSlice(0, Checksummed.write(value, FINAL + i)));
                }
                prices.close(); // END; the writer is closed: the map no longer changes
                assertEquals("ended=true failure=null", child.awaitLine("ended=", 30), child::output);
                assertEquals("final matched=" + KEYS + " of " + KEYS, child.awaitLine("final ", 30),
                        "after END the reader reads exactly the values last written");
                assertEquals("closed fds=0 maps=0 leaked=0", child.awaitLine("closed ", 30), child::output);
                assertEquals(0, child.waitFor(30), child::output);
            }
        }
        assertEquals(sluiceFdsBefore, ProcessResources.sluiceFds(), "the host closed the map");
    }

    @Test
    void updatesSentFromOneJvmReachLookupsInAnother() throws Exception {
        int count = 5_000;
        SharedMapOptions options = SharedMapOptions.of(200, 16, 32);
        Path updates = dir.resolve("updates.sock");
        Path maps = dir.resolve("maps.sock");
        try (ChannelHost channels = ChannelHost.bind(updates);
             CacheHost host = CacheHost.bind(maps);
             PublishedMap map = host.map("test.shared", options)) {
            SharedMapWriter w = map.writer();
            w.hostUpdates(channels, "test.shared.updates", SharedMapUpdates.channelOptions(options, 16));
            try (ChildJvm reader = ChildJvm.launcher(ServedMapReaderChild.class).withoutStdin()
                    .start("digest", maps.toString(), "test.shared", "s0-done", "s1-done");
                 ChildJvm sender = ChildJvm.launcher(UpdaterChild.class).withoutStdin()
                         .start(updates.toString(), "test.shared.updates", "2", Integer.toString(count))) {
                long deadline = System.nanoTime() + DEADLINE_NANOS;
                while (!(w.contains(seg("s0-done")) && w.contains(seg("s1-done")))) {
                    if (w.applyUpdates(64) == 0) {
                        assertTrue(System.nanoTime() < deadline, () -> "updates stopped coming:\n" + sender.output());
                        Thread.onSpinWait();
                    }
                }
                assertEquals(0, sender.waitFor(60), sender::output);
                Map<String, String> model = new TreeMap<>();
                for (int s = 0; s < 2; s++) {
                    for (UpdaterChild.Update u : UpdaterChild.updates(s, count)) {
                        if (u.value() == null) {
                            model.remove(u.key());
                        } else {
                            model.put(u.key(), new String(u.value(), StandardCharsets.US_ASCII));
                        }
                    }
                }
                assertEquals("map " + model, reader.awaitLine("map ", 60), "the third JVM reads what the second sent");
                assertEquals(0, w.rejectedUpdates());
                map.close();
                assertEquals("ended=true failure=null", reader.awaitLine("ended=", 30), reader::output);
                assertEquals("closed fds=0 maps=0 leaked=0", reader.awaitLine("closed ", 30), reader::output);
                assertEquals(0, reader.waitFor(30), reader::output);
            }
        }
    }

    private static MemorySegment seg(String s) {
        return MemorySegment.ofArray(s.getBytes(StandardCharsets.US_ASCII));
    }

    private static Map<String, Long> parse(String line) {
        Map<String, Long> kv = new HashMap<>();
        for (String pair : line.substring(line.indexOf(' ') + 1).split(" ")) {
            int eq = pair.indexOf('=');
            kv.put(pair.substring(0, eq), Long.parseLong(pair.substring(eq + 1)));
        }
        return kv;
    }
}
