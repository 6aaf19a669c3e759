package io.sluice.channel;

import io.sluice.api.BroadcastPolicy;
import io.sluice.api.ConnectionClosedException;
import io.sluice.api.MessageHandler;
import io.sluice.api.MessageProducer;
import io.sluice.api.RingKind;
import io.sluice.api.Role;
import io.sluice.ringbuffer.BroadcastConsumer;
import io.sluice.ringbuffer.BroadcastProducer;
import io.sluice.ringbuffer.BroadcastStart;
import io.sluice.ringbuffer.SpscConsumer;
import io.sluice.ringbuffer.SpscProducer;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.locks.LockSupport;

import static io.sluice.channel.ChaosJournal.*;
import static io.sluice.channel.ChaosRig.pause;
import static io.sluice.channel.NativeTestMessages.digest;
import static io.sluice.channel.NativeTestMessages.fill;
import static io.sluice.channel.NativeTestMessages.length;
import static io.sluice.channel.NativeTestMessages.mix;
import static io.sluice.channel.NativeTestMessages.type;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * The Java process of {@link ChaosTest}: the same modes as the C peer ({@code native/test/chaos_peer.c}),
 * journaling what it delivers and commits in a {@link ChaosJournal}, plus a host that the test
 * kills. Started as {@code standby}, it loads its classes, prints {@code STANDBY} and then runs one
 * command per line of stdin ({@code ID MODE ARGS...}), prefixing every line it prints with
 * {@code ID}, and {@code ID FINISHED} when the command returns: the test keeps JVMs warm ahead of
 * the rounds that kill them, and reuses the ones it never kills.
 *
 * <pre>
 * spsc      JOURNAL SOCK CHAN SEED MAXLEN LIMIT BLOCK           BLOCK 1: pollBlocking (futex) while empty
 * bcast     JOURNAL SOCK CHAN SEED MAXLEN LIMIT newest|oldest STALL_EVERY
 * mpmc      JOURNAL SOCK CHAN SEED MAXLEN ROLE TAG LIMIT PACE     (ROLE 1 consumer, 2 producer, 3 both)
 * spsc-host JOURNAL SOCK CHAN SEED MAXLEN CAPACITY PACE           host an SPSC channel (it wakes parked
 *                                                                  consumers) and produce into it until
 *                                                                  killed: "HOSTING"
 * bcast-host JOURNAL SOCK CHAN SEED MAXLEN CAPACITY KIND PACE     the same with a broadcast channel of KIND
 *                                                                  (BROADCAST_BACKPRESSURE|_OVERWRITE)
 * </pre>
 */
public final class ChaosPeer {
    static final int STOP_TYPE = 1000;

    private String prefix = "";
    private ChaosJournal journal;

    public static void main(String[] args) throws Exception {
        if (args.length == 1 && args[0].equals("standby")) {
            standby();
        } else {
            new ChaosPeer().run(args);
        }
    }

