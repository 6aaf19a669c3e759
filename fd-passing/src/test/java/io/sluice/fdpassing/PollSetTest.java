package io.sluice.fdpassing;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;

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

    /**
     * A wake racing close(): the host thread closes its poll set while another thread wakes it.
     * close() must release everything and throw nothing, whichever comes first.
     */
    @Test
    void aWakeRacingCloseNeverMakesCloseFail() throws Exception {
        CyclicBarrier start = new CyclicBarrier(2);
        PollSet[] current = new PollSet[1];
        AtomicBoolean stop = new AtomicBoolean();
        Thread waker = Thread.ofPlatform().start(() -> {
            try {
                while (!stop.get()) {
                    start.await(5, TimeUnit.SECONDS);
                    current[0].wake(); // the barrier publishes current[0]
                }
            } catch (Exception e) {
                // stopped
            }
        });
        try {
            for (int i = 0; i < 20_000; i++) {
                PollSet set = new PollSet();
                current[0] = set;
                start.await(5, TimeUnit.SECONDS);
                set.close(); // threw IllegalStateException when the wake held the set's arena
            }
        } finally {
            stop.set(true);
            start.reset();
            waker.join(5_000);
        }
    }
}
