package io.sluice.channel;

import io.sluice.api.AttachRefusedException;
import io.sluice.api.ConnectionClosedException;
import io.sluice.api.Role;
import io.sluice.ringbuffer.SpscConsumer;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * The other process of the channel tests. Prints one line per milestone on stdout; the test
 * waits for those lines. Messages carry their sequence number in their first 8 bytes.
 *
 * <pre>
 * spsc-consume SOCKET CHANNEL COUNT   consume COUNT messages, check order, print "DONE n sum"
 * spsc-hold SOCKET CHANNEL K          attach, print "ATTACHED", consume K messages, print "HELD K",
 *                                     then spin without consuming (to be killed)
 * spsc-drain SOCKET CHANNEL FIRST     consume from message FIRST until the host is gone: "HOSTGONE n last"
 * spsc-block SOCKET CHANNEL COUNT     consume COUNT messages with pollBlocking, printing "PARKING i"
 *                                     before each wait and "GOT i" after each message
 * refuse SOCKET CHANNEL ROLE          attach, expecting a refusal: "REFUSED reason: text"
 * bcast-consume SOCKET CHANNEL COUNT  consume COUNT broadcast messages from the oldest, in order: "DONE n sum"
 * bcast-hold SOCKET CHANNEL           attach, print "ATTACHED", never read (holds a back-pressured producer)
 * spsc-stop SOCKET CHANNEL K          attach, print "ATTACHED", consume K messages, print "HELD K", then
 *                                     stop polling (alive, blocked on stdin); on a line, poll until the
 *                                     host is gone: "DETACHED reason n" (n: messages read meanwhile)
 * bcast-stop SOCKET CHANNEL           attach, print "ATTACHED", never poll until a line on stdin, then
 *                                     poll until the host is gone: "DETACHED reason n"
 * bcast-lap SOCKET CHANNEL            attach, print "ATTACHED", wait for a line on stdin, read until
 *                                     the ring is empty: "LAPS laps lost"; then wait for stdin's end
 * mpmc-produce SOCKET CHANNEL TAG N   produce N messages (tag, seq): "PRODUCED n"
 * mpmc-consume SOCKET CHANNEL         consume until a STOP message: "CONSUMED tag:count:sum ..."
 * mpmc-claim-die SOCKET CHANNEL       claim a slot, never commit, print "CLAIMED", spin (to be killed)
 * bcast-block SOCKET CHANNEL COUNT    as spsc-block, a broadcast consumer from the oldest record
 * mpmc-block SOCKET CHANNEL COUNT     as spsc-block, an MPMC consumer (message: seq in the first 8 bytes)
 * KIND-sleep SOCKET CHANNEL           KIND spsc, bcast or mpmc: attach, print "PARKING", pollBlocking with a
 *                                     60 s timeout until the host is gone: "CLOSED ms" (ms asleep)
 * </pre>
 */
