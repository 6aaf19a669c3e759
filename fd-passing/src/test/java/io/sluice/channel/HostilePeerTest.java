package io.sluice.channel;

import io.sluice.api.AttachRefusedException;
import io.sluice.api.BroadcastPolicy;
import io.sluice.api.CorruptRingException;
import io.sluice.api.MessageHandler;
import io.sluice.api.MessageProducer;
import io.sluice.api.RefusalReason;
import io.sluice.api.Role;
import io.sluice.ringbuffer.BroadcastConsumer;
import io.sluice.ringbuffer.BroadcastProducer;
import io.sluice.ringbuffer.BroadcastStart;
import io.sluice.ringbuffer.ConsumerFault;
import io.sluice.ringbuffer.MpmcRingDescriptor;
import io.sluice.ringbuffer.MpmcSlotDescriptor;
import io.sluice.ringbuffer.SpscConsumer;
import io.sluice.ringbuffer.SpscProducer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;

import static io.sluice.channel.NativeTestMessages.backOff;
import static io.sluice.channel.NativeTestMessages.fill;
import static io.sluice.channel.NativeTestMessages.length;
import static io.sluice.channel.NativeTestMessages.mix;
import static io.sluice.channel.NativeTestMessages.type;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Hostile C peers ({@code sluice_peer}'s {@code lie-position} and {@code mpmc-garbage} modes),
 * each attached normally first, then attacking from inside: a consumer that publishes positions it
 * never reached, an MPMC participant that writes garbage into the ring's control words.
 *
 * <p>For every attack the test proves: the JVM survives and the host's thread reports no failure
 * of its own (no stack trace in its log); every wait is bounded (a hang fails the test with a
 * timeout, never stalls the build); every outcome is either normal progress or a clear exception
 * or DETACH reason; and the honest parties lose nothing outside what {@code docs/guarantees.md}
 * states. The C peers run under AddressSanitizer: a read outside their mappings ends them with a
 * report and a non-zero exit code, which fails the test.
 *
 * <p>Seeded ({@code -Dsluice.test.seed=N} replays a run); {@code -Dsluice.adversarial=long} runs
 * more rounds and longer streams. At the end the class prints its attack/outcome table.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS) // a hang fails the test; the waits inside are bounded far below this
class HostilePeerTest {
    private static final long TIMEOUT_S = 30;
    private static final Duration WAIT = Duration.ofSeconds(TIMEOUT_S);
    private static final boolean LONG = "long".equals(System.getProperty("sluice.adversarial", "quick").trim());
    private static final long SEED = NativeTestMessages.seed();
    /** Test messages: 16..MAX_LENGTH bytes, type and content a function of (seed, seq). */
    private static final int MAX_LENGTH = 200;
    private static final long CAPACITY = 4096;
    private static final int SLOTS = 16;
    private static final int SLOT_SHIFT = 4;
    private static final int SLOT_LENGTH = 64;
    private static final List<String[]> TABLE = Collections.synchronizedList(new ArrayList<>());

    @TempDir
    Path dir;

    @BeforeAll
    static void printSeed() {
        System.out.println("[HostilePeerTest] seed " + SEED + " (replay: -Dsluice.test.seed=" + SEED + "), mode "
                + (LONG ? "long" : "quick"));
    }

    @AfterAll
    static void printTable() {
        StringBuilder b = new StringBuilder("\n[HostilePeerTest] attacks and outcomes (docs/security.md)\n")
                .append("| attack | outcome | test |\n|---|---|---|\n");
        synchronized (TABLE) {
            TABLE.stream().distinct().forEach(r -> b.append("| ").append(r[0]).append(" | ").append(r[1])
                    .append(" | `HostilePeerTest` |\n"));
        }
        System.out.println(b);
    }

    private static void row(String attack, String outcome) {
        synchronized (TABLE) {
            if (TABLE.stream().noneMatch(r -> r[0].equals(attack))) {
                TABLE.add(new String[]{attack, outcome});
            }
        }
    }

    // ---- 1. SPSC: a consumer that lies about its position ---------------------------------------

    /**
     * The lies of an SPSC consumer. {@code validateFirst}: the producer accepts the liar's true
     * position before the lie (else its validated position is still the start, 0); {@code leftBehind}:
     * the liar publishes the lie and leaves at once, before the producer reads it.
     */
    enum SpscLie {
        BEYOND("beyond", ConsumerFault.Problem.BEYOND_PRODUCER, false, false),
        NEGATIVE("negative", ConsumerFault.Problem.NEGATIVE, true, false),
        UNALIGNED("unaligned", ConsumerFault.Problem.UNALIGNED, false, false),
        INSIDE_A_RECORD("inside", ConsumerFault.Problem.INSIDE_RECORD, true, false),
        /** Back to the end of the record before the one at its position, after the producer accepted the later one. */
        REWOUND(null, ConsumerFault.Problem.REWOUND, true, false),
        BEYOND_LEFT_BEHIND("beyond", null, true, true),
        INSIDE_A_RECORD_LEFT_BEHIND("inside", null, false, true),
        REWOUND_LEFT_BEHIND(null, null, true, true);

        final String command;
        final ConsumerFault.Problem problem;
        final boolean validateFirst;
        final boolean leftBehind;

        SpscLie(String command, ConsumerFault.Problem problem, boolean validateFirst, boolean leftBehind) {
            this.command = command;
            this.problem = problem;
            this.validateFirst = validateFirst;
            this.leftBehind = leftBehind;
        }

        /** The lie-position command, for a liar that has read {@code k} messages of {@code out}. */
        String command(Stream out, int k) {
            if (command != null) {
                return command;
            }
            long earlier = k >= 2 ? out.endOf(k - 2) : 0; // a position it really had, before the last message
            return "behind " + (out.endOf(k - 1) - earlier);
        }

