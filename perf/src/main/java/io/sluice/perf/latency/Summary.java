package io.sluice.perf.latency;

import org.HdrHistogram.Histogram;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/**
 * The numbers of one summary table: per system, the median over its runs of each percentile,
 * the spread of the p50 over runs, and ratios to the raw probe measured by the same processes
 * in the same run (median over runs of system percentile / bracket percentile).
 */
public final class Summary {
    /** Percentile columns of the latency tables. */
    public static final double[] PERCENTILES = {50, 90, 99, 99.9, 99.99};
    public static final String[] PERCENTILE_NAMES = {"p50", "p90", "p99", "p99.9", "p99.99"};

    private Summary() {
    }

    /** min, the {@link #PERCENTILES}, max, in ns. */
    public static double[] percentiles(Histogram h) {
        double[] v = new double[PERCENTILES.length + 2];
        v[0] = h.getMinValue();
        for (int i = 0; i < PERCENTILES.length; i++) {
            v[i + 1] = h.getValueAtPercentile(PERCENTILES[i]);
        }
        v[v.length - 1] = h.getMaxValue();
        return v;
    }

    /** The median (mean of the middle two for an even count); NaN when empty. */
    public static double median(double[] values) {
        if (values.length == 0) {
            return Double.NaN;
        }
        double[] s = values.clone();
        Arrays.sort(s);
        int mid = s.length / 2;
        return s.length % 2 == 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
    }

    /** The median of {@code f} over the runs that did not fail. */
    public static double medianOf(List<RunResult> runs, ToDoubleFunction<RunResult> f) {
        return median(runs.stream().filter(r -> !r.failed()).mapToDouble(f).filter(d -> !Double.isNaN(d)).toArray());
    }

    /** A latency row: medians of min, percentiles and max; p50 spread; bracket p50; ratios. */
    public record LatencyRow(String system, int runs, int failed, double[] medians, double p50Low, double p50High,
                             double bracketP50, double[] ratios) {
    }

    /**
     * Builds a latency row from runs of one system. Ratios (p50, p99, p99.9 to the same
     * percentiles of the run's own brackets) are NaN where there are no brackets.
     */
    public static LatencyRow latencyRow(String system, List<RunResult> runs) {
        List<RunResult> ok = runs.stream().filter(r -> !r.failed() && r.measured() != null).toList();
        double[] medians = new double[PERCENTILES.length + 2];
        for (int i = 0; i < medians.length; i++) {
            int col = i;
            medians[i] = median(ok.stream().mapToDouble(r -> percentiles(r.measured())[col]).toArray());
        }
        double[] p50s = ok.stream().mapToDouble(r -> r.measured().getValueAtPercentile(50)).toArray();
        double low = Arrays.stream(p50s).min().orElse(Double.NaN);
        double high = Arrays.stream(p50s).max().orElse(Double.NaN);
        double bracketP50 = median(ok.stream().filter(r -> r.bracket() != null)
                .mapToDouble(r -> r.bracket().getValueAtPercentile(50)).toArray());
        double[] ratioPercentiles = {50, 99, 99.9};
        double[] ratios = new double[ratioPercentiles.length];
        for (int i = 0; i < ratios.length; i++) {
            double p = ratioPercentiles[i];
            ratios[i] = median(ok.stream().filter(r -> r.bracket() != null)
                    .mapToDouble(r -> ratio(r.measured().getValueAtPercentile(p), r.bracket().getValueAtPercentile(p)))
                    .toArray());
        }
        return new LatencyRow(system, runs.size(), runs.size() - ok.size(), medians, low, high, bracketP50, ratios);
    }

    /** {@code value / reference}, NaN when the reference is not positive. */
    public static double ratio(double value, double reference) {
        return reference > 0 ? value / reference : Double.NaN;
    }

    /** A throughput row: medians over runs, spread, bracket p50. */
    public record ThroughputRow(String system, int runs, int failed, double messagesPerSecond, double megabytesPerSecond,
                                double low, double high, double bracketP50) {
    }

    public static ThroughputRow throughputRow(String system, List<RunResult> runs, int messageSize) {
        List<RunResult> ok = runs.stream().filter(r -> !r.failed()).toList();
        double[] rates = ok.stream().mapToDouble(RunResult::messagesPerSecond).toArray();
        double m = median(rates);
        double bracketP50 = median(ok.stream().filter(r -> r.bracket() != null)
                .mapToDouble(r -> r.bracket().getValueAtPercentile(50)).toArray());
        return new ThroughputRow(system, runs.size(), runs.size() - ok.size(), m, m * messageSize / 1e6,
                Arrays.stream(rates).min().orElse(Double.NaN), Arrays.stream(rates).max().orElse(Double.NaN), bracketP50);
    }

    /** Markdown table of latency rows (ns), without a reference system. */
    public static String latencyTable(List<LatencyRow> rows, boolean oneWay) {
        return latencyTable(rows, oneWay, null);
    }

