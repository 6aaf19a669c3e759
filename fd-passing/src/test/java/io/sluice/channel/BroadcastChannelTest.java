package io.sluice.channel;

import io.sluice.api.BroadcastPolicy;
import io.sluice.api.MessageProducer;
import io.sluice.testing.ChildJvm;
import io.sluice.ringbuffer.BroadcastProducer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** A back-pressured broadcast channel with consumer JVMs, one of which stops reading and is killed. */
class BroadcastChannelTest {
    private static final long TIMEOUT_S = 60;

    @TempDir
    Path dir;

    private static boolean tryOffer(BroadcastProducer p, long seq) {
        long at = p.tryClaim(1, 8 + (int) (seq % 200));
        if (at == MessageProducer.INSUFFICIENT_CAPACITY) {
            return false;
        }
        p.buffer().set(JAVA_LONG_UNALIGNED, at, seq);
        p.commit(at);
        return true;
    }

    @Test
    void killedConsumerStopsHoldingTheProducerBackAndTheOtherLosesNothing() throws Exception {
        Path socket = dir.resolve("bcast.sock");
        long total = 50_000;
        try (ChannelHost host = ChannelHost.bind(socket)) {
            HostedBroadcastChannel ch = host.broadcast("md", BroadcastOptions.of(BroadcastPolicy.BACK_PRESSURE, 16 * 1024)
                    .maxMessageLength(256).maxConsumers(4));
            BroadcastProducer producer = ch.producer();
            try (ChildJvm reader = ChildJvm.start(ChannelPeer.class, "bcast-consume", socket.toString(), "md", Long.toString(total));
                 ChildJvm holder = ChildJvm.start(ChannelPeer.class, "bcast-hold", socket.toString(), "md")) {
                reader.awaitLine("ATTACHED", TIMEOUT_S);
                holder.awaitLine("ATTACHED", TIMEOUT_S);
                producer.refreshConsumers(); // an idle producer adopts the joiners (gates on them) here
                long seq = 0;
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_S);
                // Fill the ring: the holder never reads, so the producer must stop.
                int refusals = 0;
                while (refusals < 1_000) {
                    if (tryOffer(producer, seq)) {
                        seq++;
                        refusals = 0;
                    } else {
                        refusals++;
                    }
                    if (System.nanoTime() > deadline) {
                        throw new AssertionError("the ring never filled");
                    }
                }
                long heldAt = seq;
                long killedAt = System.nanoTime();
                holder.kill();
                while (!tryOffer(producer, seq)) {
                    if (System.nanoTime() > deadline) {
                        throw new AssertionError("the producer stayed held back by the killed consumer");
                    }
                    Thread.onSpinWait();
                }
                long releasedAt = System.nanoTime();
                seq++;
                System.out.printf("broadcast consumer kill -9 -> back-pressured producer free again after %.2f ms (held at message %d)%n",
                        (releasedAt - killedAt) / 1e6, heldAt);
                while (seq < total) {
                    if (tryOffer(producer, seq)) {
                        seq++;
                    } else if (System.nanoTime() > deadline || !reader.isAlive()) {
                        throw new AssertionError("the live consumer stopped reading; its output:\n" + reader.output());
                    }
                }
                long expected = SpscChannelTest.expectedSum(0, total);
                assertEquals("DONE " + total + " " + expected + " laps=0", reader.awaitLine("DONE", TIMEOUT_S),
                        "the live consumer got every message once, in order, never lapped");
            }
        }
    }
}
