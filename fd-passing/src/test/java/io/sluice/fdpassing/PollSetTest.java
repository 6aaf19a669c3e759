package io.sluice.fdpassing;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertTrue;

class PollSetTest {
    private static final int LONG_WAIT_MILLIS = 5_000;

    /**
     * Wakers racing the poller's drain of the wake-up pipe: however their wakes interleave with
     * it, the flag must never be left set over an empty pipe, or every later wake would be
     * silent and the poller would sleep through it (a host thread deaf to its task queue).
     */
    @Test
    void aWakeAfterAnyRaceOfWakersWithTheDrainEndsTheNextWaitAtOnce() throws Exception {
        try (PollSet set = new PollSet()) {
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong wakes = new AtomicLong();
            Runnable waker = () -> {
                while (!stop.get()) {
                    set.wake();
                    wakes.incrementAndGet();
                }
            };
            Thread a = Thread.ofPlatform().start(waker);
            Thread b = Thread.ofPlatform().start(waker);
            long awaits = 0;
            long until = System.nanoTime() + 1_000_000_000L;
            try {
                while (System.nanoTime() < until) {
                    set.await(null, List.of(), 1); // short: a lost wake must not stall this loop
                    awaits++;
                }
            } finally {
                stop.set(true);
                a.join();
                b.join();
            }
            set.await(null, List.of(), 0); // whatever the race left in the pipe
            set.wake();
            long start = System.nanoTime();
            set.await(null, List.of(), LONG_WAIT_MILLIS);
            long tookMillis = (System.nanoTime() - start) / 1_000_000;
            assertTrue(tookMillis < LONG_WAIT_MILLIS / 2, "a wake after " + wakes.get() + " racing wakes and " + awaits
                    + " awaits did not end the wait: it took " + tookMillis + " ms");
        }
    }
}
