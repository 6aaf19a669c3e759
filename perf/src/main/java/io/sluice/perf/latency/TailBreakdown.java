package io.sluice.perf.latency;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * The launcher's half of {@link TailTrace}: for one traced ping-pong run, which round trips above
 * p99 (and p99.9) overlap a moment when side A's or side B's thread was off its CPU, and which
 * overlap neither (the ring, the caches, the protocol). For the latter, the commonest distance
 * between their sequence numbers: a cost that comes once per lap of a ring shows up as the
 * number of messages in a lap. Appends one row to {@code tail.md} in the run's results.
 */
final class TailBreakdown {
    private TailBreakdown() {
    }

    static final String HEADER = "| row | run | round trips | p99 | p99.9 | above p99: A away / B away / both / neither "
            + "| above p99.9: A / B / both / neither | neither: commonest spacing (share) | gaps/s A, B | gap p50, p99 (µs) "
            + "| timer interrupts/s A, B | preempted A, B |\n|---|---|---:|---:|---:|---|---|---|---|---|---|---|\n";

    /** Reads the run's trace files (then deletes them) and appends its row; nothing if there are none. */
    static void append(Path output, String row, Path tableFile) throws IOException {
        Path trips = Path.of(output + "-A.trips");
        if (!Files.exists(trips)) {
            return;
        }
        long[] t = readLongs(trips);
        long[] gapsA = readLongs(Path.of(output + "-A.gaps"));
        long[] gapsB = readLongs(Path.of(output + "-B.gaps"));
        Properties a = load(Path.of(output + "-A.trace"));
        Properties b = load(Path.of(output + "-B.trace"));
        String line = row(row, output.getFileName().toString(), t, gapsA, gapsB, a, b);
        System.out.println("tail: " + line);
        if (!Files.exists(tableFile)) {
            Files.writeString(tableFile, "# Where the tail comes from (traced runs)\n\n" + HEADER);
        }
        Files.writeString(tableFile, line + "\n", StandardOpenOption.APPEND);
        for (String suffix : new String[] {"-A.trips", "-A.gaps", "-B.gaps"}) {
            Files.deleteIfExists(Path.of(output + suffix));
        }
    }

    static String row(String system, String run, long[] trips, long[] gapsA, long[] gapsB, Properties a, Properties b) {
        int n = trips.length / 3;
        long[] rtts = new long[n];
        for (int i = 0; i < n; i++) {
            rtts[i] = trips[3 * i + 1];
        }
        long[] sorted = rtts.clone();
        Arrays.sort(sorted);
        long p99 = rank(sorted, 99);
        long p999 = rank(sorted, 99.9);
        int[] above99 = new int[4];
        int[] above999 = new int[4];
        long[] neitherSeqs = new long[n];
        int neither = 0;
        for (int i = 0; i < n; i++) {
            long rtt = rtts[i];
            if (rtt <= p99) {
                continue;
            }
            long start = trips[3 * i];
            boolean awayA = overlaps(gapsA, start, start + rtt);
            boolean awayB = overlaps(gapsB, start, start + rtt);
            int cls = awayA && awayB ? 2 : awayA ? 0 : awayB ? 1 : 3;
            above99[cls]++;
            if (rtt > p999) {
                above999[cls]++;
            }
            if (cls == 3) {
                neitherSeqs[neither++] = trips[3 * i + 2];
            }
        }
        double secondsA = Double.parseDouble(a.getProperty("seconds", "NaN"));
        double secondsB = Double.parseDouble(b.getProperty("seconds", "NaN"));
        long[] lengths = gapLengths(gapsA, gapsB);
        return String.format(Locale.ROOT, "| %s | %s | %d | %d | %d | %s | %s | %s | %.0f, %.0f | %s, %s | %.0f, %.0f | %s, %s |",
                system, run, n, p99, p999, shares(above99), shares(above999), spacing(Arrays.copyOf(neitherSeqs, neither)),
                gapsA.length / 2 / secondsA, gapsB.length / 2 / secondsB,
                lengths.length == 0 ? "—" : String.format(Locale.ROOT, "%.1f", rank(lengths, 50) / 1e3),
                lengths.length == 0 ? "—" : String.format(Locale.ROOT, "%.1f", rank(lengths, 99) / 1e3),
                Long.parseLong(a.getProperty("localTimerInterrupts", "-1")) / secondsA,
                Long.parseLong(b.getProperty("localTimerInterrupts", "-1")) / secondsB,
                a.getProperty("involuntarySwitches", "?"), b.getProperty("involuntarySwitches", "?"));
    }

    /** Whether any gap (pairs of from, to, in time order) overlaps [from, to]. */
    static boolean overlaps(long[] gaps, long from, long to) {
        int lo = 0;
        int hi = gaps.length / 2;
        while (lo < hi) { // first gap that ends after from
            int mid = (lo + hi) >>> 1;
            if (gaps[2 * mid + 1] <= from) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo < gaps.length / 2 && gaps[2 * lo] < to;
    }

    /** "a% / b% / c% / d%" of the four classes. */
    private static String shares(int[] counts) {
        int total = Arrays.stream(counts).sum();
        if (total == 0) {
            return "—";
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < counts.length; i++) {
            sb.append(i == 0 ? "" : " / ").append(Math.round(100.0 * counts[i] / total)).append('%');
        }
        return sb.append(" of ").append(total).toString();
    }

    /** The commonest distance between consecutive sequence numbers, and the share of distances that are it. */
    static String spacing(long[] seqs) {
        if (seqs.length < 3) {
            return "—";
        }
        Arrays.sort(seqs);
        Map<Long, Integer> counts = new HashMap<>();
        for (int i = 1; i < seqs.length; i++) {
            counts.merge(seqs[i] - seqs[i - 1], 1, Integer::sum);
        }
        Map.Entry<Long, Integer> top = counts.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow();
        return top.getKey() + " (" + Math.round(100.0 * top.getValue() / (seqs.length - 1)) + "%)";
    }

    private static long[] gapLengths(long[] gapsA, long[] gapsB) {
        long[] out = new long[gapsA.length / 2 + gapsB.length / 2];
        int k = 0;
        for (long[] g : new long[][] {gapsA, gapsB}) {
            for (int i = 0; i < g.length / 2; i++) {
                out[k++] = g[2 * i + 1] - g[2 * i];
            }
        }
        Arrays.sort(out);
        return out;
    }

    private static long rank(long[] sorted, double percentile) {
        int r = (int) Math.ceil(percentile / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, r - 1))];
    }

    private static long[] readLongs(Path file) throws IOException {
        if (!Files.exists(file)) {
            return new long[0];
        }
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        long[] out = new long[b.remaining() / 8];
        b.asLongBuffer().get(out);
        return out;
    }

    private static Properties load(Path file) throws IOException {
        Properties p = new Properties();
        if (Files.exists(file)) {
            try (InputStream in = Files.newInputStream(file)) {
                p.load(in);
            }
        }
        return p;
    }
}
