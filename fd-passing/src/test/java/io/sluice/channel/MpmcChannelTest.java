package io.sluice.channel;

import io.sluice.api.Role;
import io.sluice.testing.ChildJvm;
import io.sluice.ringbuffer.MpmcConsumer;
import io.sluice.ringbuffer.MpmcProducer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** An MPMC channel shared by producer and consumer JVMs. */
class MpmcChannelTest {
    private static final long TIMEOUT_S = 90;

    @TempDir
    Path dir;

    @Test
    void twoProducerJvmsAndTwoConsumerJvmsProcessEveryMessageExactlyOnce() throws Exception {
        Path socket = dir.resolve("mpmc.sock");
        long perProducer = 50_000;
        try (ChannelHost host = ChannelHost.bind(socket)) {
            HostedMpmcChannel ch = host.mpmc("orders", MpmcOptions.of(256, 64).maxParticipants(16));
            try (ChildJvm c1 = ChildJvm.start(ChannelPeer.class, "mpmc-consume", socket.toString(), "orders");
                 ChildJvm c2 = ChildJvm.start(ChannelPeer.class, "mpmc-consume", socket.toString(), "orders");
                 ChildJvm p1 = ChildJvm.start(ChannelPeer.class, "mpmc-produce", socket.toString(), "orders", "1", Long.toString(perProducer));
                 ChildJvm p2 = ChildJvm.start(ChannelPeer.class, "mpmc-produce", socket.toString(), "orders", "2", Long.toString(perProducer))) {
                p1.awaitLine("PRODUCED", TIMEOUT_S);
                p2.awaitLine("PRODUCED", TIMEOUT_S);
                c1.awaitLine("ATTACHED", TIMEOUT_S);
                c2.awaitLine("ATTACHED", TIMEOUT_S);
                MpmcProducer stopper = ch.attachLocal(Role.PRODUCER).producer();
                for (int i = 0; i < 2; i++) { // one STOP per consumer, after every data message
                    long at;
                    while ((at = stopper.tryClaim(ChannelPeer.STOP, 0)) < 0) {
                        Thread.onSpinWait();
                    }
                    stopper.commit(at);
                }
                Map<Long, long[]> total = new HashMap<>();
                for (ChildJvm c : new ChildJvm[] {c1, c2}) {
                    String line = c.awaitLine("CONSUMED", TIMEOUT_S);
                    for (String part : line.substring("CONSUMED".length()).trim().split(" ")) {
                        if (part.isEmpty()) {
                            continue;
                        }
                        String[] f = part.split(":");
                        long[] t = total.computeIfAbsent(Long.parseLong(f[0]), k -> new long[2]);
                        t[0] += Long.parseLong(f[1]);
                        t[1] += Long.parseLong(f[2]);
                    }
                }
                long expectedSum = perProducer * (perProducer - 1) / 2;
                for (long tag = 1; tag <= 2; tag++) {
                    long[] t = total.get(tag);
                    assertEquals(perProducer, t[0], "messages of producer " + tag + " consumed (no loss, no duplicate)");
                    assertEquals(expectedSum, t[1], "sequence sum of producer " + tag);
                }
            }
        }
    }

    @Test
    void slotClaimedByAKilledProducerIsRecoveredAndTheRingFlowsAgain() throws Exception {
        Path socket = dir.resolve("mpmc-kill.sock");
        try (ChannelHost host = ChannelHost.bind(socket)) {
            HostedMpmcChannel ch = host.mpmc("orders", MpmcOptions.of(64, 64).maxParticipants(8));
            MpmcConsumer consumer = ch.attachLocal(Role.CONSUMER).consumer();
            MpmcProducer producer = ch.attachLocal(Role.PRODUCER).producer();
            CompletableFuture<Long> detached = new CompletableFuture<>();
            ch.onDetach(a -> detached.complete(System.nanoTime()));
            try (ChildJvm dying = ChildJvm.start(ChannelPeer.class, "mpmc-claim-die", socket.toString(), "orders")) {
                dying.awaitLine("CLAIMED", TIMEOUT_S);
                // A message committed behind the open claim: consumers cannot pass the claim.
                long at = producer.tryClaim(ChannelPeer.DATA, 16);
                producer.buffer().set(JAVA_LONG_UNALIGNED, at, 42L);
                producer.commit(at);
                long[] got = new long[1];
                assertEquals(0, consumer.poll((t, p) -> got[0] = p.get(JAVA_LONG_UNALIGNED, 0), 1),
                        "the open claim holds consumers back");

                long killedAt = System.nanoTime();
                dying.kill();
                long deadline = killedAt + TimeUnit.SECONDS.toNanos(TIMEOUT_S);
                int n = 0;
                while (n == 0 && System.nanoTime() < deadline) {
                    n = consumer.poll((t, p) -> got[0] = p.get(JAVA_LONG_UNALIGNED, 0), 1);
                }
                long flowing = System.nanoTime();
                assertEquals(1, n, "the ring flows again after recovery");
                assertEquals(42L, got[0], "the message committed behind the dead claim is delivered");
                // The ring flows as soon as recovery's CAS lands; the detach event follows the
                // recovery's return, and with it its result.
                long detachedAt = detached.get(TIMEOUT_S, TimeUnit.SECONDS);
                assertEquals(1, ch.lastRecovery().claimsAborted());
                System.out.printf("mpmc producer kill -9 -> ring flowing after %.2f ms, host's detach done after %.2f ms%n",
                        (flowing - killedAt) / 1e6, (detachedAt - killedAt) / 1e6);
            }
        }
    }
}
