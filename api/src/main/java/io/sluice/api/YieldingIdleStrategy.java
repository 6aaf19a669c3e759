package io.sluice.api;

/**
 * Each idle step is a {@link Thread#yield()}: the thread stays runnable and wakes within a
 * scheduler decision, but lets other runnable threads on its core go first. A middle ground
 * for machines with fewer cores than spinning threads.
 */
public final class YieldingIdleStrategy implements IdleStrategy {
    /** Stateless: one instance serves every thread. */
    public static final YieldingIdleStrategy INSTANCE = new YieldingIdleStrategy();

    private YieldingIdleStrategy() {
    }

    @Override
    public void idle() {
        Thread.yield();
    }

    @Override
    public void reset() {
        // nothing to forget
    }

    @Override
    public String toString() {
        return "YieldingIdleStrategy";
    }
}
