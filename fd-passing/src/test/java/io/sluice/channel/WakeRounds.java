package io.sluice.channel;

import java.util.function.LongSupplier;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Rounds of "the consumer in another process sleeps on an empty ring, one commit wakes it".
 *
 * <p>A sleeping consumer wakes by itself at the end of every park slice (50 ms), lowers its
 * parked flag, polls, and raises the flag again a microsecond later. A commit that lands in that
 * microsecond needs no wake (the consumer's own poll finds it), so "this commit woke it" cannot
 * be asserted of any single commit. A round whose commit found no sleeper is therefore run
 * again with the next message, at most {@link #SPARE} times in all; an implementation that never
 * wakes anyone (the consumer catching up at each slice's end) wakes none of them and fails.
 */
final class WakeRounds {
    /** Rounds that may be repeated; the child consumes {@code rounds + SPARE} messages. */
    static final int SPARE = 4;

    @FunctionalInterface
    interface Step {
        void run(long seq) throws Exception;
    }

    private WakeRounds() {
    }

    /**
     * Runs messages {@code first, first + 1, ...} until {@code rounds} of them woke the consumer,
     * then sends the unused spares so that the child, told to consume {@code rounds + SPARE}
     * messages, ends.
     *
     * @param asleep   waits until the child announced message {@code seq} and sleeps
     * @param send     commits message {@code seq}
     * @param got      waits until the child handled message {@code seq}
     * @param wakes    the producer side's wake count (any counter that moves on each wake)
     * @param output   the child's output, for failure messages
     */
    static void run(long first, int rounds, Step asleep, Step send, Step got, LongSupplier wakes, Supplier<String> output)
            throws Exception {
        long end = first + rounds + SPARE;
        int woken = 0;
        long seq = first;
        for (; seq < end && woken < rounds; seq++) {
            asleep.run(seq);
            long before = wakes.getAsLong();
            send.run(seq);
            got.run(seq);
            if (wakes.getAsLong() != before) {
                woken++;
            }
        }
        assertEquals(rounds, woken, "commits made while the consumer slept that woke it (of " + (seq - first)
                + " sent; a commit between two park slices needs no wake, but only " + SPARE
                + " may be); child:\n" + output.get());
        for (; seq < end; seq++) {
            send.run(seq);
            got.run(seq);
        }
    }
}