    private static void standby() throws Exception {
        // Load what the commands use now, while the test is busy with other rounds.
        for (Class<?> c : new Class<?>[] {Channels.class, ConsumerAttachment.class, MpmcAttachment.class, AttachSession.class,
                Handshake.class, SpscConsumer.class, BroadcastConsumer.class, ChannelHost.class, HostedSpscChannel.class,
                ChaosJournal.class, NativeTestMessages.class, ConnectionClosedException.class}) {
            Class.forName(c.getName(), true, ChaosPeer.class.getClassLoader());
        }
        MemorySegment warm = Arena.ofAuto().allocate(512, 8);
        for (long seq = 0; seq < 20_000; seq++) { // the message generator, compiled before the first round
            long mix = mix(seq, 1, seq);
            fill(warm, 0, mix, 1, seq, length(mix, 496));
            digest(type(mix), warm, 0, length(mix, 496));
        }
        System.out.println("STANDBY");
        System.out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            String[] words = line.trim().split(" ");
            ChaosPeer peer = new ChaosPeer();
            peer.prefix = words[0] + " ";
            peer.run(Arrays.copyOfRange(words, 1, words.length));
            peer.say("FINISHED");
        }
    }

    private void run(String[] args) {
        try {
            journal = ChaosJournal.open(Path.of(args[1]));
            Path socket = Path.of(args[2]);
            String channel = args[3];
            long seed = Long.parseLong(args[4]);
            int maxLength = Integer.parseInt(args[5]);
            switch (args[0]) {
                case "spsc" -> spsc(socket, channel, new Verifier(seed, maxLength), Integer.parseInt(args[6]),
                        args[7].equals("1"));
                case "bcast" -> bcast(socket, channel, new Verifier(seed, maxLength), Integer.parseInt(args[6]),
                        args[7].equals("oldest") ? BroadcastStart.OLDEST : BroadcastStart.NEWEST, Long.parseLong(args[8]));
                case "mpmc" -> mpmc(socket, channel, new Verifier(seed, maxLength), Role.fromCode(Integer.parseInt(args[6])),
                        Long.parseLong(args[7]), Integer.parseInt(args[8]), Long.parseLong(args[9]));
                case "spsc-host" -> spscHost(socket, channel, seed, maxLength, Long.parseLong(args[6]), Long.parseLong(args[7]));
                case "bcast-host" -> bcastHost(socket, channel, seed, maxLength, Long.parseLong(args[6]),
                        RingKind.valueOf(args[7]), Long.parseLong(args[8]));
                default -> throw new IllegalArgumentException("unknown mode " + args[0]);
            }
        } catch (Throwable t) {
            if (journal != null) {
                journal.set(ERROR, 6);
            }
            say("FAILED " + t);
            t.printStackTrace(System.out);
            System.out.flush();
            System.exit(6);
        } finally {
            if (journal != null) {
                journal.close();
            }
        }
    }

    private void say(String line) {
        System.out.println(prefix + line);
        System.out.flush();
    }

    /** Holds inside a handler until the process is killed. */
    private void hold() {
        journal.set(HOLDING, 1);
        say("HOLDING");
        while (true) {
            LockSupport.park();
        }
    }

    private void bad(String what) {
        journal.set(ERROR, 4);
        say("BAD " + what);
        System.exit(4);
    }

    /** Checks messages against the generator of {@link NativeTestMessages} (the C side's testmsg.h). */
    private final class Verifier {
        final long seed;
        final int maxLength;
        final MemorySegment expected = Arena.ofAuto().allocate(4096, 8);

        Verifier(long seed, int maxLength) {
            this.seed = seed;
            this.maxLength = maxLength;
        }

        void check(int type, MemorySegment payload, long tag, long seq) {
            long mix = mix(seed, tag, seq);
            int length = length(mix, maxLength);
            if (type != type(mix) || payload.byteSize() != length) {
                bad("message " + seq + " of producer " + tag + ": type " + type + ", length " + payload.byteSize()
                        + " where the generator says " + type(mix) + ", " + length);
            }
            fill(expected, 0, mix, tag, seq, length);
            if (payload.mismatch(expected.asSlice(0, length)) >= 0) {
                bad("message " + seq + " of producer " + tag + ": its bytes differ from the generator's");
            }
        }
    }

    private void spsc(Path socket, String channel, Verifier v, int limit, boolean block) {
        journal.set(ATTACH, 1);
        try (ConsumerAttachment<SpscConsumer> a = Channels.spsc(socket, channel)) {
            journal.set(ATTACH, 2);
            say("ATTACHED");
            long[] next = {-1};
            MessageHandler handler = (type, payload) -> {
                long seq = payload.get(JAVA_LONG_UNALIGNED, 0);
                if (next[0] >= 0 && seq != next[0]) {
                    bad("sequence: message " + seq + " where " + next[0] + " was due");
                }
                v.check(type, payload, 0, seq);
                next[0] = seq + 1;
                journal.append(seq, 0);
                if (journal.get(COMMAND) == HOLD) {
                    hold(); // mid-batch: read, not published
                }
            };
            int idle = 0;
            while (true) {
                int n;
                try {
                    n = block ? a.pollBlocking(handler, limit, Duration.ofMillis(50)) : a.poll(handler, limit);
                } catch (ConnectionClosedException e) { // drained: everything the host committed was delivered
                    say("HOSTGONE " + journal.delivered());
                    return;
                }
                if (n > 0) {
                    journal.set(PUBLISHED, journal.delivered()); // poll returned: the batch's position is published
                    idle = 0;
                } else {
                    pause(++idle);
                }
            }
        }
    }

    private void bcast(Path socket, String channel, Verifier v, int limit, BroadcastStart start, long stallEvery) {
        journal.set(ATTACH, 1);
        try (ConsumerAttachment<BroadcastConsumer> a = Channels.broadcast(socket, channel, start)) {
            journal.set(ATTACH, 2);
            say("ATTACHED");
            BroadcastConsumer c = a.consumer();
            MemorySegment copy = Arena.ofAuto().allocate(c.maxMessageLength() + 8L, 8);
            long[] handled = {0};
            MessageHandler handler = (type, payload) -> {
                handled[0]++;
                long length = payload.byteSize();
                MemorySegment.copy(payload, 0, copy, 0, length);
                if (stallEvery > 0 && handled[0] % stallEvery == 0) {
                    LockSupport.parkNanos(2_000_000); // a load pattern, not a wait: lets the producer lap us
                }
                boolean valid = c.isStillValid();
                long seq = c.sequence();
                if (valid) {
                    long inPayload = copy.get(JAVA_LONG_UNALIGNED, 0);
                    if (inPayload != seq) {
                        bad("message " + seq + " carries sequence " + inPayload + " in its payload");
                    }
                    v.check(type, copy.asSlice(0, length), 0, seq);
                }
                journal.append(seq | (valid ? 0 : TORN), c.lapCount() << 40 | c.lostMessages());
                if (journal.get(COMMAND) == HOLD) {
                    hold(); // never publishes its position again
                }
            };
            boolean gated = false;
            int idle = 0;
            while (true) {
                int n;
                try {
                    n = a.poll(handler, limit);
                } catch (ConnectionClosedException e) {
                    say("HOSTGONE " + journal.delivered());
                    return;
                }
                if (!gated && c.isGated()) {
                    say("GATED");
                    gated = true;
                }
                if (n > 0) {
                    journal.set(PUBLISHED, journal.delivered()); // poll returned: its position is published
                    idle = 0;
                } else {
                    pause(++idle);
                }
            }
        }
    }

    private void mpmc(Path socket, String channel, Verifier v, Role role, long tag, int limit, long pace) {
        boolean producing = role != Role.CONSUMER;
        boolean consuming = role != Role.PRODUCER;
        journal.set(ATTACH, 1);
        try (MpmcAttachment a = Channels.mpmc(socket, channel, role)) {
            journal.set(ATTACH, 2);
            say("ATTACHED " + a.participantId());
            long[] last = new long[4096];
            Arrays.fill(last, -1);
            boolean[] stop = {false};
            MessageHandler handler = (type, payload) -> {
                if (type == STOP_TYPE) {
                    stop[0] = true;
                    return;
                }
                if (journal.get(COMMAND) == HOLD_TAKE) {
                    hold(); // killed holding the taken slot, before journaling: the documented loss
                }
                long seq = payload.get(JAVA_LONG_UNALIGNED, 0);
                long t = payload.get(JAVA_LONG_UNALIGNED, 8);
                if (t < 0 || t >= last.length) {
                    bad("tag " + t + " (message " + seq + ")");
                }
                if (seq <= last[(int) t]) {
                    bad("per-producer order: message " + seq + " of producer " + t + " after " + last[(int) t]);
                }
                v.check(type, payload, t, seq);
                last[(int) t] = seq;
                journal.append(mpmcEntry(t, seq), 0);
            };
            long seq = 0;
            started = System.nanoTime();
            int idle = 0;
            while (true) {
                boolean worked = false;
                if (producing) {
                    long command = journal.get(COMMAND);
                    if (command == FINISH) {
                        producing = false;
                        journal.set(FINISHED, 1);
                        say("PRODUCED " + seq);
                        if (!consuming) {
                            return;
                        }
                    } else if (pace == 0 || due(seq, pace)) {
                        long mix = mix(v.seed, tag, seq);
                        int length = length(mix, v.maxLength);
                        long at = a.tryClaim(type(mix), length);
                        if (at != MessageProducer.INSUFFICIENT_CAPACITY) {
                            if (command == HOLD) {
                                journal.set(HOLDING, seq + 1);
                                say("HOLDING");
                                while (true) {
                                    LockSupport.park(); // killed with the claim open
                                }
                            }
                            fill(a.buffer(), at, mix, tag, seq, length);
                            a.commit(at);
                            seq++;
                            journal.set(COMMITTED, seq);
                            worked = true;
                        }
                    }
                }
                if (consuming) {
                    int n;
                    try {
                        n = a.poll(handler, limit);
                    } catch (ConnectionClosedException e) {
                        say("HOSTGONE " + journal.delivered());
                        return;
                    }
                    worked |= n > 0;
                    if (stop[0]) {
                        journal.set(STOPPED, 1);
                        say("STOPPED " + journal.delivered());
                        return;
                    }
                }
                if (worked) {
                    idle = 0;
                } else {
                    if (!a.isHostAlive() && !consuming) {
                        say("HOSTGONE " + journal.delivered());
                        return;
                    }
                    pause(++idle);
                }
            }
        }
    }

    private long started; // when the producer started, moved on after a stop (see due)

    /** Whether message {@code seq} is due at {@code pace} per second; after a stop, no burst: at most 256 behind. */
    private boolean due(long seq, long pace) {
        long now = System.nanoTime();
        long due = pace * (now - started) / 1_000_000_000L;
        if (due > seq + 256) {
            started = now - (seq + 256) * 1_000_000_000L / pace;
        }
        return seq < due;
    }

    private void bcastHost(Path socket, String channel, long seed, int maxLength, long capacity, RingKind kind,
                           long pace) {
        try (ChannelHost host = ChannelHost.bind(socket)) {
            HostedBroadcastChannel ch = host.broadcast(channel, BroadcastOptions.of(BroadcastPolicy.of(kind), capacity)
                    .maxMessageLength(maxLength).maxConsumers(4));
            BroadcastProducer p = ch.producer();
            say("HOSTING");
            started = System.nanoTime();
            int spins = 0;
            for (long seq = 0; ; ) {
                if (pace > 0 && !due(seq, pace)) {
                    p.refreshConsumers(); // an idle producer adopts joiners here
                    pause(++spins);
                    continue;
                }
                long mix = mix(seed, 0, seq);
                long at = p.tryClaim(type(mix), length(mix, maxLength));
                if (at < 0) {
                    pause(++spins);
                    continue;
                }
                spins = 0;
                fill(p.buffer(), at, mix, 0, seq, length(mix, maxLength));
                p.commit(at);
                journal.set(COMMITTED, ++seq); // after the commit: a consumer may see one more than this
            }
        }
    }

    private void spscHost(Path socket, String channel, long seed, int maxLength, long capacity, long pace) {
        try (ChannelHost host = ChannelHost.bind(socket)) {
            HostedSpscChannel ch = host.spsc(channel, SpscOptions.of(capacity).wakeParkedConsumers(true));
            SpscProducer p = ch.producer();
            say("HOSTING");
            started = System.nanoTime();
            int spins = 0;
            for (long seq = 0; ; seq++) {
                while (pace > 0 && !due(seq, pace)) {
                    pause(++spins);
                }
                long mix = mix(seed, 0, seq);
                int type = type(mix);
                int length = length(mix, maxLength);
                long at;
                while ((at = p.tryClaim(type, length)) < 0) {
                    pause(++spins);
                }
                spins = 0;
                fill(p.buffer(), at, mix, 0, seq, length);
                p.commit(at);
                journal.set(COMMITTED, seq + 1); // after the commit: the consumer may see one more than this
            }
        }
    }
}
