package io.sluice.perf.latency;

import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

class LevelsTest {
    private static Histogram constant(long value) {
        Histogram h = Histograms.newHistogram();
        h.recordValueWithCount(value, 100);
        return h;
    }

    private static RunResult bracketed(String system, int round, long measured, long pre, long post) {
        return new RunResult(system, round, constant(measured), constant(pre), constant(post), List.of(), 0, 0, 0, null);
    }

    private static RunResult probe(int round, long measured) {
        return new RunResult("raw-c", round, constant(measured), null, null, List.of(), 0, 0, 0, null);
    }

    private static RunResult memcpy(int round) {
        return new RunResult("memcpy", round, null, null, null, List.of(), 1e6, 0, 0, null);
    }

    /** A run at the fast placement, one at the slow one, one that moved between them, the probe, memcpy. */
    private static Map<String, List<RunResult>> twoLevels() {
        Map<String, List<RunResult>> runs = new LinkedHashMap<>();
        runs.put("raw-c", List.of(probe(1, 130), probe(2, 490)));
        runs.put("memcpy", List.of(memcpy(1)));
        runs.put("sluice-spsc", List.of(bracketed("sluice-spsc", 1, 140, 90, 80), bracketed("sluice-spsc", 2, 570, 340, 480),
                bracketed("sluice-spsc", 3, 300, 90, 340)));
        runs.put("agrona", List.of(bracketed("agrona", 1, 530, 350, 470), RunResult.failure("agrona", 2, "boom")));
        return runs;
    }

    @Test
    void readingsThatJumpByMoreThanTheGapStartANewLevel() {
        List<Levels.Level> levels = Levels.of(twoLevels().values());
        assertEquals(List.of(new Levels.Level(80, 130), new Levels.Level(340, 490)), levels);
        assertEquals("raw p50 80–130 ns", levels.get(0).label());
    }

    @Test
    void aRunBelongsToTheLevelThatHoldsAllItsReadings() {
        Map<String, List<RunResult>> runs = twoLevels();
        List<Levels.Level> levels = Levels.of(runs.values());

        Map<String, List<RunResult>> fast = Levels.at(levels.get(0), runs);
        assertEquals(List.of("raw-c", "memcpy", "sluice-spsc"), List.copyOf(fast.keySet())); // agrona has no fast run
        assertEquals(List.of(1), fast.get("sluice-spsc").stream().map(RunResult::round).toList());
        assertEquals(List.of(1), fast.get("raw-c").stream().map(RunResult::round).toList());

        Map<String, List<RunResult>> slow = Levels.at(levels.get(1), runs);
        assertEquals(List.of(2), slow.get("sluice-spsc").stream().map(RunResult::round).toList()); // round 3 moved: in none
        assertEquals(List.of(1), slow.get("agrona").stream().map(RunResult::round).toList());      // the failed run: in none
        assertEquals(1, slow.get("memcpy").size());                                                 // no reading: in every level
    }

    @Test
    void readingsWithinTheGapOfTheirNeighboursAreOneLevel() {
        // 100 -> 149 -> 223: each under 1.5x the one below, so one level although 223 > 1.5 * 100.
        Map<String, List<RunResult>> runs = Map.of("x", List.of(bracketed("x", 1, 200, 100, 149), bracketed("x", 2, 300, 149, 223)));
        assertEquals(List.of(new Levels.Level(100, 223)), Levels.of(runs.values()));
    }

    @Test
    void noRunsNoLevels() {
        assertEquals(List.of(), Levels.of(List.of(List.of(memcpy(1)))));
    }
}
