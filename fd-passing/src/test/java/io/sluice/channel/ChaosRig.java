package io.sluice.channel;

import io.sluice.api.MessageProducer;
import io.sluice.testing.ChildJvm;
import io.sluice.ringbuffer.BroadcastProducer;
import io.sluice.ringbuffer.MpmcRecovery;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import static io.sluice.channel.NativeTestMessages.fill;
import static io.sluice.channel.NativeTestMessages.length;
import static io.sluice.channel.NativeTestMessages.mix;
import static io.sluice.channel.NativeTestMessages.type;

/**
 * The machinery of {@link ChaosTest}: peers (C processes and Java processes), a pool of warm
 * JVMs, bounded waits, the host's detach events, the producer of the host's own rings, and the
 * figures printed at the end.
 */
final class ChaosRig {
    private ChaosRig() {
    }

    /** Longest any single wait of the test may take; a wait that runs out fails with the peers' output. */
    static final long WAIT_S = 60;

    // ---- peers ------------------------------------------------------------------------------------

    /** A C or Java process of one round (or a Java command running in a reused JVM), with its journal. */
    static final class Peer implements AutoCloseable {
        final String label;
        final boolean java;
        final ChildJvm process;
        final String prefix; // Java commands prefix their lines with the command id
        final ChaosJournal journal;
        final boolean ownsProcess;

        Peer(String label, boolean java, ChildJvm process, String prefix, ChaosJournal journal, boolean ownsProcess) {
            this.label = label;
            this.java = java;
            this.process = process;
            this.prefix = prefix;
            this.journal = journal;
            this.ownsProcess = ownsProcess;
        }

        String lang() {
            return java ? "Java" : "C";
        }

        long pid() {
            return process.pid();
        }

        boolean alive() {
            return process.isAlive();
        }

        String awaitLine(String what) throws InterruptedException {
            return process.awaitLine(prefix + what, WAIT_S);
        }

        /** SIGKILL; returns System.nanoTime() just before it was sent. Fails if the peer was already gone. */
        long kill() {
            if (!alive()) {
                throw new AssertionError(label + " died before the test killed it; its output:\n" + process.output());
            }
            long at = System.nanoTime();
            process.kill();
            return at;
        }

        /** Waits (bounded) until a killed peer's process is gone. */
        void awaitGone() throws InterruptedException {
            process.waitFor(WAIT_S); // throws if it still runs WAIT_S s after SIGKILL
        }

        /** Waits for a C peer's exit and fails unless it is 0 (a clean run, sanitizers included). */
        void assertExitsCleanly() throws InterruptedException {
            int code = process.waitFor(WAIT_S);
            if (code != 0) {
                throw new AssertionError(label + " exited with " + code + "; its output:\n" + process.output());
            }
        }

        /** Fails if the peer found a wrong message or failed (its journal's error word, its output). */
        void assertNoError() {
            long error = journal.get(ChaosJournal.ERROR);
            List<String> bad = process.lines(prefix + "BAD");
            List<String> failed = process.lines(prefix + "FAILED");
            if (error != 0 || !bad.isEmpty() || !failed.isEmpty()) {
                throw new AssertionError(label + " reported an error (" + error + "); its output:\n" + process.output());
            }
        }

        String output() {
            return process.output();
        }

        @Override
        public void close() {
            if (ownsProcess) {
                process.close();
            }
        }

        @Override
        public String toString() {
            return label + " (pid " + pid() + ")";
        }
    }

    /** Starts a C peer ({@code chaos_peer}) of {@code variant} (release or asan). */
    static Peer cPeer(String variant, String label, ChaosJournal journal, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(NativeChild.program(variant, "chaos_peer").toString());
        cmd.add(args[0]);
        cmd.add(journal.file().toString());
        cmd.addAll(List.of(args).subList(1, args.length));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("ASAN_OPTIONS", "halt_on_error=1:detect_leaks=1:exitcode=23");
        pb.environment().put("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1");
        Peer p = new Peer("C " + label + (variant.equals(NativeChild.SANITIZED) ? " (asan)" : ""), false, ChildJvm.watch(pb),
                "", journal, true);
        LIVE.add(p);
        return p;
    }

    private static final AtomicLong COMMAND_IDS = new AtomicLong();

