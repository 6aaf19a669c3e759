package io.sluice.api;

/**
 * Never gives the core away: each idle step is one {@link Thread#onSpinWait()} (a {@code PAUSE}
 * on x86, {@code YIELD}/{@code ISB} on AArch64). The lowest wake-up latency, at the price of a
 * whole core per waiting thread; use it only on cores reserved for the thread.
 */
public final class BusySpinIdleStrategy implements IdleStrategy {
    /** Stateless: one instance serves every thread. */
    public static final BusySpinIdleStrategy INSTANCE = new BusySpinIdleStrategy();

    private BusySpinIdleStrategy() {
    }

    @Override
    public void idle() {
        Thread.onSpinWait();
    }

    @Override
    public void reset() {
        // nothing to forget
    }

    @Override
    public String toString() {
        return "BusySpinIdleStrategy";
    }
}