        String words() {
            return name().toLowerCase().replace('_', ' ');
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = SpscLie.class, names = {"BEYOND", "NEGATIVE", "UNALIGNED", "INSIDE_A_RECORD", "REWOUND"})
    void aLyingSpscConsumerIsDetachedForBadPositionAndTheNextConsumerGetsEveryMessageFromNoLaterThanItsTruePosition(
            SpscLie lie) throws Exception {
        SplittableRandom rnd = new SplittableRandom(SEED ^ lie.ordinal());
        for (int round = 0; round < (LONG ? 6 : 1); round++) {
            spscRound(lie, rnd, round);
        }
        row("SPSC consumer publishes a position " + lie.words() + " (C, `lie-position`)",
                "producer refuses it (`" + lie.problem + "`), never throws, never reads that region again; host sends "
                        + "`DETACH(BAD_POSITION)` with the value; the next consumer starts at the last validated position "
                        + "(≤ the liar's true one) and gets every message from there, in order");
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = SpscLie.class, names = {"BEYOND_LEFT_BEHIND", "INSIDE_A_RECORD_LEFT_BEHIND", "REWOUND_LEFT_BEHIND"})
    void aLieLeftBehindBySpscConsumerThatExitsIsNotTakenAsTheNextStart(SpscLie lie) throws Exception {
        SplittableRandom rnd = new SplittableRandom(SEED ^ lie.ordinal());
        for (int round = 0; round < (LONG ? 6 : 1); round++) {
            spscRound(lie, rnd, round);
        }
        row("SPSC consumer publishes a position " + lie.words().replace(" left behind", "") + ", then exits at once",
                "host judges the position it left (hold, then `nextConsumerStart`): not a record start, so the next "
                        + "consumer starts at the last validated position and gets every message from there, in order");
    }

    private void spscRound(SpscLie lie, SplittableRandom rnd, int round) throws Exception {
        Path socket = dir.resolve("spsc-" + round + ".sock");
        try (HostLog log = new HostLog(); ChannelHost host = ChannelHost.bind(socket)) {
            HostedSpscChannel ch = host.spsc("orders", SpscOptions.of(CAPACITY));
            SpscProducer p = ch.producer();
            Stream out = new Stream(p::offer, p::position);
            BlockingQueue<Attachment> detached = new LinkedBlockingQueue<>();
            ch.onDetach(detached::add);
            long truth;
            long expectedStart;
            try (NativeChild liar = NativeChild.start(NativeChild.SANITIZED, "sluice_peer", "lie-position", socket.toString(),
                    "orders")) {
                assertEquals("ATTACHED 1 position 0 capacity " + CAPACITY, liar.awaitLine("ATTACHED", TIMEOUT_S));
                int committed = out.sendUntilFull(); // the producer reads the liar's position 0
                assertTrue(committed >= 2, "a capacity holds more than one message: " + committed);
                int k = 1 + rnd.nextInt(committed - 1); // leaves a record at the liar's position
                truth = out.endOf(k - 1);
                assertEquals("POLLED " + k + " position " + truth, ask(liar, "poll " + k, "POLLED"));
                if (lie.validateFirst) {
                    out.sendUntilFull(); // the producer reads the liar's true position and fills up to it + capacity
                    assertEquals(truth, p.validatedPosition(), "the producer accepted the liar's true position");
                }
                expectedStart = p.validatedPosition();
                String published = ask(liar, lie.command(out, k), "PUBLISHED");
                assertTrue(published.endsWith(" true " + truth), published);
                long lieValue = Long.parseLong(published.split(" ")[1]);
                if (lie.leftBehind) {
                    ask(liar, "exit", "BYE");
                    liar.assertExitsCleanly(TIMEOUT_S);
                    assertNotNull(detached.poll(TIMEOUT_S, TimeUnit.SECONDS), "the host saw the liar leave");
                    assertNull(p.latestFault(), "the producer was idle: the host alone judged the position left behind");
                    assertTrue(log.awaitContains("left at position " + lieValue + ", where no record starts", WAIT),
                            "the host says it did not take the position left behind:\n" + log.text());
                } else {
                    assertFalse(out.trySend(), "the ring is full: this claim reads the lie, refuses it, and finds no room");
                    ConsumerFault fault = p.latestFault();
                    assertNotNull(fault, "the producer reported the lie");
                    assertEquals(lie.problem, fault.problem(), fault.reason());
                    assertEquals(lieValue, fault.position());
                    assertEquals(expectedStart, fault.validatedPosition());
                    assertNotNull(detached.poll(TIMEOUT_S, TimeUnit.SECONDS), "the host detached the liar");
                    String gone = ask(liar, "alive", "HOSTGONE");
                    assertTrue(gone.contains(" refusal 12: ") && gone.contains("BAD_POSITION") && gone.contains(fault.reason()),
                            "the liar was told why, with the value: " + gone);
                    String detachLine = "WARNING: detach: channel 'orders' SPSC CONSUMER #";
                    assertTrue(log.awaitContains(detachLine, WAIT) && log.text().lines().anyMatch(l -> l.startsWith(detachLine)
                            && l.contains(" peer pid " + liar.pid() + " uid ") && l.contains(" cause BAD_POSITION: ")),
                            "the host logs the liar's detach as a warning, with its pid and the reason:\n" + log.text());
                    assertFalse(out.trySend(), "with no consumer the producer keeps the room the last valid position gave:"
                            + " it overwrites nothing unread");
                    ask(liar, "exit", "BYE");
                    liar.assertExitsCleanly(TIMEOUT_S);
                }
            }
            assertNull(ch.consumer(), "the liar's place is free");
            try (ConsumerAttachment<SpscConsumer> honest = Channels.spsc(socket, "orders", WAIT)) {
                long start = honest.consumer().position(); // before any poll: where it starts
                assertEquals(expectedStart, start, "the next consumer starts at the last position the producer validated");
                assertTrue(start <= truth, "no later than the liar's true position " + truth + ": " + start);
                Checker check = new Checker(out.firstAfter(start));
                long end = out.sent() + (LONG ? 20_000 : 300);
                out.streamTo(end, () -> honest.poll(check, 64), check);
                assertEquals(end, check.next, "every message from the start on, in order, through the end of the stream");
                assertTrue(p.position() - start > 2 * CAPACITY, "the producer works again, past several capacities");
            }
            log.assertNoHostFailure();
        }
    }

    // ---- 2. Broadcast: lying consumers beside an honest one --------------------------------------

    enum BroadcastLie {
        BEYOND("beyond", ConsumerFault.Problem.BEYOND_PRODUCER),
        NEGATIVE("negative", ConsumerFault.Problem.NEGATIVE),
        UNALIGNED("unaligned", ConsumerFault.Problem.UNALIGNED),
        /** Back to its start, after the producer had read a later position. */
        REWOUND(null, ConsumerFault.Problem.REWOUND);

        final String command;
        final ConsumerFault.Problem problem;

