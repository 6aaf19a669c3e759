package io.sluice.examples.marketdata;

import io.sluice.api.BackOffIdleStrategy;
import io.sluice.api.ConnectionClosedException;
import io.sluice.api.IdleStrategy;
import io.sluice.api.SystemCallException;
import io.sluice.channel.Channels;
import io.sluice.channel.ConsumerAttachment;
import io.sluice.ringbuffer.BroadcastConsumer;
import io.sluice.ringbuffer.BroadcastStart;
import org.HdrHistogram.Histogram;

import java.nio.file.Path;

/**
 * A subscriber JVM of the market-data demo: attaches to the broadcast channel, reads quotes in
 * place, records publish-to-read latency in an HdrHistogram, counts laps, and, if asked, first
 * tries to map the ring writable to show the kernel's refusal. Prints one {@code REPORT} line at
 * the end, which the demo's summary collects.
 */
public final class MarketDataSubscriber {
    public static void main(String[] args) throws Exception {
        Path socket = Path.of(args[0]);
        String name = args[1];
        BroadcastStart start = BroadcastStart.valueOf(args[2]);
        boolean tryWrite = Boolean.parseBoolean(args[3]);
        long pauseEvery = Long.parseLong(args[4]); // a slow subscriber pauses 1 ms every N quotes (0: never)
        String tag = "[subscriber " + name + " pid " + ProcessHandle.current().pid() + "] ";

        Histogram latency = new Histogram(3_600_000_000_000L, 3);
        long[] count = new long[1];
        long[] lastSeq = {-1};
        String writeAttempt = "not tried";
        try (ConsumerAttachment<BroadcastConsumer> md = Channels.broadcast(socket, MarketDataDemo.CHANNEL, start)) {
            BroadcastConsumer consumer = md.consumer();
            System.out.println(tag + "attached to '" + MarketDataDemo.CHANNEL + "' (" + md.info().kind()
                    + "), starting at the " + start.name().toLowerCase() + " quote; ring mapped read-only");
            if (tryWrite) {
                try {
                    md.dataRegion().mapReadWrite();
                    writeAttempt = "ALLOWED (should not happen)";
                } catch (SystemCallException e) {
                    writeAttempt = e.getMessage();
                }
                System.out.println(tag + "tried to map the ring writable: " + writeAttempt);
            }
            IdleStrategy idle = new BackOffIdleStrategy();
            long firstAt = 0;
            try {
                while (true) {
                    int n = md.poll((type, quote) -> {
                        long now = System.nanoTime();
                        long seq = Quote.sequence(quote);
                        long sent = Quote.sendTime(quote);
                        if (consumer.isStillValid()) { // not overwritten while we read it in place
                            latency.recordValue(Math.max(0, now - sent));
                            lastSeq[0] = seq;
                            count[0]++;
                            if (pauseEvery > 0 && count[0] % pauseEvery == 0) {
                                java.util.concurrent.locks.LockSupport.parkNanos(1_000_000); // a slow reader: gets lapped
                            }
                        }
                    }, 256);
                    if (n > 0) {
                        if (firstAt == 0) {
                            firstAt = System.nanoTime();
                        }
                        idle.reset();
                    } else {
                        idle.idle();
                    }
                }
            } catch (ConnectionClosedException e) {
                // the publisher is done and gone; everything it committed was read
            }
            double seconds = Math.max(1e-9, (System.nanoTime() - firstAt) / 1e9);
            System.out.printf("%sREPORT name=%s quotes=%d rate=%.0f p50_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f laps=%d lost=%d write=%s%n",
                    tag, name, count[0], count[0] / seconds,
                    latency.getValueAtPercentile(50) / 1e3, latency.getValueAtPercentile(99) / 1e3,
                    latency.getValueAtPercentile(99.9) / 1e3, latency.getMaxValue() / 1e3,
                    consumer.lapCount(), consumer.lostMessages(), writeAttempt.replace(' ', '_'));
        }
    }

}
