package io.sluice.examples.snapshot;

import io.sluice.testing.ChildJvm;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The snapshot demo as a user runs it ({@code -Ddemo=snapshot}), with 20,000 lookups per reader
 * and version: the owner serves the table with a CacheHost, the two reader JVMs and the C reader
 * (built by the demo with gcc) each read version 1, switch to version 2, and stop at END; the
 * summary says all three saw both versions with no mismatch.
 */
class SnapshotDemoTest {
    private static final String[] READERS = {"java-1", "java-2", "c-1"};

    @Test
    void twoReaderJvmsAndACReaderSeeVersionsOneAndTwoWithNoMismatch() throws Exception {
        Assumptions.assumeFalse(Boolean.getBoolean("sluice.native.skip"),
                "-Dnative.skip: no C compiler is assumed, and the demo builds its C reader with gcc");
        try (ChildJvm demo = ChildJvm.launcher(SnapshotDemo.class).withoutStdin()
                .jvmOptions("-D" + NativeReader.SOURCES_PROPERTY + "=" + System.getProperty(NativeReader.SOURCES_PROPERTY,
                        "../fd-passing/native"))
                .start("20000")) {
            assertEquals(0, demo.waitFor(300), () -> "the demo failed; its output:\n" + demo.output());
            for (String reader : READERS) {
                for (int v = 1; v <= 2; v++) {
                    String saw = "  [" + reader + " pid ";
                    int version = v;
                    assertTrue(demo.lines(saw).stream().anyMatch(l -> l.contains("SAW reader=" + reader + " version=" + version
                            + " ") && l.contains(" lookups=20000 ") && l.endsWith(" mismatches=0")),
                            () -> reader + " did not report v" + version + " with no mismatch:\n" + demo.output());
                }
                assertEquals(1, demo.lines("  [" + reader + " pid ").stream()
                        .filter(l -> l.contains("DONE reader=" + reader + " ") && l.contains(" versions=1,2 ")
                                && l.endsWith(" lookups=40000 mismatches=0")).count(), demo::output);
            }
            assertEquals(List.of("3 readers saw v1 and v2, 120,000 lookups, 0 mismatches"),
                    demo.lines("3 readers saw").stream().map(l -> l.substring(0, l.indexOf(" ("))).toList(), demo::output);
            assertTrue(demo.output().contains("0 mismatches (") && demo.output().contains("): OK"), demo::output);
        }
    }
}
