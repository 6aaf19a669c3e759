package io.sluice.adversarial;

import io.sluice.api.BroadcastPolicy;
import io.sluice.ringbuffer.BroadcastRing;
import io.sluice.api.RefusalReason;
import io.sluice.api.RingKind;
import io.sluice.api.Role;
import io.sluice.channel.AccessPolicy;
import io.sluice.channel.BroadcastOptions;
import io.sluice.channel.ChannelHost;
import io.sluice.channel.Channels;
import io.sluice.channel.HostOptions;
import io.sluice.channel.HostedBroadcastChannel;
import io.sluice.channel.HostedSpscChannel;
import io.sluice.channel.MpmcAttachment;
import io.sluice.channel.MpmcOptions;
import io.sluice.channel.SpscOptions;
import io.sluice.fdpassing.SeqPacketSocket;
import io.sluice.memfd.MemfdRegion;
import io.sluice.memfd.OwnedFd;
import io.sluice.memfd.Seal;
import io.sluice.memfd.libc.Errno;
import io.sluice.memfd.libc.FdCalls;
import io.sluice.ringbuffer.BroadcastConsumer;
import io.sluice.ringbuffer.BroadcastStart;
import io.sluice.ringbuffer.SpscConsumerPositionDescriptor;
import io.sluice.ringbuffer.SpscRing;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A protocol fuzzer against a live host. A raw client ({@link RawClient}) speaks bytes over real
 * sockets: mutated and random HELLO and POSITION messages, messages in the wrong order, messages
 * after READY, zero-length packets, every kind of fd attached (none, pipes, a file, a socket,
 * memfds unsealed, of the wrong size or seals, the host's own data region, several, 200+),
 * connections dropped, half-closed or left silent at every step.
 *
 * <p>Each packet goes through an <em>oracle</em> written from {@code docs/protocol.md} (not from the
 * host's decoder): it says what the host must answer — WELCOME, READY, a REFUSE or DETACH with one
 * of the reasons this packet can legitimately produce, or a close without a message — and the
 * test checks the host's answer against it, and that every REFUSE/DETACH text is valid UTF-8
 * without control characters. Every 1,000 cases and at the end, honest clients attach (SPSC
 * consumer, broadcast consumers of both policies, MPMC participant) and get a message through, and
 * the host's fds, threads and mappings return to where they were.
 *
 * <p>Quick mode: 10,000 cases; long mode: 100,000. {@code -Dsluice.test.seed=N} replays a run.
 */
class HandshakeFuzzTest {
    private static final Duration REPLY = Duration.ofSeconds(5);
    private static final Duration HANDSHAKE_TIMEOUT = Duration.ofMillis(300);
    private static final Duration SETTLE = Duration.ofSeconds(10);
    private static final int CHECKPOINT_EVERY = 1_000;
    private static final int MAX_PENDING_STALLS = 24;
    private static final long SPSC_CAPACITY = 4096;
    private static final int POSITION_SIZE = 384; // SPSC and broadcast consumer position regions (protocol.md)
    private static final int MPMC_PARTICIPANTS = 8;

    @TempDir
    Path dir;

    private Path socket;
    private ChannelHost host;
    private final Map<String, Target> targets = new LinkedHashMap<>();
    private Fixtures fx;
    private SplittableRandom rnd;
    private final List<Stall> stalls = new ArrayList<>();
    private final Map<String, Long> outcomes = new TreeMap<>();
    private final Map<String, Long> actions = new TreeMap<>();
    private StringBuilder transcript;
    private long honestSeq;
    /** Attachments the host has let go of (closed their connection, released their regions). */
    private final Set<io.sluice.channel.Attachment> detached = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** A hosted channel as the oracle knows it. */
    private record Target(String name, RingKind kind, boolean locked) {
    }

    private enum State { HELLO, POSITION, ATTACHED }

    /** What the WELCOME said, for the steps after it. */
    private record Welcomed(Target target, Role role, Wire.Welcome welcome, int dataFd) {
    }

    /** A packet to send: bytes, fds, and what it is (for the transcript). */
    private record Packet(byte[] data, FdKind fds, String what) {
    }

    /** What the oracle says the host must do with a packet. */
    private sealed interface Expect permits Refuse, Closed, Welcome, Ready, Detach {
    }

    private record Refuse(Set<RefusalReason> reasons) implements Expect {
        Refuse(RefusalReason first, RefusalReason... rest) {
            this(Set.copyOf(EnumSet.of(first, rest)));
        }
    }

    private record Closed() implements Expect {
    }

    private record Welcome(Target target, Role role) implements Expect {
    }

    /** READY; or, if {@code orBadRegion}, READY or REFUSE(BAD_REGION) (a region whose bytes were mutated). */
    private record Ready(boolean orBadRegion) implements Expect {
    }

    private record Detach(RefusalReason reason) implements Expect {
    }

    /** A connection left silent; the host must time it out with REFUSE(TIMEOUT), then close. */
    private record Stall(RawClient client, String transcript, String outcomeSoFar) {
    }

    @Test
    void everyMalformedOrMisorderedHandshakeGetsADocumentedOutcomeAndTheHostKeepsServingAndLeaksNothing() throws Exception {
        long seed = Adversarial.seed("HandshakeFuzzTest");
        long cases = Adversarial.byMode(10_000, 100_000);
        rnd = new SplittableRandom(seed);
        socket = dir.resolve("fuzz.sock");
        int otherUid = Adversarial.uid() == 4242 ? 4243 : 4242;
        long started = System.nanoTime();
        try (Adversarial.LogCapture logs = new Adversarial.LogCapture();
             ChannelHost h = ChannelHost.bind(socket, HostOptions.defaults().handshakeTimeout(HANDSHAKE_TIMEOUT));
             Fixtures fixtures = new Fixtures(dir)) {
            host = h;
            fx = fixtures;
            host.spsc("orders", SpscOptions.of(SPSC_CAPACITY));
            host.broadcast("quotes.bp", BroadcastOptions.of(BroadcastPolicy.BACK_PRESSURE, 4096)
                    .maxMessageLength(256).maxConsumers(8));
            host.broadcast("quotes.ow", BroadcastOptions.of(BroadcastPolicy.OVERWRITE, 4096).maxMessageLength(256).maxConsumers(8));
            host.mpmc("work", MpmcOptions.of(16, 64).maxParticipants(MPMC_PARTICIPANTS));
            host.spsc("locked", SpscOptions.of(SPSC_CAPACITY)).accessPolicy(AccessPolicy.uids(otherUid));
            targets.put("orders", new Target("orders", RingKind.SPSC, false));
            targets.put("quotes.bp", new Target("quotes.bp", RingKind.BROADCAST_BACKPRESSURE, false));
            targets.put("quotes.ow", new Target("quotes.ow", RingKind.BROADCAST_OVERWRITE, false));
            targets.put("work", new Target("work", RingKind.MPMC, false));
            targets.put("locked", new Target("locked", RingKind.SPSC, true));
            for (String name : targets.keySet()) {
                host.channel(name).onDetach(detached::add); // runs after the host released the attachment
            }

            // Warm up: two rounds of honest attaches bring every channel to its steady state (a
            // departed consumer's position region stays mapped until the producer has moved past
            // it; see checkpoint()), then the baseline is what the host holds when idle.
            honestAttachesWork();
            honestAttachesWork();
            Adversarial.Resources base = Adversarial.Resources.now();
            System.out.println("[HandshakeFuzzTest] baseline: " + base);
            long checkpoints = 0;
            long maxFds = base.fds();
            for (long i = 1; i <= cases; i++) {
                transcript = new StringBuilder();
                try {
                    String outcome = runCase();
                    if (outcome != null) {
                        outcomes.merge(outcome, 1L, Long::sum);
                    }
                } catch (AssertionError | RuntimeException e) {
                    throw new AssertionError("seed " + seed + ", case " + i + ": " + e.getMessage() + "\n  transcript: " + transcript
                            + "\n  replay: -Dsluice.test.seed=" + seed, e);
                }
                if (i % CHECKPOINT_EVERY == 0 || i == cases) {
                    maxFds = Math.max(maxFds, Adversarial.peerReachableFds());
                    try {
                        checkpoint(base);
                    } catch (AssertionError e) {
                        throw new AssertionError("seed " + seed + ", checkpoint after case " + i + ": " + e.getMessage()
                                + "\n  log failures: " + logs.failures(), e);
                    }
                    checkpoints++;
                }
            }
            long elapsed = System.nanoTime() - started;
            List<String> bad = logs.failures();
            System.out.printf("[HandshakeFuzzTest] %d cases, seed %d, mode %s, %.1f s, %d checkpoints (honest attaches + baseline)%n",
                    cases, seed, Adversarial.mode(), elapsed / 1e9, checkpoints);
            System.out.println("[HandshakeFuzzTest] outcomes (host's answers, in order):");
            outcomes.forEach((k, v) -> System.out.printf("    %7d  %s%n", v, k));
            System.out.println("[HandshakeFuzzTest] packets and actions sent:");
            actions.forEach((k, v) -> System.out.printf("    %7d  %s%n", v, k));
            System.out.println("[HandshakeFuzzTest] host: " + logs.summary() + "; peak " + maxFds + " fds just before a checkpoint (with pending"
                    + " silent connections and departed consumers' regions; baseline " + base.fds() + "); refusals " + refusalCounts());
            assertTrue(bad.isEmpty(), "seed " + seed + ": the host logged failures: " + bad);
        }
    }

    private String refusalCounts() {
        StringBuilder sb = new StringBuilder();
        for (RefusalReason r : RefusalReason.values()) {
            long n = host.refusals(r);
            if (n > 0) {
                sb.append(sb.isEmpty() ? "" : ", ").append(r).append(' ').append(n);
            }
        }
        return sb.toString();
    }

    // ---- one case ----

    private void note(String action) {
        actions.merge(action, 1L, Long::sum);
        transcript.append(" > ").append(action);
    }

    /** Runs one case; returns its outcome: the host's answers, in order. */
    private String runCase() {
        RawClient c = RawClient.connect(socket);
        StringBuilder outcome = new StringBuilder();
        Welcomed w = null;
        MemfdRegion[] owned = new MemfdRegion[2]; // what this case created for a POSITION: closed at the end
        try {
            State state = State.HELLO;
            Packet pipelined = null; // already sent, for the state we are about to be in
            while (true) {
                Packet p;
                if (pipelined != null) {
                    p = pipelined;
                    pipelined = null;
                } else {
                    int a = rnd.nextInt(100);
                    if (state == State.ATTACHED) {
                        if (a < 70) {
                            note("close after READY");
                            return outcome.toString().trim();
                        } else if (a < 78) {
                            note("half-close after READY");
                            c.shutdownWrite();
                            expect(c, new Closed(), w, outcome);
                            return outcome.toString().trim();
                        }
                        // else: a message after READY
                    } else if (a < 2) {
                        note("drop at " + state);
                        return (outcome + " (client dropped)").trim();
                    } else if (a < 3 && stalls.size() < MAX_PENDING_STALLS) {
                        note("stall at " + state);
                        stalls.add(new Stall(c, transcript.toString(), outcome.toString()));
                        c = null; // its REFUSE(TIMEOUT) is checked at the next checkpoint, and counted then
                        return null;
                    } else if (a < 5) {
                        note("half-close at " + state);
                        c.shutdownWrite();
                        expect(c, new Closed(), w, outcome);
                        return outcome.toString().trim();
                    }
                    p = packetFor(state, w, owned, false);
                    send(c, p, w, owned);
                    if (a < 8) {
                        note("drop right after sending");
                        return (outcome + " (client dropped after sending)").trim();
                    }
                }
                Expect e = oracle(state, p, w);
                if (e instanceof Welcome welcome && rnd.nextInt(4) == 0) {
                    // send the next step's packet before reading the WELCOME: "two HELLOs", a message after READY
                    State next = welcome.target().kind() == RingKind.MPMC || welcome.role() == Role.MONITOR
                            ? State.ATTACHED : State.POSITION;
                    pipelined = packetFor(next, null, owned, true);
                    note("pipelined");
                    send(c, pipelined, null, owned);
                } else if ((e instanceof Refuse || e instanceof Closed || e instanceof Detach) && rnd.nextInt(10) == 0) {
                    Packet more = packetFor(State.HELLO, null, owned, true);
                    note("talks on after its last packet");
                    c.send(more.data(), fx.fds(more.fds(), null, owned)); // may fail (EPIPE): the host closed
                }
                Welcomed after = expect(c, e, w, outcome);
                if (after == null) {
                    return outcome.toString().trim();
                }
                if (w == null) {
                    w = after;
                }
                state = e instanceof Welcome welcome
                        ? (welcome.target().kind() == RingKind.MPMC || welcome.role() == Role.MONITOR ? State.ATTACHED : State.POSITION)
                        : State.ATTACHED;
            }
        } finally {
            if (c != null) {
                c.close();
            }
            if (w != null) {
                FdCalls.closeQuietly(w.dataFd());
            }
            for (MemfdRegion r : owned) {
                if (r != null) {
                    r.close();
                }
            }
        }
    }

    private void send(RawClient c, Packet p, Welcomed w, MemfdRegion[] owned) {
        note(p.what() + (p.fds() == FdKind.NONE ? "" : " + fds:" + p.fds()));
        int errno = c.send(p.data(), fx.fds(p.fds(), w, owned));
        assertEquals(0, errno, "sending " + p.what() + " failed: " + Errno.name(errno));
    }

    /**
     * Reads the host's answer and checks it against the oracle. Returns what the WELCOME said when
     * the handshake goes on (WELCOME, or READY after it), null when this answer ended it.
     */
    private Welcomed expect(RawClient c, Expect e, Welcomed w, StringBuilder outcome) {
        RawClient.Received m = c.receive(REPLY);
        try {
            assertTrue(!m.timedOut(), "expected " + e + ", the host said nothing within " + REPLY);
            switch (e) {
                case Closed x -> {
                    assertTrue(m.eof(), "expected the host to close without a word, got " + describe(m));
                    outcome.append(" EOF");
                    return null;
                }
                case Refuse r -> {
                    Wire.Refuse refuse = decodeReason(m, Wire.REFUSE, "REFUSE " + r.reasons());
                    assertTrue(r.reasons().contains(refuse.reason()), "expected REFUSE " + r.reasons() + ", got REFUSE "
                            + refuse.reason() + " (" + refuse.rawCode() + "): " + refuse.text());
                    outcome.append(" REFUSE(").append(refuse.reason()).append(')');
                    expectEof(c, outcome);
                    return null;
                }
                case Detach d -> {
                    Wire.Refuse detach = decodeReason(m, Wire.DETACH, "DETACH " + d.reason());
                    assertEquals(d.reason(), detach.reason(), "DETACH reason; text: " + detach.text());
                    outcome.append(" DETACH(").append(detach.reason()).append(')');
                    expectEof(c, outcome);
                    return null;
                }
                case Welcome x -> {
                    assertTrue(m.isMessage() && m.data().length >= 8 && Wire.type(buffer(m.data())) == Wire.WELCOME,
                            "expected WELCOME, got " + describe(m));
                    Wire.Welcome welcome = Wire.decodeWelcome(buffer(m.data()));
                    assertEquals(1, m.fds().length, "WELCOME carries the data region");
                    assertEquals(x.target().kind(), welcome.kind(), "ring kind of '" + x.target().name() + "'");
                    int dataFd = m.fds()[0];
                    assertEquals(welcome.dataRegionSize(), FdCalls.fstat(dataFd).size(), "the data region's size is WELCOME's");
                    boolean mpmc = welcome.kind() == RingKind.MPMC;
                    boolean monitor = x.role() == Role.MONITOR; // a tap: no position region, no id, read-only
                    assertEquals(mpmc || monitor ? 0 : POSITION_SIZE, welcome.positionRegionSize(), "position region size");
                    if (mpmc && !monitor) {
                        assertTrue(welcome.participantId() >= 1 && welcome.participantId() <= MPMC_PARTICIPANTS, welcome.toString());
                    } else { // a consumer's (or monitor's) fd is opened read-only: it can add no seal and write nothing
                        assertEquals(FdCalls.O_RDONLY, FdCalls.fcntl(dataFd, FdCalls.F_GETFL, 0) & FdCalls.O_ACCMODE, "consumer's data fd access mode");
                    }
                    outcome.append(" WELCOME");
                    Welcomed next = new Welcomed(x.target(), x.role(), welcome, dataFd);
                    if (mpmc || monitor) { // READY follows WELCOME directly
                        expect(c, new Ready(false), next, outcome);
                    }
                    return next;
                }
                case Ready rd -> {
                    assertTrue(m.isMessage() && m.data().length >= 8, "expected READY, got " + describe(m));
                    int type = Wire.type(buffer(m.data()));
                    if (type == Wire.REFUSE && rd.orBadRegion()) {
                        expect(c, new Refuse(RefusalReason.BAD_REGION), w, outcome, m);
                        return null;
                    }
                    assertEquals(Wire.READY, type, "expected READY, got " + describe(m));
                    assertEquals(0, m.fds().length, "READY carries no fd");
                    long registration = Wire.decodeReady(buffer(m.data()));
                    if (w.target().kind() == RingKind.BROADCAST_BACKPRESSURE && w.role() != Role.MONITOR) {
                        assertTrue(registration > 0, "a back-pressure consumer gets a registration: " + registration);
                    } else {
                        assertEquals(0, registration, "registration of a " + w.target().kind() + " " + w.role());
                    }
                    outcome.append(" READY");
                    return w;
                }
            }
        } finally {
            if (!(e instanceof Welcome)) {
                m.closeFds(); // nothing but WELCOME may carry an fd; a stray one fails below anyway
            }
        }
    }

    /** {@link #expect} for a message already read. */
    private void expect(RawClient c, Refuse r, Welcomed w, StringBuilder outcome, RawClient.Received m) {
        Wire.Refuse refuse = decodeReason(m, Wire.REFUSE, "REFUSE " + r.reasons());
        assertTrue(r.reasons().contains(refuse.reason()), "expected REFUSE " + r.reasons() + ", got " + refuse.reason()
                + ": " + refuse.text());
        outcome.append(" REFUSE(").append(refuse.reason()).append(')');
        expectEof(c, outcome);
    }

    private static Wire.Refuse decodeReason(RawClient.Received m, int type, String expected) {
        assertTrue(m.isMessage() && m.data().length >= 8 && Wire.type(buffer(m.data())) == type,
                "expected " + expected + ", got " + describe(m));
        assertEquals(0, m.fds().length, "REFUSE and DETACH carry no fd");
        Wire.Refuse r = type == Wire.REFUSE ? Wire.decodeRefuse(buffer(m.data()))
                : Wire.decodeDetach(buffer(m.data())); // checks the length and that the text is UTF-8
        assertTrue(r.reason() != null, "reason code " + r.rawCode() + " is not a documented one");
        assertTrue(!Adversarial.hasControlCharacters(r.text()), "the text has control characters: "
                + io.sluice.api.UntrustedText.escape(r.text()));
        assertTrue(!r.text().isEmpty(), "the text says why");
        return r;
    }

    private static void expectEof(RawClient c, StringBuilder outcome) {
        RawClient.Received m = c.receive(REPLY);
        m.closeFds();
        assertTrue(m.eof(), "after REFUSE/DETACH the host closes; got " + describe(m));
    }

    private static String describe(RawClient.Received m) {
        if (!m.isMessage()) {
            return m.toString();
        }
        String type = m.data().length >= 8 ? "type " + Wire.type(buffer(m.data())) : "short";
        String text = "";
        if (m.data().length >= 12) {
            try {
                Wire.Refuse r = Wire.decodeRefuse(buffer(m.data()));
                text = " " + r.reason() + ": " + r.text();
            } catch (RuntimeException ignored) {
                try {
                    Wire.Refuse r = Wire.decodeDetach(buffer(m.data()));
                    text = " DETACH " + r.reason() + ": " + r.text();
                } catch (RuntimeException alsoIgnored) {
                    // not a reason message
                }
            }
        }
        return m + " (" + type + text + ")";
    }

    private static ByteBuffer buffer(byte[] data) {
        return ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
    }

    // ---- the oracle, from docs/protocol.md ----

    private static int u16(byte[] d, int off) {
        return (d[off] & 0xff) | (d[off + 1] & 0xff) << 8;
    }

    private static int i32(byte[] d, int off) {
        return u16(d, off) | u16(d, off + 2) << 16;
    }

    private static long i64(byte[] d, int off) {
        return (i32(d, off) & 0xffffffffL) | (long) i32(d, off + 4) << 32;
    }

    private Expect oracle(State state, Packet p, Welcomed w) {
        byte[] d = p.data();
        int nfds = p.fds().count();
        if (d.length == 0 && nfds == 0) {
            return new Closed(); // a zero-length packet reads as end of stream: the host closes
        }
        if (state == State.ATTACHED) {
            return new Detach(RefusalReason.MALFORMED); // nothing may follow READY
        }
        int maxFds = state == State.POSITION ? 1 : 0;
        if (d.length > Wire.MAX_MESSAGE_BYTES || nfds > maxFds || d.length < 8
                || i32(d, 0) != Wire.MAGIC) {
            return new Refuse(RefusalReason.MALFORMED);
        }
        int version = u16(d, 4);
        int type = u16(d, 6);
        if (state == State.POSITION) {
            if (version != 1) {
                return new Refuse(RefusalReason.MALFORMED, RefusalReason.VERSION_MISMATCH);
            }
            if (type != Wire.POSITION || d.length != Wire.POSITION_LENGTH
                    || i64(d, 8) != POSITION_SIZE || nfds != 1) {
                return new Refuse(RefusalReason.MALFORMED);
            }
            return switch (p.fds()) {
                case HONEST -> new Ready(false);
                case HONEST_MUTATED -> new Ready(true);
                default -> new Refuse(RefusalReason.BAD_REGION); // one fd, not the region promised
            };
        }
        if (type != Wire.HELLO) {
            return version != 1 ? new Refuse(RefusalReason.MALFORMED, RefusalReason.VERSION_MISMATCH)
                    : new Refuse(RefusalReason.MALFORMED);
        }
        if (version != 1) {
            // "answers REFUSE(VERSION_MISMATCH) and does not interpret the rest"; a packet too
            // short to be any HELLO may also be called malformed
            return d.length < 16 ? new Refuse(RefusalReason.VERSION_MISMATCH, RefusalReason.MALFORMED)
                    : new Refuse(RefusalReason.VERSION_MISMATCH);
        }
        if (d.length < 16) {
            return new Refuse(RefusalReason.MALFORMED);
        }
        int roleCode = u16(d, 8);
        int n = u16(d, 10);
        int flags = i32(d, 12);
        if (flags != 0 || n < 1 || n > 128 || d.length != 16 + n || roleCode < 1 || roleCode > 4) {
            return new Refuse(RefusalReason.MALFORMED);
        }
        byte[] name = Arrays.copyOfRange(d, 16, d.length);
        for (byte b : name) {
            if (b < 0x21 || b > 0x7e || b == '/') {
                // outside the channel-name rule: malformed; a well-formed UTF-8 name could also
                // just be unknown (no channel can have it)
                return isUtf8(name) ? new Refuse(RefusalReason.MALFORMED, RefusalReason.UNKNOWN_CHANNEL)
                        : new Refuse(RefusalReason.MALFORMED);
            }
        }
        Target t = targets.get(new String(name, StandardCharsets.US_ASCII));
        if (t == null) {
            return new Refuse(RefusalReason.UNKNOWN_CHANNEL);
        }
        if (t.locked()) {
            return new Refuse(RefusalReason.ACCESS_DENIED);
        }
        Role role = Role.fromCode(roleCode);
        if (t.kind() != RingKind.MPMC && role != Role.CONSUMER && role != Role.MONITOR) {
            return new Refuse(RefusalReason.ROLE_NOT_ALLOWED);
        }
        return new Welcome(t, role);
    }

    private static boolean isUtf8(byte[] b) {
        try {
            StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(b));
            return true;
        } catch (java.nio.charset.CharacterCodingException e) {
            return false;
        }
    }

    // ---- packets ----

    private static byte[] header(int version, int type, int length) {
        ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, Wire.MAGIC).putShort(4, (short) version).putShort(6, (short) type);
        return b.array();
    }

    private static byte[] hello(int version, int role, byte[] name, int flags) {
        byte[] m = header(version, Wire.HELLO, 16 + name.length);
        ByteBuffer b = ByteBuffer.wrap(m).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort(8, (short) role).putShort(10, (short) name.length).putInt(12, flags);
        System.arraycopy(name, 0, m, 16, name.length);
        return m;
    }

    private Target anyTarget() {
        List<Target> all = List.copyOf(targets.values());
        return all.get(rnd.nextInt(all.size()));
    }

    /** A role the target takes (MPMC: any; others: consumer), now and then a monitor (a tap). */
    private Role fittingRole(Target t) {
        if (rnd.nextInt(8) == 0) {
            return Role.MONITOR;
        }
        return t.kind() == RingKind.MPMC ? Role.values()[rnd.nextInt(3)] : Role.CONSUMER;
    }

    private int anyRoleCode() {
        return 1 + rnd.nextInt(4);
    }

    private byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        rnd.nextBytes(b);
        return b;
    }

    private static final String[] ODD_NAMES = {"", " ", "orders ", " orders", "or/ders", "/orders", "orders\n", "orders\0",
            "\u001b[31morders", "ord\u007fers", "ordérs", "заказы", "\u202eorders", "orders\u200b", "📈", "..", ".", "*",
            "ORDERS", "order", "orders.", "work\r\nINFO forged log line", "\\x41", "%s%s%n"};

    /** A channel name's bytes: hosted, near-miss, random in the rule, or outside it (control, space, '/', non-ASCII, invalid UTF-8). */
    /** A name for a HELLO; never the host's status channel {@code *}, whose answers HostStatusTest covers. */
    private byte[] nameBytes() {
        byte[] b = anyNameBytes();
        return b.length == 1 && b[0] == '*' ? new byte[] {'*', '*'} : b;
    }

    private byte[] anyNameBytes() {
        int k = rnd.nextInt(10);
        if (k < 4) {
            return anyTarget().name().getBytes(StandardCharsets.US_ASCII);
        }
        if (k < 6) {
            return ODD_NAMES[rnd.nextInt(ODD_NAMES.length)].getBytes(StandardCharsets.UTF_8);
        }
        if (k < 8) { // random name inside the rule, sometimes at the length limits
            int n = rnd.nextInt(4) == 0 ? 127 + rnd.nextInt(3) : 1 + rnd.nextInt(20);
            byte[] b = new byte[n];
            for (int i = 0; i < n; i++) {
                int c;
                do {
                    c = 0x21 + rnd.nextInt(0x7e - 0x21 + 1);
                } while (c == '/');
                b[i] = (byte) c;
            }
            return b;
        }
        if (k < 9) { // a hosted name with one byte changed to anything
            byte[] b = anyTarget().name().getBytes(StandardCharsets.US_ASCII);
            b[rnd.nextInt(b.length)] = (byte) rnd.nextInt(256);
            return b;
        }
        return randomBytes(rnd.nextInt(140)); // anything, invalid UTF-8 likely
    }

    /** One to three random changes to a message: bit flips, truncation, extension, fields set to odd values. */
    private byte[] mutate(byte[] m, boolean position) {
        byte[] d = m.clone();
        int count = 1 + rnd.nextInt(3);
        for (int i = 0; i < count; i++) {
            ByteBuffer b = ByteBuffer.wrap(d).order(ByteOrder.LITTLE_ENDIAN);
            switch (rnd.nextInt(11)) {
                case 0 -> { // bit flip
                    if (d.length > 0) {
                        d[rnd.nextInt(d.length)] ^= (byte) (1 << rnd.nextInt(8));
                    }
                }
                case 1 -> d = Arrays.copyOf(d, rnd.nextInt(d.length + 1)); // truncation (possibly to nothing)
                case 2 -> { // extension
                    byte[] more = randomBytes(1 + rnd.nextInt(rnd.nextInt(8) == 0 ? 1100 : 32));
                    byte[] e = Arrays.copyOf(d, d.length + more.length);
                    System.arraycopy(more, 0, e, d.length, more.length);
                    d = e;
                }
                case 3 -> { // declared lengths
                    if (position && d.length >= 16) {
                        long[] sizes = {0, POSITION_SIZE - 1, POSITION_SIZE + 1, POSITION_SIZE * 2L, 1L << 40, Long.MAX_VALUE, -1, rnd.nextLong()};
                        b.putLong(8, sizes[rnd.nextInt(sizes.length)]);
                    } else if (d.length >= 12) {
                        int[] lengths = {0, 1, 127, 128, 129, 255, 256, 1024, 65535, Math.max(0, d.length - 17), d.length - 15, rnd.nextInt(65536)};
                        b.putShort(10, (short) lengths[rnd.nextInt(lengths.length)]);
                    }
                }
                case 4 -> { // version
                    if (d.length >= 6) {
                        int[] versions = {0, 2, 3, 255, 256, 65535, rnd.nextInt(65536)};
                        b.putShort(4, (short) versions[rnd.nextInt(versions.length)]);
                    }
                }
                case 5 -> { // type
                    if (d.length >= 8) {
                        int[] types = {0, 1, 2, 3, 4, 5, 6, 7, 255, 65535};
                        b.putShort(6, (short) types[rnd.nextInt(types.length)]);
                    }
                }
                case 6 -> { // role
                    if (d.length >= 10) {
                        int[] roles = {0, 1, 2, 3, 4, 5, 255, 65535, rnd.nextInt(65536)};
                        b.putShort(8, (short) roles[rnd.nextInt(roles.length)]);
                    }
                }
                case 7 -> { // reserved flags
                    if (d.length >= 16) {
                        int[] flags = {1, 2, 0x80000000, -1, rnd.nextInt()};
                        b.putInt(12, flags[rnd.nextInt(flags.length)]);
                    }
                }
                case 8 -> { // magic
                    if (d.length >= 4) {
                        int[] magics = {0, Integer.reverseBytes(Wire.MAGIC), Wire.MAGIC + 1, rnd.nextInt()};
                        b.putInt(0, magics[rnd.nextInt(magics.length)]);
                    }
                }
                case 9 -> { // a byte to anything
                    if (d.length > 0) {
                        d[rnd.nextInt(d.length)] = (byte) rnd.nextInt(256);
                    }
                }
                default -> { // undo: a mutation that leaves the message valid is a case too
                    d = m.clone();
                }
            }
        }
        return d;
    }

    /** A message of another type, well-formed (WELCOME, REFUSE, POSITION, READY, DETACH) or of an unknown type. */
    private Packet otherMessage() {
        return switch (rnd.nextInt(7)) {
            case 0 -> new Packet(Wire.welcome(new Wire.Welcome(RingKind.SPSC, 0, 4224, POSITION_SIZE, 100, 0, 0)),
                    FdKind.NONE, "WELCOME from the client");
            case 1 -> new Packet(Wire.refuse(RefusalReason.values()[rnd.nextInt(RefusalReason.values().length)], "no thanks"),
                    FdKind.NONE, "REFUSE from the client");
            case 2 -> new Packet(Wire.position(POSITION_SIZE), FdKind.NONE, "POSITION");
            case 3 -> new Packet(Wire.ready(rnd.nextLong()), FdKind.NONE, "READY from the client");
            case 4 -> new Packet(Wire.detach(RefusalReason.values()[rnd.nextInt(RefusalReason.values().length)], "bye"),
                    FdKind.NONE, "DETACH from the client");
            case 5 -> new Packet(header(1, new int[] {0, 7, 8, 255, 65535}[rnd.nextInt(5)], 8 + rnd.nextInt(40)), FdKind.NONE,
                    "message of an unknown type");
            default -> new Packet(Wire.position(POSITION_SIZE), FdKind.PIPE, "POSITION + a pipe");
        };
    }

    private FdKind strayFds() {
        FdKind[] kinds = {FdKind.PIPE, FdKind.PIPE_WRITE, FdKind.FILE, FdKind.SOCKET, FdKind.UNSEALED, FdKind.SMALL,
                FdKind.NO_FUTURE_WRITE, FdKind.ZEROED, FdKind.ALL_SEALS_ZEROED, FdKind.TWO, FdKind.MANY};
        return kinds[rnd.nextInt(kinds.length)];
    }

    /**
     * The next packet for {@code state}. {@code blind}: sent before the host's answer to the
     * previous one was read, so it cannot use what a WELCOME says (no honest region).
     */
    private Packet packetFor(State state, Welcomed w, MemfdRegion[] owned, boolean blind) {
        if (state == State.POSITION) {
            return positionPacket(w, owned, blind);
        }
        // HELLO, and anything sent after READY (every one of them a violation)
        int k = rnd.nextInt(100);
        Target t = anyTarget();
        if (k < 14) {
            return new Packet(hello(1, fittingRole(t).code(), t.name().getBytes(StandardCharsets.US_ASCII), 0), FdKind.NONE,
                    "HELLO");
        }
        if (k < 40) {
            Target m = anyTarget();
            return new Packet(mutate(hello(1, rnd.nextInt(3) == 0 ? anyRoleCode() : fittingRole(m).code(),
                    m.name().getBytes(StandardCharsets.US_ASCII), 0), false), FdKind.NONE, "mutated HELLO");
        }
        if (k < 48) {
            return new Packet(hello(1, anyRoleCode(), nameBytes(), 0), FdKind.NONE, "HELLO with an odd name");
        }
        if (k < 53) {
            return new Packet(hello(1, anyRoleCode(), t.name().getBytes(StandardCharsets.US_ASCII), 0), FdKind.NONE,
                    "HELLO, any role");
        }
        if (k < 61) {
            byte[] junk = randomBytes(rnd.nextInt(80));
            if (junk.length >= 8 && rnd.nextBoolean()) {
                ByteBuffer.wrap(junk).order(ByteOrder.LITTLE_ENDIAN).putInt(0, Wire.MAGIC)
                        .putShort(4, (short) (rnd.nextInt(4) == 0 ? rnd.nextInt(65536) : 1)).putShort(6, (short) rnd.nextInt(8));
            }
            return new Packet(junk, FdKind.NONE, junk.length == 0 ? "zero-length packet" : "random bytes");
        }
        if (k < 70) {
            return otherMessage();
        }
        if (k < 74) {
            return new Packet(new byte[0], FdKind.NONE, "zero-length packet");
        }
        if (k < 78) { // longer than any message: a valid header, then anything
            byte[] big = randomBytes(Wire.MAX_MESSAGE_BYTES + 1 + rnd.nextInt(rnd.nextInt(16) == 0 ? 60_000 : 3_000));
            System.arraycopy(hello(1, 1, "orders".getBytes(StandardCharsets.US_ASCII), 0), 0, big, 0, 22);
            return new Packet(big, FdKind.NONE, "packet longer than any message");
        }
        if (k < 82) { // exactly at the limit
            byte[] edge = randomBytes(Wire.MAX_MESSAGE_BYTES);
            System.arraycopy(hello(1, 1, "orders".getBytes(StandardCharsets.US_ASCII), 0), 0, edge, 0, 22);
            return new Packet(edge, FdKind.NONE, "packet of exactly 1036 bytes");
        }
        if (k < 92) {
            return new Packet(hello(1, fittingRole(t).code(), t.name().getBytes(StandardCharsets.US_ASCII), 0), strayFds(),
                    "HELLO");
        }
        if (k < 96) {
            return new Packet(rnd.nextBoolean() ? new byte[0] : randomBytes(1 + rnd.nextInt(7)), strayFds(), "short packet");
        }
        return new Packet(hello(1, anyRoleCode(), t.name().getBytes(StandardCharsets.US_ASCII), rnd.nextInt(1, Integer.MAX_VALUE)),
                FdKind.NONE, "HELLO with reserved flags");
    }

    private Packet positionPacket(Welcomed w, MemfdRegion[] owned, boolean blind) {
        byte[] position = Wire.position(POSITION_SIZE);
        int k = rnd.nextInt(100);
        if (!blind) {
            if (k < 30) {
                return new Packet(position, FdKind.HONEST, "POSITION");
            }
            if (k < 38) {
                return new Packet(mutate(position, true), FdKind.HONEST, "mutated POSITION");
            }
            if (k < 46) {
                return new Packet(position, FdKind.HONEST_MUTATED, "POSITION of a region with a byte changed");
            }
            if (k < 50) {
                return new Packet(position, FdKind.DATA_REGION, "POSITION");
            }
            if (k < 53) {
                return new Packet(position, FdKind.HONEST_PLUS_PIPE, "POSITION");
            }
        }
        if (k < 75) {
            FdKind[] kinds = {FdKind.NONE, FdKind.PIPE, FdKind.PIPE_WRITE, FdKind.FILE, FdKind.SOCKET, FdKind.UNSEALED, FdKind.SMALL,
                    FdKind.NO_FUTURE_WRITE, FdKind.ZEROED, FdKind.ALL_SEALS_ZEROED, FdKind.TWO, FdKind.MANY};
            return new Packet(position, kinds[rnd.nextInt(kinds.length)], "POSITION");
        }
        if (k < 82) {
            return new Packet(mutate(position, true), rnd.nextBoolean() ? FdKind.PIPE : FdKind.ZEROED, "mutated POSITION");
        }
        if (k < 88) {
            Target t = anyTarget();
            return new Packet(hello(1, fittingRole(t).code(), t.name().getBytes(StandardCharsets.US_ASCII), 0),
                    rnd.nextBoolean() ? FdKind.NONE : FdKind.ZEROED, "second HELLO");
        }
        if (k < 94) {
            Packet o = otherMessage();
            return new Packet(o.data(), rnd.nextBoolean() ? FdKind.NONE : FdKind.PIPE, o.what());
        }
        if (k < 97) {
            return new Packet(new byte[0], rnd.nextBoolean() ? FdKind.NONE : FdKind.ZEROED, "zero-length packet");
        }
        return new Packet(randomBytes(Wire.MAX_MESSAGE_BYTES + 1 + rnd.nextInt(2_000)), FdKind.ZEROED,
                "packet longer than any message");
    }

    // ---- fds ----

    /** What fds a packet carries. */
    enum FdKind {
        NONE(0), PIPE(1), PIPE_WRITE(1), FILE(1), SOCKET(1), UNSEALED(1), SMALL(1), NO_FUTURE_WRITE(1), ZEROED(1),
        ALL_SEALS_ZEROED(1), TWO(2), MANY(-1), DATA_REGION(1), HONEST(1), HONEST_MUTATED(1), HONEST_PLUS_PIPE(2);

        private final int count;

        FdKind(int count) {
            this.count = count;
        }

        /** How many fds; MANY is 200 or more (decided when sent, but always more than one). */
        int count() {
            return this == MANY ? 200 : count;
        }

        @Override
        public String toString() {
            return name().toLowerCase().replace('_', '-');
        }
    }

    /**
     * The fds the fuzzer attaches: made once, sent many times (the kernel gives the host a new fd
     * per copy, which the host must close); the honest regions are made per case.
     */
    private final class Fixtures implements AutoCloseable {
        private final int[] pipe = FdCalls.pipe();
        private final int file;
        private final int socket = RawClient.unconnectedSocket();
        private final List<MemfdRegion> regions = new ArrayList<>();
        private final int unsealed;
        private final int small;
        private final int noFutureWrite;
        private final int zeroed;
        private final int allSealsZeroed;

        Fixtures(Path dir) throws Exception {
            Path f = dir.resolve("position-sized-file");
            Files.write(f, new byte[POSITION_SIZE]);
            file = FdCalls.open(f.toString(), FdCalls.O_RDWR | FdCalls.O_CLOEXEC, 0);
            unsealed = region("fuzz.unsealed", POSITION_SIZE);
            small = region("fuzz.small", 128, Seal.SHRINK, Seal.GROW, Seal.FUTURE_WRITE);
            noFutureWrite = region("fuzz.no-future-write", POSITION_SIZE, Seal.SHRINK, Seal.GROW);
            zeroed = region("fuzz.zeroed", POSITION_SIZE, Seal.SHRINK, Seal.GROW, Seal.FUTURE_WRITE);
            allSealsZeroed = region("fuzz.all-seals", POSITION_SIZE, Seal.SHRINK, Seal.GROW, Seal.WRITE, Seal.FUTURE_WRITE, Seal.SEAL);
        }

        private int region(String name, long size, Seal... seals) {
            MemfdRegion r = MemfdRegion.create(name, size);
            regions.add(r);
            if (seals.length > 0) {
                r.addSeals(EnumSet.copyOf(List.of(seals)));
            }
            return r.fd().acquire(); // held until close: the number stays ours
        }

        int[] fds(FdKind kind, Welcomed w, MemfdRegion[] owned) {
            return switch (kind) {
                case NONE -> new int[0];
                case PIPE -> new int[] {pipe[0]};
                case PIPE_WRITE -> new int[] {pipe[1]};
                case FILE -> new int[] {file};
                case SOCKET -> new int[] {socket};
                case UNSEALED -> new int[] {unsealed};
                case SMALL -> new int[] {small};
                case NO_FUTURE_WRITE -> new int[] {noFutureWrite};
                case ZEROED -> new int[] {zeroed};
                case ALL_SEALS_ZEROED -> new int[] {allSealsZeroed};
                case TWO -> new int[] {pipe[0], zeroed};
                case MANY -> {
                    int n = 200 + rnd.nextInt(SeqPacketSocket.MAX_FDS_PER_MESSAGE - 200 + 1);
                    int[] all = new int[n];
                    int[] pool = {pipe[0], pipe[1], file, socket, unsealed, zeroed};
                    for (int i = 0; i < n; i++) {
                        all[i] = pool[rnd.nextInt(pool.length)];
                    }
                    yield all;
                }
                case DATA_REGION -> new int[] {w.dataFd()};
                case HONEST -> new int[] {honestRegion(w, owned, false)};
                case HONEST_MUTATED -> new int[] {honestRegion(w, owned, true)};
                case HONEST_PLUS_PIPE -> new int[] {honestRegion(w, owned, false), pipe[0]};
            };
        }

        /** A position region made as an honest consumer makes it (optionally with one byte changed), sealed. */
        private int honestRegion(Welcomed w, MemfdRegion[] owned, boolean mutated) {
            MemfdRegion r = MemfdRegion.create("fuzz.consumer", POSITION_SIZE);
            owned[0] = r;
            MemorySegment view = r.mapReadWrite();
            if (w.welcome().kind() == RingKind.SPSC) {
                SpscRing.formatConsumerPosition(view, SPSC_CAPACITY);
                SpscConsumerPositionDescriptor.publishPosition(view, w.welcome().startPosition());
            } else { // broadcast: the real consumer's attach writes it, from the ring it maps
                int dup = FdCalls.fcntl(w.dataFd(), 1030 /* F_DUPFD_CLOEXEC */, 0);
                MemfdRegion data = MemfdRegion.adopt(OwnedFd.adopt(dup, "data region (dup)"), w.welcome().dataRegionSize(),
                        EnumSet.of(Seal.SHRINK, Seal.GROW, Seal.FUTURE_WRITE));
                owned[1] = data;
                BroadcastRing.attachConsumer(data.mapReadOnly(), view, rnd.nextBoolean() ? BroadcastStart.NEWEST : BroadcastStart.OLDEST, w.target().name());
            }
            if (mutated) {
                long at = rnd.nextInt(POSITION_SIZE);
                view.set(ValueLayout.JAVA_BYTE, at, (byte) (view.get(ValueLayout.JAVA_BYTE, at) ^ (1 << rnd.nextInt(8))));
            }
            r.addSeals(Seal.SHRINK, Seal.GROW, Seal.FUTURE_WRITE);
            return r.fd().numberForDiagnostics();
        }

        @Override
        public void close() {
            FdCalls.closeQuietly(pipe[0]);
            FdCalls.closeQuietly(pipe[1]);
            FdCalls.closeQuietly(file);
            FdCalls.closeQuietly(socket);
            for (MemfdRegion r : regions) {
                r.fd().release();
                r.close();
            }
        }
    }

    // ---- checkpoints ----

    /**
     * Every stalled connection got REFUSE(TIMEOUT); honest clients of every kind attach and get a
     * message through; and the host holds what it held at the start.
     */
    private void checkpoint(Adversarial.Resources base) {
        for (Stall s : stalls) {
            try (RawClient c = s.client()) {
                transcript = new StringBuilder(s.transcript());
                StringBuilder outcome = new StringBuilder(s.outcomeSoFar());
                expect(c, new Refuse(RefusalReason.TIMEOUT), null, outcome);
                outcomes.merge((outcome + " (client silent)").trim(), 1L, Long::sum);
            }
        }
        stalls.clear();
        honestAttachesWork();
        detached.clear();
        Adversarial.Resources now = Adversarial.awaitBaseline(base, SETTLE);
        assertEquals(base, now, "the host's resources did not return to the baseline (delta " + now.minus(base) + ")");
    }

    /**
     * An honest SPSC consumer, broadcast consumers of both policies and an MPMC participant each
     * attach and get a message through. The SPSC consumer reads two capacities' worth: a producer
     * switches to a new consumer's position region only at a capacity check, and only then may the
     * host unmap the regions of consumers that left before (the fuzzer's among them).
     */
    private void honestAttachesWork() {
        List<io.sluice.channel.Attachment> mine = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment msg = arena.allocate(200);
            HostedSpscChannel spsc = (HostedSpscChannel) host.channel("orders");
            try (var c = Channels.spsc(socket, "orders", REPLY)) {
                mine.addAll(spsc.attachments());
                for (int i = 0; i < 2 * SPSC_CAPACITY / 200 + 2; i++) {
                    long seq = ++honestSeq;
                    msg.set(ValueLayout.JAVA_LONG_UNALIGNED, 0, seq);
                    assertTrue(spsc.producer().offer(1, msg, 0, 200), "the SPSC producer has room (the consumer reads)");
                    assertEquals(seq, receiveOne(c::poll), "SPSC message " + i);
                }
            }
            for (String name : List.of("quotes.bp", "quotes.ow")) {
                HostedBroadcastChannel ch = (HostedBroadcastChannel) host.channel(name);
                try (var c = Channels.broadcast(socket, name, BroadcastStart.NEWEST, REPLY)) {
                    mine.addAll(ch.attachments());
                    long seq = ++honestSeq;
                    msg.set(ValueLayout.JAVA_LONG_UNALIGNED, 0, seq);
                    assertTrue(ch.producer().offer(1, msg, 0, 64), name + ": the producer has room");
                    assertEquals(seq, receiveUntil(c::poll, seq), name + ": the honest consumer got the message");
                }
            }
            try (MpmcAttachment p = Channels.mpmc(socket, "work", Role.PARTICIPANT, REPLY)) {
                mine.addAll(host.channel("work").attachments());
                long seq = ++honestSeq;
                msg.set(ValueLayout.JAVA_LONG_UNALIGNED, 0, seq);
                assertTrue(p.offer(1, msg, 0, 8), "the MPMC participant has room");
                assertEquals(seq, receiveOne(p::poll), "MPMC message");
            }
        }
        assertEquals(4, mine.size(), "one host-side attachment per honest client: " + mine);
        // The host sees each honest client's end of stream on its own thread: wait until it has
        // released each (bounded), and that nothing else is attached.
        long deadline = System.nanoTime() + SETTLE.toNanos();
        while (!detached.containsAll(mine)) {
            assertTrue(System.nanoTime() < deadline, "the host did not release " + mine + " within " + SETTLE);
            Thread.onSpinWait();
        }
        for (String name : targets.keySet()) {
            assertEquals(List.of(), host.channel(name).attachments(), "'" + name + "' has attachments left");
        }
    }

    private interface Poll {
        int poll(io.sluice.api.MessageHandler handler, int limit);
    }

    /** Polls (bounded) until one message comes; returns the long at its start. */
    private static long receiveOne(Poll poll) {
        long[] got = {Long.MIN_VALUE};
        long deadline = System.nanoTime() + REPLY.toNanos();
        while (poll.poll((type, payload) -> got[0] = payload.get(ValueLayout.JAVA_LONG_UNALIGNED, 0), 1) == 0) {
            assertTrue(System.nanoTime() < deadline, "no message within " + REPLY);
            Thread.onSpinWait();
        }
        return got[0];
    }

    /** Polls (bounded) until the message starting with {@code seq} comes (a NEWEST consumer may see one older first). */
    private static long receiveUntil(Poll poll, long seq) {
        long[] got = {Long.MIN_VALUE};
        long deadline = System.nanoTime() + REPLY.toNanos();
        while (got[0] != seq) {
            if (poll.poll((type, payload) -> got[0] = payload.get(ValueLayout.JAVA_LONG_UNALIGNED, 0), 1) == 0) {
                assertTrue(System.nanoTime() < deadline, "message " + seq + " did not come within " + REPLY + "; last " + got[0]);
                Thread.onSpinWait();
            }
        }
        return got[0];
    }
}
