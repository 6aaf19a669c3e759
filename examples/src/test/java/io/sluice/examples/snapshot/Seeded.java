package io.sluice.examples.snapshot;

import java.util.SplittableRandom;

/**
 * Runs a randomised check with a seed that a failure names. The seed is random unless
 * {@code -Dsnapshot.seed=<n>} fixes it (to replay a failure).
 */
final class Seeded {
    private Seeded() {
    }

    interface Check {
        void run(SplittableRandom random) throws Exception;
    }

    static long seed() {
        String fixed = System.getProperty("snapshot.seed");
        return fixed != null ? Long.parseLong(fixed) : new SplittableRandom().nextLong();
    }

    /** Runs {@code check}; any failure is rethrown as an AssertionError naming the seed. */
    static void run(long seed, Check check) {
        try {
            check.run(new SplittableRandom(seed));
        } catch (Throwable t) {
            throw new AssertionError("failed with seed " + seed + " (replay with -Dsnapshot.seed=" + seed + "): " + t, t);
        }
    }
}
