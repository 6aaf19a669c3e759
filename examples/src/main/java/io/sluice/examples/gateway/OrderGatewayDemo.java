package io.sluice.examples.gateway;

import io.sluice.api.Role;
import io.sluice.channel.ChannelHost;
import io.sluice.channel.HostedMpmcChannel;
import io.sluice.channel.MpmcOptions;
import io.sluice.examples.DemoJvm;
import io.sluice.ringbuffer.MpmcProducer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Order gateway on an MPMC channel: two order-entry JVMs (producers) and two matching JVMs
 * (consumers) share one ring hosted by this JVM. Each order is taken by exactly one consumer;
 * the summary proves it: per entry process, the orders seen across both consumers add up to
 * exactly the orders sent (count, sum of ids and sum of squares), each consumer saw each entry
 * process's orders in order.
 *
 * <p>Run: {@code ./mvnw -q compile exec:exec -Ddemo=gateway}. Argument (optional): orders per
 * order-entry JVM (default {@value #DEFAULT_ORDERS_PER_ENTRY}). Exits with status 1 if the summary
 * is not OK.
 */
public final class OrderGatewayDemo {
    static final String CHANNEL = "orders";
    static final int ORDER = 1;
    static final int STOP = 2;
    static final int ORDER_LENGTH = 32; // entry id, order id, price, quantity
    static final long DEFAULT_ORDERS_PER_ENTRY = 500_000;

    public static void main(String[] args) throws Exception {
        long ordersPerEntry = DemoJvm.firstArgument(args, DEFAULT_ORDERS_PER_ENTRY, 1, 100_000_000, "orders per entry");
        Path dir = Files.createTempDirectory("sluice-gw-");
        Path socket = dir.resolve("gw.sock");
        List<String> reports = new ArrayList<>();
        long start = System.nanoTime();
        try (ChannelHost host = ChannelHost.bind(socket)) {
            HostedMpmcChannel ring = host.mpmc(CHANNEL, MpmcOptions.of(1024, 64).maxParticipants(16));
            say("hosting '" + CHANNEL + "': MPMC, 1024 slots of 64 bytes in memfd 'sluice:" + CHANNEL
                    + "' (sealed SHRINK|GROW; a trusted group maps it read-write); socket " + socket);
            List<Process> consumers = new ArrayList<>();
            List<Process> producers = new ArrayList<>();
            List<Thread> pumps = new ArrayList<>();
            for (int i = 1; i <= 2; i++) {
                Process p = DemoJvm.startSmall(OrderMatcher.class, socket.toString(), "M" + i);
                consumers.add(p);
                pumps.add(DemoJvm.pump(p, "[gateway]", line -> report(line, reports)));
            }
            for (int i = 1; i <= 2; i++) {
                Process p = DemoJvm.startSmall(OrderEntry.class, socket.toString(), Integer.toString(i), Long.toString(ordersPerEntry));
                producers.add(p);
                pumps.add(DemoJvm.pump(p, "[gateway]", line -> report(line, reports)));
            }
            for (Process p : producers) {
                if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
                    throw new IllegalStateException("order entry pid " + p.pid() + " failed");
                }
            }
            // Every order is in the ring before these: one STOP per matcher, after all of them.
            MpmcProducer stopper = ring.attachLocal(Role.PRODUCER).producer();
            for (int i = 0; i < consumers.size(); i++) {
                long at;
                while ((at = stopper.tryClaim(STOP, 0)) < 0) {
                    Thread.onSpinWait();
                }
                stopper.commit(at);
            }
            DemoJvm.awaitAll(consumers, 120, pumps);
        }
        Files.deleteIfExists(socket);
        Files.deleteIfExists(dir);
        summary(reports, ordersPerEntry, (System.nanoTime() - start) / 1e9);
    }

    /** Takes a "REPORT ..." line into reports. */
    private static boolean report(String line, List<String> reports) {
        if (!line.startsWith("REPORT ")) {
            return false;
        }
        synchronized (reports) {
            reports.add(line.substring("REPORT ".length()));
        }
        return true;
    }

    /** Reports: "matcher=M1 pid=.. entry1=count:sum:sumsq entry2=..." and "entry=1 pid=.. sent=N". */
    private static void summary(List<String> reports, long n, double seconds) {
        long[][] seen = new long[3][3]; // [entry][count, sum, sum of squares]
        System.out.println();
        System.out.printf("summary: 2 order-entry JVMs -> 1 MPMC ring -> 2 matcher JVMs, %.1f s%n", seconds);
        for (String r : reports) {
            System.out.println("  " + r);
            if (r.startsWith("matcher=")) {
                for (String kv : r.split(" ")) {
                    if (kv.startsWith("entry")) {
                        int e = kv.charAt(5) - '0';
                        String[] f = kv.substring(kv.indexOf('=') + 1).split(":");
                        for (int k = 0; k < 3; k++) {
                            seen[e][k] += Long.parseLong(f[k]);
                        }
                    }
                }
            }
        }
        long sum = n * (n - 1) / 2;
        long sumSq = 0;
        for (long i = 0; i < n; i++) {
            sumSq += i * i;
        }
        boolean ok = true;
        for (int e = 1; e <= 2; e++) {
            boolean exact = seen[e][0] == n && seen[e][1] == sum && seen[e][2] == sumSq;
            ok &= exact;
            System.out.printf("  entry %d: sent %,d, processed %,d across both matchers: %s%n", e, n, seen[e][0],
                    exact ? "every order exactly once (count, id sum and id-square sum match)" : "MISMATCH");
        }
        System.out.println("  " + (ok ? "OK" : "FAILED"));
        if (!ok) {
            System.exit(1);
        }
    }

    static void say(String what) {
        System.out.println("[gateway pid " + ProcessHandle.current().pid() + "] " + what);
        System.out.flush();
    }
}