        BroadcastLie(String command, ConsumerFault.Problem problem) {
            this.command = command;
            this.problem = problem;
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(BroadcastLie.class)
    void aLyingBackPressureConsumerIsDroppedFromTheGateAndDetachedWhileTheHonestOneLosesNothing(BroadcastLie lie)
            throws Exception {
        SplittableRandom rnd = new SplittableRandom(SEED ^ (100 + lie.ordinal()));
        for (int round = 0; round < (LONG ? 6 : 1); round++) {
            broadcastRound(lie, rnd, round);
        }
        row("back-pressure broadcast consumer publishes a position " + lie.name().toLowerCase() + " (C), beside an honest one",
                "producer drops it from its gate at once (`" + lie.problem + "`) and is not held by it; host sends "
                        + "`DETACH(BAD_POSITION)`; the honest consumer receives every message, none lost");
    }

    private void broadcastRound(BroadcastLie lie, SplittableRandom rnd, int round) throws Exception {
        Path socket = dir.resolve("bcast-" + round + ".sock");
        try (HostLog log = new HostLog(); ChannelHost host = ChannelHost.bind(socket)) {
            HostedBroadcastChannel ch = host.broadcast("md", BroadcastOptions.of(BroadcastPolicy.BACK_PRESSURE, CAPACITY)
                    .maxMessageLength(256).maxConsumers(4));
            BroadcastProducer p = ch.producer();
            Stream out = new Stream(p::offer, p::position);
            BlockingQueue<Attachment> detached = new LinkedBlockingQueue<>();
            ch.onDetach(detached::add);
            try (ConsumerAttachment<BroadcastConsumer> honest = Channels.broadcast(socket, "md", BroadcastStart.OLDEST, WAIT);
                 NativeChild liar = NativeChild.start(NativeChild.SANITIZED, "sluice_peer", "lie-position", socket.toString(),
                         "md", "oldest")) {
                assertEquals("ATTACHED 2 position 0 capacity " + CAPACITY, liar.awaitLine("ATTACHED", TIMEOUT_S));
                Checker check = new Checker(0);
                IntSupplier pollHonest = () -> honest.poll(check, 64);
                out.sendUntilGated(pollHonest); // the honest one keeps up: the liar, at 0, holds the producer
                assertTrue(p.position() <= CAPACITY, "the liar gates the producer while it is honest: " + p.position());
                int sent = (int) out.sent();
                int k = sent / 2 + rnd.nextInt(sent - sent / 2); // at least half a capacity: room for the longest record
                long truth = out.endOf(k - 1);
                assertEquals("POLLED " + k + " position " + truth, ask(liar, "poll " + k, "POLLED"));
                if (lie == BroadcastLie.REWOUND) {
                    long before = p.position();
                    out.sendUntilGated(pollHonest);
                    assertTrue(p.position() > before, "the producer read the liar's later position " + truth);
                }
                String published = ask(liar, lie.command != null ? lie.command : "behind " + truth, "PUBLISHED");
                long lieValue = Long.parseLong(published.split(" ")[1]);
                long end = out.sent() + (LONG ? 20_000 : 300);
                out.streamTo(end, pollHonest, check);
                assertTrue(p.position() > truth + 2 * CAPACITY,
                        "the liar, whose true position is " + truth + ", does not hold the producer: " + p.position());
                assertEquals(end, check.next, "the honest consumer received every message in order");
                assertEquals(0, honest.consumer().lapCount(), "and was never lapped");
                assertEquals(0, honest.consumer().lostMessages());
                ConsumerFault fault = p.latestFault();
                assertNotNull(fault);
                assertEquals(lie.problem, fault.problem(), fault.reason());
                assertEquals(lieValue, fault.position());
                assertNotNull(detached.poll(TIMEOUT_S, TimeUnit.SECONDS), "the host detached the liar");
                String gone = ask(liar, "alive", "HOSTGONE");
                assertTrue(gone.contains(" refusal 12: ") && gone.contains("BAD_POSITION") && gone.contains(fault.reason()),
                        "the liar was told why, with the value: " + gone);
                assertTrue(honest.isHostAlive(), "the honest consumer stays attached");
                assertEquals(1, ch.attachments().size());
                ask(liar, "exit", "BYE");
                liar.assertExitsCleanly(TIMEOUT_S);
            }
            log.assertNoHostFailure();
        }
    }

    @Test
    void aLyingConsumerOfAnOverwriteRingChangesNothingForAnyone() throws Exception {
        Path socket = dir.resolve("overwrite.sock");
        try (HostLog log = new HostLog(); ChannelHost host = ChannelHost.bind(socket)) {
            HostedBroadcastChannel ch = host.broadcast("md", BroadcastOptions.of(BroadcastPolicy.OVERWRITE, CAPACITY)
                    .maxMessageLength(256).maxConsumers(4));
            BroadcastProducer p = ch.producer();
            Stream out = new Stream(p::offer, p::position);
            BlockingQueue<Attachment> detached = new LinkedBlockingQueue<>();
            ch.onDetach(detached::add);
            try (ConsumerAttachment<BroadcastConsumer> honest = Channels.broadcast(socket, "md", BroadcastStart.OLDEST, WAIT);
                 NativeChild liar = NativeChild.start(NativeChild.SANITIZED, "sluice_peer", "lie-position", socket.toString(),
                         "md", "oldest")) {
                assertEquals("ATTACHED 3 position 0 capacity " + CAPACITY, liar.awaitLine("ATTACHED", TIMEOUT_S));
                Checker check = new Checker(0);
                for (String lie : List.of("beyond", "negative", "unaligned", "set 0x7ffffffffffffff8", "ahead 12345", "set 0")) {
                    ask(liar, lie, "PUBLISHED");
                    long end = out.sent() + 3 * CAPACITY / 64; // about three capacities
                    while (out.sent() < end) {
                        assertTrue(out.trySend(), "an overwrite producer never waits");
                        assertEquals(1, honest.poll(check, 64), "the honest consumer keeps up, one message at a time");
                    }
                    assertEquals("ALIVE", ask(liar, "alive", "ALIVE"), "nobody reads its position: it is not detached");
                }
                assertEquals(out.sent(), check.next, "the honest consumer received every message in order");
                assertEquals(0, honest.consumer().lapCount());
                assertNull(p.latestFault(), "the producer never read a position");
                assertTrue(detached.isEmpty());
                assertEquals(2, ch.attachments().size());
                String polled = ask(liar, "poll 100000", "POLLED"); // lapped many times over: its own reading still works
                System.out.println("overwrite liar, after the lies: " + polled);
                ask(liar, "exit", "BYE");
                liar.assertExitsCleanly(TIMEOUT_S);
            }
            log.assertNoHostFailure();
        }
        row("overwrite broadcast consumer publishes impossible positions (C)",
                "nothing: the producer never reads positions there; nobody is detached, the honest consumer loses nothing");
    }

    // ---- 3. MPMC: garbage from a C participant ----------------------------------------------------

    /** A slot word or header field no participant can have written, and what the host names in its corruption report. */
    enum Impossible {
        /** Slot 7: lap 0, state 5 (no such state), participant 0. */
        STATE_WORD("slot 7 0x5000", "slot 7"),
        /** Slot 9: CLAIMED by participant 100, beyond the channel's 8. */
        PARTICIPANT_BEYOND_THE_LIMIT("slot 9 0x" + Long.toHexString(MpmcSlotDescriptor.word(0, SLOT_SHIFT,
                MpmcSlotDescriptor.CLAIMED, 100)), "slot 9"),
        /** The header's slot count: 3, not a power of two. */
        HEADER_SLOT_COUNT("u32 " + MpmcRingDescriptor.SLOT_COUNT_OFFSET + " 3", "slot count 3");

        final String command;
        final String named;

        Impossible(String command, String named) {
            this.command = command;
            this.named = named;
        }
    }

    /*
     * Outcome: the participant's own recovery (when it leaves) meets the garbage and cannot
     * complete, so the host marks the channel corrupt: it logs it, detaches every participant with
     * DETACH(CHANNEL_CORRUPT), local ones throw CorruptRingException as well, new attaches are
     * refused CHANNEL_CORRUPT and no id is handed out again. Acceptable for a trusted group: a
     * member can always wreck the shared ring; what matters is that everybody is told at once and
     * nobody goes on trusting it.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(Impossible.class)
    void garbageThatNoParticipantCanWriteMarksTheChannelCorruptForEveryoneWhenItsWriterLeaves(Impossible garbage)
            throws Exception {
        Path socket = dir.resolve("corrupt.sock");
        try (HostLog log = new HostLog(); ChannelHost host = ChannelHost.bind(socket)) {
            HostedMpmcChannel ch = host.mpmc("work", MpmcOptions.of(SLOTS, SLOT_LENGTH).maxParticipants(8));
            BlockingQueue<Attachment> detached = new LinkedBlockingQueue<>();
            ch.onDetach(detached::add);
            MpmcAttachment local = ch.attachLocal(Role.PARTICIPANT);
            try (MpmcAttachment remote = Channels.mpmc(socket, "work", Role.PARTICIPANT, WAIT);
                 NativeChild c = NativeChild.start(NativeChild.SANITIZED, "sluice_peer", "mpmc-garbage", socket.toString(), "work")) {
                assertTrue(c.awaitLine("ATTACHED", TIMEOUT_S).endsWith(" slots " + SLOTS + " length " + SLOT_LENGTH));
                MpmcFlow flow = new MpmcFlow(remote, local);
                flow.roundTrip(3);
                ask(c, garbage.command, "WROTE");
                ask(c, "exit", "BYE");
                c.assertExitsCleanly(TIMEOUT_S);
                assertNotNull(detached.poll(TIMEOUT_S, TimeUnit.SECONDS), "the host saw the C participant leave");
                String corruption = ch.corruption();
                assertNotNull(corruption, "its recovery failed: the channel is corrupt");
                assertTrue(corruption.contains(garbage.named), corruption);
                assertTrue(remote.awaitHostGone(WAIT), "the Java participant was detached");
                CorruptRingException e = assertThrows(CorruptRingException.class, () -> remote.poll((t, pl) -> { }, 8));
                assertTrue(e.getMessage().contains("CHANNEL_CORRUPT") || e.getMessage().contains("corrupt"), e.getMessage());
                assertThrows(CorruptRingException.class, () -> remote.tryClaim(1, 8));
                assertThrows(CorruptRingException.class, () -> local.tryClaim(1, 8), "the local participant too");
                assertThrows(CorruptRingException.class, () -> local.poll((t, pl) -> { }, 8));
                AttachRefusedException refused = assertThrows(AttachRefusedException.class,
                        () -> Channels.mpmc(socket, "work", Role.CONSUMER, WAIT).close());
                assertEquals(RefusalReason.CHANNEL_CORRUPT, refused.reason());
                try (NativeChild late = NativeChild.start(NativeChild.RELEASE, "sluice_peer", "refused", socket.toString(), "work",
                        "PARTICIPANT")) {
                    String line = late.awaitLine("REFUSED", TIMEOUT_S);
                    assertTrue(line.startsWith("REFUSED CHANNEL_CORRUPT 11 ") && line.contains(garbage.named), line);
                    late.assertExitsCleanly(TIMEOUT_S);
                }
                assertEquals(RefusalReason.CHANNEL_CORRUPT, assertThrows(AttachRefusedException.class,
                        () -> ch.attachLocal(Role.CONSUMER), "no id is handed out again").reason());
                assertTrue(log.text().contains("is corrupt and takes no new participants"), log.text());
            } finally {
                local.close();
            }
            log.assertNoHostFailure();
        }
        row("MPMC participant (C) writes " + garbage.name().toLowerCase().replace('_', ' ') + " garbage, then leaves",
                "its recovery fails: channel corrupt, logged; every participant `DETACH(CHANNEL_CORRUPT)` and "
                        + "`CorruptRingException`; new attaches refused `CHANNEL_CORRUPT`; no id reused");
    }

    /** The value a counter case writes, from the counter's sound value {@code n} (head = tail = n, the ring drained). */
    private record CounterCase(String counter, String label, long value) {
        @Override
        public String toString() {
            return counter + " " + label + " (" + value + ")";
        }
    }

    /*
     * Outcome: whoever reads the garbage counter gets a CorruptRingException from that one call
     * (a producer the tail, a consumer the head); the other side goes on, or sees a full or empty
     * ring; a value that aliases the sound one modulo the 48-bit lap, or one behind it, is harmless
     * and the ring flows. Once the counter is put back, everything committed is delivered. The host
     * is not involved until someone attaches or leaves: its recovery then checks the counters, and
     * a negative one marks the channel corrupt for everyone. Acceptable for a trusted group: no
     * call loops or reads outside the ring (every slot index is masked), every failure is an
     * exception naming the counter and its value.
     */
    @Test
    void garbageInTheTailOrHeadCounterIsAnExceptionForWhoeverReadsItAndNeverAHangOrALoss() throws Exception {
        Path socket = dir.resolve("counters.sock");
        SplittableRandom rnd = new SplittableRandom(SEED ^ 300);
        try (HostLog log = new HostLog(); ChannelHost host = ChannelHost.bind(socket)) {
            HostedMpmcChannel ch = host.mpmc("work", MpmcOptions.of(SLOTS, SLOT_LENGTH).maxParticipants(8));
            MpmcAttachment local = ch.attachLocal(Role.CONSUMER);
            try (MpmcAttachment producer = Channels.mpmc(socket, "work", Role.PRODUCER, WAIT);
                 MpmcAttachment reader = Channels.mpmc(socket, "work", Role.PRODUCER, WAIT); // to read the counters
                 NativeChild c = NativeChild.start(NativeChild.SANITIZED, "sluice_peer", "mpmc-garbage", socket.toString(), "work")) {
                c.awaitLine("ATTACHED", TIMEOUT_S);
                MemorySegment ring = reader.buffer();
                MpmcFlow flow = new MpmcFlow(producer, local);
                flow.roundTrip(5);
                int loud = 0;
                int progress = 0;
                int cases = LONG ? 400 : 24;
                for (int i = 0; i < cases; i++) {
                    long n = ring.get(ValueLayout.JAVA_LONG, MpmcRingDescriptor.TAIL_POSITION_OFFSET);
                    assertEquals(n, ring.get(ValueLayout.JAVA_LONG, MpmcRingDescriptor.HEAD_POSITION_OFFSET), "drained");
                    CounterCase cc = counterCase(i, n, rnd);
                    String wrote = ask(c, cc.counter + " " + cc.value, "WROTE");
                    long old = Long.parseUnsignedLong(wrote.substring(wrote.indexOf(": 0x") + 4, wrote.indexOf(" -> ")), 16);
                    assertEquals(n, old, wrote);
                    String outcome = flow.tryThrough(3);
                    assertTrue(outcome.startsWith("loud") || outcome.equals("progress"),
                            cc + ": neither progress nor an exception: " + outcome);
                    if (outcome.equals("progress")) {
                        progress++;
                    } else {
                        loud++;
                    }
                    if (i < 12 || LONG && i % 50 < 2) {
                        System.out.println("mpmc counter garbage: " + cc + " -> " + outcome);
                    }
                    ask(c, cc.counter + " " + old, "WROTE"); // put back: the ring heals (counters behind are helped on)
                    flow.drainAll(); // everything committed under the garbage is delivered now, in order, once
                    flow.roundTrip(1);
                }
                System.out.println("mpmc counter garbage: " + cases + " cases, " + loud + " loud, " + progress + " harmless");
                assertTrue(loud >= 6 && progress >= 4, "the fixed cases hold both kinds: " + loud + " / " + progress);
                assertNull(ch.corruption(), "nobody attached or left meanwhile: the host was not involved");
                // A negative tail at the next attach: the host's recovery of the new id checks the counters.
                ask(c, "tail -1", "WROTE");
                AttachRefusedException refused = assertThrows(AttachRefusedException.class,
                        () -> Channels.mpmc(socket, "work", Role.CONSUMER, WAIT).close());
                assertEquals(RefusalReason.CHANNEL_CORRUPT, refused.reason(), refused.getMessage());
                assertTrue(producer.awaitHostGone(WAIT));
                assertThrows(CorruptRingException.class, () -> producer.tryClaim(1, 8));
                assertThrows(CorruptRingException.class, () -> local.poll((t, pl) -> { }, 8));
                assertTrue(ch.corruption().contains("impossible counters"), ch.corruption());
                ask(c, "exit", "BYE");
                c.assertExitsCleanly(TIMEOUT_S);
            } finally {
                local.close();
            }
            log.assertNoHostFailure();
        }
        row("MPMC participant (C) writes garbage into the tail or head counter (far ahead, far behind, negative, random)",
                "the producer (tail) or consumer (head) reading it gets `CorruptRingException` from that call; values "
                        + "behind, or equal modulo the 48-bit lap, heal; nothing committed is lost once it is put back; a "
                        + "negative counter found by the host at the next attach or departure marks the channel corrupt");
    }

    /** The fixed cases first (their outcome known), then seeded random ones at least two laps from the sound value. */
    private static CounterCase counterCase(int i, long n, SplittableRandom rnd) {
        String counter = i % 2 == 0 ? "tail" : "head";
        return switch (i / 2) {
            case 0 -> new CounterCase(counter, "far ahead", n + (1L << 40));
            case 1 -> new CounterCase(counter, "negative", -1);
            case 2 -> new CounterCase(counter, "Long.MIN_VALUE", Long.MIN_VALUE);
            case 3 -> new CounterCase(counter, "one lap and a half ahead", n + SLOTS + SLOTS / 2);
            case 4 -> new CounterCase(counter, "three behind", n - 3);
            case 5 -> new CounterCase(counter, "ahead by 2^52 (the same 48-bit lap)", n + (1L << 52));
            default -> {
                long v;
                do {
                    v = switch (rnd.nextInt(3)) {
                        case 0 -> rnd.nextLong();
                        case 1 -> n + rnd.nextLong(2L * SLOTS, 1L << 56);
                        default -> -rnd.nextLong(1, Long.MAX_VALUE);
                    };
                } while (v >= 0 && Math.abs(v - n) < 2L * SLOTS);
                yield new CounterCase(counter, "random", v);
            }
        };
    }

    /*
     * Outcome: a committed slot whose type or length is impossible is dropped by the consumer that
     * takes it, with a CorruptRingException naming the slot, the position and the values; the
     * messages before it in the same poll were delivered, and the next poll goes on with the ones
     * after it. Acceptable for a trusted group: one message (the one the garbage destroyed) is
     * lost, loudly; the payload of a message with a plausible type and length is the producers'
     * business (the ring cannot tell), and no read goes outside the slot.
     */
    @Test
    void aCommittedSlotWithAnImpossibleTypeOrLengthIsDroppedLoudlyAndTheRingKeepsFlowing() throws Exception {
        Path socket = dir.resolve("message.sock");
        try (HostLog log = new HostLog(); ChannelHost host = ChannelHost.bind(socket)) {
            HostedMpmcChannel ch = host.mpmc("work", MpmcOptions.of(SLOTS, SLOT_LENGTH).maxParticipants(8));
            MpmcAttachment consumer = ch.attachLocal(Role.CONSUMER);
            try (MpmcAttachment producer = Channels.mpmc(socket, "work", Role.PRODUCER, WAIT);
                 NativeChild c = NativeChild.start(NativeChild.SANITIZED, "sluice_peer", "mpmc-garbage", socket.toString(), "work")) {
                c.awaitLine("ATTACHED", TIMEOUT_S);
                MpmcFlow flow = new MpmcFlow(producer, consumer);
                for (int i = 0; i < 10; i++) {
                    flow.commit(); // seq i in slot i, position i
                }
                ask(c, "type 2 0", "WROTE");
                ask(c, "type 4 -7", "WROTE");
                ask(c, "length 6 100000", "WROTE");
                ask(c, "length 8 -1", "WROTE");
                List<String> errors = new ArrayList<>();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_S);
                while (flow.received.size() + errors.size() < 10) {
                    assertTrue(System.nanoTime() < deadline, "bounded: " + flow.received + " " + errors);
                    try {
                        flow.poll();
                    } catch (CorruptRingException e) {
                        errors.add(e.getMessage());
                    }
                }
                assertEquals(List.of(0L, 1L, 3L, 5L, 7L, 9L), flow.received, "every message but the four destroyed, in order");
                assertEquals(4, errors.size(), errors.toString());
                assertTrue(errors.get(0).contains("at head position 2 has type 0 and length 8"), errors.get(0));
                assertTrue(errors.get(1).contains("at head position 4 has type -7"), errors.get(1));
                assertTrue(errors.get(2).contains("at head position 6 has type") && errors.get(2).contains("length 100000"),
                        errors.get(2));
                assertTrue(errors.get(3).contains("length -1") && errors.get(3).endsWith("the message is dropped"), errors.get(3));
                flow.received.clear();
                flow.roundTrip(3 * SLOTS); // three laps over the slots that held garbage
                ask(c, "exit", "BYE");
                c.assertExitsCleanly(TIMEOUT_S);
                assertNull(ch.corruption(), "the state words were sound: nothing for the host to report");
            } finally {
                consumer.close();
            }
            log.assertNoHostFailure();
        }
        row("MPMC participant (C) writes an impossible type or length into a committed slot",
                "the consumer that takes it drops it with `CorruptRingException` (slot, position, values); the ring flows on");
    }

