package io.sluice.perf.latency;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Properties;

/**
 * A diagnostic for ping-pong runs ({@code -Dsluice.perf.tailTrace=true}): what each side's thread
 * saw while it measured, so that the launcher ({@link TailBreakdown}) can say which events land
 * above p99. Never on in a published run: reading the clock in every spin iteration adds its cost
 * to every round trip.
 *
 * <ul>
 *   <li><b>Gaps</b>, both sides: a spin iteration (or a send) that took longer than
 *       {@link #GAP_NANOS}: the thread was not running then (a timer or device interrupt, a
 *       preemption, a safepoint). Start and end, {@code System.nanoTime()}, which is
 *       CLOCK_MONOTONIC and so comparable between the two processes.</li>
 *   <li><b>Round trips</b>, side A: start, duration and sequence number of every measured one.</li>
 *   <li><b>Kernel counts</b> over the measured loop: local timer interrupts of the side's CPU
 *       ({@code /proc/interrupts}, LOC) and the thread's involuntary context switches
 *       ({@code /proc/thread-self/status}).</li>
 *   <li><b>The window</b>: {@code startNanos} and {@code endNanos} of the measured loop, in
 *       {@code System.nanoTime()}, the clock of {@code -Xlog}'s {@code timenanos} decoration, so
 *       that safepoints and deoptimizations logged by the JVM can be placed inside or outside it
 *       (perf/README.md).</li>
 * </ul>
 * Arrays are allocated before the measured loop and never grow; what does not fit is counted.
 */
final class TailTrace {
    /** The switch: a JVM property passed to every peer. */
    static final boolean ENABLED = Boolean.getBoolean("sluice.perf.tailTrace");
    /** A spin iteration of a busy thread takes well under 100 ns; 1 µs means it was off the CPU. */
    static final long GAP_NANOS = 1_000;
    private static final int MAX_GAPS = 1 << 20;

    private final long[] gaps = new long[2 * MAX_GAPS];
    private int gapCount;
    private long gapsLost;
    private final long[] trips;
    private int tripCount;
    private long locBefore;
    private long switchesBefore;
    private long startNanos;
    private final Properties counts = new Properties();

    /** @param roundTrips round trips side A will record (0 for side B) */
    TailTrace(long roundTrips) {
        this.trips = new long[(int) (3 * roundTrips)];
    }

    /** Records that the thread was away from {@code from} to {@code to}. */
    void gap(long from, long to) {
        if (gapCount < MAX_GAPS) {
            gaps[2 * gapCount] = from;
            gaps[2 * gapCount + 1] = to;
            gapCount++;
        } else {
            gapsLost++;
        }
    }

    /** Side A: one measured round trip. */
    void trip(long start, long nanos, long seq) {
        int at = 3 * tripCount;
        if (at < trips.length) {
            trips[at] = start;
            trips[at + 1] = nanos;
            trips[at + 2] = seq;
            tripCount++;
        }
    }

    /** Before the measured loop. */
    void begin(Role role) {
        locBefore = localTimerInterrupts(role.cpu());
        switchesBefore = involuntarySwitches();
        startNanos = System.nanoTime();
        gapCount = 0;
        tripCount = 0;
    }

    /** After it: the kernel's counts over the loop. */
    void end(Role role) {
        long endNanos = System.nanoTime();
        counts.setProperty("seconds", Double.toString((endNanos - startNanos) / 1e9));
        // The window in System.nanoTime(), which is -Xlog's "timenanos" decoration: a JVM log
        // written with it (safepoints, deoptimization) can be matched against the measured loop.
        counts.setProperty("startNanos", Long.toString(startNanos));
        counts.setProperty("endNanos", Long.toString(endNanos));
        counts.setProperty("localTimerInterrupts", Long.toString(localTimerInterrupts(role.cpu()) - locBefore));
        counts.setProperty("involuntarySwitches", Long.toString(involuntarySwitches() - switchesBefore));
        counts.setProperty("gapsLost", Long.toString(gapsLost));
    }

    /** Writes {@code <output>-<side>.gaps}, {@code .trips} (side A) and {@code .trace} (the counts). */
    void write(RunSpec spec, Role role) throws IOException {
        String base = spec.output() + "-" + role.letter();
        writeLongs(Path.of(base + ".gaps"), gaps, 2 * gapCount);
        if (tripCount > 0) {
            writeLongs(Path.of(base + ".trips"), trips, 3 * tripCount);
        }
        try (var out = Files.newOutputStream(Path.of(base + ".trace"))) {
            counts.store(out, "tail trace " + role);
        }
    }

    private static void writeLongs(Path file, long[] values, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8 * n).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            b.putLong(values[i]);
        }
        b.flip();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            while (b.hasRemaining()) {
                ch.write(b);
            }
        }
    }

    /** The LOC count of {@code cpu} in /proc/interrupts, or -1 where there is none. */
    static long localTimerInterrupts(int cpu) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/interrupts"))) {
                String t = line.trim();
                if (t.startsWith("LOC:")) {
                    String[] f = t.substring(4).trim().split("\\s+");
                    return cpu < f.length ? Long.parseLong(f[cpu]) : -1;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }

    /** This thread's involuntary context switches, or -1. */
    static long involuntarySwitches() {
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/thread-self/status"));
            for (String line : lines) {
                if (line.startsWith("nonvoluntary_ctxt_switches:")) {
                    return Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }
}
