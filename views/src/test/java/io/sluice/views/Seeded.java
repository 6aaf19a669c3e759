package io.sluice.views;

import java.util.SplittableRandom;

/**
 * Runs a randomised check with a seed that a failure names. The seed is random unless
 * {@code -Dviews.seed=<n>} fixes it (to replay a failure).
 */
public final class Seeded {
    private Seeded() {
    }

    public interface Check {
        void run(SplittableRandom random) throws Exception;
    }

    public static long seed() {
        String fixed = System.getProperty("views.seed");
        return fixed != null ? Long.parseLong(fixed) : new SplittableRandom().nextLong();
    }

    /** Runs {@code check}; any failure is rethrown as an AssertionError naming the seed. */
    public static void run(long seed, Check check) {
        try {
            check.run(new SplittableRandom(seed));
        } catch (Throwable t) {
            throw new AssertionError("failed with seed " + seed + " (replay with -Dviews.seed=" + seed + "): " + t, t);
        }
    }
}