    /*
     * Outcome: consumers wait behind the forged claim (head-of-line, as behind any open claim);
     * after the stall interval the host logs which participant it names; the forger's own departure
     * does not clear it (it is not its id); when the named participant leaves, its recovery aborts
     * the claim and the ring flows again; nothing committed is lost. Acceptable for a trusted group:
     * the stall is bounded by the named participant's life, and it is reported, naming the holder.
     */
    @Test
    void aClaimForgedUnderALiveParticipantsIdStallsTheRingUntilThatParticipantLeavesAndIsReported() throws Exception {
        Path socket = dir.resolve("forged.sock");
        try (HostLog log = new HostLog(); ChannelHost host = ChannelHost.bind(socket)) {
            HostedMpmcChannel ch = host.mpmc("work", MpmcOptions.of(SLOTS, SLOT_LENGTH).maxParticipants(8));
            BlockingQueue<Attachment> detached = new LinkedBlockingQueue<>();
            ch.onDetach(detached::add);
            MpmcAttachment consumer = ch.attachLocal(Role.CONSUMER);
            try (MpmcAttachment victim = Channels.mpmc(socket, "work", Role.PRODUCER, WAIT);
                 NativeChild c = NativeChild.start(NativeChild.SANITIZED, "sluice_peer", "mpmc-garbage", socket.toString(), "work")) {
                String attached = c.awaitLine("ATTACHED", TIMEOUT_S);
                int forgerId = Integer.parseInt(attached.split(" ")[1]);
                int victimId = victim.participantId();
                assertTrue(victimId != forgerId);
                MpmcFlow flow = new MpmcFlow(victim, consumer);
                flow.roundTrip(5);
                long head = 5;
                long forged = MpmcSlotDescriptor.word(head, SLOT_SHIFT, MpmcSlotDescriptor.CLAIMED, victimId);
                String wrote = ask(c, "slot " + (head & (SLOTS - 1)) + " 0x" + Long.toHexString(forged), "WROTE");
                assertTrue(wrote.contains(": 0x" + Long.toHexString(MpmcSlotDescriptor.word(head, SLOT_SHIFT,
                        MpmcSlotDescriptor.FREE, 0)) + " -> "), "the slot at the head was free: " + wrote);
                long stalledAt = System.nanoTime();
                for (int i = 0; i < 3; i++) {
                    flow.commit(); // producers pass the forged claim (they help the tail past it)
                }
                assertEquals(0, flow.poll(), "consumers cannot pass the forged claim (head-of-line)");
                String named = "behind a claim of participant " + victimId + " (";
                Duration stall = Duration.ofNanos(ChannelHost.MPMC_STALL_NANOS).plusSeconds(TIMEOUT_S);
                assertTrue(log.awaitContains(named, stall), "the host reports the stall, naming the participant:\n" + log.text());
                System.out.printf("forged claim under participant %d: reported after %.1f s (stall interval %d s)%n", victimId,
                        (System.nanoTime() - stalledAt) / 1e9, TimeUnit.NANOSECONDS.toSeconds(ChannelHost.MPMC_STALL_NANOS));
                assertEquals(0, flow.poll(), "still stalled: the claim names a live participant, the host does not touch it");
                ask(c, "exit", "BYE");
                c.assertExitsCleanly(TIMEOUT_S);
                assertNotNull(detached.poll(TIMEOUT_S, TimeUnit.SECONDS));
                assertEquals(0, ch.lastRecovery().claimsAborted(), "the forger's recovery finds nothing of its own");
                assertEquals(0, flow.poll(), "the forger leaving does not clear a claim made in another's name");
                victim.close();
                assertNotNull(detached.poll(TIMEOUT_S, TimeUnit.SECONDS));
                assertEquals(1, ch.lastRecovery().claimsAborted(), "the named participant's recovery aborts the forged claim");
                flow.drainAll();
                assertEquals(List.of(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L), flow.received, "its committed messages are delivered");
                assertNull(ch.corruption());
            } finally {
                consumer.close();
            }
            try (MpmcAttachment next = Channels.mpmc(socket, "work", Role.PRODUCER, WAIT);
                 MpmcAttachment taker = ch.attachLocal(Role.CONSUMER)) {
                new MpmcFlow(next, taker).roundTrip(2 * SLOTS); // the ring flows again, laps over the forged slot
            }
            log.assertNoHostFailure();
        }
        row("MPMC participant (C) forges a claim at the head under a live participant's id",
                "consumers wait behind it (head-of-line); after 5 s the host logs the named holder; recovered (aborted, "
                        + "skipped) when that participant leaves; nothing committed is lost");
    }

