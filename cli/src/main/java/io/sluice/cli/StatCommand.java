package io.sluice.cli;

import io.sluice.api.RefusalReason;
import io.sluice.channel.Channels;
import io.sluice.channel.HostMonitor;
import io.sluice.channel.HostStatusSnapshot;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code sluice stat SOCKET}: the host's channels and peers from its status region, refreshed like
 * AeronStat; {@code --once} prints one table, {@code --json} one JSON object. Rates are the change
 * between two readings {@code --interval} apart.
 */
@Command(name = "stat", mixinStandardHelpOptions = true, versionProvider = SluiceCommand.Version.class,
        description = {
            "Shows a running host's channels and attached peers, read from the host's",
            "status region (a sealed, read-only memfd obtained over its socket as a",
            "monitor: nothing is attached to any channel, nothing is held back).",
            "Per channel: kind, capacity, bytes and messages produced, rate, claims",
            "refused by back-pressure and time stalled. Per peer: pid, uid, role,",
            "position, lag in bytes and messages, rate, laps and messages lost.",
            "Refreshes every --interval until the host goes or Ctrl-C; --once prints",
            "one table (two readings an interval apart, for the rates); --json prints",
            "one JSON object (implies --once).",
            "Exit status: 0, 1 if the host cannot be reached or refuses, 2 on a usage error."})
final class StatCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Parameters(index = "0", paramLabel = "SOCKET", description = "The host's socket file.")
    private Path socket;

    @Option(names = "--once", description = "Print one table and exit.")
    private boolean once;

    @Option(names = "--json", description = "Print one JSON object and exit.")
    private boolean json;

    @Option(names = "--interval", paramLabel = "MILLIS", defaultValue = "1000",
            description = "Time between readings, in milliseconds (default ${DEFAULT-VALUE}).")
    private long intervalMillis;

    @Override
    public Integer call() throws Exception {
        if (intervalMillis < 10 || intervalMillis > 3_600_000) {
            throw new ParameterException(spec.commandLine(), "--interval must be 10..3600000 ms: " + intervalMillis);
        }
        PrintWriter out = spec.commandLine().getOut();
        try (HostMonitor monitor = Channels.monitor(socket)) {
            HostStatusSnapshot before = monitor.snapshot();
            long beforeNanos = System.nanoTime();
            while (true) {
                if (monitor.awaitHostGone(Duration.ofMillis(intervalMillis))) {
                    if (!once && !json) {
                        out.println("host gone");
                        out.flush();
                        return 0;
                    }
                }
                HostStatusSnapshot now = monitor.snapshot();
                long nowNanos = System.nanoTime();
                double seconds = (nowNanos - beforeNanos) / 1e9;
                if (json) {
                    out.print(StatReport.json(now, before, seconds));
                } else {
                    if (!once) {
                        out.print("\033[H\033[2J"); // home, clear: a live table
                    }
                    out.print(StatReport.table(socket, now, before, seconds));
                }
                out.flush();
                if (once || json) {
                    return 0;
                }
                before = now;
                beforeNanos = nowNanos;
            }
        }
    }

    /** Per-second rate of a count between two readings; -1 when either is unknown. */
    static double rate(long now, long before, double seconds) {
        return now < 0 || before < 0 || seconds <= 0 ? -1 : Math.max(0, now - before) / seconds;
    }

    /** Readings of the previous snapshot by attachment id, for per-peer rates. */
    static Map<Long, HostStatusSnapshot.Peer> peersById(HostStatusSnapshot s) {
        Map<Long, HostStatusSnapshot.Peer> m = new HashMap<>();
        for (HostStatusSnapshot.Channel c : s.channels()) {
            for (HostStatusSnapshot.Peer p : c.peers()) {
                m.put(p.attachmentId(), p);
            }
        }
        return m;
    }

    /** {@return the refusals as "REASON n, ..." or "0"} */
    static String refusals(HostStatusSnapshot s) {
        if (s.refusals().isEmpty()) {
            return "0";
        }
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<RefusalReason, Long> e : s.refusals().entrySet()) {
            sb.append(sb.isEmpty() ? "" : ", ").append(e.getKey()).append(' ').append(e.getValue());
        }
        return sb.toString();
    }
}
