package io.sluice.cache.map;

import io.sluice.api.Role;
import io.sluice.channel.ChannelHost;
import io.sluice.channel.HostedMpmcChannel;
import io.sluice.channel.MpmcAttachment;
import io.sluice.fdpassing.ReceivedMessage;
import io.sluice.fdpassing.SeqPacketServer;
import io.sluice.fdpassing.SeqPacketSocket;
import io.sluice.testing.ChildJvm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The map between processes: a reader JVM racing the owner at full speed never returns a value
 * that was not written whole; an owner JVM killed with {@code kill -9} in the middle of its updates
 * leaves every live entry whole; updates sent by another JVM through the MPMC channel are all
 * applied, exactly once, each sender's in order. No sleeps: every wait is for an event, bounded.
 */
class SharedMapCrossProcessTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final long DEADLINE_NANOS = 90_000_000_000L;

    @TempDir
    Path dir;

    @Test
    void aReaderInAnotherJvmNeverSeesATornValue() throws Exception {
        Path socket = dir.resolve("race.sock");
        try (SharedMapWriter w = SharedMapWriter.create("test.map-race", SharedMapOptions.of(64, 16, Checksummed.MAX_LENGTH));
             SeqPacketServer server = SeqPacketServer.bind(socket);
             ChildJvm child = ChildJvm.launcher(RacingReaderChild.class).withoutStdin().start(socket.toString(), "3000")) {
            MemorySegment value = MemorySegment.ofArray(new byte[Checksummed.MAX_LENGTH]);
            MemorySegment[] keys = new MemorySegment[RacingReaderChild.KEYS];
            for (int i = 0; i < keys.length; i++) {
                keys[i] = MemorySegment.ofArray(RacingReaderChild.key(i));
                w.put(keys[i], value.asSlice(0, Checksummed.write(value, i)));
            }
            SeqPacketSocket conn = server.accept(WAIT);
            assertNotNull(conn, () -> "the child did not connect; its output:\n" + child.output());
            try (conn) {
                conn.send(Long.toString(w.regionSize()).getBytes(StandardCharsets.US_ASCII), w.readOnlyFd());
                // Write at full speed until the child reports (it reads for 3 s by its own clock).
                long deadline = System.nanoTime() + DEADLINE_NANOS;
                long n = keys.length;
                ReceivedMessage report = null;
                while (report == null) {
                    for (int batch = 0; batch < 4096; batch++, n++) {
                        int i = (int) (n % keys.length);
                        if (i >= RacingReaderChild.STABLE_KEYS && (n / keys.length) % 2 == 1) {
                            w.remove(keys[i]); // the unstable keys come and go: tombstones, reinserts
                        } else {
                            w.put(keys[i], value.asSlice(0, Checksummed.write(value, n)));
                        }
                    }
                    report = conn.tryReceive(1024, 0);
                    assertTrue(System.nanoTime() < deadline, () -> "no report from the child; its output:\n" + child.output());
                }
                Map<String, Long> r;
                try (ReceivedMessage received = report) {
                    r = parse(new String(received.bytes(), StandardCharsets.US_ASCII));
                }
                System.out.println("racing reader: " + r + ", owner wrote " + w.updatesApplied() + " updates");
                assertEquals(0L, r.get("torn"), "values that were not written whole: " + r);
                assertEquals(0L, r.get("absent_stable"), "a key live all along was reported absent: " + r);
                assertTrue(r.get("lookups") > 10_000, "the child looked up: " + r);
                assertTrue(r.get("walked") > 0, "the child walked the map: " + r);
                assertTrue(r.get("newest") > keys.length, "the child saw the owner's updates: " + r);
            }
            assertEquals(0, child.waitFor(30), () -> "child failed; its output:\n" + child.output());
        }
    }

    @Test
    void aWriterKilledMidUpdateLeavesOnlyWholeValues() throws Exception {
        for (int round = 0; round < 2; round++) {
            Path socket = dir.resolve("killed-" + round + ".sock");
            try (SeqPacketServer server = SeqPacketServer.bind(socket);
                 ChildJvm child = ChildJvm.launcher(KilledWriterChild.class).withoutStdin().start(socket.toString())) {
                SeqPacketSocket conn = server.accept(WAIT);
                assertNotNull(conn, () -> "the child did not connect; its output:\n" + child.output());
                SharedMapReader r;
                try (conn; ReceivedMessage m = conn.receive(64, 1, WAIT)) {
                    r = SharedMapReader.adopt(m.takeFd(0), Long.parseLong(new String(m.bytes(), StandardCharsets.US_ASCII)));
                }
                try (r) {
                    // Wait (bounded) until the owner is deep in its loop, then kill it mid-stride.
                    long deadline = System.nanoTime() + DEADLINE_NANOS;
                    long target = 200_000 + round * 100_000L;
                    while (r.updatesApplied() < target) {
                        assertTrue(System.nanoTime() < deadline, () -> "the owner never got going; its output:\n" + child.output());
                        Thread.onSpinWait();
                    }
                    child.kill();
                    child.waitFor(30);
                    long applied = r.updatesApplied();
                    assertTrue(applied >= target, "updates applied " + applied);
                    MemorySegment dst = MemorySegment.ofArray(new byte[Checksummed.MAX_LENGTH]);
                    int live = 0;
                    for (int i = 0; i < 64; i++) {
                        int length = r.get(RacingReaderChild.key(i), dst);
                        if (length != SharedMapReader.ABSENT) {
                            live++;
                            assertTrue(Checksummed.verify(dst, length) >= 0, "key " + i + " after the kill holds a torn value");
                        }
                    }
                    long[] walked = new long[2];
                    r.forEach((k, v) -> {
                        walked[0]++;
                        if (Checksummed.verify(v, v.byteSize()) < 0) {
                            walked[1]++;
                        }
                    });
                    assertEquals(live, walked[0], "lookups and the walk agree on the live keys");
                    assertEquals(0, walked[1], "torn values found by the walk");
                    assertTrue(live > 40, "most keys are live: " + live);
                }
            }
        }
    }

    @Test
    void updatesFromAnotherJvmAreAllAppliedInOrder() throws Exception {
        int senders = 2;
        int count = 20_000;
        Path socket = dir.resolve("updates.sock");
        SharedMapOptions options = SharedMapOptions.of(200, 16, 32);
        try (ChannelHost host = ChannelHost.bind(socket);
             SharedMapWriter w = SharedMapWriter.create("test.map-updates", options)) {
            // A small ring: the senders meet back-pressure.
            w.hostUpdates(host, "test.map-updates", SharedMapUpdates.channelOptions(options, 16));
            try (ChildJvm child = ChildJvm.launcher(UpdaterChild.class).withoutStdin()
                    .start(socket.toString(), "test.map-updates", Integer.toString(senders), Integer.toString(count))) {
                long deadline = System.nanoTime() + DEADLINE_NANOS;
                long taken = 0;
                while (!(w.contains(seg("s0-done")) && w.contains(seg("s1-done")))) {
                    int n = w.applyUpdates(64);
                    taken += n;
                    if (n == 0) {
                        assertTrue(System.nanoTime() < deadline, "updates stopped coming; the child said:\n" + child.output());
                        Thread.onSpinWait();
                    }
                }
                assertEquals(0, child.waitFor(60), () -> "child failed; its output:\n" + child.output());
                System.out.println("updates: " + taken + " taken; " + child.lines("SENT"));
            }
            Map<String, String> model = new TreeMap<>();
            long changes = 0;
            for (int s = 0; s < senders; s++) {
                for (UpdaterChild.Update u : UpdaterChild.updates(s, count)) {
                    if (u.value() == null) {
                        changes += model.remove(u.key()) != null ? 1 : 0;
                    } else {
                        model.put(u.key(), new String(u.value(), StandardCharsets.US_ASCII));
                        changes++;
                    }
                }
            }
            Map<String, String> actual = new TreeMap<>();
            w.forEach((k, v) -> actual.put(new String(k.toArray(ValueLayout.JAVA_BYTE), StandardCharsets.US_ASCII),
                    new String(v.toArray(ValueLayout.JAVA_BYTE), StandardCharsets.US_ASCII)));
            assertEquals(model, actual, "each sender's updates applied in the order sent");
            assertEquals(changes, w.updatesApplied(), "every update applied exactly once");
            assertEquals(0, w.rejectedUpdates());
        }
    }

    @Test
    void malformedUpdatesAreRejectedWholeAndCounted() {
        SharedMapOptions options = SharedMapOptions.of(4, 8, 8);
        try (ChannelHost host = ChannelHost.bind(dir.resolve("bad.sock"));
             SharedMapWriter w = SharedMapWriter.create("test.map-bad-updates", options)) {
            HostedMpmcChannel channel = w.hostUpdates(host, "test.map-bad", SharedMapUpdates.channelOptions(options, 16));
            try (MpmcAttachment raw = channel.attachLocal(Role.PRODUCER);
                 SharedMapUpdater good = SharedMapUpdater.over(channel.attachLocal(Role.PRODUCER))) {
                MemorySegment m = MemorySegment.ofArray(new long[8]);
                m.set(SharedMapDescriptor.U32, 0, 9); // key length 9 > 8
                m.set(SharedMapDescriptor.U32, 4, 0);
                assertTrue(raw.offer(SharedMapUpdates.PUT, m, 0, 17));
                m.set(SharedMapDescriptor.U32, 0, 2); // key 2 + value 9 > 8
                m.set(SharedMapDescriptor.U32, 4, 9);
                assertTrue(raw.offer(SharedMapUpdates.PUT, m, 0, 19));
                m.set(SharedMapDescriptor.U32, 4, 1); // lengths say 11 bytes, message has 12
                assertTrue(raw.offer(SharedMapUpdates.PUT, m, 0, 12));
                assertTrue(raw.offer(SharedMapUpdates.REMOVE, m, 0, 3)); // shorter than its header
                assertTrue(raw.offer(7, m, 0, 8));                      // unknown type
                assertTrue(good.offerPut("a", new byte[]{1}));
                for (int i = 0; i < 4; i++) {
                    assertTrue(good.offerPut("f" + i, new byte[0]));   // the last: a new key into a full map
                }
                assertTrue(good.offerRemove("a"));
                int taken = 0;
                while (taken < 11) {
                    taken += w.applyUpdates(16);
                }
                assertEquals(6, w.rejectedUpdates());
                assertEquals(5, w.updatesApplied(), "a, f0, f1, f2 put, then a removed");
                assertEquals(3, w.size());
                assertEquals(3, w.forEach((k, v) -> assertEquals(0, v.byteSize())), "f0, f1, f2 live, nothing of the rejected ones");
            }
        }
    }

    private static MemorySegment seg(String s) {
        return MemorySegment.ofArray(s.getBytes(StandardCharsets.US_ASCII));
    }

    private static Map<String, Long> parse(String report) {
        Map<String, Long> kv = new HashMap<>();
        for (String pair : report.split(" ")) {
            int eq = pair.indexOf('=');
            kv.put(pair.substring(0, eq), Long.parseLong(pair.substring(eq + 1)));
        }
        return kv;
    }
}