    /*
     * Defect: a tail moved a few positions ahead (within one lap) passes every check. Producers
     * claim and commit beyond the gap without an error; consumers wait at the head, whose slot is
     * FREE for its lap, and report an empty ring for ever while committed messages sit behind it.
     * Nobody is told: the host's watch only looks for a CLAIMED head slot, and its recovery only
     * checks that head <= tail + 1. Producers get a CorruptRingException a lap later, when they
     * reach the FREE slot of the previous lap, if they produce that much; a head moved ahead
     * within a lap likewise skips committed messages silently. docs/security.md says no MPMC
     * failure is silent; this one is until the ring wraps, and for ever at low traffic.
     */
    @Test
    void aTailMovedAheadWithinALapIsReportedToConsumersInsteadOfStallingThemSilently() throws Exception {
        Path socket = dir.resolve("nudge.sock");
        try (HostLog log = new HostLog(); ChannelHost host = ChannelHost.bind(socket)) {
            HostedMpmcChannel ch = host.mpmc("work", MpmcOptions.of(SLOTS, SLOT_LENGTH).maxParticipants(8));
            MpmcAttachment consumer = ch.attachLocal(Role.CONSUMER);
            try (MpmcAttachment producer = Channels.mpmc(socket, "work", Role.PRODUCER, WAIT);
                 NativeChild c = NativeChild.start(NativeChild.SANITIZED, "sluice_peer", "mpmc-garbage", socket.toString(), "work")) {
                c.awaitLine("ATTACHED", TIMEOUT_S);
                MpmcFlow flow = new MpmcFlow(producer, consumer);
                flow.roundTrip(5);
                ask(c, "tail 7", "WROTE"); // head = tail = 5: two positions skipped
                for (int i = 0; i < 3; i++) {
                    flow.commit(); // no error: claimed at 7, 8, 9
                }
                // Expected: within the host's stall interval (and a margin), consumers either receive the
                // three messages or are told the ring is corrupt.
                long deadline = System.nanoTime() + ChannelHost.MPMC_STALL_NANOS + TimeUnit.SECONDS.toNanos(10);
                boolean told = false;
                while (flow.received.size() < 8 && !told && System.nanoTime() < deadline) {
                    try {
                        if (flow.poll() == 0) {
                            LockSupport.parkNanos(1_000_000L); // bounded by the deadline
                        }
                    } catch (CorruptRingException e) {
                        told = true;
                    }
                }
                assertTrue(told || flow.received.size() == 8, "consumers saw an empty ring for "
                        + TimeUnit.NANOSECONDS.toSeconds(ChannelHost.MPMC_STALL_NANOS + TimeUnit.SECONDS.toNanos(10))
                        + " s while 3 committed messages waited behind a gap at the head; nobody was told (corruption: "
                        + ch.corruption() + ")");
            } finally {
                consumer.close();
            }
        }
    }

