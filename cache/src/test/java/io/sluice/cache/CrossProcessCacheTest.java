package io.sluice.cache;

import io.sluice.memfd.ProcessResources;
import io.sluice.testing.ChildJvm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A reader JVM subscribes to a snapshot this JVM hosts, gets the current version, is told of three
 * new ones and switches to each; each old version's mapping is gone from its {@code /proc/self/maps}
 * once it switched, and after END and close it holds no memfd, no mapping and no fd it did not
 * have before. The host leaks nothing either.
 */
class CrossProcessCacheTest {
    @TempDir
    Path dir;

    @Test
    void aReaderJvmSwitchesThroughThreeNewVersionsAndUnmapsEachOldOne() throws Exception {
        long sluiceFdsBefore = ProcessResources.sluiceFds();
        Path socket = dir.resolve("cache.sock");
        try (CacheHost host = CacheHost.bind(socket);
             PublishedSnapshot refdata = host.snapshot("refdata")) {
            assertEquals(1, refdata.publish(Tables.version(1)));
            try (ChildJvm child = ChildJvm.launcher(CacheReaderChild.class)
                    .jvmOptions("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC").withoutStdin().start(socket.toString(), "4")) {
                for (long v = 1; v <= 4; v++) {
                    if (v > 1) {
                        assertEquals(v, refdata.publish(Tables.version(v)));
                    }
                    String line = child.awaitLine("version=" + v + " ", 30);
                    assertEquals("version=" + v + " matched=" + Tables.entries(v) + " maps=[refdata.v" + v + "] fds=1", line,
                            "only the current version is mapped and open in the reader");
                }
                assertEquals(1, refdata.readerCount());
                refdata.close(); // END (closing again at the end of the try is a no-op)
                assertEquals("ended=true failure=null", child.awaitLine("ended=", 30));
                assertEquals("closed fds=0 maps=0 leaked=0", child.awaitLine("closed ", 30), child::output);
                assertEquals(0, child.waitFor(30), child::output);
            }
        }
        assertEquals(sluiceFdsBefore, ProcessResources.sluiceFds(), "the host closed every version it held");
    }
}
