package io.sluice.api;

/**
 * What a thread does between attempts when it found no work: poll a ring, get 0, call
 * {@code idle(0)}; get some, call {@code idle(n)} (which resets the strategy). The shape of
 * Agrona's {@code IdleStrategy}, so a duty loop reads the same:
 *
 * <pre>{@code
 * IdleStrategy idle = new BackOffIdleStrategy();
 * while (running) {
 *     idle.idle(consumer.poll(handler, 64));
 * }
 * }</pre>
 *
 * <p>Implementations keep per-thread state (how long this thread has been idle) and are
 * <em>not</em> thread-safe: give each thread its own instance. None of them allocates.
 */
public interface IdleStrategy {
    /**
     * Reports the work done by the last attempt: a positive {@code workCount} resets the
     * strategy and returns at once; {@code 0} (or less) idles one step.
     *
     * @param workCount how many items the last attempt handled
     */
    default void idle(int workCount) {
        if (workCount > 0) {
            reset();
        } else {
            idle();
        }
    }

    /** Idles one step: spin, yield or park, depending on the strategy and how long it has idled. */
    void idle();

    /** Forgets how long this thread has idled: the next step is the cheapest again. */
    void reset();
}