    // ---- helpers ----------------------------------------------------------------------------------

    /**
     * Sends one command to a command-mode sluice_peer and returns its one-line answer, which must
     * start with {@code expected}. Bounded.
     */
    private static String ask(NativeChild c, String command, String expected) throws IOException {
        int before = (int) c.output().lines().count();
        c.send(command);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_S);
        while (true) {
            List<String> lines = c.output().lines().toList();
            if (lines.size() > before) {
                String answer = lines.get(before);
                if (!answer.startsWith(expected)) {
                    throw new AssertionError("'" + command + "' was answered '" + answer + "', expected '" + expected
                            + "...'; output:\n" + c.output());
                }
                return answer;
            }
            if (!c.isAlive()) { // what it printed last may still be on its way through the pipe
                deadline = Math.min(deadline, System.nanoTime() + TimeUnit.SECONDS.toNanos(2));
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no answer to '" + command + "' (" + (c.isAlive() ? "timeout" : "the peer exited")
                        + "); output:\n" + c.output());
            }
            LockSupport.parkNanos(200_000L); // polling the collected output, bounded by the deadline
        }
    }

    /** The sending side of the SPSC and broadcast tests: test message {@code seq} after {@code seq - 1}. */
    private static final class Stream {
        interface Offer {
            boolean offer(int type, MemorySegment source, long sourceOffset, int length);
        }

