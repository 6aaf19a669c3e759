package io.sluice.channel;

import io.sluice.api.BroadcastPolicy;
import io.sluice.ringbuffer.BroadcastProducer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static io.sluice.channel.NativeTestMessages.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A broadcast channel hosted here (the producer), read by C processes through the native client. */
class NativeBroadcastTest {
    private static final long TIMEOUT_S = 120;

    @TempDir
    Path dir;

    /** Publishes test message {@code seq}; on a back-pressure ring spins while the C consumer is a capacity behind. */
    private static long publish(BroadcastProducer p, long seed, long seq, int maxLength, NativeChild child) {
        long mix = mix(seed, 0, seq);
        int type = type(mix);
        int length = length(mix, maxLength);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_S);
        long at;
        int spins = 0;
        while ((at = p.tryClaim(type, length)) < 0) {
            if (System.nanoTime() > deadline || !child.isAlive()) {
                throw new AssertionError("ring stayed full at message " + seq + "; child output:\n" + child.output());
            }
            backOff(++spins);
        }
        fill(p.buffer(), at, mix, 0, seq, length);
        long digest = digest(type, p.buffer(), at, length);
        p.commit(at);
        return digest;
    }

    @Test
    void backPressuredCConsumerReceivesAMillionRandomMessagesExactly() throws Exception {
        long seed = seed();
        long count = 1_000_000;
        int maxLength = 256;
        Path socket = dir.resolve("md.sock");
        withSeed(seed, () -> {
            try (ChannelHost host = ChannelHost.bind(socket)) {
                HostedBroadcastChannel ch = host.broadcast("md", BroadcastOptions.of(BroadcastPolicy.BACK_PRESSURE, 64 * 1024)
                        .maxMessageLength(1024).maxConsumers(4));
                try (NativeChild c = NativeChild.start(NativeChild.RELEASE, "sluice_peer", "bcast", socket.toString(), "md",
                        Long.toString(count), Long.toString(seed), Integer.toString(maxLength), "oldest")) {
                    assertEquals("ATTACHED BACKPRESSURE max 1024", c.awaitLine("ATTACHED", TIMEOUT_S));
                    // The producer adopts the C consumer's position region; from then on it never overtakes it.
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_S);
                    while (c.lines("GATED").isEmpty() && System.nanoTime() < deadline && c.isAlive()) {
                        ch.producer().refreshConsumers();
                        Thread.sleep(1); // waiting for the child's line; bounded by the deadline
                    }
                    c.awaitLine("GATED", 1);
                    long checksum = BASIS;
                    long started = System.nanoTime();
                    for (long seq = 0; seq < count; seq++) {
                        checksum = step(checksum, publish(ch.producer(), seed, seq, maxLength, c));
                    }
                    String done = c.awaitLine("DONE", TIMEOUT_S);
                    System.out.printf("Java -> C broadcast (back-pressure): %,d messages in %.2f s%n", count,
                            (System.nanoTime() - started) / 1e9);
                    // delivered, torn, lost, laps, checksum: everything, intact, in order
                    assertEquals("DONE " + count + " 0 0 0 " + hex(checksum), done);
                    c.assertExitsCleanly(TIMEOUT_S);
                }
            }
        });
    }

    @Test
    void lappedCConsumerUnderSanitizersCountsExactlyWhatItLostAndNeverUsesATornMessage() throws Exception {
        long seed = seed();
        long count = 1_000_000;
        int maxLength = 256;
        Path socket = dir.resolve("md-fast.sock");
        withSeed(seed, () -> {
            // A small ring and a consumer that stalls 3 ms inside its handler every 200 messages:
            // the producer, which never waits, laps it and overwrites the very message it is reading.
            try (ChannelHost host = ChannelHost.bind(socket)) {
                HostedBroadcastChannel ch = host.broadcast("md-fast", BroadcastOptions.of(BroadcastPolicy.OVERWRITE, 16 * 1024)
                        .maxMessageLength(256).maxConsumers(4));
                try (NativeChild c = NativeChild.start(NativeChild.SANITIZED, "sluice_peer", "bcast", socket.toString(), "md-fast",
                        Long.toString(count), Long.toString(seed), Integer.toString(maxLength), "oldest",
                        "stall-every", "200")) {
                    assertEquals("ATTACHED OVERWRITE max 256", c.awaitLine("ATTACHED", TIMEOUT_S));
                    c.awaitLine("GATED", TIMEOUT_S);
                    for (long seq = 0; seq < count; seq++) {
                        publish(ch.producer(), seed, seq, maxLength, c);
                    }
                    String done = c.awaitLine("DONE", TIMEOUT_S);
                    c.assertExitsCleanly(TIMEOUT_S); // it verified the bytes of every message that was intact
                    String[] f = done.split(" ");
                    long handled = Long.parseLong(f[1]), torn = Long.parseLong(f[2]);
                    long lost = Long.parseLong(f[3]), laps = Long.parseLong(f[4]);
                    System.out.printf("Java -> C broadcast (overwrite): %,d handed to the handler (%,d torn, discarded), "
                            + "%,d lost in %,d laps%n", handled, torn, lost, laps);
                    assertEquals(count, handled + lost, "every message was either handed over or counted as lost: " + done);
                    assertTrue(laps > 0, "the stalling consumer was lapped: " + done);
                    assertTrue(torn > 0, "the seqlock caught messages overwritten while the handler read them: " + done);
                }
            }
        });
    }
}
