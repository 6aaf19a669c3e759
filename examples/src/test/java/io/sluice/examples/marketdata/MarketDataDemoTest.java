package io.sluice.examples.marketdata;

import io.sluice.testing.ChildJvm;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's main demo, run as a user runs it but for one second: a publisher JVM and three
 * subscriber JVMs. The kernel refuses subscriber A's writable mapping (it holds the ring only
 * through a read-only fd: {@code mmap: EACCES}), the slow subscriber C is lapped, and the others
 * receive quotes.
 */
class MarketDataDemoTest {
    private static final long WAIT_S = 180; // four JVMs start on a small, busy machine

    @Test
    void threeSubscribersOneRefusedOneLappedAllReceive() throws Exception {
        try (ChildJvm demo = ChildJvm.launcher(MarketDataDemo.class).withoutStdin().start("1")) {
            assertEquals(0, demo.waitFor(WAIT_S), () -> "the demo failed; its output:\n" + demo.output());
            String out = demo.output();
            Map<String, String[]> rows = summaryRows(demo);
            assertEquals(List.of("A", "B", "C"), rows.keySet().stream().sorted().toList(), out);
            for (String name : List.of("A", "B", "C")) {
                assertTrue(quotes(rows.get(name)) > 0, () -> "subscriber " + name + " received no quote:\n" + out);
            }
            assertTrue(laps(rows.get("C")) > 0, () -> "the slow subscriber was not lapped:\n" + out);
            List<String> refusal = demo.lines("  subscriber A mapping the ring writable:");
            assertEquals(1, refusal.size(), out);
            assertTrue(refusal.get(0).contains("mmap: EACCES"), () -> "not refused with EACCES: " + refusal.get(0));
            assertEquals(List.of("  OK"), demo.lines("  OK"), out);
        }
    }

    /** The summary's table rows ({@code "  A    518    286,792 ..."}) by subscriber name, split on blanks. */
    private static Map<String, String[]> summaryRows(ChildJvm demo) {
        List<String> lines = demo.output().lines().toList();
        int header = lines.indexOf(lines.stream().filter(l -> l.startsWith("  sub ")).findFirst()
                .orElseThrow(() -> new AssertionError("no summary table; output:\n" + demo.output())));
        Map<String, String[]> rows = new LinkedHashMap<>();
        for (int i = header + 1; i < lines.size() && lines.get(i).matches("  [A-Z] .*"); i++) {
            String[] f = lines.get(i).trim().split("\\s+");
            rows.put(f[0], f);
        }
        return rows;
    }

    // columns: sub pid quotes quotes/s p50 p99 p99.9 max laps lost
    private static long quotes(String[] row) {
        return Long.parseLong(row[2].replaceAll("[^0-9]", "")); // grouped in the child's locale
    }

    private static long laps(String[] row) {
        return Long.parseLong(row[8].replaceAll("[^0-9]", ""));
    }
}
