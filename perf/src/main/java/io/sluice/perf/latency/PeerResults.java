package io.sluice.perf.latency;

import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;

/**
 * Reads what a run's peers reported: each side's properties file (written by {@link PeerMain} or
 * the native peer), turned into one {@link RunResult}.
 */
final class PeerResults {
    private PeerResults() {
    }

    /** A side's properties, the file deleted once read; empty if the side wrote none. */
    static Properties load(Path file) throws IOException {
        Properties p = new Properties();
        if (Files.exists(file)) {
            try (InputStream in = Files.newInputStream(file)) {
                p.load(in);
            }
            Files.delete(file);
        }
        return p;
    }

    /** The result of a run whose sides reported {@code a} and {@code b}, by what the scenario measures. */
    static RunResult parse(String system, int round, ScenarioConfig c, Properties a, Properties b) throws IOException {
        Histogram pre = histogram(a, "histogram.bracketPre");
        Histogram post = histogram(a, "histogram.bracketPost");
        return switch (c.scenario()) {
            case PING_PONG -> new RunResult(system, round, histogram(a, "histogram.measured"), pre, post,
                    PeerMain.parseList(a.getProperty("slices.p50")), 0, 0, 0, null);
            case FIXED_RATE -> new RunResult(system, round, Histograms.decode(b.getProperty("histogram.measured")), pre, post,
                    PeerMain.parseList(b.getProperty("slices.p50")), 0, Long.parseLong(a.getProperty("sender.late")),
                    Long.parseLong(a.getProperty("sender.messages")) * 1e9 / Long.parseLong(a.getProperty("sender.elapsedNs")), null);
            case THROUGHPUT -> new RunResult(system, round, null, pre, post, PeerMain.parseList(b.getProperty("slices.rate")),
                    Long.parseLong(b.getProperty("throughput.messages")) * 1e9 / Long.parseLong(b.getProperty("throughput.elapsedNs")),
                    0, 0, null);
        };
    }

    /** The larger of the two sides' allocation per message; NaN if neither measured it (a native peer does not). */
    static double allocation(Properties a, Properties b) {
        double max = Double.NaN;
        for (Properties p : List.of(a, b)) {
            String v = p.getProperty(AllocationMeter.PROPERTY);
            if (v != null) {
                double d = Double.parseDouble(v);
                max = Double.isNaN(max) ? d : Math.max(max, d);
            }
        }
        return max;
    }

    /**
     * A histogram a peer wrote under {@code key}: HdrHistogram-encoded (a JVM peer), or, from the
     * native peer, the name of a file of raw values under {@code key.bin}.
     */
    static Histogram histogram(Properties p, String key) throws IOException {
        String bin = p.getProperty(key + ".bin");
        return bin != null ? readValues(Path.of(bin)) : Histograms.decode(p.getProperty(key));
    }

    /** Records a file of little-endian int64 values (what the C programs write) and deletes it. */
    static Histogram readValues(Path bin) throws IOException {
        Histogram h = Histograms.newHistogram();
        ByteBuffer values = ByteBuffer.wrap(Files.readAllBytes(bin)).order(ByteOrder.LITTLE_ENDIAN);
        while (values.remaining() >= 8) {
            h.recordValue(Math.max(0, values.getLong()));
        }
        Files.delete(bin);
        return h;
    }
}
