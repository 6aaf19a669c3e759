package io.sluice.examples.snapshot;

import io.sluice.cache.snapshot.SnapshotWriter;
import io.sluice.cache.snapshot.SealedSnapshot;
import io.sluice.cache.snapshot.SnapshotMessages;
import io.sluice.testing.ChildJvm;
import io.sluice.fdpassing.ReceivedMessage;
import io.sluice.fdpassing.SeqPacketServer;
import io.sluice.fdpassing.SeqPacketSocket;
import io.sluice.memfd.MemfdRegion;
import io.sluice.memfd.ProcessResources;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * The owner side in this JVM, a reader in a second JVM: the child receives two successive
 * versions over the socket, each a new sealed memfd, looks every symbol up in place and finds
 * exactly what the owner put; nothing leaks on either side.
 */
class CrossProcessSnapshotTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    @Test
    void aChildJvmReceivesTwoVersionsFindsEveryValueInPlaceAndNothingLeaks() throws Exception {
        warmUp();
        long fdsBefore = ProcessResources.openFds();
        Map<String, String> fdListBefore = fdList();
        long sluiceFdsBefore = ProcessResources.sluiceFds();
        Path socketPath = dir.resolve("snapshot.sock");
        try (SeqPacketServer server = SeqPacketServer.bind(socketPath);
             ChildJvm child = ChildJvm.launcher(SnapshotChild.class)
                     .jvmOptions("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC").withoutStdin().start(socketPath.toString())) {
            SeqPacketSocket conn = server.accept(WAIT);
            assertNotNull(conn, () -> "the child did not connect within " + WAIT + "; its output:\n" + child.output());
            try (conn) {
                assertEquals(child.pid(), conn.peerCredentials().pid(), "SO_PEERCRED names the child");
                for (long version = 1; version <= 2; version++) {
                    try (MemfdRegion table = ReferenceData.table(version).build("test.refdata.v" + version, version)) {
                        conn.send(SnapshotMessages.publish(version, table.size()), table.fd());
                    } // closed at once: the fd in flight and then the child's keep the memfd alive
                    Map<String, String> r = report(conn, child);
                    int listed = ReferenceData.instrumentCount(version);
                    String context = "version " + version + ", child said " + r;
                    assertEquals(Long.toString(version), r.get("version"), context);
                    assertEquals(Integer.toString(listed), r.get("entries"), context);
                    assertEquals(Integer.toString(listed), r.get("found"), context);
                    assertEquals(Integer.toString(listed), r.get("matched"), context);
                    assertEquals("500", r.get("absent"), context);
                    assertEquals("EPERM", r.get("mmap_rw"), context);
                    assertEquals("1", r.get("sluice_fds"), "the child closed the previous version's fd; " + context);
                    assertEquals("1", r.get("sluice_maps"), "the child unmapped the previous version; " + context);
                }
                conn.send(SnapshotMessages.end());
                Map<String, String> done = report(conn, child);
                assertEquals("0", done.get("sluice_fds"), "child: " + done);
                assertEquals("0", done.get("sluice_maps"), "child: " + done);
            }
            assertEquals(0, child.waitFor(30), () -> "child failed; its output:\n" + child.output());
        }
        assertEquals(sluiceFdsBefore, ProcessResources.sluiceFds(), "memfd fds in this JVM");
        // The JDK closes the child's pipes on its own threads once the child has exited.
        assertEquals(fdsBefore, ProcessResources.awaitOpenFds(fdsBefore, Duration.ofSeconds(10)),
                () -> "open fds in this JVM; before: " + fdListBefore
                + "\nafter: " + fdList());
    }

    /** fd number -> what it is, from /proc/self/fd, for a failure message. */
    private static Map<String, String> fdList() {
        Map<String, String> fds = new java.util.TreeMap<>();
        try (var list = java.nio.file.Files.list(Path.of("/proc/self/fd"))) {
            list.forEach(p -> {
                try {
                    fds.put(p.getFileName().toString(), java.nio.file.Files.readSymbolicLink(p).toString());
                } catch (java.io.IOException e) {
                    // closed while listing (the directory stream's own fd)
                }
            });
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return fds;
    }

    private static Map<String, String> report(SeqPacketSocket conn, ChildJvm child) {
        try (ReceivedMessage m = conn.receive(SnapshotMessages.MAX_LENGTH, 0, WAIT)) {
            assertEquals(SnapshotMessages.REPORT, SnapshotMessages.type(m.data(), m.fdCount()));
            Map<String, String> kv = new HashMap<>();
            for (String pair : SnapshotMessages.decodeReport(m.data()).split(" ")) {
                int eq = pair.indexOf('=');
                kv.put(eq < 0 ? pair : pair.substring(0, eq), eq < 0 ? "" : pair.substring(eq + 1));
            }
            return kv;
        } catch (RuntimeException e) {
            throw new AssertionError("no report from the child (" + e + "); its output:\n" + child.output(), e);
        }
    }

    /**
     * The same steps in-process once, so that every class and jar this test uses is loaded (the
     * class loader keeps jar files open) before the fds are counted.
     */
    private void warmUp() {
        SnapshotWriter w = new SnapshotWriter().put("warm", new byte[]{1});
        try (SeqPacketServer server = SeqPacketServer.bind(dir.resolve("warm.sock"));
             SeqPacketSocket out = SeqPacketSocket.connect(server.path());
             SeqPacketSocket in = server.accept(WAIT);
             MemfdRegion table = w.build("test.warm-up", 1)) {
            out.send(SnapshotMessages.publish(1, table.size()), table.fd());
            try (ReceivedMessage m = in.receive(SnapshotMessages.MAX_LENGTH, 1, WAIT)) {
                SnapshotMessages.type(m.data(), m.fdCount());
                SnapshotMessages.Publish p = SnapshotMessages.decodePublish(m.data());
                try (SealedSnapshot s = SealedSnapshot.adopt(m.takeFd(0), p.regionSize(), p.version())) {
                    s.reader().verify();
                    assertNotNull(s.reader().get("warm"));
                }
            }
            in.send(SnapshotMessages.report("warm"));
            try (ReceivedMessage m = out.receive(SnapshotMessages.MAX_LENGTH, 0, WAIT)) {
                SnapshotMessages.decodeReport(m.data());
            }
        }
    }
}
