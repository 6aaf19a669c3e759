package io.sluice.perf.wakeup;

import io.sluice.api.MessageHandler;
import io.sluice.api.Role;
import io.sluice.channel.Channels;
import io.sluice.memfd.libc.FutexCalls;
import io.sluice.ringbuffer.BroadcastStart;
import org.HdrHistogram.Histogram;

import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;

import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * The sleeping side of a wake-up run (its own JVM): attaches as a consumer of KIND and takes
 * TOTAL messages with {@code pollBlocking}, one at a time, each sent only once it sleeps; records
 * commit-to-running (the sender's {@code System.nanoTime()} in the message, against its own on
 * waking: one clock, CLOCK_MONOTONIC, for both processes) for all but the first WARMUP.
 * {@code raw-futex} does the same with a bare futex word in the control file.
 *
 * <pre>
 * WakeupConsumer KIND SOCKET CHANNEL CONTROL TOTAL WARMUP HGRM
 * </pre>
 * Prints "READY", then "RESULT kind count p50 p99 p99.9 max bytes-allocated-per-wake" (ns).
 */
public final class WakeupConsumer {
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private WakeupConsumer() {
    }

    /** The sleeping consumer's per-message state: no allocation per message. */
    private static final class Recorder implements MessageHandler {
        final Histogram histogram = new Histogram(60_000_000_000L, 3);
        boolean recording;

        @Override
        public void onMessage(int type, MemorySegment payload) {
            long now = System.nanoTime();
            if (recording) {
                histogram.recordValue(Math.max(0, now - payload.get(JAVA_LONG_UNALIGNED, 0)));
            }
        }
    }

    public static void main(String[] args) throws Exception {
        String kind = args[0];
        Path socket = Path.of(args[1]);
        String channel = args[2];
        long total = Long.parseLong(args[4]);
        long warmup = Long.parseLong(args[5]);
        Path hgrm = Path.of(args[6]);
        Recorder r = new Recorder();
        long allocated;
        try (WakeupControl control = new WakeupControl(Path.of(args[3]))) {
            switch (kind) {
                case "spsc" -> {
                    try (var a = Channels.spsc(socket, channel)) {
                        allocated = run(r, total, warmup, control, () -> a.pollBlocking(r, 1, Duration.ofSeconds(10)));
                    }
                }
                case "broadcast" -> {
                    try (var a = Channels.broadcast(socket, channel, BroadcastStart.NEWEST)) {
                        allocated = run(r, total, warmup, control, () -> a.pollBlocking(r, 1, Duration.ofSeconds(10)));
                    }
                }
                case "mpmc" -> {
                    try (var a = Channels.mpmc(socket, channel, Role.CONSUMER)) {
                        allocated = run(r, total, warmup, control, () -> a.pollBlocking(r, 1, Duration.ofSeconds(10)));
                    }
                }
                case "raw-futex" -> allocated = run(r, total, warmup, control, () -> rawWait(control, r));
                default -> throw new IllegalArgumentException("unknown kind " + kind);
            }
        }
        Histogram h = r.histogram;
        System.out.printf(Locale.ROOT, "RESULT %s %d %d %d %d %d %.2f%n", kind, h.getTotalCount(),
                h.getValueAtPercentile(50), h.getValueAtPercentile(99), h.getValueAtPercentile(99.9), h.getMaxValue(),
                (double) allocated / (total - warmup));
        try (PrintStream out = new PrintStream(Files.newOutputStream(hgrm))) {
            h.outputPercentileDistribution(out, 1.0);
        }
    }

    interface Take {
        int take();
    }

    /** Takes {@code total} messages, acknowledging each; returns the bytes allocated while recording. */
    private static long run(Recorder r, long total, long warmup, WakeupControl control, Take take) {
        System.out.println("READY");
        System.out.flush();
        long before = 0;
        for (long i = 0; i < total; i++) {
            if (i == warmup) {
                r.recording = true;
                before = THREADS.getCurrentThreadAllocatedBytes();
            }
            while (take.take() == 0) {
                // a 10 s timeout: the sender is slow, keep waiting (the launcher bounds the run)
            }
            control.ack(i + 1);
        }
        return THREADS.getCurrentThreadAllocatedBytes() - before;
    }

    /** The raw probe: sleep on the control file's futex word until the sender bumps it. */
    private static int rawWait(WakeupControl control, Recorder r) {
        MemorySegment w = control.words;
        MemorySegment word = w.asSlice(WakeupControl.RAW_WORD, 4);
        while (true) {
            int seen = (int) WakeupControl.INT.getAcquire(w, WakeupControl.RAW_WORD);
            WakeupControl.INT.setVolatile(w, WakeupControl.RAW_WAITING, 1);
            VarHandle.fullFence();
            long stamp = (long) WakeupControl.LONG.getAcquire(w, WakeupControl.RAW_STAMP);
            if (stamp == 0) {
                FutexCalls.futexWait(word, seen, 10_000_000_000L);
            }
            WakeupControl.INT.setVolatile(w, WakeupControl.RAW_WAITING, 0);
            stamp = (long) WakeupControl.LONG.getAcquire(w, WakeupControl.RAW_STAMP);
            if (stamp != 0) {
                long now = System.nanoTime();
                WakeupControl.LONG.setRelease(w, WakeupControl.RAW_STAMP, 0L);
                if (r.recording) {
                    r.histogram.recordValue(Math.max(0, now - stamp));
                }
                return 1;
            }
        }
    }
}
