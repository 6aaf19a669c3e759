package io.sluice.perf.latency;

import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SummaryTest {
    private static Histogram constant(long value, int count) {
        Histogram h = Histograms.newHistogram();
        h.recordValueWithCount(value, count);
        return h;
    }

    private static RunResult run(int round, long measured, long raw) {
        return new RunResult("x", round, constant(measured, 1000), constant(raw, 500), constant(raw, 500), List.of(), 0, 0, 0, null);
    }

    @Test
    void medianOfOddAndEvenCounts() {
        assertEquals(3, Summary.median(new double[] {5, 1, 3}));
        assertEquals(2.5, Summary.median(new double[] {4, 1, 3, 2}));
        assertTrue(Double.isNaN(Summary.median(new double[0])));
    }

    @Test
    void latencyRowTakesMediansAcrossRunsAndRatiosToEachRunsOwnBracket() {
        // Run 2's machine level was twice as slow: its ratio is still 1.5, like the others.
        List<RunResult> runs = List.of(run(1, 150, 100), run(2, 300, 200), run(3, 165, 110));
        Summary.LatencyRow row = Summary.latencyRow("x", runs);
        assertEquals(165, row.medians()[1], 1);            // p50 median
        assertEquals(150, row.p50Low(), 1);
        assertEquals(300, row.p50High(), 1);
        assertEquals(110, row.bracketP50(), 1);
        assertEquals(1.5, row.ratios()[0], 0.01);          // p50 / raw
        assertEquals(1.5, row.ratios()[1], 0.01);          // p99 / raw
    }

    @Test
    void failedRunsAreCountedButNotAveraged() {
        List<RunResult> runs = List.of(run(1, 150, 100), RunResult.failure("x", 2, "boom"), run(3, 170, 100));
        Summary.LatencyRow row = Summary.latencyRow("x", runs);
        assertEquals(3, row.runs());
        assertEquals(1, row.failed());
        assertEquals(160, row.medians()[1], 1);
        assertTrue(Summary.latencyTable(List.of(row), false).contains("2 (1 failed)"));
    }

    @Test
    void referenceColumnsDivideByTheReferenceRowsMedians() {
        Summary.LatencyRow sluice = Summary.latencyRow("sluice-spsc", List.of(run(1, 150, 100)));
        Summary.LatencyRow peer = Summary.latencyRow("peer", List.of(run(1, 300, 100)));
        String table = Summary.latencyTable(List.of(sluice, peer), false, sluice);
        assertTrue(table.contains("p50/sluice-spsc"));
        assertTrue(table.lines().filter(l -> l.startsWith("| peer")).findFirst().orElseThrow().endsWith("| 2.00× | 2.00× | 2.00× |"));
    }

    @Test
    void rowWithoutBracketsHasNoRatio() {
        RunResult probe = new RunResult("raw-c", 1, constant(140, 100), null, null, List.of(), 0, 0, 0, null);
        Summary.LatencyRow row = Summary.latencyRow("raw-c", List.of(probe));
        assertTrue(Double.isNaN(row.ratios()[0]));
        assertTrue(Summary.latencyTable(List.of(row), false).contains("| — |"));
    }

    @Test
    void throughputRowReportsMegabytesOfTheMedianRate() {
        List<RunResult> runs = List.of(
                new RunResult("x", 1, null, constant(100, 10), constant(100, 10), List.of(), 1e6, 0, 0, null),
                new RunResult("x", 2, null, constant(100, 10), constant(100, 10), List.of(), 3e6, 0, 0, null),
                new RunResult("x", 3, null, constant(100, 10), constant(100, 10), List.of(), 2e6, 0, 0, null));
        Summary.ThroughputRow row = Summary.throughputRow("x", runs, 256);
        assertEquals(2e6, row.messagesPerSecond());
        assertEquals(512, row.megabytesPerSecond(), 1e-9);
        assertEquals(1e6, row.low());
        assertEquals(3e6, row.high());
    }

    @Test
    void levelChangeIsARelativeDifferenceOfTheBracketP50s() {
        assertFalse(Summary.levelChanged(135, 140, 0.25));
        assertTrue(Summary.levelChanged(135, 480, 0.25));
        assertTrue(Summary.levelChanged(480, 135, 0.25));
    }

    @Test
    void percentileAxisIsOneOverOneMinusP() {
        assertEquals(2, Summary.percentileAxis(50, 1_000_000), 1e-9);
        assertEquals(100, Summary.percentileAxis(99, 1_000_000), 1e-6);
        assertEquals(1000, Summary.percentileAxis(99.9, 1_000_000), 1e-3);
        assertEquals(1000, Summary.percentileAxis(100, 1000), 1e-6); // the max sits at 1 - 1/n
        assertEquals("99.9%", Plots.percentileLabel(1000));
        assertEquals("90%", Plots.percentileLabel(10));
        assertEquals("0%", Plots.percentileLabel(1));
        assertEquals("99%", Plots.percentileLabel(100));
        assertEquals("99.9999999%", Plots.percentileLabel(1e9));
        assertEquals("50%", Plots.percentileLabel(2));
        assertEquals("140 ns", Plots.latencyLabel(140));
        assertEquals("1.5 µs", Plots.latencyLabel(1500));
        assertEquals("30 ms", Plots.latencyLabel(30e6));
    }

    @Test
    void formatsNanosecondsCountsAndRatios() {
        assertEquals("140", Summary.ns(140));
        assertEquals("1.23 ms", Summary.ns(1_234_000_000 / 1000.0));
        assertEquals("150.0 µs", Summary.ns(150_000));
        assertEquals("12.35M", Summary.count(12_345_678));
        assertEquals("1.50×", Summary.times(1.5));
    }
}