public final class ChannelPeer {
    public static void main(String[] args) throws Exception {
        Path socket = Path.of(args[1]);
        String channel = args[2];
        try {
            switch (args[0]) {
                case "spsc-consume" -> spscConsume(socket, channel, Long.parseLong(args[3]));
                case "spsc-crc" -> crc(Channels.spsc(socket, channel), Long.parseLong(args[3]));
                case "bcast-crc" -> crc(Channels.broadcast(socket, channel, io.sluice.ringbuffer.BroadcastStart.OLDEST),
                        Long.parseLong(args[3]));
                case "spsc-hold" -> spscHold(socket, channel, Long.parseLong(args[3]));
                case "spsc-block" -> {
                    try (ConsumerAttachment<SpscConsumer> a = Channels.spsc(socket, channel)) {
                        block(Long.parseLong(args[3]), a::pollBlocking);
                    }
                }
                case "spsc-drain" -> spscDrain(socket, channel, Long.parseLong(args[3]));
                case "refuse" -> refuse(socket, channel, Role.valueOf(args[3]));
                case "bcast-consume" -> bcastConsume(socket, channel, Long.parseLong(args[3]));
                case "bcast-hold" -> bcastHold(socket, channel);
                case "spsc-stop" -> stopThenDrain(Channels.spsc(socket, channel), Long.parseLong(args[3]));
                case "bcast-stop" -> stopThenDrain(Channels.broadcast(socket, channel,
                        io.sluice.ringbuffer.BroadcastStart.OLDEST), 0);
                case "bcast-lap" -> bcastLap(socket, channel);
                case "mpmc-produce" -> mpmcProduce(socket, channel, Integer.parseInt(args[3]), Long.parseLong(args[4]));
                case "mpmc-consume" -> mpmcConsume(socket, channel);
                case "mpmc-claim-die" -> mpmcClaimAndDie(socket, channel);
                case "bcast-block" -> {
                    try (var a = Channels.broadcast(socket, channel, io.sluice.ringbuffer.BroadcastStart.OLDEST)) {
                        block(Long.parseLong(args[3]), a::pollBlocking);
                    }
                }
                case "mpmc-block" -> {
                    try (var a = Channels.mpmc(socket, channel, Role.CONSUMER)) {
                        block(Long.parseLong(args[3]), a::pollBlocking);
                    }
                }
                case "spsc-sleep" -> {
                    try (var a = Channels.spsc(socket, channel)) {
                        sleepUntilClosed(a::pollBlocking);
                    }
                }
                case "bcast-sleep" -> {
                    try (var a = Channels.broadcast(socket, channel, io.sluice.ringbuffer.BroadcastStart.OLDEST)) {
                        sleepUntilClosed(a::pollBlocking);
                    }
                }
                case "mpmc-sleep" -> {
                    try (var a = Channels.mpmc(socket, channel, Role.CONSUMER)) {
                        sleepUntilClosed(a::pollBlocking);
                    }
                }
                default -> throw new IllegalArgumentException("unknown mode " + args[0]);
            }
        } catch (AttachRefusedException e) {
            System.out.println("REFUSED " + e.reason() + ": " + e.getMessage());
        }
        System.out.flush();
    }

    /** Checks that messages come in sequence, from the first expected one on. */
    static final class SequenceCheck {
        long next;
        long count;
        long sum;

        SequenceCheck(long first) {
            this.next = first;
        }

        void accept(int type, MemorySegment payload) {
            long seq = payload.get(JAVA_LONG_UNALIGNED, 0);
            if (seq != next) {
                throw new AssertionError("expected message " + next + ", got " + seq);
            }
            next++;
            count++;
            sum += seq * 31 + payload.byteSize();
        }
    }

    /** Any kind: "CRC n value", the CRC-32 of the first n payloads end to end. */
    private static void crc(ConsumerAttachment<?> a, long count) {
        try (a) {
            System.out.println("ATTACHED");
            System.out.flush();
            java.util.zip.CRC32 crc = new java.util.zip.CRC32();
            long[] seen = {0};
            while (seen[0] < count) {
                a.poll((type, payload) -> {
                    crc.update(payload.asByteBuffer());
                    seen[0]++;
                }, 1);
            }
            System.out.println("CRC " + seen[0] + " " + crc.getValue());
        }
    }

    private static void spscConsume(Path socket, String channel, long count) {
        try (ConsumerAttachment<SpscConsumer> a = Channels.spsc(socket, channel)) {
            System.out.println("ATTACHED");
            System.out.flush();
            SequenceCheck check = new SequenceCheck(0);
            while (check.count < count) {
                a.poll(check::accept, 256);
            }
            System.out.println("DONE " + check.count + " " + check.sum);
        }
    }

