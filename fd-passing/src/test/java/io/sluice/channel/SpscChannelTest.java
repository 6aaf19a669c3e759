package io.sluice.channel;

import io.sluice.api.AttachRefusedException;
import io.sluice.api.RefusalReason;
import io.sluice.testing.ChildJvm;
import io.sluice.ringbuffer.SpscProducer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** An SPSC channel hosted here, consumed by second JVMs. */
class SpscChannelTest {
    private static final long CAPACITY = 64 * 1024;
    private static final long TIMEOUT_S = 60;

    @TempDir
    Path dir;

    /** Offers message {@code seq} (its number in the first 8 bytes, {@code 8 + seq % 200} bytes long), spinning while full. */
    static void send(SpscProducer p, long seq, ChildJvm child) {
        int length = 8 + (int) (seq % 200);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_S);
        long at;
        while ((at = p.tryClaim(1, length)) < 0) {
            if (System.nanoTime() > deadline || (child != null && !child.isAlive())) {
                throw new AssertionError("ring stayed full at message " + seq + "; child output:\n"
                        + (child == null ? "" : child.output()));
            }
            Thread.onSpinWait();
        }
        p.buffer().set(JAVA_LONG_UNALIGNED, at, seq);
        p.commit(at);
    }

    static long expectedSum(long from, long to) {
        long sum = 0;
        for (long s = from; s < to; s++) {
            sum += s * 31 + 8 + s % 200;
        }
        return sum;
    }

    @Test
    void consumerInAnotherJvmReceivesEveryMessageInOrder() throws Exception {
        Path socket = dir.resolve("spsc.sock");
        long count = 200_000;
        try (ChannelHost host = ChannelHost.bind(socket);
             ChildJvm child = ChildJvm.start(ChannelPeer.class, "spsc-consume", socket.toString(), "orders", Long.toString(count))) {
            HostedSpscChannel ch = host.spsc("orders", SpscOptions.of(CAPACITY));
            // The producer may run ahead of the consumer's arrival: up to the ring's capacity.
            for (long s = 0; s < count; s++) {
                send(ch.producer(), s, child);
            }
            assertEquals("DONE " + count + " " + expectedSum(0, count), child.awaitLine("DONE", TIMEOUT_S));
            assertEquals(0, child.waitFor(TIMEOUT_S));
        }
    }

    @Test
    void killedConsumerIsDetachedAndTheNextOneContinuesWhereItStopped() throws Exception {
        Path socket = dir.resolve("spsc-kill.sock");
        try (ChannelHost host = ChannelHost.bind(socket)) {
            HostedSpscChannel ch = host.spsc("orders", SpscOptions.of(CAPACITY));
            CompletableFuture<Long> detachedAt = new CompletableFuture<>();
            ch.onDetach(a -> detachedAt.complete(System.nanoTime()));
            long sent = 0;
            try (ChildJvm first = ChildJvm.start(ChannelPeer.class, "spsc-hold", socket.toString(), "orders", "5000")) {
                first.awaitLine("ATTACHED", TIMEOUT_S);
                for (; sent < 5_400; sent++) { // 400 more than it will read: they stay in the ring
                    send(ch.producer(), sent, first);
                }
                first.awaitLine("HELD 5000", TIMEOUT_S); // it read 5,000 and holds the rest unread
                // A second consumer is refused while the first is attached.
                AttachRefusedException e = assertThrows(AttachRefusedException.class,
                        () -> Channels.spsc(socket, "orders").close());
                assertEquals(RefusalReason.CHANNEL_FULL, e.reason());

                long killedAt = System.nanoTime();
                first.kill(); // SIGKILL
                long detached = detachedAt.get(TIMEOUT_S, TimeUnit.SECONDS);
                System.out.printf("spsc consumer kill -9 -> host detached it in %.2f ms%n", (detached - killedAt) / 1e6);
                assertTrue(ch.consumer() == null);
            }
            // The next consumer starts exactly where the dead one stopped: its sequence check,
            // from message 5,000 on, fails on a gap or a repeat. Nothing committed is lost.
            try (ChildJvm second = ChildJvm.start(ChannelPeer.class, "spsc-drain", socket.toString(), "orders", "5000")) {
                second.awaitLine("ATTACHED", TIMEOUT_S);
                for (; sent < 30_000; sent++) {
                    send(ch.producer(), sent, second);
                }
                host.close(); // the host goes away; the consumer drains, then learns it
                String line = second.awaitLine("HOSTGONE", TIMEOUT_S);
                String[] f = line.split(" ");
                assertEquals(25_000, Long.parseLong(f[1]), "messages 5,000..29,999 delivered: " + line);
                assertEquals(29_999, Long.parseLong(f[2]), "the last message before the host died was delivered: " + line);
            }
        }
    }
}
