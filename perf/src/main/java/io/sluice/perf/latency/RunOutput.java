package io.sluice.perf.latency;

import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * What the launcher writes as each run finishes: its {@code .hgrm} files under
 * {@code hgrm/<scenario>/} and its one line on the console. The summary, once every run is done,
 * is {@link SummaryWriter}'s.
 */
final class RunOutput {
    private final Path resultsDir;

    RunOutput(Path resultsDir) {
        this.resultsDir = resultsDir;
    }

    /** {@code <system>-r<round>.hgrm} and the raw brackets' {@code -raw-before}/{@code -raw-after}; nothing for a failure. */
    void saveHistograms(ScenarioConfig c, RunResult r) throws IOException {
        if (r.failed()) {
            return;
        }
        Path dir = resultsDir.resolve("hgrm").resolve(c.key());
        Files.createDirectories(dir);
        String base = r.system() + "-r" + r.round();
        if (r.measured() != null) {
            Files.writeString(dir.resolve(base + ".hgrm"), Histograms.hgrm(r.measured()));
        }
        if (r.bracketPre() != null) {
            Files.writeString(dir.resolve(base + "-raw-before.hgrm"), Histograms.hgrm(r.bracketPre()));
            Files.writeString(dir.resolve(base + "-raw-after.hgrm"), Histograms.hgrm(r.bracketPost()));
        }
    }

    /** The console line of run {@code runNumber} of {@code totalRuns}. */
    static String describe(ScenarioConfig c, RunResult r, int runNumber, int totalRuns) {
        String head = String.format(Locale.ROOT, "[%d/%d] %-10s r%d ", runNumber, totalRuns, r.system(), r.round());
        if (r.failed()) {
            return head + "FAILED: " + r.error();
        }
        StringBuilder sb = new StringBuilder(head);
        if (r.measured() != null) {
            Histogram h = r.measured();
            sb.append(String.format(Locale.ROOT, "p50 %s  p99 %s  p99.9 %s  max %s", Summary.ns(h.getValueAtPercentile(50)),
                    Summary.ns(h.getValueAtPercentile(99)), Summary.ns(h.getValueAtPercentile(99.9)), Summary.ns(h.getMaxValue())));
        } else {
            sb.append(String.format(Locale.ROOT, "%s msg/s  %.0f MB/s", Summary.count(r.messagesPerSecond()),
                    r.messagesPerSecond() * c.messageSize() / 1e6));
        }
        if (r.bracket() != null) {
            double pre = r.bracketPre().getValueAtPercentile(50);
            double post = r.bracketPost().getValueAtPercentile(50);
            sb.append(String.format(Locale.ROOT, " | raw p50 before %s after %s%s", Summary.ns(pre), Summary.ns(post),
                    Summary.levelChanged(pre, post, 0.25) ? " (LEVEL CHANGED)" : ""));
            if (r.measured() != null) {
                sb.append(" | p50/raw ").append(Summary.times(Summary.ratio(r.measured().getValueAtPercentile(50),
                        r.bracket().getValueAtPercentile(50))));
            }
        }
        if (r.senderRate() > 0) {
            sb.append(String.format(Locale.ROOT, " | sent %s msg/s, %d late", Summary.count(r.senderRate()), r.senderLate()));
        }
        sb.append(c.scenario() == Scenario.THROUGHPUT ? " | msg/s per slice: " : " | p50 per slice: ");
        sb.append(r.sliceValues().stream().map(v -> c.scenario() == Scenario.THROUGHPUT ? Summary.count(v) : Summary.ns(v))
                .collect(Collectors.joining(" ")));
        return sb.toString();
    }
}