    private static void spscHold(Path socket, String channel, long k) {
        try (ConsumerAttachment<SpscConsumer> a = Channels.spsc(socket, channel)) {
            System.out.println("ATTACHED");
            System.out.flush();
            SequenceCheck check = new SequenceCheck(0);
            while (check.count < k) {
                a.poll(check::accept, 1);
            }
            System.out.println("HELD " + check.count);
            System.out.flush();
            while (true) {
                Thread.onSpinWait();
            }
        }
    }

    /** pollBlocking of any attachment. */
    interface BlockingPoll {
        int pollBlocking(io.sluice.api.MessageHandler handler, int limit, java.time.Duration timeout);
    }

    /** Any kind: "PARKING i" before each wait, "GOT i" after each message. */
    private static void block(long count, BlockingPoll a) {
        SequenceCheck check = new SequenceCheck(0);
        for (long i = 0; i < count; i++) {
            System.out.println("PARKING " + i);
            System.out.flush();
            while (a.pollBlocking(check::accept, 1, java.time.Duration.ofSeconds(60)) == 0) {
                // timed out: wait again (the test bounds the whole run)
            }
            System.out.println("GOT " + i);
            System.out.flush();
        }
    }

    /** Sleeps on an empty ring until the host closes the channel: "CLOSED ms", ms spent in the call that ended. */
    private static void sleepUntilClosed(BlockingPoll a) {
        System.out.println("PARKING");
        System.out.flush();
        long start = System.nanoTime();
        try {
            while (true) {
                start = System.nanoTime();
                int n = a.pollBlocking((type, payload) -> { }, 1, java.time.Duration.ofSeconds(60));
                System.out.println("UNEXPECTED " + n);
                System.out.flush();
            }
        } catch (ConnectionClosedException e) {
            System.out.println("CLOSED " + (System.nanoTime() - start) / 1_000_000);
        }
    }

    private static void spscDrain(Path socket, String channel, long first) {
        try (ConsumerAttachment<SpscConsumer> a = Channels.spsc(socket, channel)) {
            System.out.println("ATTACHED");
            System.out.flush();
            SequenceCheck check = new SequenceCheck(first);
            try {
                while (true) {
                    a.poll(check::accept, 256);
                }
            } catch (ConnectionClosedException e) {
                System.out.println("HOSTGONE " + check.count + " " + (check.next - 1));
            }
        }
    }

    private static void refuse(Path socket, String channel, Role role) {
        if (role == Role.CONSUMER) {
            try (var a = Channels.spsc(socket, channel)) {
                System.out.println("ATTACHED (not refused)");
            }
        } else {
            try (var a = Channels.mpmc(socket, channel, role)) {
                System.out.println("ATTACHED (not refused)");
            }
        }
    }

    private static void bcastConsume(Path socket, String channel, long count) {
        try (var a = Channels.broadcast(socket, channel, io.sluice.ringbuffer.BroadcastStart.OLDEST)) {
            System.out.println("ATTACHED");
            System.out.flush();
            SequenceCheck check = new SequenceCheck(0);
            while (check.count < count) {
                a.poll(check::accept, 256);
            }
            System.out.println("DONE " + check.count + " " + check.sum + " laps=" + a.consumer().lapCount());
        }
    }

    /** Reads K, then stops polling while staying alive; on a line from the test, drains until the host is gone. */
    private static void stopThenDrain(ConsumerAttachment<?> a, long k) throws java.io.IOException {
        try (a) {
            System.out.println("ATTACHED");
            System.out.flush();
            long[] read = {0};
            while (read[0] < k) {
                a.poll((type, payload) -> read[0]++, 1);
            }
            System.out.println("HELD " + read[0]);
            System.out.flush();
            new java.io.BufferedReader(new java.io.InputStreamReader(System.in)).readLine(); // blocked, not polling
            long after = 0;
            long deadline = System.nanoTime() + 30_000_000_000L;
            try {
                while (System.nanoTime() < deadline) {
                    after += a.poll((type, payload) -> { }, 256);
                }
                System.out.println("STILL ATTACHED " + after);
            } catch (ConnectionClosedException e) {
                System.out.println("DETACHED " + e.reason() + " " + after);
            }
        }
    }