        private final Offer offer;
        private final LongSupplier position;
        private final MemorySegment staging = Arena.ofAuto().allocate(MAX_LENGTH, 8);
        private final List<Long> endOf = new ArrayList<>(); // the ring position after message seq
        private long sent;

        Stream(Offer offer, LongSupplier position) {
            this.offer = offer;
            this.position = position;
        }

        long sent() {
            return sent;
        }

        /** The producer's position once message {@code seq} was committed: where a consumer that read it stands. */
        long endOf(long seq) {
            return endOf.get((int) seq);
        }

        /** The first message at or after {@code start}, a position some message ends at (or 0). */
        long firstAfter(long start) {
            if (start == 0) {
                return 0;
            }
            int i = endOf.indexOf(start);
            assertTrue(i >= 0, "position " + start + " is where a message ends");
            return i + 1;
        }

        boolean trySend() {
            long mix = mix(SEED, 0, sent);
            int length = length(mix, MAX_LENGTH);
            fill(staging, 0, mix, 0, sent, length);
            if (!offer.offer(type(mix), staging, 0, length)) {
                return false;
            }
            endOf.add(position.getAsLong());
            sent++;
            return true;
        }

        /** Sends until the ring is full (no consumer reads meanwhile); returns how many were sent. */
        int sendUntilFull() {
            int n = 0;
            while (trySend()) {
                n++;
            }
            return n;
        }

        /** Sends while {@code pollHonest} drains: returns once only another consumer holds the producer. */
        void sendUntilGated(IntSupplier pollHonest) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_S);
            while (true) {
                assertTrue(System.nanoTime() < deadline, "bounded");
                if (trySend() || pollHonest.getAsInt() > 0) {
                    continue;
                }
                if (!trySend()) {
                    return;
                }
            }
        }

