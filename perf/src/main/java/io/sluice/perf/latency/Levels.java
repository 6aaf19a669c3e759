package io.sluice.perf.latency;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The machine's core-to-core levels as the runs of one table saw them, so that rows can be
 * compared at one level. On a guest whose host moves its vCPUs every few seconds, a row's median
 * over rounds says mostly how many of its rounds fell on the fast placement; the same rows taken
 * only from runs made at one level compare the code.
 *
 * <p>A run's level readings are the p50s of its two brackets (the raw ping-pong of the same
 * processes just before and after it), or, for the C probe, which has none, its own p50. The
 * readings of all runs of a table are sorted and cut where one is more than {@link #GAP} times the
 * one below it: each part is a level. A run belongs to a level when all its readings fall in it;
 * a run whose level changed while it ran belongs to none. A run with no reading at all (the
 * memcpy row: one process, no partner core) belongs to every level.
 */
final class Levels {
    /** Readings of one level differ by less than this factor from their neighbours. */
    static final double GAP = 1.5;

    private Levels() {
    }

    /** One level: the lowest and highest reading in it, ns. */
    record Level(double low, double high) {
        boolean holds(double reading) {
            return reading >= low && reading <= high;
        }

        /** For a heading: "raw p50 80–130 ns". */
        String label() {
            return String.format(Locale.ROOT, "raw p50 %.0f–%.0f ns", low, high);
        }
    }

    /** {@return the levels the runs' readings fall into, fastest first} */
    static List<Level> of(Collection<List<RunResult>> runsBySystem) {
        double[] readings = runsBySystem.stream().flatMap(List::stream).filter(r -> !r.failed())
                .flatMapToDouble(r -> Arrays.stream(readings(r))).sorted().toArray();
        List<Level> levels = new ArrayList<>();
        int from = 0;
        for (int i = 1; i <= readings.length; i++) {
            if (i == readings.length || readings[i] > GAP * readings[i - 1]) {
                levels.add(new Level(readings[from], readings[i - 1]));
                from = i;
            }
        }
        return levels;
    }

    /** The runs of each system made wholly at {@code level} (systems with none left out), in the table's order. */
    static Map<String, List<RunResult>> at(Level level, Map<String, List<RunResult>> runsBySystem) {
        Map<String, List<RunResult>> at = new LinkedHashMap<>();
        runsBySystem.forEach((system, runs) -> {
            List<RunResult> kept = runs.stream().filter(r -> !r.failed() && within(r, level)).toList();
            if (!kept.isEmpty()) {
                at.put(system, kept);
            }
        });
        return at;
    }

    private static boolean within(RunResult r, Level level) {
        return Arrays.stream(readings(r)).allMatch(level::holds);
    }

    /** The p50s that tell the level a run was made at; none for a run without brackets or its own probe. */
    static double[] readings(RunResult r) {
        if (r.bracketPre() != null && r.bracketPost() != null) {
            return new double[] {r.bracketPre().getValueAtPercentile(50), r.bracketPost().getValueAtPercentile(50)};
        }
        if (r.measured() != null && r.system().equals("raw-c")) {
            return new double[] {r.measured().getValueAtPercentile(50)};
        }
        return new double[0];
    }
}