    /** Runs a command in a warm JVM ({@link ChaosPeer} standby); the peer owns the JVM if {@code owns}. */
    static Peer javaPeer(ChildJvm jvm, boolean owns, String label, ChaosJournal journal, String... args) throws IOException {
        String id = "c" + COMMAND_IDS.incrementAndGet();
        StringBuilder line = new StringBuilder(id).append(' ').append(args[0]).append(' ').append(journal.file());
        for (int i = 1; i < args.length; i++) {
            line.append(' ').append(args[i]);
        }
        OutputStream in = jvm.stdin();
        in.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        in.flush();
        Peer p = new Peer("Java " + label, true, jvm, id + " ", journal, owns);
        if (owns) {
            LIVE.add(p);
        }
        return p;
    }

    /** Every process a round started, so that a failing test leaves none behind. */
    static final List<Peer> LIVE = new ArrayList<>();

    static void killLeftovers() {
        for (Peer p : LIVE) {
            p.close();
        }
        LIVE.clear();
    }

    /**
     * JVMs started ahead of need, each waiting in {@link ChaosPeer}'s standby for its command: a
     * round that kills a Java peer does not wait for a JVM to start, and the next one starts while
     * the rounds go on.
     */
    static final class JavaPool implements AutoCloseable {
        private final Deque<ChildJvm> warm = new ArrayDeque<>();
        private final List<ChildJvm> all = new ArrayList<>();

        /** Starts {@code spares} JVMs and waits until they are ready, so that no round starts while they boot. */
        JavaPool(int spares) throws IOException, InterruptedException {
            for (int i = 0; i < spares; i++) {
                warm.add(start());
            }
            for (ChildJvm jvm : warm) {
                jvm.awaitLine("STANDBY", WAIT_S);
            }
        }

        private ChildJvm start() throws IOException {
            ChildJvm jvm = ChildJvm.start(ChaosPeer.class, "standby");
            all.add(jvm);
            return jvm;
        }

        /** A JVM in standby (waits, bounded, for it); starts its replacement first. */
        ChildJvm take() throws IOException, InterruptedException {
            ChildJvm jvm = warm.poll();
            warm.add(start());
            jvm.awaitLine("STANDBY", WAIT_S);
            return jvm;
        }

        @Override
        public void close() {
            for (ChildJvm jvm : all) {
                jvm.close();
            }
        }
    }

    // ---- waiting ------------------------------------------------------------------------------------

