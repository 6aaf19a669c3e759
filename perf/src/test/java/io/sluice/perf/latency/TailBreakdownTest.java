package io.sluice.perf.latency;

import org.junit.jupiter.api.Test;

import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TailBreakdownTest {
    @Test
    void aGapOverlapsTheRoundTripsItTouchesAndNoOther() {
        long[] gaps = {100, 200, 500, 900};
        assertTrue(TailBreakdown.overlaps(gaps, 150, 160));
        assertTrue(TailBreakdown.overlaps(gaps, 50, 101));
        assertTrue(TailBreakdown.overlaps(gaps, 800, 1000));
        assertFalse(TailBreakdown.overlaps(gaps, 200, 500));
        assertFalse(TailBreakdown.overlaps(gaps, 0, 100));
        assertFalse(TailBreakdown.overlaps(gaps, 900, 2000));
        assertFalse(TailBreakdown.overlaps(new long[0], 0, 10));
    }

    @Test
    void slowTripsAreSortedByWhichSideWasAwayAndTheRestBySpacing() {
        // 1,000 round trips of 100 ns, 10 ns apart in time... except: every 100th (seq 0, 100, ...) takes 900 ns;
        // side A was away during the one at seq 500, side B during the one at seq 700.
        long[] trips = new long[3 * 1000];
        for (int i = 0; i < 1000; i++) {
            trips[3 * i] = i * 1000L;
            trips[3 * i + 1] = i % 100 == 0 ? 900 : 100;
            trips[3 * i + 2] = i;
        }
        long[] gapsA = {500_100, 500_500};
        long[] gapsB = {700_050, 700_060};
        Properties counts = new Properties();
        counts.setProperty("seconds", "1.0");
        String row = TailBreakdown.row("x", "r1", trips, gapsA, gapsB, counts, counts);
        assertTrue(row.contains("| 10% / 10% / 0% / 80% of 10 |"), row);
        assertTrue(row.contains("| 100 (71%) |"), row); // 8 "neither": 5 of their 7 spacings are 100, two are 200
        assertEquals("—", TailBreakdown.spacing(new long[] {1, 2}));
    }
}
