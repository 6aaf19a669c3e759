package io.sluice.perf.latency;

import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.StringJoiner;
import java.util.function.ToLongFunction;

/**
 * The main class of a peer JVM: {@code PeerMain A|B|both key=value...} (see {@link RunSpec}).
 * {@code A} and {@code B} are the two processes of an {@link LatencySystem.Kind#IPC} row (the
 * launcher pins them with taskset); {@code both} runs the two sides as threads of this JVM,
 * each pinning itself, for an {@link LatencySystem.Kind#IN_PROCESS} row.
 *
 * <p>A run, on each side: meet; A opens (creates), then B opens (attaches); both wait until
 * ready; raw bracket before; warm-up batches; measured slices; raw bracket after; close; write
 * {@code <output>-A.properties} or {@code -B}. Every step is a sync point on the control block.
 */
public final class PeerMain {
    private PeerMain() {
    }

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        RunSpec spec = RunSpec.parse(Arrays.asList(args).subList(1, args.length));
        LatencySystem system = Systems.byId(spec.system());
        int status;
        if (mode.equals("both")) {
            Thread[] threads = new Thread[2];
            int[] results = new int[2];
            for (Role role : Role.values()) {
                threads[role.ordinal()] = new Thread(() -> {
                    if (!Pinning.pinCurrentThread(role.cpu())) {
                        System.err.println(role + ": could not pin to CPU " + role.cpu() + ", running unpinned");
                    }
                    results[role.ordinal()] = runSide(system, role, spec);
                }, "side-" + role.letter());
            }
            for (Thread t : threads) {
                t.start();
            }
            for (Thread t : threads) {
                t.join();
            }
            status = results[0] | results[1];
        } else {
            status = runSide(system, mode.equals("A") ? Role.INITIATOR : Role.RESPONDER, spec);
        }
        System.out.flush();
        // Some peers leave non-daemon threads behind (Aeron's driver, Chronicle's): exit for them.
        Runtime.getRuntime().halt(status);
    }

    private static int runSide(LatencySystem system, Role role, RunSpec spec) {
        Properties out = new Properties();
        out.setProperty("role", role.letter());
        out.setProperty("pid", Long.toString(ProcessHandle.current().pid()));
        int status = 0;
        try {
            measure(system, role, spec, out);
        } catch (Throwable t) {
            StringWriter trace = new StringWriter();
            t.printStackTrace(new PrintWriter(trace));
            System.err.println(role + " failed: " + trace);
            out.setProperty("error", String.valueOf(t));
            status = 1;
        }
        Path file = Path.of(spec.output() + "-" + role.letter() + ".properties");
        try (OutputStream os = Files.newOutputStream(file)) {
            out.store(os, spec.system() + " " + spec.scenario().key() + " " + role);
        } catch (IOException e) {
            System.err.println(role + ": cannot write " + file + ": " + e);
            status = 1;
        }
        return status;
    }

    private static void measure(LatencySystem system, Role role, RunSpec spec, Properties out) throws Exception {
        boolean a = role == Role.INITIATOR;
        long phase = 0;
        AllocationMeter.prime(); // before any warm-up: see prime()
        Control.sync(role, ++phase);
        Endpoint endpoint = null;
        if (a) {
            endpoint = system.open(role, spec);
            Control.sync(role, ++phase);
        } else {
            Control.sync(role, ++phase);
            endpoint = system.open(role, spec);
        }
        try (Endpoint e = endpoint) {
            Control.sync(role, ++phase);
            e.awaitReady();
            Control.sync(role, ++phase);

            if (a) {
                Control.settleInitiate(spec.settleMillis());
            } else {
                Control.settleRespond();
            }
            Histogram pre = Histograms.newHistogram();
            bracket(role, spec, pre);
            Control.sync(role, ++phase);

            switch (spec.scenario()) {
                case PING_PONG -> phase = pingPong(e, role, spec, phase, out);
                case FIXED_RATE -> phase = fixedRate(e, role, spec, phase, out);
                case THROUGHPUT -> phase = throughput(e, role, spec, phase, out);
            }
            Control.sync(role, ++phase);

            Histogram post = Histograms.newHistogram();
            bracket(role, spec, post);
            Control.sync(role, ++phase);
            if (a) {
                out.setProperty("histogram.bracketPre", Histograms.encode(pre));
                out.setProperty("histogram.bracketPost", Histograms.encode(post));
            }
        }
    }

    private static void bracket(Role role, RunSpec spec, Histogram h) {
        if (role == Role.INITIATOR) {
            Control.bracketInitiate(spec.bracketWarmup(), spec.bracketCount(), h);
        } else {
            Control.bracketRespond(spec.bracketWarmup(), spec.bracketCount());
        }
    }

    /**
     * The recording side of a run: spec.warmupBatches() unrecorded batches, the phase sync, then
     * spec.slices() slices of spec.sliceSize() messages, a {@code batch} (spec.batchSize() messages,
     * recorded into {@code slice}) at a time with the allocation meter running. After each slice
     * {@code sliceDone} takes its histogram and returns the p50 listed in {@code slices.p50}; the slice
     * is reset then. Returns the phase after the sync.
     */
    private static long recordSlices(Role role, RunSpec spec, long phase, Histogram slice, Runnable batch,
                                     ToLongFunction<Histogram> sliceDone, Properties out) {
        return recordSlices(role, spec, phase, slice, batch, sliceDone, null, out);
    }

    /** As above; a {@code trace} (or null) starts after the warm-up and ends with the last slice. */
    private static long recordSlices(Role role, RunSpec spec, long phase, Histogram slice, Runnable batch,
                                     ToLongFunction<Histogram> sliceDone, TailTrace trace, Properties out) {
        for (int b = 0; b < spec.warmupBatches(); b++) {
            batch.run();
        }
        slice.reset();
        Control.sync(role, ++phase);
        if (trace != null) {
            trace.begin(role);
        }
        StringJoiner p50s = new StringJoiner(",");
        AllocationMeter allocation = new AllocationMeter();
        for (int s = 0; s < spec.slices(); s++) {
            allocation.start();
            for (int done = 0; done < spec.sliceSize(); done += spec.batchSize()) {
                batch.run();
            }
            allocation.stop();
            p50s.add(Long.toString(sliceDone.applyAsLong(slice)));
            slice.reset();
        }
        if (trace != null) {
            trace.end(role);
        }
        allocation.report(role, spec.measuredMessages(), out);
        out.setProperty("slices.p50", p50s.toString());
        return phase;
    }

    private static long pingPong(Endpoint e, Role role, RunSpec spec, long phase, Properties out) throws IOException {
        int batch = spec.batchSize();
        if (role == Role.INITIATOR) {
            Histogram total = Histograms.newHistogram();
            Histogram slice = Histograms.newHistogram();
            long[] seq = {1};
            TailTrace trace = TailTrace.ENABLED ? new TailTrace(spec.measuredMessages()) : null;
            phase = recordSlices(role, spec, phase, slice, () -> {
                if (trace == null) {
                    Loops.ping(e, batch, seq[0], slice);
                } else {
                    Loops.pingTraced(e, batch, seq[0], slice, trace);
                }
                seq[0] += batch;
            }, done -> {
                total.add(done);
                return done.getValueAtPercentile(50);
            }, trace, out);
            out.setProperty("histogram.measured", Histograms.encode(total));
            if (trace != null) {
                trace.write(spec, role);
            }
        } else {
            for (int b = 0; b < spec.warmupBatches(); b++) {
                Loops.echo(e, batch);
            }
            Control.sync(role, ++phase);
            TailTrace trace = TailTrace.ENABLED ? new TailTrace(0) : null;
            AllocationMeter allocation = new AllocationMeter();
            if (trace != null) {
                trace.begin(role);
            }
            allocation.start();
            for (long done = 0; done < spec.measuredMessages(); done += batch) {
                if (trace == null) {
                    Loops.echo(e, batch);
                } else {
                    Loops.echoTraced(e, batch, trace);
                }
            }
            allocation.stop();
            if (trace != null) {
                trace.end(role);
                trace.write(spec, role);
            }
            allocation.report(role, spec.measuredMessages(), out);
        }
        return phase;
    }

    private static long fixedRate(Endpoint e, Role role, RunSpec spec, long phase, Properties out) {
        int batch = spec.batchSize();
        long interval = spec.intervalNs();
        if (role == Role.INITIATOR) {
            long[] schedule = {System.nanoTime(), 0};
            for (int b = 0; b < spec.warmupBatches(); b++) {
                Loops.sendAtRate(e, batch, interval, schedule);
            }
            Control.sync(role, ++phase);
            schedule[0] = System.nanoTime();
            schedule[1] = 0;
            long start = schedule[0];
            AllocationMeter allocation = new AllocationMeter();
            allocation.start();
            for (long done = 0; done < spec.measuredMessages(); done += batch) {
                Loops.sendAtRate(e, batch, interval, schedule);
            }
            allocation.stop();
            long elapsed = System.nanoTime() - start;
            allocation.report(role, spec.measuredMessages(), out);
            out.setProperty("sender.late", Long.toString(schedule[1]));
            out.setProperty("sender.messages", Long.toString(spec.measuredMessages()));
            out.setProperty("sender.elapsedNs", Long.toString(elapsed));
        } else {
            Histogram total = Histograms.newHistogram();
            Histogram uncorrected = Histograms.newHistogram();
            Histogram slice = Histograms.newHistogram();
            phase = recordSlices(role, spec, phase, slice, () -> Loops.receiveStamped(e, batch, slice), done -> {
                Histogram corrected = done.copyCorrectedForCoordinatedOmission(interval);
                total.add(corrected);
                uncorrected.add(done);
                return corrected.getValueAtPercentile(50);
            }, out);
            out.setProperty("histogram.measured", Histograms.encode(total));
            out.setProperty("histogram.uncorrected", Histograms.encode(uncorrected));
        }
        return phase;
    }

    private static long throughput(Endpoint e, Role role, RunSpec spec, long phase, Properties out) {
        int batch = spec.batchSize();
        if (role == Role.INITIATOR) {
            // Made (its lambda bootstrapped) before the warm-up, for the reason of AllocationMeter.prime.
            Runnable idle = e::idle;
            long seq = 1;
            long warmupStart = System.nanoTime();
            for (long b = 1; ; b++, seq += batch) {
                // The last warm-up batch is declared before it is sent: B, having received it,
                // then sees the count (it was stored before those messages were committed).
                boolean last = b >= spec.warmupBatches() && System.nanoTime() - warmupStart >= Plan.MIN_THROUGHPUT_WARMUP_NANOS;
                if (last) {
                    Control.endWarmupAfter(b);
                }
                Loops.send(e, batch, seq);
                if (last) {
                    seq += batch;
                    break;
                }
            }
            Control.sync(role, ++phase, idle); // idle: the last messages may still need this thread
            AllocationMeter allocation = new AllocationMeter();
            allocation.start();
            for (long done = 0; done < spec.measuredMessages(); done += batch, seq += batch) {
                Loops.send(e, batch, seq);
            }
            allocation.stop();
            allocation.report(role, spec.measuredMessages(), out);
            Control.sync(role, ++phase, idle); // until B has them all
        } else {
            long warmupBatches = 0;
            do {
                Loops.receive(e, batch);
                warmupBatches++;
            } while (Control.warmupEnd() != warmupBatches);
            Control.sync(role, ++phase);
            StringJoiner rates = new StringJoiner(",");
            AllocationMeter allocation = new AllocationMeter();
            long start = System.nanoTime();
            long sliceStart = start;
            long last = 0;
            for (int s = 0; s < spec.slices(); s++) {
                allocation.start();
                for (int done = 0; done < spec.sliceSize(); done += batch) {
                    last = Loops.receive(e, batch);
                }
                allocation.stop();
                long now = System.nanoTime();
                rates.add(Long.toString(Math.round(spec.sliceSize() * 1e9 / (now - sliceStart))));
                sliceStart = now;
            }
            long elapsed = System.nanoTime() - start;
            allocation.report(role, spec.measuredMessages(), out);
            long expectedLast = warmupBatches * batch + spec.measuredMessages();
            if (last != expectedLast) {
                throw new IllegalStateException("last message carried " + last + ", expected " + expectedLast);
            }
            Control.sync(role, ++phase);
            out.setProperty("throughput.messages", Long.toString(spec.measuredMessages()));
            out.setProperty("throughput.elapsedNs", Long.toString(elapsed));
            out.setProperty("slices.rate", rates.toString());
        }
        return phase;
    }

    /** For the launcher's log: "a,b,c" as a list of longs. */
    static List<Long> parseList(String csv) {
        if (csv == null || csv.isBlank()) {
            return List.of();
        }
        return Arrays.stream(csv.split(",")).map(String::trim).map(Long::parseLong).toList();
    }
}