    /** Lets the producer lap it, then reads once through: its lap count rises, and it publishes it. */
    private static void bcastLap(Path socket, String channel) throws java.io.IOException {
        try (var a = Channels.broadcast(socket, channel, io.sluice.ringbuffer.BroadcastStart.OLDEST)) {
            System.out.println("ATTACHED");
            System.out.flush();
            java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(System.in));
            in.readLine();
            long read = 0;
            int n;
            while ((n = a.poll((type, payload) -> { }, 256)) > 0 || read == 0) {
                read += n;
            }
            System.out.println("LAPS " + a.consumer().lapCount() + " " + a.consumer().lostMessages());
            System.out.flush();
            in.readLine(); // alive, its region mapped by the host, until the test is done
        }
    }

    private static void bcastHold(Path socket, String channel) {
        try (var a = Channels.broadcast(socket, channel, io.sluice.ringbuffer.BroadcastStart.OLDEST)) {
            System.out.println("ATTACHED");
            System.out.flush();
            while (true) {
                Thread.onSpinWait(); // never reads: its position holds the producer back
            }
        }
    }

    static final int DATA = 1;
    static final int STOP = 2;

    private static void mpmcProduce(Path socket, String channel, int tag, long n) {
        try (MpmcAttachment a = Channels.mpmc(socket, channel, Role.PRODUCER)) {
            System.out.println("ATTACHED " + a.participantId());
            System.out.flush();
            var p = a.producer();
            for (long seq = 0; seq < n; seq++) {
                long at;
                while ((at = p.tryClaim(DATA, 16)) < 0) {
                    Thread.onSpinWait();
                }
                p.buffer().set(JAVA_LONG_UNALIGNED, at, tag);
                p.buffer().set(JAVA_LONG_UNALIGNED, at + 8, seq);
                p.commit(at);
            }
            System.out.println("PRODUCED " + n);
        }
    }

    private static void mpmcConsume(Path socket, String channel) {
        try (MpmcAttachment a = Channels.mpmc(socket, channel, Role.CONSUMER)) {
            System.out.println("ATTACHED " + a.participantId());
            System.out.flush();
            java.util.Map<Long, long[]> perTag = new java.util.TreeMap<>(); // tag -> {count, sum, last seq}
            boolean[] stop = new boolean[1];
            while (!stop[0]) {
                a.consumer().poll((type, payload) -> {
                    if (type == STOP) {
                        stop[0] = true;
                        return;
                    }
                    long tag = payload.get(JAVA_LONG_UNALIGNED, 0);
                    long seq = payload.get(JAVA_LONG_UNALIGNED, 8);
                    long[] t = perTag.computeIfAbsent(tag, k -> new long[] {0, 0, -1});
                    if (seq <= t[2]) {
                        throw new AssertionError("producer " + tag + ": message " + seq + " after " + t[2]);
                    }
                    t[0]++;
                    t[1] += seq;
                    t[2] = seq;
                }, 1); // one at a time: stop right at STOP, leaving the rest to the other consumer
            }
            StringBuilder sb = new StringBuilder("CONSUMED");
            perTag.forEach((tag, t) -> sb.append(' ').append(tag).append(':').append(t[0]).append(':').append(t[1]));
            System.out.println(sb);
        }
    }

    private static void mpmcClaimAndDie(Path socket, String channel) {
        MpmcAttachment a = Channels.mpmc(socket, channel, Role.PRODUCER);
        long at = a.producer().tryClaim(DATA, 16);
        System.out.println(at >= 0 ? "CLAIMED " + a.participantId() : "FULL");
        System.out.flush();
        while (true) {
            Thread.onSpinWait(); // never commits: killed with the claim open
        }
    }
}