    /**
     * Waits until {@code condition} holds, at most {@link #WAIT_S}; fails naming {@code what}, and
     * with the output of any watched peer that exited meanwhile or of all of them on timeout.
     */
    static void await(String what, BooleanSupplier condition, Peer... watched) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
        int spins = 0;
        while (!condition.getAsBoolean()) {
            for (Peer p : watched) {
                if (!p.alive() && !condition.getAsBoolean()) {
                    throw new AssertionError("waiting for " + what + ": " + p + " exited ("
                            + p.process.exitValue() + "); its output:\n" + p.output());
                }
            }
            if (System.nanoTime() - deadline > 0) {
                StringBuilder sb = new StringBuilder("waited " + WAIT_S + " s for " + what + " in vain");
                for (Peer p : watched) {
                    sb.append("\n--- ").append(p).append(":\n").append(p.output());
                }
                throw new AssertionError(sb.toString());
            }
            pause(++spins);
        }
    }

    /** The idle strategy of the test and its Java peers: spin, then yield, then park briefly (two cores, many processes). */
    static void pause(int spins) {
        if (spins < 100) {
            Thread.onSpinWait();
        } else if (spins < 1_000) {
            Thread.yield();
        } else {
            LockSupport.parkNanos(50_000);
        }
    }

    /** Busy-waits {@code micros} µs: picks a random point for a kill, synchronises nothing. */
    static void spinMicros(long micros) {
        long until = System.nanoTime() + micros * 1_000;
        while (System.nanoTime() - until < 0) {
            Thread.onSpinWait();
        }
    }

    // ---- the host's side ----------------------------------------------------------------------------

    /** The host's detach events by the peer's pid: when, and (MPMC) what recovery gave back. */
    static final class DetachLog {
        record Event(long nanos, Attachment attachment, MpmcRecovery.Result recovery) {
        }

        private final Map<Integer, Event> byPid = new ConcurrentHashMap<>();

        DetachLog(HostedChannel channel) {
            // Runs on the host's thread under the channel's lock, after the recovery: lastRecovery is this peer's.
            channel.onDetach(a -> byPid.putIfAbsent(a.peer().pid(), new Event(System.nanoTime(), a,
                    channel instanceof HostedMpmcChannel m ? m.lastRecovery() : null)));
        }

        /** The event of {@code p}'s detach, or null if it never joined (or has not left). */
        Event get(Peer p) {
            return byPid.get((int) p.pid());
        }

        Event await(Peer p) {
            int pid = (int) p.pid();
            ChaosRig.await("the host's detach event for " + p, () -> byPid.containsKey(pid));
            return byPid.get(pid);
        }
    }

    /**
     * The producer of an SPSC or broadcast ring the test hosts, on a thread of its own: test
     * message {@code seq} (tag 0) after {@code seq - 1}, optionally paced. It records when it is
     * held back (a claim refused), and, once armed, when it next makes progress.
     */
    static final class HostProducer implements AutoCloseable {
        private final MessageProducer producer;
        private final BroadcastProducer broadcast; // adopts joiners while idle; null for SPSC
        private final long seed;
        private final int maxLength;
        private final long pace;
        private final Thread thread;
        private volatile boolean go;
        private volatile boolean finish;
        private volatile long committed;
        private volatile long blockedSince; // nanoTime of the first refused claim of the current streak; 0 if not held
        private volatile boolean armed;
        private volatile long progressAt;   // first successful claim after arm(); 0 until then
        private volatile long refusals;
        private volatile Throwable failure;

        HostProducer(String name, MessageProducer producer, BroadcastProducer broadcast, long seed, int maxLength, long pace) {
            this.producer = producer;
            this.broadcast = broadcast;
            this.seed = seed;
            this.maxLength = maxLength;
            this.pace = pace;
            this.thread = Thread.ofPlatform().daemon().name(name).start(this::run);
        }

        private void run() {
            try {
                long seq = 0;
                long started = 0;
                int spins = 0;
                while (!finish) {
                    if (!go) {
                        if (broadcast != null) {
                            broadcast.refreshConsumers(); // an idle producer adopts joiners here
                        }
                        pause(++spins);
                        continue;
                    }
                    long now = System.nanoTime();
                    if (started == 0) {
                        started = now;
                    }
                    if (pace > 0) {
                        long due = pace * (now - started) / 1_000_000_000L;
                        if (due > seq + 256) { // after a stop, no burst: at most 256 messages behind the schedule
                            started = now - (seq + 256) * 1_000_000_000L / pace;
                        } else if (seq >= due) {
                            if (broadcast != null) {
                                broadcast.refreshConsumers();
                            }
                            LockSupport.parkNanos(20_000); // ahead of the schedule: a burst every wake-up, not a spin
                            continue;
                        }
                    }
                    long mix = mix(seed, 0, seq);
                    int type = type(mix);
                    int length = length(mix, maxLength);
                    long at = producer.tryClaim(type, length);
                    if (at == MessageProducer.INSUFFICIENT_CAPACITY) {
                        refusals++;
                        if (blockedSince == 0) {
                            blockedSince = now;
                        }
                        if (++spins < 100) {
                            Thread.onSpinWait();
                        } else if (spins < 10_000) {
                            Thread.yield();
                        } else {
                            LockSupport.parkNanos(20_000);
                        }
                        continue;
                    }
                    spins = 0;
                    if (blockedSince != 0) {
                        blockedSince = 0;
                    }
                    if (armed && progressAt == 0) {
                        progressAt = System.nanoTime();
                    }
                    fill(producer.buffer(), at, mix, 0, seq, length);
                    producer.commit(at);
                    committed = ++seq;
                }
            } catch (Throwable t) {
                failure = t;
            }
        }

        void go() {
            go = true;
        }

        long committed() {
            check();
            return committed;
        }

        boolean held() {
            check();
            return blockedSince != 0;
        }

        long refusals() {
            return refusals;
        }

        /** From now on, the time of the next successful claim is kept ({@link #progressAt()}). */
        void arm() {
            progressAt = 0;
            armed = true;
        }

        long progressAt() {
            check();
            return progressAt;
        }

        void disarm() {
            armed = false;
        }

        /** Stops after the message in hand; returns how many were committed. */
        long finish() throws InterruptedException {
            finish = true;
            thread.join(TimeUnit.SECONDS.toMillis(WAIT_S));
            if (thread.isAlive()) {
                throw new AssertionError("the host's producer did not stop");
            }
            check();
            return committed;
        }

        private void check() {
            if (failure != null) {
                throw new AssertionError("the host's producer failed: " + failure, failure);
            }
        }

        @Override
        public void close() throws InterruptedException {
            finish = true;
            thread.join(TimeUnit.SECONDS.toMillis(WAIT_S));
        }
    }

    // ---- figures ------------------------------------------------------------------------------------

    /** What every test adds up, printed once at the end. */
    static final class Figures {
        private final Map<String, Integer> rounds = new TreeMap<>();
        private final Map<String, Integer> kills = new TreeMap<>();
        // committed, delivered, lost (documented case), lost beyond it, duplicated (documented case), duplicated beyond it
        private final Map<String, long[]> messages = new TreeMap<>();
        private final Map<String, List<Long>> times = new TreeMap<>();

        synchronized void round(String kind) {
            rounds.merge(kind, 1, Integer::sum);
        }

        private final Map<String, Integer> details = new TreeMap<>();

        /** A breakdown that is not a kind of round (where the kills while attaching landed). */
        synchronized void detail(String what) {
            details.merge(what, 1, Integer::sum);
        }

        synchronized void kill(String role) {
            kills.merge(role, 1, Integer::sum);
        }

        /** Recorded before the test asserts on them, so that a failing run prints what it found. */
        synchronized void messages(String ring, long committed, long delivered, long lost, long lostBeyond, long duplicated,
                                   long duplicatedBeyond) {
            long[] m = messages.computeIfAbsent(ring, k -> new long[6]);
            m[0] += committed;
            m[1] += delivered;
            m[2] += lost;
            m[3] += lostBeyond;
            m[4] += duplicated;
            m[5] += duplicatedBeyond;
        }

        synchronized void time(String what, long nanos) {
            times.computeIfAbsent(what, k -> new ArrayList<>()).add(nanos);
        }

        synchronized int totalRounds() {
            return rounds.values().stream().mapToInt(Integer::intValue).sum();
        }

        synchronized String summary() {
            StringBuilder sb = new StringBuilder();
            sb.append(String.format("rounds per kind (%d in all):%n", totalRounds()));
            rounds.forEach((k, v) -> sb.append(String.format("  %-66s %5d%n", k, v)));
            details.forEach((k, v) -> sb.append(String.format("  (%s)%s %5d%n", k, " ".repeat(Math.max(0, 64 - k.length())), v)));
            sb.append(String.format("kills per role (%d in all):%n", kills.values().stream().mapToInt(Integer::intValue).sum()));
            kills.forEach((k, v) -> sb.append(String.format("  %-66s %5d%n", k, v)));
            sb.append(String.format("messages%-40s %12s %12s %8s %8s %8s %8s%n", "", "committed", "delivered", "lost",
                    "lost+", "dup", "dup+"));
            sb.append(String.format("  (delivered: summed over every consumer, torn broadcast messages included; lost, dup: the"
                    + " documented cases -%n   broadcast: counted lost to laps by the consumers themselves (back-pressure: joiners lapped"
                    + " before the producer adopted them),%n   mpmc: taken by a consumer killed before it was done, spsc: delivered"
                    + " again after a consumer's death;%n   lost+, dup+: beyond the documented cases, which the tests assert are 0)%n"));
            messages.forEach((k, m) -> sb.append(String.format("  %-46s %12d %12d %8d %8d %8d %8d%n", k, m[0], m[1], m[2], m[3],
                    m[4], m[5])));
            sb.append(String.format("recovery, ms%-58s %4s %8s %8s %8s%n", "", "n", "p50", "p99", "max"));
            times.forEach((k, v) -> {
                long[] s = v.stream().mapToLong(Long::longValue).sorted().toArray();
                sb.append(String.format("  %-68s %4d %8.2f %8.2f %8.2f%n", k, s.length, percentile(s, 50) / 1e6,
                        percentile(s, 99) / 1e6, s[s.length - 1] / 1e6));
            });
            return sb.toString();
        }

        /** Nearest-rank percentile of sorted values. */
        static long percentile(long[] sorted, int p) {
            int rank = (int) Math.ceil(p / 100.0 * sorted.length);
            return sorted[Math.max(0, rank - 1)];
        }
    }

    static void deleteTree(Path root) throws IOException {
        if (root == null || !Files.exists(root)) {
            return;
        }
        try (var walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