        /** Sends through message {@code end - 1} while {@code poll} consumes; bounded. */
        void streamTo(long end, IntSupplier poll, Checker check) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_S * (LONG ? 10 : 1));
            int idle = 0;
            while (check.next < end) {
                boolean moved = false;
                while (sent < end && trySend()) {
                    moved = true;
                }
                if (poll.getAsInt() > 0) {
                    moved = true;
                }
                if (moved) {
                    idle = 0;
                } else {
                    assertTrue(System.nanoTime() < deadline, "the stream stalled at message " + check.next + " of " + end
                            + " (sent " + sent + ")");
                    backOff(++idle);
                }
            }
        }
    }

    /** Checks that messages arrive as {@code next}, {@code next + 1}, ... with the content the generator gives. */
    private static final class Checker implements MessageHandler {
        private final MemorySegment expected = Arena.ofAuto().allocate(MAX_LENGTH, 8);
        long next;

        Checker(long first) {
            this.next = first;
        }

        @Override
        public void onMessage(int type, MemorySegment payload) {
            long seq = payload.get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
            if (seq != next) {
                throw new AssertionError("message " + seq + " where " + next + " was due");
            }
            long mix = mix(SEED, 0, seq);
            int length = length(mix, MAX_LENGTH);
            if (type != type(mix) || payload.byteSize() != length) {
                throw new AssertionError("message " + seq + ": type " + type + " length " + payload.byteSize() + ", expected "
                        + type(mix) + " and " + length);
            }
            fill(expected, 0, mix, 0, seq, length);
            if (MemorySegment.mismatch(payload, 0, length, expected, 0, length) != -1) {
                throw new AssertionError("message " + seq + ": payload differs");
            }
            next++;
        }
    }

    /** Java MPMC traffic: 8-byte messages carrying a sequence number, type 1 + seq % 7. */
    private static final class MpmcFlow {
        private final MessageProducer producer;
        private final MpmcAttachment consumer;
        final List<Long> received = new ArrayList<>();
        private long seq;

        MpmcFlow(MessageProducer producer, MpmcAttachment consumer) {
            this.producer = producer;
            this.consumer = consumer;
        }

        /** Commits the next message; the ring must have room. */
        void commit() {
            long at = producer.tryClaim(1 + (int) (seq % 7), 8);
            assertTrue(at != MessageProducer.INSUFFICIENT_CAPACITY, "room for message " + seq);
            producer.buffer().set(ValueLayout.JAVA_LONG_UNALIGNED, at, seq++);
            producer.commit(at);
        }

        int poll() {
            return consumer.poll((type, payload) -> {
                long s = payload.get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
                assertEquals(1 + (int) (s % 7), type, "type of message " + s);
                received.add(s);
            }, 64);
        }

        /** Polls until the ring is empty (bounded), then checks every message so far arrived once, in order. */
        void drainAll() {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_S);
            while (poll() > 0) {
                assertTrue(System.nanoTime() < deadline, "bounded");
            }
            assertInOrder();
        }

        private void assertInOrder() {
            for (int i = 0; i < received.size(); i++) {
                assertEquals(received.get(0) + i, (long) received.get(i), "messages in order, once: " + received);
            }
            if (!received.isEmpty()) {
                assertEquals(seq - 1, (long) received.getLast(), "every committed message: " + received);
            }
        }

        /** {@code n} messages through the ring, one at a time; each must arrive. */
        void roundTrip(int n) {
            for (int i = 0; i < n; i++) {
                commit();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_S);
                int before = received.size();
                while (received.size() == before) {
                    assertTrue(System.nanoTime() < deadline, "message " + (seq - 1) + " did not come");
                    poll();
                }
                assertInOrder();
            }
        }

        /**
         * Tries {@code n} messages through a ring whose counter may be garbage: "progress" if all were
         * committed and arrived in order, "loud ..." if a call threw CorruptRingException; anything
         * else (committed but not delivered, no exception) is returned as is, and fails the caller.
         */
        String tryThrough(int n) {
            int before = received.size();
            long first = seq;
            String loud = null;
            int committed = 0;
            for (int i = 0; i < n && loud == null; i++) {
                try {
                    long at = producer.tryClaim(1 + (int) (seq % 7), 8);
                    if (at == MessageProducer.INSUFFICIENT_CAPACITY) {
                        break;
                    }
                    producer.buffer().set(ValueLayout.JAVA_LONG_UNALIGNED, at, seq++);
                    producer.commit(at);
                    committed++;
                } catch (CorruptRingException e) {
                    loud = "loud: producer: " + e.getMessage();
                }
            }
            String consumerLoud = null;
            for (int i = 0; i < 3 && consumerLoud == null; i++) {
                try {
                    poll();
                } catch (CorruptRingException e) {
                    consumerLoud = "loud: consumer: " + e.getMessage();
                }
            }
            if (loud != null || consumerLoud != null) {
                return loud != null ? loud + (consumerLoud != null ? "; " + consumerLoud : "") : consumerLoud;
            }
            List<Long> got = received.subList(before, received.size());
            List<Long> want = new ArrayList<>();
            for (long s = first; s < first + committed; s++) {
                want.add(s);
            }
            return committed == n && got.equals(want) ? "progress"
                    : "silent: committed " + committed + " of " + n + ", delivered " + got;
        }
    }

    /**
     * What the Sluice loggers say while open (java.util.logging, the System.Logger backend, reached
     * reflectively as {@code io.sluice.adversarial.Adversarial.LogCapture} does: this module does not
     * read java.logging). Lines pass through to the console as well.
     */
    static final class HostLog extends OutputStream implements AutoCloseable {
        private final Class<?> loggerClass;
        private final Object logger;
        private final Object handler;
        private final StringBuilder text = new StringBuilder();

        HostLog() {
            try {
                loggerClass = Class.forName("java.util.logging.Logger");
                logger = loggerClass.getMethod("getLogger", String.class).invoke(null, "io.sluice");
                Class<?> formatter = Class.forName("java.util.logging.Formatter");
                handler = Class.forName("java.util.logging.StreamHandler").getConstructor(OutputStream.class, formatter)
                        .newInstance(this, Class.forName("java.util.logging.SimpleFormatter").getConstructor().newInstance());
                loggerClass.getMethod("addHandler", Class.forName("java.util.logging.Handler")).invoke(logger, handler);
            } catch (ReflectiveOperationException e) {
                throw new AssertionError("cannot capture java.util.logging", e);
            }
        }

        @Override
        public synchronized void write(int b) {
            text.append((char) b);
        }

        String text() {
            try {
                handler.getClass().getMethod("flush").invoke(handler);
            } catch (ReflectiveOperationException e) {
                throw new AssertionError(e);
            }
            synchronized (this) {
                return text.toString();
            }
        }

        /** Waits (polling, at most {@code timeout}) until the log holds {@code s}. */
        boolean awaitContains(String s, Duration timeout) {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!text().contains(s)) {
                if (System.nanoTime() > deadline) {
                    return false;
                }
                LockSupport.parkNanos(10_000_000L); // polling another thread's log, bounded by the deadline
            }
            return true;
        }

        /** No stack trace and no failure of the host's own (its thread, a task, a recovery that threw). */
        void assertNoHostFailure() {
            String t = text();
            for (String line : t.lines().toList()) {
                if (line.startsWith("\tat ") || line.contains("its thread failed") || line.contains("a task failed")
                        || line.contains("a detach listener failed") || line.matches(".*recovering .* failed$")) {
                    throw new AssertionError("the host reported a failure of its own: " + line + "\nlog:\n" + t);
                }
            }
        }

        @Override
        public void close() {
            text();
            try {
                loggerClass.getMethod("removeHandler", Class.forName("java.util.logging.Handler")).invoke(logger, handler);
            } catch (ReflectiveOperationException e) {
                throw new AssertionError(e);
            }
        }
    }
}