    /**
     * Markdown table of latency rows (ns). With a {@code reference} row (a Sluice row, when the
     * run has one), three more columns divide each row's medians by the reference's.
     */
    public static String latencyTable(List<LatencyRow> rows, boolean oneWay, LatencyRow reference) {
        StringBuilder sb = new StringBuilder();
        String rawWord = oneWay ? "raw RTT" : "raw";
        sb.append("| system | runs | min | p50 | p90 | p99 | p99.9 | p99.99 | max | p50 range | ")
                .append(rawWord).append(" p50 | p50/").append(rawWord).append(" | p99/").append(rawWord)
                .append(" | p99.9/").append(rawWord).append(" |");
        if (reference != null) {
            String ref = reference.system();
            sb.append(" p50/").append(ref).append(" | p99/").append(ref).append(" | p99.9/").append(ref).append(" |");
        }
        sb.append("\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        if (reference != null) {
            sb.append("---:|---:|---:|");
        }
        sb.append('\n');
        for (LatencyRow r : rows) {
            sb.append("| ").append(r.system()).append(" | ").append(runs(r.runs(), r.failed()));
            for (double v : r.medians()) {
                sb.append(" | ").append(ns(v));
            }
            sb.append(" | ").append(ns(r.p50Low())).append("–").append(ns(r.p50High()));
            sb.append(" | ").append(ns(r.bracketP50()));
            for (double ratio : r.ratios()) {
                sb.append(" | ").append(times(ratio));
            }
            if (reference != null) {
                for (int col : new int[] {1, 3, 4}) { // p50, p99, p99.9 in medians
                    sb.append(" | ").append(times(ratio(r.medians()[col], reference.medians()[col])));
                }
            }
            sb.append(" |\n");
        }
        return sb.toString();
    }

    /** Markdown table of throughput rows, without a reference system. */
    public static String throughputTable(List<ThroughputRow> rows) {
        return throughputTable(rows, null);
    }

    /** Markdown table of throughput rows; with a {@code reference} row, msg/s over the reference's. */
    public static String throughputTable(List<ThroughputRow> rows, ThroughputRow reference) {
        StringBuilder sb = new StringBuilder();
        sb.append("| system | runs | msg/s | MB/s | msg/s range | raw p50 |")
                .append(reference == null ? "" : " msg/s / " + reference.system() + " |").append("\n");
        sb.append("|---|---:|---:|---:|---:|---:|").append(reference == null ? "" : "---:|").append("\n");
        for (ThroughputRow r : rows) {
            sb.append("| ").append(r.system()).append(" | ").append(runs(r.runs(), r.failed()))
                    .append(" | ").append(count(r.messagesPerSecond()))
                    .append(" | ").append(Double.isNaN(r.megabytesPerSecond()) ? "—" : String.format(Locale.ROOT, "%.0f", r.megabytesPerSecond()))
                    .append(" | ").append(count(r.low())).append("–").append(count(r.high()))
                    .append(" | ").append(ns(r.bracketP50())).append(" |");
            if (reference != null) {
                sb.append(" ").append(times(ratio(r.messagesPerSecond(), reference.messagesPerSecond()))).append(" |");
            }
            sb.append("\n");
        }
        return sb.toString();
    }

    static String runs(int runs, int failed) {
        return failed == 0 ? Integer.toString(runs) : (runs - failed) + " (" + failed + " failed)";
    }

    /** Nanoseconds: an integer below 100 µs, then µs below 1 ms, then ms. */
    public static String ns(double v) {
        if (Double.isNaN(v)) {
            return "—";
        }
        if (v < 100_000) {
            return String.format(Locale.ROOT, "%.0f", v);
        }
        if (v < 1_000_000) {
            return String.format(Locale.ROOT, "%.1f µs", v / 1e3);
        }
        return String.format(Locale.ROOT, "%.2f ms", v / 1e6);
    }

    public static String times(double ratio) {
        return Double.isNaN(ratio) ? "—" : String.format(Locale.ROOT, "%.2f×", ratio);
    }

    /** Messages per second with a unit: 12.3M, 456k. */
    public static String count(double v) {
        if (Double.isNaN(v)) {
            return "—";
        }
        if (v >= 1e6) {
            return String.format(Locale.ROOT, "%.2fM", v / 1e6);
        }
        if (v >= 1e3) {
            return String.format(Locale.ROOT, "%.0fk", v / 1e3);
        }
        return String.format(Locale.ROOT, "%.0f", v);
    }

    /**
     * Whether the machine's level moved inside a run: the two brackets' p50s differ by more than
     * {@code tolerance} (0.25 = 25 %) of the smaller one.
     */
    public static boolean levelChanged(double preP50, double postP50, double tolerance) {
        double lo = Math.min(preP50, postP50);
        return lo > 0 && Math.abs(preP50 - postP50) > tolerance * lo;
    }

    /** The x coordinate of a percentile on the percentile-distribution chart: 1 / (1 - p/100). */
    public static double percentileAxis(double percentile, long totalCount) {
        double cap = 1 - 1.0 / Math.max(2, totalCount);  // the last sample sits at 1 - 1/n, not at infinity
        double p = Math.min(percentile / 100.0, cap);
        return 1 / (1 - p);
    }
}
