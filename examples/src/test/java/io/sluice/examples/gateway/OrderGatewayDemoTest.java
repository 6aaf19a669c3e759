package io.sluice.examples.gateway;

import io.sluice.testing.ChildJvm;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The gateway demo, run as a user runs it ({@code -Ddemo=gateway}) with 20,000 orders per entry
 * JVM: two order-entry JVMs and two matcher JVMs on one MPMC channel, and every order is
 * processed exactly once (count, id sum and id-square sum per entry, across both matchers).
 */
class OrderGatewayDemoTest {
    private static final long WAIT_S = 180; // five JVMs on a small, busy machine
    private static final long ORDERS = 20_000;
    private static final Pattern SUMMARY = Pattern.compile(
            "  entry \\d: sent (.+?), processed (.+?) across both matchers: every order exactly once .*");

    @Test
    void everyOrderOfBothEntriesIsProcessedExactlyOnce() throws Exception {
        try (ChildJvm demo = ChildJvm.launcher(OrderGatewayDemo.class).withoutStdin().start(Long.toString(ORDERS))) {
            assertEquals(0, demo.waitFor(WAIT_S), () -> "the demo failed; its output:\n" + demo.output());
            String out = demo.output();
            for (int entry = 1; entry <= 2; entry++) {
                List<String> line = demo.lines("  entry " + entry + ": ");
                assertEquals(1, line.size(), out);
                // "  entry 1: sent 20,000, processed 20,000 across both matchers: every order exactly once (...)"
                Matcher m = SUMMARY.matcher(line.get(0));
                assertTrue(m.matches(), () -> "not exactly once: " + line.get(0) + "\n" + out);
                assertEquals(ORDERS, digits(m.group(1)), "sent: " + line.get(0));
                assertEquals(ORDERS, digits(m.group(2)), "processed: " + line.get(0));
            }
            assertEquals(2, demo.lines("  matcher=").size(), () -> "both matchers report:\n" + out);
            assertEquals(List.of("  OK"), demo.lines("  OK"), out);
        }
    }

    /** A count printed with the child's locale's grouping ({@code 20,000}, {@code 20.000}). */
    private static long digits(String grouped) {
        return Long.parseLong(grouped.replaceAll("[^0-9]", ""));
    }
}
