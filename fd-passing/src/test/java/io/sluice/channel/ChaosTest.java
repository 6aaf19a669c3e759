package io.sluice.channel;

import io.sluice.api.AttachRefusedException;
import io.sluice.api.BroadcastPolicy;
import io.sluice.api.ConnectionClosedException;
import io.sluice.api.MessageHandler;
import io.sluice.api.RefusalReason;
import io.sluice.api.RingKind;
import io.sluice.api.Role;
import io.sluice.api.SluiceException;
import io.sluice.channel.ChaosRig.DetachLog;
import io.sluice.channel.ChaosRig.Figures;
import io.sluice.channel.ChaosRig.HostProducer;
import io.sluice.channel.ChaosRig.JavaPool;
import io.sluice.channel.ChaosRig.Peer;
import io.sluice.testing.ChildJvm;
import io.sluice.ringbuffer.BroadcastConsumer;
import io.sluice.ringbuffer.BroadcastStart;
import io.sluice.ringbuffer.MpmcRecovery;
import io.sluice.ringbuffer.SpscConsumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.condition.DisabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import static io.sluice.channel.ChaosJournal.*;
import static io.sluice.channel.ChaosRig.await;
import static io.sluice.channel.ChaosRig.cPeer;
import static io.sluice.channel.ChaosRig.javaPeer;
import static io.sluice.channel.ChaosRig.pause;
import static io.sluice.channel.ChaosRig.spinMicros;
import static io.sluice.channel.NativeTestMessages.fill;
import static io.sluice.channel.NativeTestMessages.length;
import static io.sluice.channel.NativeTestMessages.mix;
import static io.sluice.channel.NativeTestMessages.type;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Chaos: {@code kill -9} at random points of Java and C consumers, producers and participants of
 * all three rings, and of an SPSC host, round after round, checking each time exactly what
 * {@code docs/guarantees.md} promises and nothing less. Every peer journals what it delivers and
 * commits in a file it maps shared ({@link ChaosJournal}); the journal outlives the killed process,
 * so the test knows, message by message, what a dead peer had done.
 *
 * <p>Peers are killed at a random point of their stream, or while holding something (a batch
 * read but not published, a claim open, a taken slot), or in their handshake (0-3 ms into their
 * attach call); SPSC consumers spin or sleep on the futex, so some die asleep. Each phase ends by
 * waiting until the host's attachments are exactly the live peers: nothing of a dead one stays.
 *
 * <ul>
 *   <li>SPSC, consumers killed: the consumers' deliveries, put end to end, cover every committed
 *       message; each new consumer starts no later than the first message nobody had delivered
 *       and no earlier than the position its predecessor published, so what it delivers again is
 *       one contiguous run from its start, at most one poll batch of the consumer that delivered
 *       it first. A consumer killed in its handshake does not keep the channel: the next one is
 *       taken.</li>
 *   <li>SPSC, host killed (a child JVM): the consumer (Java in this JVM, or C) drains every
 *       message the host committed (its journal says how many; one more may have been committed
 *       between the commit and the journal) and then gets {@code ConnectionClosedException}
 *       (Java) or sees the host gone (C).</li>
 *   <li>Broadcast: the surviving consumers, attached before the first message, get every message
 *       once, in order (back-pressure), or account for every one they missed, exactly, in their
 *       lost count (overwrite); a killed back-pressure consumer that held the producer back stops
 *       doing so (the time from the kill to the producer's next claim is measured), and one
 *       killed in its handshake never does. A killed consumer's own deliveries were in order and
 *       its lap counts exact up to its death.</li>
 *   <li>MPMC: producers tag messages (producer, seq); across all consumers every committed
 *       message is taken exactly once, except the documented loss of a message taken by a
 *       consumer killed before it was done with it (counted, and bounded by the takes the host's
 *       recovery released); nothing is duplicated; a claim held open by a killed producer is
 *       recovered and the ring flows again (a message claimed after the kill gets through).</li>
 * </ul>
 *
 * <p>Every peer checks every message it delivers, byte for byte, against the seeded generator of
 * {@link NativeTestMessages} (the C side's {@code testmsg.h}) and stops with an error on the first
 * wrong one.
 *
 * <p>Quick by default (66 rounds, well under a minute on two cores); {@code -Dsluice.adversarial=long}
 * for 310.
 * Random choices come from a seeded {@link SplittableRandom}: the seed is printed at the start and
 * in every failure, and {@code -Dsluice.test.seed=N} replays the same choices (which peer, where it
 * is killed, batch sizes); the kernel's scheduling still varies from run to run.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class) // the rounds that need a fresh JVM each are spread out
@DisabledIfSystemProperty(named = NativeChild.SKIP_PROPERTY, matches = "true", disabledReason = NativeChild.SKIP_REASON) // C peers in every phase
class ChaosTest {
    static final String MODE = System.getProperty("sluice.adversarial", "quick");
    static final boolean LONG = MODE.equals("long");
    static final long SEED = NativeTestMessages.seed();

    private static final long SPSC_CAPACITY = 32 * 1024;
    private static final int SPSC_MAX_LENGTH = 256;
    private static final long SPSC_PACE = 300_000; // messages per second: consumers empty the ring and park now and then
    private static final long BCAST_CAPACITY = 16 * 1024;
    private static final int BCAST_MAX_LENGTH = 256;
    private static final long BCAST_PACE = 100_000; // messages per second
    private static final int MPMC_SLOTS = 64;
    private static final int MPMC_SLOT_LENGTH = 256;
    private static final int MPMC_MAX_LENGTH = MPMC_SLOT_LENGTH - 16;
    private static final int MPMC_PARTICIPANTS = 64;
    private static final int[] LIMITS = {1, 3, 16, 64, 256};
    private static final long VICTIM_ENTRIES = 1 << 22;   // sparse files: only written pages take memory
    private static final long SURVIVOR_ENTRIES = 1 << 25;

    static final Figures FIGURES = new Figures();
    private static long started;
    private static Path journals;
    private static JavaPool pool;
    private static ChildJvm survivorJvm; // the one JVM never killed: a survivor in every phase
    private static int journalCount;

    @BeforeAll
    static void start() throws IOException, InterruptedException {
        started = System.nanoTime();
        System.out.printf("ChaosTest: seed %d (repeat with -Dsluice.test.seed=%d), mode %s (-Dsluice.adversarial=quick|long)%n",
                SEED, SEED, MODE);
        Path shm = Path.of("/dev/shm");
        journals = Files.isDirectory(shm) && Files.isWritable(shm)
                ? Files.createTempDirectory(shm, "sluice-chaos-") : Files.createTempDirectory("sluice-chaos-");
        pool = new JavaPool(2);
    }

    @AfterEach
    void killLeftovers() {
        ChaosRig.killLeftovers();
    }

    @AfterAll
    static void finish() throws IOException {
        if (survivorJvm != null) {
            survivorJvm.close();
        }
        if (pool != null) {
            pool.close();
        }
        ChaosRig.deleteTree(journals);
        System.out.printf("%n=== ChaosTest, mode %s, seed %d: %d rounds in %.1f s ===%n%s", MODE, SEED, FIGURES.totalRounds(),
                (System.nanoTime() - started) / 1e9, FIGURES.summary());
    }

    @FunctionalInterface
    interface Body {
        void run() throws Exception;
    }

    /** Runs a test body; any failure names the seed and the mode that replay it. */
    private static void withSeed(Body body) throws Exception {
        try {
            body.run();
        } catch (Throwable t) {
            if (survivorJvm != null) { // it may be stuck in the failed round: the next test takes a fresh one
                survivorJvm.close();
                survivorJvm = null;
            }
            throw new AssertionError("seed " + SEED + " (repeat with -Dsluice.test.seed=" + SEED + " -Dsluice.adversarial=" + MODE
                    + "): " + t.getMessage(), t);
        }
    }

    // ---- helpers --------------------------------------------------------------------------------------

    private static ChaosJournal journal(String name, long entries) {
        return ChaosJournal.create(journals.resolve(++journalCount + "-" + name.replaceAll("[^A-Za-z0-9]+", "-") + ".bin"),
                entries);
    }

    /** The journal is checked: unmap and delete it. */
    private static void done(Peer p) throws IOException {
        p.journal.close();
        Files.deleteIfExists(p.journal.file());
    }

    private static ChildJvm survivor() throws IOException, InterruptedException {
        if (survivorJvm == null || !survivorJvm.isAlive()) {
            survivorJvm = pool.take();
        }
        return survivorJvm;
    }

    /** {@code rounds} flags, {@code java} of them true, in a random order. */
    private static List<Boolean> picks(SplittableRandom rng, int rounds, int java) {
        List<Boolean> l = new ArrayList<>();
        for (int i = 0; i < rounds; i++) {
            l.add(i < java);
        }
        shuffle(rng, l);
        return l;
    }

    private static <T> void shuffle(SplittableRandom rng, List<T> l) {
        for (int i = l.size() - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            T t = l.get(i);
            l.set(i, l.get(j));
            l.set(j, t);
        }
    }

    /** How many rounds a kind runs: quick (the default build) or long. */
    private static int rounds(int quick, int longRun) {
        return LONG ? longRun : quick;
    }

    /** A C peer runs under the sanitizers one time in four. */
    private static String variant(SplittableRandom rng) {
        return rng.nextInt(4) == 0 ? NativeChild.SANITIZED : NativeChild.RELEASE;
    }

    private static String s(Object o) {
        return String.valueOf(o);
    }

    /** The sequence of the last message a broadcast or SPSC journal holds, or -1. */
    private static long lastSeq(ChaosJournal j) {
        long n = j.delivered();
        return n == 0 ? -1 : j.a(n - 1) & ~TORN;
    }

    // ---- SPSC ---------------------------------------------------------------------------------------

    private static Peer spscConsumer(boolean java, String variant, int limit, boolean block, String label, ChaosJournal j,
                                     Path socket) throws IOException, InterruptedException {
        String[] args = {"spsc", s(socket), "chaos.spsc", s(SEED), s(SPSC_MAX_LENGTH), s(limit), block ? "1" : "0"};
        return java ? javaPeer(pool.take(), true, label, j, args) : cPeer(variant, label, j, args);
    }

    /**
     * The SPSC consumers' deliveries, end to end. Each consumer delivers a contiguous run of
     * sequence numbers; each must start no later than the first message nobody delivered yet (or
     * messages were lost) and no earlier than the furthest position a consumer had published (or
     * more was delivered again than the batch in hand when a consumer died).
     */
    private static final class SpscLedger {
        long frontier;          // every message below it was delivered by some consumer
        long published;         // the furthest position (as a sequence number) a consumer journaled as published
        int frontierLimit = 1;  // poll limit of the consumer that delivered up to the frontier
        int lastBound;          // the bound the last consumer added was checked against
        long delivered;
        long duplicates;
        long lostBeyond;
        long duplicatesBeyond;

        /** Adds a consumer's deliveries; returns how many of them had been delivered before. */
        long add(Peer c, int limit) {
            ChaosJournal j = c.journal;
            long count = j.delivered();
            delivered += count;
            if (count == 0) {
                return 0;
            }
            long first = j.a(0);
            for (long i = 1; i < count; i++) {
                if (j.a(i) != first + i) {
                    throw new AssertionError(c + " delivered message " + j.a(i) + " after " + j.a(i - 1));
                }
            }
            if (first > frontier) {
                lostBeyond += first - frontier;
                throw new AssertionError(c + " started at message " + first + ": messages " + frontier + ".." + (first - 1)
                        + " were committed and never delivered");
            }
            if (first < published) {
                duplicatesBeyond += published - first;
                throw new AssertionError(c + " started at message " + first + ", before message " + published
                        + ", whose position its predecessor had published");
            }
            long again = Math.min(frontier, first + count) - first; // the contiguous run [first, first + again)
            lastBound = frontierLimit;
            if (frontier - first > frontierLimit) {
                duplicatesBeyond += again;
                throw new AssertionError(c + " started at message " + first + ", " + (frontier - first)
                        + " messages before the first one nobody had delivered: more than one poll batch (" + frontierLimit + ")");
            }
            duplicates += again;
            if (first + count > frontier) {
                frontier = first + count;
                frontierLimit = limit;
            }
            published = Math.max(published, first + j.get(PUBLISHED));
            return again;
        }
    }

    @Test
    @Order(1)
    void spscConsumersKilledAtRandomPointsLoseNothingAndRepeatAtMostTheBatchInHand(@TempDir Path dir) throws Exception {
        withSeed(() -> {
            SplittableRandom rng = new SplittableRandom(SEED ^ 0x5350_5343_0001L);
            int rounds = rounds(20, 90);
            List<Boolean> java = picks(rng, rounds, rounds / 4);
            Path socket = dir.resolve("spsc.sock");
            SpscLedger ledger = new SpscLedger();
            long committed = 0;
            try (ChannelHost host = ChannelHost.bind(socket)) {
                // Consumers may sleep in the kernel while the ring is empty (futex): some are killed asleep.
                HostedSpscChannel ch = host.spsc("chaos.spsc", SpscOptions.of(SPSC_CAPACITY).wakeParkedConsumers(true));
                DetachLog detaches = new DetachLog(ch);
                try (HostProducer producer = new HostProducer("spsc producer", ch.producer(), null, SEED, SPSC_MAX_LENGTH,
                        SPSC_PACE)) {
                    producer.go();
                    for (int r = 0; r < rounds; r++) {
                        boolean j = java.get(r);
                        int limit = LIMITS[rng.nextInt(LIMITS.length)];
                        boolean block = rng.nextBoolean();
                        int how = rng.nextInt(6); // 0..1 holding mid-batch, 2 attaching (C), else at a random point
                        boolean hold = how < 2, attaching = how == 2 && !j;
                        long k = 1 + rng.nextLong(5_000);
                        long jitter = attaching ? rng.nextLong(3_000) : rng.nextLong(300);
                        Peer v = spscConsumer(j, variant(rng), limit, block, "spsc consumer #" + r + " (limit " + limit
                                + (block ? ", blocking" : "") + ")", journal("spsc-" + r, VICTIM_ENTRIES), socket);
                        String what;
                        long killed;
                        double recoveredMs;
                        if (attaching) { // in its handshake, or just after
                            killed = killAttaching(v, jitter);
                            what = "while attaching (" + jitter + " us into sluice_attach, " + attachState(v) + ")";
                            long taken = awaitNewSpscConsumer(ch, socket, v);
                            recoveredMs = (taken - killed) / 1e6;
                            FIGURES.time("spsc: consumer killed while attaching -> the channel takes a new consumer", taken - killed);
                        } else {
                            await(v + " to deliver " + k + " messages", () -> v.journal.delivered() >= k, v);
                            if (hold) { // inside a handler: part of a batch read, its position not published
                                v.journal.set(COMMAND, HOLD);
                                await(v + " to hold mid-batch", () -> v.journal.get(HOLDING) == 1, v);
                                what = "holding mid-batch";
                            } else {
                                spinMicros(jitter);
                                what = "at a random point";
                            }
                            killed = v.kill();
                            DetachLog.Event e = detaches.await(v);
                            v.awaitGone();
                            recoveredMs = (e.nanos() - killed) / 1e6;
                            FIGURES.time("spsc: consumer kill -> host detached it (" + v.lang() + ")", e.nanos() - killed);
                            assertNull(ch.consumer(), "the host let go of the dead consumer");
                        }
                        FIGURES.kill("spsc consumer (" + v.lang() + ")");
                        FIGURES.round("spsc: consumer killed " + (attaching ? "while attaching" : what));
                        if (attaching) {
                            FIGURES.detail("killed while attaching: " + attachState(v));
                        }
                        v.assertNoError();
                        long count = v.journal.delivered();
                        long again = ledger.add(v, limit);
                        System.out.printf("spsc #%d: %s killed %s: %s after %.2f ms; %s%n", r, v, what,
                                attaching ? "the channel took a new consumer" : "host detached it", recoveredMs, count == 0
                                        ? "it had delivered nothing"
                                        : String.format("it had delivered %,d messages from message %d, %d of them again (at most %d:"
                                        + " the batch of the consumer that delivered them first)", count, v.journal.a(0), again,
                                        ledger.lastBound));
                        done(v);
                    }
                    // A last consumer, never killed, sees the rest; then the host goes away.
                    Peer last = spscConsumer(false, NativeChild.SANITIZED, 64, rng.nextBoolean(), "spsc consumer (last)",
                            journal("spsc-last", SURVIVOR_ENTRIES), socket);
                    await(last + " to deliver", () -> last.journal.delivered() > 0, last);
                    committed = producer.finish();
                    long n = committed;
                    await(last + " to deliver message " + (n - 1), () -> lastSeq(last.journal) == n - 1, last);
                    awaitOnlyAttached(ch, last);
                    host.close();
                    last.awaitLine("HOSTGONE");
                    last.assertExitsCleanly();
                    last.assertNoError();
                    ledger.add(last, 64);
                    done(last);
                }
            } finally {
                FIGURES.messages("spsc, consumers killed", committed, ledger.delivered, 0,
                        ledger.lostBeyond + Math.max(0, committed - ledger.frontier), ledger.duplicates, ledger.duplicatesBeyond);
            }
            assertEquals(committed, ledger.frontier, "every committed message was delivered by some consumer");
            System.out.printf("spsc, %d consumers killed: %,d committed, %,d delivered, %,d delivered again (each run within "
                    + "the dead consumer's batch)%n", rounds, committed, ledger.delivered, ledger.duplicates);
        });
    }

    /**
     * Attaches a consumer here as soon as the host takes one (it refuses with
     * {@code CHANNEL_FULL} while it still holds {@code dead}), and detaches it at once: it reads
     * nothing, so the next consumer starts where {@code dead} stopped.
     *
     * @return when the attach succeeded
     */
    private static long awaitNewSpscConsumer(HostedSpscChannel ch, Path socket, Peer dead) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(ChaosRig.WAIT_S);
        int spins = 0;
        while (true) {
            long attached;
            try (ConsumerAttachment<SpscConsumer> a = Channels.spsc(socket, "chaos.spsc")) {
                attached = System.nanoTime();
            } catch (AttachRefusedException e) {
                if (e.reason() != RefusalReason.CHANNEL_FULL || System.nanoTime() > deadline) {
                    throw new AssertionError("the spsc channel took no new consumer after " + dead + " was killed: " + e, e);
                }
                pause(++spins);
                continue;
            }
            await("the host to let go of the consumer attached after " + dead, () -> ch.consumer() == null);
            return attached;
        }
    }

    /**
     * Kills {@code p} {@code micros} µs after it entered its attach call (its journal says when): in
     * the handshake, or just after it.
     *
     * @return when it was killed
     */
    private static long killAttaching(Peer p, long micros) throws InterruptedException {
        await(p + " to begin attaching", () -> p.journal.get(ATTACH) != 0, p);
        spinMicros(micros);
        long killed = p.kill();
        p.awaitGone();
        return killed;
    }

    /** Where a peer killed while attaching was: in its attach call, or past it. */
    private static String attachState(Peer p) {
        return p.journal.get(ATTACH) == 2 ? "it had attached" : "in its handshake";
    }

    /**
     * Waits (bounded) until the channel's attachments are exactly {@code live}: a peer killed at
     * any point, its handshake included, leaves nothing behind.
     */
    private static void awaitOnlyAttached(HostedChannel ch, Peer... live) {
        Set<Integer> want = new TreeSet<>();
        for (Peer p : live) {
            want.add((int) p.pid());
        }
        await("channel '" + ch.name() + "' to hold the attachments of " + Arrays.toString(live) + " only",
                () -> want.equals(attachedPids(ch)), live);
    }

    private static Set<Integer> attachedPids(HostedChannel ch) {
        Set<Integer> pids = new TreeSet<>();
        for (Attachment a : ch.attachments()) {
            pids.add(a.peer().pid());
        }
        return pids;
    }

    /** The test's own SPSC consumer: checks each message against the generator, in sequence from 0. */
    private static final class SequenceCheck implements MessageHandler {
        final MemorySegment expected = Arena.ofAuto().allocate(4096, 8);
        long next;

        @Override
        public void onMessage(int type, MemorySegment payload) {
            long seq = payload.get(JAVA_LONG_UNALIGNED, 0);
            long mix = mix(SEED, 0, seq);
            int length = length(mix, SPSC_MAX_LENGTH);
            if (seq != next || type != type(mix) || payload.byteSize() != length) {
                throw new AssertionError("message " + seq + " (type " + type + ", length " + payload.byteSize() + ") where "
                        + next + " was due");
            }
            fill(expected, 0, mix, 0, seq, length);
            if (payload.mismatch(expected.asSlice(0, length)) >= 0) {
                throw new AssertionError("message " + seq + ": its bytes differ from what the host wrote");
            }
            next++;
        }
    }

    @Test
    @Order(2)
    void spscHostKilledAtRandomPointsLeavesEveryCommittedMessageToItsConsumer(@TempDir Path dir) throws Exception {
        withSeed(() -> {
            SplittableRandom rng = new SplittableRandom(SEED ^ 0x5350_5343_0002L);
            int rounds = rounds(2, 12);
            List<Boolean> javaConsumer = picks(rng, rounds, rounds / 2);
            for (int r = 0; r < rounds; r++) {
                Path socket = dir.resolve("host-" + r + ".sock");
                long k = 1 + rng.nextLong(20_000);
                long jitter = rng.nextLong(300);
                int limit = LIMITS[rng.nextInt(LIMITS.length)];
                boolean block = rng.nextBoolean(); // asleep on the futex when the host dies, or spinning
                Peer host = javaPeer(pool.take(), true, "spsc host #" + r, journal("host-" + r, 1),
                        "spsc-host", s(socket), "chaos.spsc", s(SEED), s(SPSC_MAX_LENGTH), s(SPSC_CAPACITY), s(SPSC_PACE));
                host.awaitLine("HOSTING");
                long delivered;
                String consumer;
                if (javaConsumer.get(r)) {
                    consumer = "Java consumer (this JVM" + (block ? ", blocking)" : ")");
                    SequenceCheck check = new SequenceCheck();
                    Duration slice = Duration.ofMillis(50);
                    try (ConsumerAttachment<SpscConsumer> a = Channels.spsc(socket, "chaos.spsc")) {
                        int spins = 0;
                        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(ChaosRig.WAIT_S);
                        while (check.next < k) {
                            if ((block ? a.pollBlocking(check, limit, slice) : a.poll(check, limit)) == 0) {
                                if (System.nanoTime() > deadline || !host.alive()) {
                                    throw new AssertionError("delivered " + check.next + " of " + k + "; host output:\n" + host.output());
                                }
                                pause(++spins);
                            }
                        }
                        spinMicros(jitter);
                        long killed = host.kill();
                        long closed = 0;
                        while (closed == 0) {
                            try {
                                if (block) {
                                    a.pollBlocking(check, limit, slice);
                                } else {
                                    a.poll(check, limit);
                                }
                            } catch (ConnectionClosedException e) {
                                closed = System.nanoTime();
                            }
                            if (System.nanoTime() > deadline + TimeUnit.SECONDS.toNanos(ChaosRig.WAIT_S)) {
                                throw new AssertionError("no ConnectionClosedException after the host was killed");
                            }
                        }
                        FIGURES.time("spsc: host kill -> Java consumer drained the ring, ConnectionClosedException"
                                + (block ? " (blocking)" : ""), closed - killed);
                        delivered = check.next;
                        System.out.printf("spsc host #%d killed: the %s drained %,d messages, closed after %.2f ms%n", r, consumer,
                                delivered, (closed - killed) / 1e6);
                    }
                } else {
                    Peer c = spscConsumer(false, variant(rng), limit, block, "spsc consumer of host #" + r + (block ? " (blocking)" : ""),
                            journal("host-consumer-" + r, VICTIM_ENTRIES), socket);
                    consumer = c.label;
                    await(c + " to deliver " + k + " messages", () -> c.journal.delivered() >= k, c, host);
                    spinMicros(jitter);
                    long killed = host.kill();
                    c.awaitLine("HOSTGONE");
                    long gone = System.nanoTime();
                    FIGURES.time("spsc: host kill -> C consumer drained the ring, saw the host gone (its line read)"
                            + (block ? " (blocking)" : ""), gone - killed);
                    System.out.printf("spsc host #%d killed: %s drained %,d messages, said so after %.2f ms%n", r, c,
                            c.journal.delivered(), (gone - killed) / 1e6);
                    c.assertExitsCleanly();
                    c.assertNoError();
                    delivered = c.journal.delivered();
                    for (long i = 0; i < delivered; i++) {
                        assertEquals(i, c.journal.a(i), c + ": message in sequence");
                    }
                    done(c);
                }
                host.awaitGone();
                long committed = host.journal.get(COMMITTED); // journaled after each commit: one more may be committed
                FIGURES.kill("spsc host (Java)");
                FIGURES.round("spsc: host killed at a random point, " + (javaConsumer.get(r) ? "Java" : "C") + " consumer");
                long lost = delivered < committed ? committed - delivered : 0;
                FIGURES.messages("spsc, host killed", delivered, delivered, 0, lost, 0, 0);
                assertTrue(delivered == committed || delivered == committed + 1, consumer + " delivered " + delivered
                        + " messages; the killed host had journaled " + committed + " commits (and may have made one more)");
                done(host);
            }
        });
    }

    // ---- broadcast ------------------------------------------------------------------------------------

    /** What a broadcast consumer's journal adds up to, each step checked. */
    private record BcastTally(long delivered, long torn, long laps, long lost, long first, long last) {
    }

    /**
     * Checks a broadcast consumer's journal: sequences strictly increase; between two deliveries
     * the lost count grows by exactly the gap and the lap count by at least one if there is a gap;
     * on a back-pressure ring nothing is torn and nothing is lost after the first delivery (a
     * joiner may be lapped once before it, while the producer adopts it).
     *
     * @param expectedFirst the sequence the consumer anchored on, if the test knows it; else -1
     */
    private static BcastTally checkBroadcast(Peer c, boolean backPressure, long expectedFirst) {
        ChaosJournal j = c.journal;
        long n = j.delivered();
        long prevSeq = expectedFirst - 1, prevLost = 0, prevLaps = 0, torn = 0, first = -1;
        for (long i = 0; i < n; i++) {
            long a = j.a(i), b = j.b(i);
            long seq = a & ~TORN, laps = b >>> 40, lost = b & SEQ_MASK;
            boolean isTorn = (a & TORN) != 0;
            torn += isTorn ? 1 : 0;
            if (i == 0) {
                first = seq;
            }
            String at = c + ", delivery " + i + " (message " + seq + ", laps " + laps + ", lost " + lost + "): ";
            if (backPressure && isTorn) {
                throw new AssertionError(at + "torn on a back-pressure ring");
            }
            if (i == 0 && expectedFirst < 0) { // anchored where the test cannot know: only the lap before it shows
                if (laps == 0 && lost != 0) {
                    throw new AssertionError(at + "lost messages without a lap");
                }
            } else {
                long gap = seq - prevSeq - 1;
                if (gap < 0) {
                    throw new AssertionError(at + "after message " + prevSeq);
                }
                if (lost - prevLost != gap) {
                    throw new AssertionError(at + "missed " + gap + " messages since message " + prevSeq + ", its lost count grew by "
                            + (lost - prevLost));
                }
                if (laps < prevLaps || (gap > 0 && laps == prevLaps)) {
                    throw new AssertionError(at + "lap count went from " + prevLaps + " to " + laps + " over a gap of " + gap);
                }
                if (backPressure && i > 0 && (gap != 0 || laps != prevLaps)) {
                    throw new AssertionError(at + "lapped after its first delivery on a back-pressure ring");
                }
            }
            prevSeq = seq;
            prevLost = lost;
            prevLaps = laps;
        }
        return new BcastTally(n, torn, prevLaps, prevLost, first, prevSeq);
    }

    private static Peer bcastConsumer(ChildJvm jvm, boolean owns, String variant, String label, ChaosJournal j, Path socket,
                                      int limit, String start, long stallEvery) throws IOException {
        String[] args = {"bcast", s(socket), "chaos.bcast", s(SEED), s(BCAST_MAX_LENGTH), s(limit), start, s(stallEvery)};
        return jvm != null ? javaPeer(jvm, owns, label, j, args) : cPeer(variant, label, j, args);
    }

    @Test
    @Order(3)
    void broadcastBackPressureConsumersKilledAtRandomPoints(@TempDir Path dir) throws Exception {
        withSeed(() -> broadcast(RingKind.BROADCAST_BACKPRESSURE, dir, new SplittableRandom(SEED ^ 0x4243_4153_0001L)));
    }

    @Test
    @Order(4)
    void broadcastOverwriteConsumersKilledAtRandomPoints(@TempDir Path dir) throws Exception {
        withSeed(() -> broadcast(RingKind.BROADCAST_OVERWRITE, dir, new SplittableRandom(SEED ^ 0x4243_4153_0002L)));
    }

    /**
     * Waits until the holder alone keeps the producer back: the survivors published their
     * positions past everything the producer committed, and a claim the producer began after that
     * (the second refusal counted after the look: the first may have begun before it) was refused.
     */
    private static void awaitHeldBackBy(Peer holder, HostProducer producer, Peer javaSurvivor, Peer cSurvivor) {
        while (true) {
            await("the survivors to publish their positions past everything the producer committed, while " + holder
                    + " holds it back", () -> producer.held() && caughtUp(producer.committed(), javaSurvivor, cSurvivor),
                    holder, javaSurvivor, cSurvivor);
            long committed = producer.committed();
            long refusals = producer.refusals();
            await("the producer to try again", () -> producer.refusals() > refusals + 1 || producer.committed() != committed,
                    holder, javaSurvivor, cSurvivor);
            if (producer.committed() == committed) {
                return; // refused with the survivors caught up: only the holder's position stops it
            }
        }
    }

    private static boolean caughtUp(long committed, Peer... survivors) {
        for (Peer p : survivors) {
            if (p.journal.get(PUBLISHED) != committed) {
                return false;
            }
        }
        return true;
    }

    private void broadcast(RingKind kind, Path dir, SplittableRandom rng) throws Exception {
        boolean bp = kind == RingKind.BROADCAST_BACKPRESSURE;
        String name = bp ? "broadcast back-pressure" : "broadcast overwrite";
        int rounds = bp ? rounds(10, 40) : rounds(8, 36);
        List<Boolean> java = picks(rng, rounds, rounds / 4);
        Path socket = dir.resolve("bcast.sock");
        long committed = 0, delivered = 0, lostToLaps = 0, survivorsLostBeyond = 0;
        try (ChannelHost host = ChannelHost.bind(socket)) {
            HostedBroadcastChannel ch = host.broadcast("chaos.bcast", BroadcastOptions.of(BroadcastPolicy.of(kind), BCAST_CAPACITY)
                    .maxMessageLength(BCAST_MAX_LENGTH).maxConsumers(8));
            DetachLog detaches = new DetachLog(ch);
            try (HostProducer producer = new HostProducer(name + " producer", ch.producer(), ch.producer(), SEED,
                    BCAST_MAX_LENGTH, BCAST_PACE)) {
                // Two survivors, attached before the first message; on the overwrite ring they stall now and
                // then (2 ms inside a handler), so that the producer laps them.
                Peer javaSurvivor = bcastConsumer(survivor(), false, null, name + " consumer (survivor)",
                        journal("bcast-java-survivor", SURVIVOR_ENTRIES), socket, 64, "oldest", bp ? 0 : 3_000);
                Peer cSurvivor = bcastConsumer(null, false, NativeChild.SANITIZED, name + " consumer (survivor)",
                        journal("bcast-c-survivor", SURVIVOR_ENTRIES), socket, 16, "oldest", bp ? 0 : 2_000);
                javaSurvivor.awaitLine("GATED");
                cSurvivor.awaitLine("GATED");
                producer.go();
                await("the survivors to warm up", () -> javaSurvivor.journal.delivered() >= 5_000
                        && cSurvivor.journal.delivered() >= 5_000, javaSurvivor, cSurvivor);
                for (int r = 0; r < rounds; r++) {
                    int limit = LIMITS[rng.nextInt(LIMITS.length)];
                    String start = rng.nextBoolean() ? "newest" : "oldest";
                    boolean j = java.get(r);
                    int how = rng.nextInt(bp ? 6 : 8); // 0..2 holding inside its handler (0 on overwrite), 3 attaching (C)
                    boolean hold = bp ? how < 3 : how == 0, attaching = how == 3 && !j;
                    long k = 1 + rng.nextLong(3_000);
                    long jitter = attaching ? rng.nextLong(3_000) : rng.nextLong(300);
                    Peer v = bcastConsumer(j ? pool.take() : null, true, variant(rng), name + " consumer #" + r + " (" + start
                            + ", limit " + limit + ")", journal("bcast-" + r, VICTIM_ENTRIES), socket, limit, start, 0);
                    if (attaching) { // in its handshake, or just after
                        long killed = killAttaching(v, jitter);
                        // Whatever it had registered, it holds nobody back: the producer goes ten rings further.
                        long from = producer.committed();
                        await("the producer to go on after " + v + " was killed while attaching",
                                () -> producer.committed() >= from + 1_000, javaSurvivor, cSurvivor);
                        FIGURES.kill(name + " consumer (" + v.lang() + ")");
                        FIGURES.round(name + ": consumer killed while attaching");
                        FIGURES.detail("killed while attaching: " + attachState(v));
                        v.assertNoError();
                        BcastTally t = checkBroadcast(v, bp, -1);
                        delivered += t.delivered();
                        lostToLaps += t.lost();
                        System.out.printf("%s #%d: %s killed while attaching (%d us into its attach, %s): the producer went 1,000"
                                        + " messages further in %.2f ms; it had delivered %,d messages%n", name, r, v, jitter,
                                attachState(v), (System.nanoTime() - killed) / 1e6, t.delivered());
                        done(v);
                        continue;
                    }
                    await(v + " to deliver " + k + " messages", () -> v.journal.delivered() >= k, v, javaSurvivor, cSurvivor);
                    long killed;
                    String released = "";
                    if (hold) {
                        v.journal.set(COMMAND, HOLD);
                        await(v + " to hold", () -> v.journal.get(HOLDING) == 1, v);
                        if (bp) {
                            awaitHeldBackBy(v, producer, javaSurvivor, cSurvivor);
                            producer.arm();
                            killed = v.kill();
                            await("the producer to claim again after " + v + " was killed", () -> producer.progressAt() != 0);
                            long progress = producer.progressAt();
                            producer.disarm();
                            assertTrue(progress > killed, "the producer stayed held back until the kill");
                            FIGURES.time("broadcast back-pressure: holding consumer kill -> producer claims again", progress - killed);
                            released = String.format(", the producer claimed again after %.2f ms", (progress - killed) / 1e6);
                        } else {
                            killed = v.kill();
                        }
                    } else {
                        spinMicros(jitter);
                        killed = v.kill();
                    }
                    DetachLog.Event e = detaches.await(v);
                    v.awaitGone();
                    FIGURES.time(name + ": consumer kill -> host detached it (" + v.lang() + ")", e.nanos() - killed);
                    FIGURES.kill(name + " consumer (" + v.lang() + ")");
                    FIGURES.round(name + ": consumer killed " + (hold ? "holding inside its handler" : "at a random point"));
                    v.assertNoError();
                    BcastTally t = checkBroadcast(v, bp, -1);
                    delivered += t.delivered();
                    lostToLaps += t.lost();
                    System.out.printf("%s #%d: %s killed %s: host detached it after %.2f ms%s; it had delivered %,d messages"
                                    + " (%d torn), lost %,d in %d laps%n", name, r, v, hold ? "holding inside its handler" : "at a random point",
                            (e.nanos() - killed) / 1e6, released, t.delivered(), t.torn(), t.lost(), t.laps());
                    done(v);
                }
                committed = producer.finish();
                long n = committed;
                await("the survivors to reach message " + (n - 1), () -> lastSeq(javaSurvivor.journal) == n - 1
                        && lastSeq(cSurvivor.journal) == n - 1, javaSurvivor, cSurvivor);
                if (!bp) {
                    assertEquals(0, producer.refusals(), "the overwriting producer never waited");
                }
                awaitOnlyAttached(ch, javaSurvivor, cSurvivor);
                host.close();
                for (Peer p : List.of(javaSurvivor, cSurvivor)) {
                    p.awaitLine("HOSTGONE");
                    p.assertNoError();
                    BcastTally t = checkBroadcast(p, bp, 0);
                    delivered += t.delivered();
                    lostToLaps += t.lost();
                    if (bp) {
                        survivorsLostBeyond += n - t.delivered();
                        assertEquals(new BcastTally(n, 0, 0, 0, 0, n - 1), t, p + ": every message once, in order, never lapped");
                    } else {
                        survivorsLostBeyond += n - t.delivered() - t.lost();
                        assertEquals(n, t.delivered() + t.lost(), p + ": every message delivered (" + t.torn()
                                + " of them torn, discarded) or counted lost to a lap");
                    }
                    System.out.printf("%s: %s delivered %,d of %,d messages (%,d torn, discarded), %,d lost in %,d laps%n", name, p,
                            t.delivered(), n, t.torn(), t.lost(), t.laps());
                }
                cSurvivor.assertExitsCleanly();
                javaSurvivor.awaitLine("FINISHED");
                done(javaSurvivor);
                done(cSurvivor);
            }
        } finally {
            FIGURES.messages(name, committed, delivered, lostToLaps, survivorsLostBeyond, 0, 0);
        }
    }

    /**
     * The test's own broadcast consumer, journaling as the peers do: copy, ask the seqlock, check
     * the copy against the generator if it was intact.
     */
    private static MessageHandler journaling(ConsumerAttachment<BroadcastConsumer> a, ChaosJournal journal) {
        BroadcastConsumer c = a.consumer();
        MemorySegment copy = Arena.ofAuto().allocate(c.maxMessageLength() + 8L, 8);
        MemorySegment expected = Arena.ofAuto().allocate(c.maxMessageLength() + 8L, 8);
        return (type, payload) -> {
            long length = payload.byteSize();
            MemorySegment.copy(payload, 0, copy, 0, length);
            boolean valid = c.isStillValid();
            long seq = c.sequence();
            if (valid) {
                long mix = mix(SEED, 0, seq);
                int want = length(mix, BCAST_MAX_LENGTH);
                fill(expected, 0, mix, 0, seq, want);
                if (type != type(mix) || length != want || copy.asSlice(0, length).mismatch(expected.asSlice(0, want)) >= 0) {
                    throw new AssertionError("message " + seq + " (type " + type + ", length " + length
                            + ") differs from what the host wrote");
                }
            }
            journal.append(seq | (valid ? 0 : TORN), c.lapCount() << 40 | c.lostMessages());
        };
    }

    @Test
    @Order(5)
    void broadcastHostKilledAtRandomPointsLeavesEveryCommittedMessageToItsConsumers(@TempDir Path dir) throws Exception {
        withSeed(() -> {
            SplittableRandom rng = new SplittableRandom(SEED ^ 0x4243_4153_0003L);
            int rounds = rounds(2, 12);
            for (int r = 0; r < rounds; r++) {
                RingKind kind = r % 2 == 0 ? RingKind.BROADCAST_BACKPRESSURE : RingKind.BROADCAST_OVERWRITE;
                boolean bp = kind == RingKind.BROADCAST_BACKPRESSURE;
                String name = bp ? "broadcast back-pressure" : "broadcast overwrite";
                Path socket = dir.resolve("bcast-host-" + r + ".sock");
                long k = 1 + rng.nextLong(20_000);
                long jitter = rng.nextLong(300);
                int limit = LIMITS[rng.nextInt(LIMITS.length)];
                String start = rng.nextBoolean() ? "newest" : "oldest";
                Peer host = javaPeer(pool.take(), true, name + " host #" + r, journal("bcast-host-" + r, 1), "bcast-host",
                        s(socket), "chaos.bcast", s(SEED), s(BCAST_MAX_LENGTH), s(BCAST_CAPACITY), kind.name(), s(BCAST_PACE));
                host.awaitLine("HOSTING");
                Peer c = bcastConsumer(null, true, variant(rng), name + " consumer of host #" + r + " (" + start + ", limit " + limit
                        + ")", journal("bcast-host-c-" + r, VICTIM_ENTRIES), socket, limit, start, 0);
                ChaosJournal mine = journal("bcast-host-java-" + r, VICTIM_ENTRIES);
                long closed = 0, killed;
                try (ConsumerAttachment<BroadcastConsumer> a = Channels.broadcast(socket, "chaos.bcast",
                        start.equals("oldest") ? BroadcastStart.OLDEST : BroadcastStart.NEWEST)) {
                    MessageHandler handler = journaling(a, mine);
                    int spins = 0;
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(ChaosRig.WAIT_S);
                    while (mine.delivered() < k || c.journal.delivered() < k) {
                        if (a.poll(handler, limit) == 0) {
                            if (System.nanoTime() > deadline || !host.alive() || !c.alive()) {
                                throw new AssertionError("this JVM's consumer delivered " + mine.delivered() + ", " + c + " "
                                        + c.journal.delivered() + " of " + k + "; the host's output:\n" + host.output()
                                        + "\n" + c + ":\n" + c.output());
                            }
                            pause(++spins);
                        }
                    }
                    spinMicros(jitter);
                    killed = host.kill();
                    while (closed == 0) {
                        try {
                            a.poll(handler, limit);
                        } catch (ConnectionClosedException e) {
                            closed = System.nanoTime();
                        }
                        if (System.nanoTime() > deadline + TimeUnit.SECONDS.toNanos(ChaosRig.WAIT_S)) {
                            throw new AssertionError("no ConnectionClosedException after the host was killed");
                        }
                    }
                }
                c.awaitLine("HOSTGONE");
                long gone = System.nanoTime();
                c.assertExitsCleanly();
                c.assertNoError();
                host.awaitGone();
                long committed = host.journal.get(COMMITTED); // journaled after each commit: one more may be committed
                FIGURES.kill(name + " host (Java)");
                FIGURES.round(name + ": host killed at a random point, a C and a Java consumer");
                FIGURES.time(name + ": host kill -> Java consumer drained the ring, ConnectionClosedException", closed - killed);
                FIGURES.time(name + ": host kill -> C consumer drained the ring, saw the host gone (its line read)", gone - killed);
                Peer javaConsumer = new Peer("Java " + name + " consumer of host #" + r + " (this JVM)", true, host.process, "",
                        mine, false);
                FIGURES.messages(name + ", host killed", committed, 0, 0, 0, 0, 0);
                for (Peer p : List.of(c, javaConsumer)) {
                    BcastTally t = checkBroadcast(p, bp, -1);
                    long last = t.last();
                    boolean lastIntact = (p.journal.a(p.journal.delivered() - 1) & TORN) == 0;
                    FIGURES.messages(name + ", host killed", 0, t.delivered(), t.lost(), last < committed - 1 ? committed - 1 - last : 0,
                            0, 0);
                    System.out.printf("%s host #%d killed after %,d commits: %s delivered %,d messages up to message %d (%d torn),"
                            + " lost %,d in %d laps%n", name, r, committed, p, t.delivered(), last, t.torn(), t.lost(), t.laps());
                    assertTrue((last == committed - 1 || last == committed) && lastIntact, p + " delivered up to message " + last
                            + (lastIntact ? "" : " (torn)") + "; the killed host had journaled " + committed
                            + " commits (and may have made one more)");
                }
                done(c);
                done(javaConsumer);
                done(host);
            }
        });
    }

    // ---- MPMC ---------------------------------------------------------------------------------------

    /** Every MPMC producer's commits and every consumer's deliveries, put together at the end. */
    private static final class MpmcLedger {
        final Map<Long, Peer> producers = new TreeMap<>();    // tag -> peer (its journal's committed count)
        final Map<Long, Boolean> killed = new HashMap<>();     // tag -> killed holding a claim open
        final List<Peer> consumers = new ArrayList<>();        // every journal that delivers
        final List<Peer> victims = new ArrayList<>();
        final Map<Peer, Long> scanned = new HashMap<>();
        long probes;                                           // tag 0: the test's own messages, claimed after each kill
        long takesReleased;                                    // by the recoveries of killed consumers and participants
        long claimsAborted;
        long committed, delivered, lost, lostBeyond, duplicates;

        long committed(long tag) {
            return tag == 0 ? probes : producers.get(tag).journal.get(COMMITTED);
        }

        /** Scans what consumers delivered since the last scan for message {@code seq} of producer {@code tag}. */
        boolean delivered(long tag, long seq) {
            long wanted = mpmcEntry(tag, seq);
            boolean found = false;
            for (Peer c : consumers) {
                long from = scanned.getOrDefault(c, 0L), to = c.journal.delivered();
                for (long i = from; i < to && !found; i++) {
                    found = c.journal.a(i) == wanted;
                }
                scanned.put(c, to);
                if (found) {
                    return true;
                }
            }
            return false;
        }

        /** Adds everything up; fails on a message delivered twice, never committed, out of order, or lost beyond the documented case. */
        void verify() {
            Map<Long, BitSet> seen = new HashMap<>();
            Map<Long, Long> extra = new HashMap<>(); // killed producers: the message committed after their last journaled commit
            List<String> problems = new ArrayList<>();
            for (Peer c : consumers) {
                Map<Long, Long> last = new HashMap<>();
                long n = c.journal.delivered();
                delivered += n;
                for (long i = 0; i < n; i++) {
                    long a = c.journal.a(i), tag = a >>> 40, seq = a & SEQ_MASK;
                    if (tag != 0 && !producers.containsKey(tag)) {
                        problems.add(c + " delivered message " + seq + " of producer " + tag + ", which never ran");
                        continue;
                    }
                    long j = committed(tag);
                    boolean mayBeOneMore = Boolean.FALSE.equals(killed.get(tag)); // killed, but not holding a claim
                    if (seq > j || (seq == j && !mayBeOneMore)) {
                        problems.add(c + " delivered message " + seq + " of producer " + tag + ", which committed " + j
                                + (Boolean.TRUE.equals(killed.get(tag)) ? " and was killed holding the claim of message " + j : ""));
                    }
                    if (seq == j) {
                        extra.merge(tag, 1L, Long::sum);
                    }
                    Long before = last.put(tag, seq);
                    if (before != null && before >= seq) {
                        problems.add(c + " delivered message " + seq + " of producer " + tag + " after " + before);
                    }
                    BitSet s = seen.computeIfAbsent(tag, t -> new BitSet());
                    if (s.get((int) seq)) {
                        duplicates++;
                        problems.add("message " + seq + " of producer " + tag + " delivered twice (again by " + c + ")");
                    }
                    s.set((int) seq);
                }
            }
            List<Long> tags = new ArrayList<>(producers.keySet());
            tags.add(0L);
            for (long tag : tags) {
                long j = committed(tag);
                BitSet s = seen.getOrDefault(tag, new BitSet());
                long missing = j - s.get(0, (int) j).cardinality();
                committed += j + extra.getOrDefault(tag, 0L);
                lost += missing;
            }
            lostBeyond = Math.max(0, lost - takesReleased);
            if (lostBeyond > 0) {
                problems.add(lost + " committed messages were never delivered; the killed consumers' recoveries released only "
                        + takesReleased + " taken slots");
            }
            if (!problems.isEmpty()) {
                throw new AssertionError(problems.size() + " problems, the first ones:\n  "
                        + String.join("\n  ", problems.subList(0, Math.min(20, problems.size()))));
            }
        }
    }

    private record MpmcVictim(Role role, boolean java) {
    }

    private static Peer mpmcPeer(ChildJvm jvm, boolean owns, String variant, String label, ChaosJournal j, Path socket, Role role,
                                 long tag, int limit, long pace) throws IOException {
        String[] args = {"mpmc", s(socket), "chaos.mpmc", s(SEED), s(MPMC_MAX_LENGTH), s(role.code()), s(tag), s(limit), s(pace)};
        return jvm != null ? javaPeer(jvm, owns, label, j, args) : cPeer(variant, label, j, args);
    }

    @Test
    @Order(6)
    void mpmcProducersConsumersAndParticipantsKilledAtRandomPoints(@TempDir Path dir) throws Exception {
        withSeed(() -> {
            SplittableRandom rng = new SplittableRandom(SEED ^ 0x4D50_4D43_0001L);
            int producerRounds = rounds(10, 48), consumerRounds = rounds(10, 48), participantRounds = rounds(4, 24);
            List<MpmcVictim> plan = new ArrayList<>();
            for (Role role : List.of(Role.PRODUCER, Role.CONSUMER, Role.PARTICIPANT)) { // monitors take no slot
                int n = switch (role) {
                    case PRODUCER -> producerRounds;
                    case CONSUMER -> consumerRounds;
                    case PARTICIPANT -> participantRounds;
                    case MONITOR -> 0;
                };
                int java = Math.max(1, n / 4);
                for (int i = 0; i < n; i++) {
                    plan.add(new MpmcVictim(role, i < java));
                }
            }
            shuffle(rng, plan);
            Path socket = dir.resolve("mpmc.sock");
            MpmcLedger ledger = new MpmcLedger();
            try (ChannelHost host = ChannelHost.bind(socket)) {
                HostedMpmcChannel ch = host.mpmc("chaos.mpmc", MpmcOptions.of(MPMC_SLOTS, MPMC_SLOT_LENGTH)
                        .maxParticipants(MPMC_PARTICIPANTS));
                DetachLog detaches = new DetachLog(ch);
                MpmcAttachment local = ch.attachLocal(Role.PRODUCER); // the test's probes (tag 0) and STOPs
                // Never killed: a C consumer, a Java participant (producer 1 and consumer), two C producers (2, 3).
                // The survivors take one message per poll: each stops right at the first STOP it takes.
                Peer cConsumer = mpmcPeer(null, false, NativeChild.SANITIZED, "mpmc consumer (survivor)",
                        journal("mpmc-c-consumer", SURVIVOR_ENTRIES), socket, Role.CONSUMER, 0, 1, 0);
                Peer jParticipant = mpmcPeer(survivor(), false, null, "mpmc participant (survivor)",
                        journal("mpmc-java-participant", SURVIVOR_ENTRIES), socket, Role.PARTICIPANT, 1, 1, 20_000);
                List<Peer> background = new ArrayList<>();
                for (long tag = 2; tag <= 3; tag++) {
                    background.add(mpmcPeer(null, false, NativeChild.RELEASE, "mpmc producer " + tag + " (survivor)",
                            journal("mpmc-producer-" + tag, 1), socket, Role.PRODUCER, tag, 1, 50_000));
                }
                ledger.consumers.add(cConsumer);
                ledger.consumers.add(jParticipant);
                ledger.producers.put(1L, jParticipant);
                ledger.producers.put(2L, background.get(0));
                ledger.producers.put(3L, background.get(1));
                List<Peer> survivors = new ArrayList<>(background);
                survivors.add(cConsumer);
                survivors.add(jParticipant);
                Peer[] watched = survivors.toArray(Peer[]::new);
                for (Peer p : survivors) {
                    p.awaitLine("ATTACHED");
                }
                await("the survivors to warm up", () -> jParticipant.journal.get(COMMITTED) >= 5_000
                        && cConsumer.journal.delivered() >= 5_000, watched);
                long nextTag = 4;
                int r = 0;
                for (MpmcVictim victim : plan) {
                    Role role = victim.role();
                    long tag = role == Role.CONSUMER ? 0 : nextTag++;
                    int limit = 1 + rng.nextInt(16);
                    long pace = rng.nextBoolean() ? 0 : 20_000 + rng.nextLong(200_000);
                    long hold = switch (role) {
                        case PRODUCER -> rng.nextBoolean() ? HOLD : 0;
                        case CONSUMER -> rng.nextBoolean() ? HOLD_TAKE : 0;
                        case PARTICIPANT -> new long[] {0, HOLD, HOLD_TAKE}[rng.nextInt(3)];
                        case MONITOR -> 0;
                    };
                    boolean attaching = hold == 0 && !victim.java() && rng.nextInt(3) == 0;
                    long k = 1 + rng.nextLong(3_000);
                    long jitter = attaching ? rng.nextLong(3_000) : rng.nextLong(300);
                    String label = "mpmc " + role.name().toLowerCase() + " #" + r++ + (tag > 0 ? " (producer " + tag + ")" : "");
                    Peer v = mpmcPeer(victim.java() ? pool.take() : null, true, variant(rng), label,
                            journal("mpmc-" + r, VICTIM_ENTRIES), socket, role, tag, limit, pace);
                    if (tag > 0) {
                        ledger.producers.put(tag, v);
                    }
                    if (role != Role.PRODUCER) {
                        ledger.consumers.add(v);
                    }
                    ledger.victims.add(v);
                    String how;
                    long killed;
                    if (attaching) { // in its handshake, or just after
                        killed = killAttaching(v, jitter);
                        how = "while attaching (" + jitter + " us into its attach, " + attachState(v) + ")";
                    } else {
                        await(v + " to make " + k + " messages' progress",
                                () -> v.journal.get(COMMITTED) + v.journal.delivered() >= k, v);
                        if (hold != 0) {
                            v.journal.set(COMMAND, hold);
                            await(v + (hold == HOLD ? " to hold a claim open" : " to hold a taken slot"),
                                    () -> v.journal.get(HOLDING) != 0, v);
                            how = hold == HOLD ? "holding a claim open" : "holding a taken slot";
                        } else {
                            spinMicros(jitter);
                            how = "at a random point";
                        }
                        killed = v.kill();
                    }
                    // A message claimed after the kill: when a consumer delivers it, the ring flows past
                    // whatever the dead peer held.
                    long probe = ledger.probes;
                    long mix = mix(SEED, 0, probe);
                    long at;
                    int spins = 0;
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(ChaosRig.WAIT_S);
                    while ((at = local.tryClaim(type(mix), length(mix, MPMC_MAX_LENGTH))) < 0) {
                        if (System.nanoTime() > deadline) {
                            throw new AssertionError("the ring stayed full after " + v + " was killed");
                        }
                        pause(++spins);
                    }
                    fill(local.buffer(), at, mix, 0, probe, length(mix, MPMC_MAX_LENGTH));
                    local.commit(at);
                    ledger.probes++;
                    // Killed while attaching, it may never have joined: then there is no detach to wait for.
                    DetachLog.Event e = attaching ? null : detaches.await(v);
                    await("a consumer to deliver the message claimed after " + v + " was killed",
                            () -> ledger.delivered(0, probe), watched);
                    long flowing = System.nanoTime();
                    v.awaitGone();
                    String kind = attaching ? "while attaching" : how;
                    FIGURES.round("mpmc: " + role.name().toLowerCase() + " killed " + kind);
                    if (attaching) {
                        FIGURES.detail("killed while attaching: " + attachState(v));
                    }
                    FIGURES.kill("mpmc " + role.name().toLowerCase() + " (" + v.lang() + ")");
                    FIGURES.time("mpmc: kill -> a message claimed after it delivered" + (hold == 0 ? "" : " (dead peer held a slot)"),
                            flowing - killed);
                    String recovered = "";
                    if (e != null) {
                        FIGURES.time("mpmc: " + role.name().toLowerCase() + " kill -> host detached it, its slots recovered ("
                                + v.lang() + ")", e.nanos() - killed);
                        MpmcRecovery.Result rec = e.recovery();
                        assertNotNull(rec, "the host recovered " + v);
                        assertTrue(rec.claimsAborted() <= 1 && rec.takesReleased() <= 1, v + ": one thread holds one slot at most: " + rec);
                        if (hold == HOLD) {
                            assertEquals(1, rec.claimsAborted(), v + " was killed holding a claim open: " + rec);
                        } else if (hold == HOLD_TAKE) {
                            assertEquals(1, rec.takesReleased(), v + " was killed holding a taken slot: " + rec);
                        }
                        recovered = String.format(": host detached it after %.2f ms (%d claims aborted, %d takes released)",
                                (e.nanos() - killed) / 1e6, rec.claimsAborted(), rec.takesReleased());
                    }
                    if (tag > 0) {
                        ledger.killed.put(tag, hold == HOLD);
                    }
                    v.assertNoError();
                    System.out.printf("mpmc #%d: %s killed %s after %,d commits and %,d deliveries%s; a message claimed after the"
                                    + " kill was delivered %.2f ms after it%n", r - 1, v, how, v.journal.get(COMMITTED),
                            v.journal.delivered(), recovered, (flowing - killed) / 1e6);
                }
                // Nothing of a dead peer stays attached, not even of one killed in its handshake.
                awaitOnlyAttached(ch, survivors.toArray(Peer[]::new));
                // What recovery gave back, all told (of peers killed while attaching too, if they had joined).
                for (Peer v : ledger.victims) {
                    DetachLog.Event e = detaches.get(v);
                    if (e != null && e.recovery() != null) {
                        ledger.claimsAborted += e.recovery().claimsAborted();
                        if (ledger.consumers.contains(v)) {
                            ledger.takesReleased += e.recovery().takesReleased();
                        }
                    }
                }
                // The end: producers stop, then one STOP per consumer still running, after every message.
                for (Peer p : List.of(background.get(0), background.get(1), jParticipant)) {
                    p.journal.set(COMMAND, FINISH);
                }
                for (Peer p : List.of(background.get(0), background.get(1), jParticipant)) {
                    await(p + " to stop producing", () -> p.journal.get(FINISHED) == 1, p); // then C producers exit
                }
                for (Peer p : background) {
                    p.assertExitsCleanly();
                    p.assertNoError();
                }
                for (int i = 0; i < 2; i++) {
                    long at;
                    int spins = 0;
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(ChaosRig.WAIT_S);
                    while ((at = local.tryClaim(ChaosPeer.STOP_TYPE, 0)) < 0) {
                        if (System.nanoTime() > deadline) {
                            throw new AssertionError("no room for a STOP");
                        }
                        pause(++spins);
                    }
                    local.commit(at);
                }
                await("both consumers to take a STOP", () -> cConsumer.journal.get(STOPPED) == 1
                        && jParticipant.journal.get(STOPPED) == 1, cConsumer, jParticipant);
                cConsumer.assertExitsCleanly();
                jParticipant.awaitLine("FINISHED");
                cConsumer.assertNoError();
                jParticipant.assertNoError();
                local.close();
                try {
                    ledger.verify();
                } finally {
                    FIGURES.messages("mpmc", ledger.committed, ledger.delivered, ledger.lost - ledger.lostBeyond, ledger.lostBeyond, 0,
                            ledger.duplicates);
                }
                System.out.printf("mpmc, %d peers killed: %,d committed, %,d delivered, %,d lost with the slots of killed consumers"
                                + " (%d takes released by recovery), %d claims of killed producers aborted%n", plan.size(),
                        ledger.committed, ledger.delivered, ledger.lost, ledger.takesReleased, ledger.claimsAborted);
                // Every participant id came back, those of peers killed in their handshake included.
                awaitOnlyAttached(ch);
                List<MpmcAttachment> all = new ArrayList<>();
                try {
                    for (int i = 0; i < MPMC_PARTICIPANTS; i++) {
                        all.add(ch.attachLocal(Role.CONSUMER));
                    }
                } catch (SluiceException e) {
                    throw new AssertionError("after " + plan.size() + " kills only " + all.size() + " of " + MPMC_PARTICIPANTS
                            + " participant ids could be handed out again: " + e.getMessage(), e);
                } finally {
                    all.forEach(MpmcAttachment::close);
                }
                Set<Peer> journaled = new HashSet<>(ledger.consumers);
                journaled.addAll(ledger.producers.values());
                for (Peer p : journaled) {
                    done(p);
                }
            }
        });
    }
}
