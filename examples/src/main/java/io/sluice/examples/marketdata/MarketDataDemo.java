package io.sluice.examples.marketdata;

import io.sluice.api.BroadcastPolicy;
import io.sluice.channel.BroadcastOptions;
import io.sluice.channel.ChannelHost;
import io.sluice.channel.HostedBroadcastChannel;
import io.sluice.examples.DemoJvm;
import io.sluice.ringbuffer.BroadcastProducer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Market-data fan-out, the README's main demo. This JVM publishes quotes into a broadcast channel
 * (overwrite-oldest: the publisher never waits for anyone); three subscriber JVMs attach through
 * the socket and read the same pages in place. One subscriber is slow and gets lapped (and says
 * by how much); one tries to map the ring writable and is refused by the kernel. The run ends by
 * itself after a few seconds with a summary, and exits with status 1 if the summary is not OK.
 *
 * <p>Run: {@code ./mvnw -q compile exec:exec}. Argument (optional; or {@code -Dseconds=N} through
 * Maven): how many seconds to publish (default {@value #DEFAULT_SECONDS}).
 */
public final class MarketDataDemo {
    static final String CHANNEL = "md.quotes";
    private static final long CAPACITY = 256 * 1024;
    private static final int RATE = 100_000;          // quotes per second
    static final long DEFAULT_SECONDS = 4;
    private static final String[] SYMBOLS = {"EURUSD", "GBPUSD", "USDJPY", "AUDUSD", "USDCHF", "USDCAD", "NZDUSD", "EURGBP"};

    public static void main(String[] args) throws Exception {
        long seconds = DemoJvm.firstArgument(args, Long.getLong("sluice.demo.seconds", DEFAULT_SECONDS), 1, 3600, "seconds");
        Path dir = Files.createTempDirectory("sluice-md-");
        Path socket = dir.resolve("md.sock");
        List<Process> subscribers = new ArrayList<>();
        List<Thread> pumps = new ArrayList<>();
        Map<String, String> reports = new LinkedHashMap<>();
        try (ChannelHost host = ChannelHost.bind(socket)) {
            HostedBroadcastChannel channel = host.broadcast(CHANNEL,
                    BroadcastOptions.of(BroadcastPolicy.OVERWRITE, CAPACITY).maxMessageLength(Quote.LENGTH).maxConsumers(8));
            say("publishing '" + CHANNEL + "': broadcast, overwrite-oldest, " + CAPACITY / 1024 + " KiB ring in memfd 'sluice:"
                    + CHANNEL + "', sealed read-only for everyone else; socket " + socket);
            say("watch it: cli/sluice stat " + socket + "   (and: cli/sluice tail " + socket + " " + CHANNEL + ", cli/sluice ps)");
            String[][] subs = {
                    {"A", "NEWEST", "true", "0"},     // tries to write the ring
                    {"B", "OLDEST", "false", "0"},    // joins at the oldest quote still in the ring
                    {"C", "NEWEST", "false", "50"},   // slow: pauses 1 ms every 50 quotes (< RATE/s), gets lapped
            };
            for (String[] s : subs) {
                Process p = DemoJvm.startSmall(MarketDataSubscriber.class, socket.toString(), s[0], s[1], s[2], s[3]);
                subscribers.add(p);
                pumps.add(DemoJvm.pump(p, "[demo]", line -> report(line, reports)));
            }
            awaitAttached(channel, subs.length);
            say(subs.length + " subscribers attached; publishing " + RATE + " quotes/s for " + seconds + " s");
            long published = publish(channel.producer(), seconds);
            say("published " + published + " quotes; closing the channel (subscribers drain, then see the host gone)");
        }
        DemoJvm.awaitAll(subscribers, 30, pumps);
        Files.deleteIfExists(socket);
        Files.deleteIfExists(dir);
        summary(reports);
    }

    private static void awaitAttached(HostedBroadcastChannel channel, int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (channel.attachments().size() < n) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("only " + channel.attachments().size() + " of " + n + " subscribers attached in 60 s");
            }
            Thread.sleep(10); // demo pacing: wait for JVMs to start
        }
    }

    private static long publish(BroadcastProducer producer, long seconds) {
        SplittableRandom random = new SplittableRandom(42);
        long[] symbols = new long[SYMBOLS.length];
        long[] mids = new long[SYMBOLS.length];
        for (int i = 0; i < SYMBOLS.length; i++) {
            symbols[i] = Quote.symbol(SYMBOLS[i]);
            mids[i] = 100_000 + random.nextInt(50_000);
        }
        long interval = 1_000_000_000L / RATE;
        long start = System.nanoTime();
        long end = start + TimeUnit.SECONDS.toNanos(seconds);
        long next = start;
        long seq = 0;
        while (next < end) {
            while (System.nanoTime() < next) {
                Thread.onSpinWait();
            }
            int i = (int) (seq % symbols.length);
            mids[i] += random.nextInt(-3, 4);
            long at = producer.tryClaim(Quote.TYPE, Quote.LENGTH); // overwrite-oldest: never refused
            Quote.write(producer.buffer(), at, symbols[i], mids[i] - 2, mids[i] + 2, 1_000_000, 2_000_000, System.nanoTime(), seq);
            producer.commit(at);
            seq++;
            next += interval;
        }
        return seq;
    }

    /** Takes a "<subscriber>REPORT ..." line into reports, keyed by what precedes REPORT. */
    private static boolean report(String line, Map<String, String> reports) {
        int at = line.indexOf("REPORT ");
        if (at < 0) {
            return false;
        }
        synchronized (reports) {
            reports.put(line.substring(0, at), line.substring(at + "REPORT ".length()));
        }
        return true;
    }

    private static void summary(Map<String, String> reports) {
        System.out.println();
        System.out.println("summary: 1 publisher, " + reports.size() + " subscriber JVMs on one broadcast ring, zero copies");
        System.out.printf("  %-4s %-7s %10s %10s %9s %9s %9s %9s %6s %8s%n", "sub", "pid", "quotes", "quotes/s",
                "p50 us", "p99 us", "p99.9 us", "max us", "laps", "lost");
        boolean ok = reports.size() == 3;
        String writeResult = "";
        for (Map.Entry<String, String> e : reports.entrySet()) {
            Map<String, String> f = new LinkedHashMap<>();
            for (String kv : e.getValue().split(" ")) {
                int eq = kv.indexOf('=');
                if (eq > 0) {
                    f.put(kv.substring(0, eq), kv.substring(eq + 1));
                }
            }
            String pid = e.getKey().replaceAll(".*pid (\\d+).*", "$1");
            System.out.printf("  %-4s %-7s %,10d %,10.0f %9s %9s %9s %9s %6s %,8d%n", f.get("name"), pid,
                    Long.parseLong(f.get("quotes")), Double.parseDouble(f.get("rate")), f.get("p50_us"), f.get("p99_us"),
                    f.get("p999_us"), f.get("max_us"), f.get("laps"), Long.parseLong(f.get("lost")));
            if (!"not_tried".equals(f.get("write"))) {
                writeResult = "subscriber " + f.get("name") + " mapping the ring writable: " + f.get("write").replace('_', ' ');
                ok &= !writeResult.contains("ALLOWED");
            }
        }
        System.out.println("  " + writeResult);
        System.out.println("  latency: publisher's System.nanoTime() in the quote to the subscriber's on reading it in place;"
                + " subscribers back off (spin, yield, park) on this 2-core machine, so the tail includes their naps.");
        System.out.println("  " + (ok ? "OK" : "FAILED"));
        if (!ok) {
            System.exit(1);
        }
    }

    private static void say(String what) {
        System.out.println("[publisher pid " + ProcessHandle.current().pid() + "] " + what);
        System.out.flush();
    }
}
