package io.sluice.perf.latency;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramIterationValue;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;

/**
 * Charts rendered by XChart. Latency: the HdrHistogram percentile-distribution chart, one line
 * per system, x = 1/(1 - percentile) on a log axis (so 90 %, 99 %, 99.9 % ... are evenly
 * spaced), latency on a log axis. Throughput: messages/s per system and size.
 */
final class Plots {
    private Plots() {
    }

    /** Writes {@code file} (PNG) with one line per entry of {@code series} (name to histogram). */
    static void percentileChart(String title, String yTitle, Map<String, Histogram> series, Path file) throws IOException {
        XYChart chart = new XYChartBuilder().width(1100).height(650).title(title)
                .xAxisTitle("percentile").yAxisTitle(yTitle).build();
        Styler styler = chart.getStyler();
        chart.getStyler().setXAxisLogarithmic(true);
        chart.getStyler().setYAxisLogarithmic(true);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
        chart.getStyler().setXAxisTickLabelsFormattingFunction(Plots::percentileLabel);
        chart.getStyler().setYAxisTickLabelsFormattingFunction(Plots::latencyLabel);
        chart.getStyler().setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        chart.getStyler().setLegendFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        chart.getStyler().setAxisTitleFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        chart.getStyler().setPlotGridLinesColor(new Color(220, 220, 220));
        styler.setChartBackgroundColor(Color.WHITE);
        for (Map.Entry<String, Histogram> e : series.entrySet()) {
            Histogram h = e.getValue();
            if (h == null || h.getTotalCount() == 0) {
                continue;
            }
            List<Double> xs = new ArrayList<>();
            List<Double> ys = new ArrayList<>();
            for (HistogramIterationValue v : h.percentiles(5)) {
                xs.add(Summary.percentileAxis(v.getPercentileLevelIteratedTo(), h.getTotalCount()));
                ys.add((double) Math.max(1, h.highestEquivalentValue(v.getValueIteratedTo())));
            }
            XYSeries s = chart.addSeries(e.getKey() + "  (p50 " + latencyLabel(h.getValueAtPercentile(50)) + ")", xs, ys);
            s.setMarker(SeriesMarkers.NONE);
            s.setLineWidth(e.getKey().startsWith("raw") ? 1.5f : 2.2f);
            if (e.getKey().startsWith("raw bracket")) {
                s.setLineColor(Color.GRAY);
                s.setLineStyle(new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f));
            }
        }
        ImageIO.write(BitmapEncoder.getBufferedImage(chart), "png", file.toFile());
    }

    /** Writes a bar chart of messages/s: one group per message size, one bar per system. */
    static void throughputChart(String title, Map<Integer, Map<String, Double>> bySize, Path file) throws IOException {
        CategoryChart chart = new CategoryChartBuilder().width(1100).height(650).title(title)
                .xAxisTitle("message size (bytes)").yAxisTitle("messages/s (median of runs)").build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        chart.getStyler().setYAxisTickLabelsFormattingFunction(Summary::count);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        Map<String, List<Double>> perSystem = new LinkedHashMap<>();
        List<String> sizes = new ArrayList<>();
        for (Map.Entry<Integer, Map<String, Double>> e : bySize.entrySet()) {
            sizes.add(e.getKey().toString());
            e.getValue().keySet().forEach(s -> perSystem.computeIfAbsent(s, k -> new ArrayList<>()));
        }
        for (Map.Entry<String, List<Double>> e : perSystem.entrySet()) {
            for (Map<String, Double> row : bySize.values()) {
                Double v = row.get(e.getKey());
                e.getValue().add(v == null || v.isNaN() ? 0.0 : v);
            }
            chart.addSeries(e.getKey(), sizes, e.getValue());
        }
        ImageIO.write(BitmapEncoder.getBufferedImage(chart), "png", file.toFile());
    }

    /** 1/(1-p) back to a percentile label: 1 → 0%, 10 → 90%, 100 → 99%, 1000 → 99.9%, 1e9 → 99.9999999%. */
    static String percentileLabel(double x) {
        if (x < 1.0001) {
            return "0%";
        }
        double decades = Math.log10(x);
        long k = Math.round(decades);
        if (Math.abs(decades - k) < 1e-6) { // the log axis puts its ticks on whole decades
            return k == 1 ? "90%" : "99" + (k == 2 ? "" : "." + "9".repeat((int) k - 2)) + "%";
        }
        double p = 100 * (1 - 1 / x);
        return String.format(Locale.ROOT, "%.4f", p).replaceAll("0+$", "").replaceAll("\\.$", "") + "%";
    }

    /** A latency with its unit: 140 ns, 12 µs, 1.5 µs, 30 ms. */
    static String latencyLabel(double ns) {
        if (ns < 1_000) {
            return String.format(Locale.ROOT, "%.0f ns", ns);
        }
        if (ns < 1_000_000) {
            return trim(ns / 1e3) + " µs";
        }
        if (ns < 1_000_000_000) {
            return trim(ns / 1e6) + " ms";
        }
        return trim(ns / 1e9) + " s";
    }

    private static String trim(double v) {
        return v >= 10 ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.1f", v).replace(".0", "");
    }
}
