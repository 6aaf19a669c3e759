package io.sluice.perf.wakeup;

import io.sluice.api.BroadcastPolicy;
import io.sluice.api.MessageProducer;
import io.sluice.api.Role;
import io.sluice.channel.Attachment;
import io.sluice.channel.BroadcastOptions;
import io.sluice.channel.ChannelHost;
import io.sluice.channel.HostedBroadcastChannel;
import io.sluice.channel.HostedMpmcChannel;
import io.sluice.channel.HostedSpscChannel;
import io.sluice.channel.MpmcAttachment;
import io.sluice.channel.MpmcOptions;
import io.sluice.channel.SpscOptions;
import io.sluice.memfd.libc.FutexCalls;
import io.sluice.ringbuffer.BroadcastConsumerPositionDescriptor;
import io.sluice.ringbuffer.MpmcRingDescriptor;
import io.sluice.ringbuffer.SpscConsumerPositionDescriptor;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;

import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * Wake-up latency: how long from a producer's commit until a consumer that slept in the kernel
 * ({@code pollBlocking}) runs again, for SPSC, broadcast and MPMC channels, beside a bare futex
 * wake between the same two processes ({@code raw-futex}: the floor the kernel sets).
 *
 * <p>Per kind: this JVM hosts the channel (wake-ups on) and sends; a second JVM
 * ({@link WakeupConsumer}) attaches and sleeps. Before each message the sender waits until the
 * consumer has handled the previous one and is marked parked again (its parked flag, or the MPMC
 * parked count), then a further 200 to 700 µs so that it is really asleep in {@code FUTEX_WAIT},
 * then stamps {@code System.nanoTime()} into the message and commits. Nothing is a ping-pong: every
 * sample is one wake of a sleeping thread. The consumer records into an HdrHistogram.
 *
 * <pre>
 * WakeupMain [--samples N] [--warmup N] [--kinds spsc,broadcast,mpmc,raw-futex] [--out DIR] [--consumer-cpu C]
 * </pre>
 */
public final class WakeupMain {
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT;
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private WakeupMain() {
    }

