package io.sluice.channel;

import io.sluice.api.BroadcastPolicy;
import io.sluice.api.MessageProducer;
import io.sluice.testing.ChildJvm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Long payloads offered by a channel's producer reach a consumer in another JVM byte for byte:
 * from heap and native sources, from 16 KiB to one and a half MiB (the longest a 16 MiB ring
 * takes is 2 MiB), and a short one after them.
 */
class LongPayloadTest {
    private static final long CAPACITY = 16L << 20; // longest message 2 MiB
    private static final int[] LENGTHS = {16_383, 16_384, 65_536, (3 << 20) / 2 + 3, 100};
    private static final int ROUNDS = 6;
    private static final long TIMEOUT_S = 60;

    @TempDir
    Path dir;

    @Test
    void spscConsumerInAnotherJvmReceivesLongPayloadsIntact() throws Exception {
        Path socket = dir.resolve("spsc.sock");
        try (ChannelHost host = ChannelHost.bind(socket);
             ChildJvm child = ChildJvm.start(ChannelPeer.class, "spsc-crc", socket.toString(), "long",
                     Long.toString((long) ROUNDS * LENGTHS.length))) {
            HostedSpscChannel ch = host.spsc("long", SpscOptions.of(CAPACITY));
            long seed = System.nanoTime();
            assertEquals(sendAll(ch.producer(), child, seed), child.awaitLine("CRC", TIMEOUT_S), "seed " + seed);
            assertEquals(0, child.waitFor(TIMEOUT_S));
        }
    }

    @Test
    void broadcastConsumerInAnotherJvmReceivesLongPayloadsIntact() throws Exception {
        Path socket = dir.resolve("bcast.sock");
        try (ChannelHost host = ChannelHost.bind(socket)) {
            HostedBroadcastChannel ch = host.broadcast("long", BroadcastOptions.of(BroadcastPolicy.BACK_PRESSURE, CAPACITY));
            try (ChildJvm child = ChildJvm.start(ChannelPeer.class, "bcast-crc", socket.toString(), "long",
                    Long.toString((long) ROUNDS * LENGTHS.length))) {
                child.awaitLine("ATTACHED", TIMEOUT_S);
                ch.producer().refreshConsumers(); // gate on the child before sending: it reads from the oldest
                long seed = System.nanoTime();
                assertEquals(sendAll(ch.producer(), child, seed), child.awaitLine("CRC", TIMEOUT_S), "seed " + seed);
                assertEquals(0, child.waitFor(TIMEOUT_S));
            }
        }
    }

    /**
     * Offers every length ROUNDS times, random bytes from {@code seed}, alternating heap and native
     * sources; returns the line the child must print.
     */
    private static String sendAll(MessageProducer producer, ChildJvm child, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        CRC32 crc = new CRC32();
        long sent = 0;
        try (Arena arena = Arena.ofConfined()) {
            for (int round = 0; round < ROUNDS; round++) {
                for (int length : LENGTHS) {
                    byte[] bytes = new byte[length + 7];
                    random.nextBytes(bytes);
                    MemorySegment source = MemorySegment.ofArray(bytes);
                    if ((round + length) % 2 == 1) {
                        source = arena.allocate(bytes.length).copyFrom(source);
                    }
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_S);
                    while (!producer.offer(1, source, 7, length)) {
                        if (System.nanoTime() > deadline || !child.isAlive()) {
                            throw new AssertionError("ring stayed full at message " + sent + " (seed " + seed
                                    + "); child output:\n" + child.output());
                        }
                        Thread.onSpinWait();
                    }
                    crc.update(source.asSlice(7, length).toArray(JAVA_BYTE));
                    sent++;
                }
            }
        }
        return "CRC " + sent + " " + crc.getValue();
    }
}
