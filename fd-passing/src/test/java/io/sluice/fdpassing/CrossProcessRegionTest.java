package io.sluice.fdpassing;

import io.sluice.testing.ChildJvm;
import io.sluice.memfd.MemfdRegion;
import io.sluice.memfd.Seal;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * A second JVM attaches through the socket, receives a region sealed SHRINK|GROW|FUTURE_WRITE,
 * reads what this JVM wrote (and a later write), and the kernel refuses it every way of writing.
 */
class CrossProcessRegionTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final long SIZE = 64 * 1024;

    @TempDir
    Path dir;

    @Test
    void childReceivesSealedRegionReadsOurWritesAndIsRefusedEveryWrite() throws Exception {
        Path socketPath = dir.resolve("host.sock");
        try (SeqPacketServer server = SeqPacketServer.bind(socketPath);
             MemfdRegion region = MemfdRegion.create("test.cross-process", SIZE);
             ChildJvm child = ChildJvm.start(SealedRegionChild.class, socketPath.toString(), Long.toString(SIZE))) {
            MemorySegment rw = region.mapReadWrite();
            rw.set(JAVA_LONG, 0, 0xC0FFEEL);
            region.addSeals(Seal.SHRINK, Seal.GROW, Seal.FUTURE_WRITE);

            SeqPacketSocket conn = server.accept(WAIT);
            assertNotNull(conn, () -> "child never connected; its output:\n" + child.output());
            try (conn) {
                PeerCredentials peer = conn.peerCredentials();
                assertEquals(child.pid(), peer.pid(), "SO_PEERCRED pid is the child's");
                assertEquals(procSelf("uid"), peer.uid(), "SO_PEERCRED uid");
                assertEquals(procSelf("gid"), peer.gid(), "SO_PEERCRED gid");

                conn.send("region".getBytes(StandardCharsets.UTF_8), region.fd());
                assertEquals("read1=c0ffee", receive(conn, child));

                rw.set(JAVA_LONG, 0, 0xBEEFL); // our writable mapping still works after FUTURE_WRITE
                conn.send("go".getBytes(StandardCharsets.UTF_8));
                assertEquals("read2=beef", receive(conn, child));

                Map<String, String> refusals = parse(receive(conn, child));
                assertEquals("EPERM", refusals.get("mmap_rw"), "writable mmap");
                assertEquals("EACCES", refusals.get("mprotect_rw"), "mprotect to PROT_WRITE");
                assertEquals("EPERM", refusals.get("write"), "write(2)");
                assertEquals("EPERM", refusals.get("ftruncate_grow"), "ftruncate larger");
                assertEquals("EPERM", refusals.get("ftruncate_shrink"), "ftruncate smaller");
                assertEquals("IllegalArgumentException", refusals.get("java_write"), "Java write to the read-only segment");
                assertEquals(0xBEEFL, rw.get(JAVA_LONG, 0), "nothing the child tried changed the data");

                conn.send("bye".getBytes(StandardCharsets.UTF_8));
            }
            assertEquals(0, child.waitFor(30), () -> "child failed:\n" + child.output());
        }
    }

    static int procSelf(String attribute) throws Exception {
        return (Integer) java.nio.file.Files.getAttribute(Path.of("/proc/self"), "unix:" + attribute);
    }

    private static String receive(SeqPacketSocket conn, ChildJvm child) {
        try (ReceivedMessage m = conn.receive(1024, 0, WAIT)) {
            return new String(m.bytes(), StandardCharsets.UTF_8);
        } catch (RuntimeException e) {
            throw new AssertionError("no answer from the child (" + e.getMessage() + "); its output:\n" + child.output(), e);
        }
    }

    private static Map<String, String> parse(String line) {
        Map<String, String> m = new HashMap<>();
        for (String kv : line.split(" ")) {
            int eq = kv.indexOf('=');
            m.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        return m;
    }
}