    public static void main(String[] args) throws Exception {
        long samples = 5_000;
        long warmup = 500;
        List<String> kinds = List.of("raw-futex", "spsc", "broadcast", "mpmc");
        Path out = Path.of("perf/results/wakeup-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        String consumerCpu = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--samples" -> samples = Long.parseLong(args[++i]);
                case "--warmup" -> warmup = Long.parseLong(args[++i]);
                case "--kinds" -> kinds = List.of(args[++i].split(","));
                case "--out" -> out = Path.of(args[++i]);
                case "--consumer-cpu" -> consumerCpu = args[++i];
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        Files.createDirectories(out);
        List<String> rows = new ArrayList<>();
        for (String kind : kinds) {
            rows.add(runKind(kind, samples, warmup, out, consumerCpu));
        }
        StringBuilder md = new StringBuilder();
        md.append("| kind | samples | p50 µs | p99 µs | p99.9 µs | max µs | consumer bytes/wake | producer bytes/message |\n");
        md.append("|---|---|---|---|---|---|---|---|\n");
        rows.forEach(r -> md.append(r).append('\n'));
        md.append("\nmachine: ").append(Runtime.getRuntime().availableProcessors()).append(" CPUs, ")
                .append(System.getProperty("os.name")).append(' ').append(System.getProperty("os.version"))
                .append(", java ").append(System.getProperty("java.version")).append('\n');
        Files.writeString(out.resolve("summary.md"), md);
        System.out.print(md);
        System.out.println("\nwritten to " + out);
    }

    private static String runKind(String kind, long samples, long warmup, Path out, String consumerCpu) throws Exception {
        Path dir = Files.createTempDirectory("sluice-wakeup-");
        Path control = Path.of("/dev/shm", "sluice-wakeup-" + ProcessHandle.current().pid() + "-" + kind);
        Path socket = dir.resolve("w.sock");
        long total = samples + warmup;
        try (WakeupControl c = new WakeupControl(control); ChannelHost host = ChannelHost.bind(socket)) {
            c.ack(0);
            Sender sender = switch (kind) {
                case "spsc" -> spsc(host);
                case "broadcast" -> broadcast(host);
                case "mpmc" -> mpmc(host);
                case "raw-futex" -> raw(c);
                default -> throw new IllegalArgumentException("unknown kind " + kind);
            };
            List<String> cmd = new ArrayList<>();
            if (consumerCpu != null) {
                cmd.addAll(List.of("taskset", "-c", consumerCpu));
            }
            cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-XX:+UseSerialGC",
                    "-Xms256m", "-Xmx256m", "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                    WakeupConsumer.class.getName(), kind, socket.toString(), "w", control.toString(),
                    Long.toString(total), Long.toString(warmup), out.resolve(kind + ".hgrm").toString()));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            BufferedReader lines = new BufferedReader(new InputStreamReader(p.getInputStream()));
            String line = lines.readLine();
            if (line == null || !line.equals("READY")) {
                throw new IllegalStateException(kind + ": the consumer did not start: " + line);
            }
            SplittableRandom random = new SplittableRandom(42);
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
            long allocated = 0;
            for (long i = 0; i < total; i++) {
                while (c.acked() != i || !sender.parked()) { // the previous one handled, and asleep again
                    if (System.nanoTime() > deadline || !p.isAlive()) {
                        throw new IllegalStateException(kind + ": the consumer stopped at message " + i + " (alive "
                                + p.isAlive() + ")");
                    }
                    Thread.onSpinWait();
                }
                long until = System.nanoTime() + 200_000 + random.nextLong(500_000); // asleep in FUTEX_WAIT by then
                while (System.nanoTime() < until) {
                    Thread.onSpinWait();
                }
                long before = THREADS.getCurrentThreadAllocatedBytes();
                sender.send(System.nanoTime());
                if (i >= warmup) {
                    allocated += THREADS.getCurrentThreadAllocatedBytes() - before;
                }
            }
            String result = null;
            while ((line = lines.readLine()) != null) {
                if (line.startsWith("RESULT ")) {
                    result = line;
                }
            }
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0 || result == null) {
                throw new IllegalStateException(kind + ": the consumer failed (exit " + (p.isAlive() ? "none" : p.exitValue()) + ")");
            }
            String[] f = result.split(" ");
            return String.format(Locale.ROOT, "| %s | %s | %.1f | %.1f | %.1f | %.1f | %s | %.2f |", kind, f[2],
                    Long.parseLong(f[3]) / 1e3, Long.parseLong(f[4]) / 1e3, Long.parseLong(f[5]) / 1e3,
                    Long.parseLong(f[6]) / 1e3, f[7], (double) allocated / samples);
        } finally {
            Files.deleteIfExists(control);
            Files.deleteIfExists(socket);
            Files.deleteIfExists(dir);
        }
    }

    /** The sending side of one kind: whether the consumer is marked parked, and one stamped commit. */
    private interface Sender {
        boolean parked();

        void send(long stamp);
    }

    private static void commitStamp(MessageProducer p, long stamp) {
        long at;
        while ((at = p.tryClaim(1, 8)) < 0) {
            Thread.onSpinWait();
        }
        p.buffer().set(JAVA_LONG_UNALIGNED, at, stamp);
        p.commit(at);
    }

    private static Sender spsc(ChannelHost host) {
        HostedSpscChannel ch = host.spsc("w", SpscOptions.of(64 * 1024).wakeParkedConsumers(true));
        return flagSender(() -> {
            Attachment a = ch.consumer();
            return a == null ? 0 : a.positionView().get(U32, SpscConsumerPositionDescriptor.PARKED_FLAG_OFFSET);
        }, stamp -> commitStamp(ch.producer(), stamp));
    }

    private static Sender broadcast(ChannelHost host) {
        HostedBroadcastChannel ch = host.broadcast("w",
                BroadcastOptions.of(BroadcastPolicy.BACK_PRESSURE, 64 * 1024).wakeParkedConsumers(true));
        return flagSender(() -> {
            List<Attachment> a = ch.attachments();
            return a.isEmpty() ? 0 : a.get(0).positionView().get(U32, BroadcastConsumerPositionDescriptor.PARKED_FLAG_OFFSET);
        }, stamp -> commitStamp(ch.producer(), stamp));
    }

    private static Sender mpmc(ChannelHost host) {
        HostedMpmcChannel ch = host.mpmc("w", MpmcOptions.of(1024, 64).wakeParkedConsumers(true));
        MpmcAttachment producer = ch.attachLocal(Role.PRODUCER);
        MemorySegment ring = producer.producer().buffer();
        return flagSender(() -> (int) WakeupControl.INT.getVolatile(ring, MpmcRingDescriptor.PARKED_COUNT_OFFSET),
                stamp -> commitStamp(producer, stamp));
    }

    private static Sender flagSender(IntSupplier flag, java.util.function.LongConsumer send) {
        return new Sender() {
            @Override
            public boolean parked() {
                VarHandle.acquireFence();
                return flag.getAsInt() != 0;
            }

            @Override
            public void send(long stamp) {
                send.accept(stamp);
            }
        };
    }

    /** The floor: a stamp, an atomic add on a shared futex word, FUTEX_WAKE; no ring at all. */
    private static Sender raw(WakeupControl c) {
        MemorySegment w = c.words;
        MemorySegment word = w.asSlice(WakeupControl.RAW_WORD, 4);
        return new Sender() {
            @Override
            public boolean parked() {
                return (int) WakeupControl.INT.getVolatile(w, WakeupControl.RAW_WAITING) != 0;
            }

            @Override
            public void send(long stamp) {
                WakeupControl.LONG.setRelease(w, WakeupControl.RAW_STAMP, stamp);
                int ignored = (int) WakeupControl.INT.getAndAdd(w, WakeupControl.RAW_WORD, 1);
                FutexCalls.futexWake(word, Integer.MAX_VALUE);
            }
        };
    }
}
