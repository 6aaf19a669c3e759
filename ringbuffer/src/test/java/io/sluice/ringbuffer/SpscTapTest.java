package io.sluice.ringbuffer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static io.sluice.ringbuffer.BroadcastTestSupport.payloadMatches;
import static io.sluice.ringbuffer.BroadcastTestSupport.send;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A tap races an SPSC producer at full speed (its consumer drains everything): whatever it accepts
 * ({@link SpscTap#isStillValid()} true) is a whole message, in order, never one twice; what it
 * misses it skips and counts. Random lengths from a printed seed.
 */
class SpscTapTest {
    @Test
    void aTapRacingTheProducerNeverAcceptsATornMessage() throws Exception {
        long seed = System.nanoTime();
        try (SpscTestRing ring = SpscTestRing.inSharedArena(4096)) {
            SpscTap tap = SpscRing.attachTap(ring.region, "tap");
            long messages = 300_000;
            AtomicBoolean done = new AtomicBoolean();
            AtomicLong failure = new AtomicLong(-1);
            Thread producer = Thread.ofPlatform().start(() -> {
                SplittableRandom rng = new SplittableRandom(seed);
                for (long seq = 0; seq < messages; ) {
                    if (send(ring.producer, seq, 8 + rng.nextInt(200))) {
                        seq++;
                    }
                }
            });
            Thread consumer = Thread.ofPlatform().start(() -> {
                long[] got = {0};
                while (got[0] < messages) {
                    ring.consumer.poll((t, m) -> got[0]++, 64);
                }
                done.set(true);
            });
            long accepted = 0;
            long torn = 0;
            long[] last = {-1};
            while (!done.get() || tap.poll((t, m) -> { }, 1) > 0) {
                long[] outcome = {0, 0};
                tap.poll((type, payload) -> {
                    long seq = payload.get(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, 0);
                    boolean matches = payloadMatches(payload, seq);
                    if (!tap.isStillValid()) {
                        outcome[1]++;
                        return;
                    }
                    if (!matches || seq <= last[0]) {
                        failure.compareAndSet(-1, seq);
                    }
                    last[0] = seq;
                    outcome[0]++;
                }, 32);
                accepted += outcome[0];
                torn += outcome[1];
            }
            producer.join();
            consumer.join();
            assertEquals(-1, failure.get(), "seed " + seed + ": the tap accepted a torn or repeated message at " + failure.get());
            assertTrue(accepted > 0, "seed " + seed + ": the tap read nothing");
            System.out.println("tap: " + accepted + " accepted, " + torn + " found overwritten, " + tap.skips()
                    + " skips, seed " + seed);
        }
    }

    /** The reach a tap allows for (claims in flight, the line a commit takes ahead) fits a small ring too. */
    @ParameterizedTest
    @ValueSource(ints = {128, 1024})
    void aTapStartsAtTheNewestAndSeesWhatFollows(int capacity) {
        try (SpscTestRing ring = SpscTestRing.onHeap(capacity)) {
            for (int i = 0; i < 3; i++) {
                assertTrue(send(ring.producer, i, 8));
            }
            assertEquals(3, ring.consumer.poll((t, m) -> { }, 10), "room for the next one on the small ring");
            MemorySegment region = ring.region;
            SpscTap tap = SpscRing.attachTap(region, "tap");
            assertEquals(0, tap.poll((t, m) -> { }, 10), "what was there before it attached is not its business");
            assertTrue(send(ring.producer, 3, 8));
            long[] seen = {-1};
            assertEquals(1, tap.poll((t, m) -> seen[0] = m.get(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, 0), 10));
            assertEquals(3, seen[0]);
            assertTrue(tap.isStillValid());
        }
    }
}
