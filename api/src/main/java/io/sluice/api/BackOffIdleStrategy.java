package io.sluice.api;

import java.util.concurrent.locks.LockSupport;

/**
 * Backs off in three phases the longer a thread finds no work: first {@code maxSpins} steps of
 * {@link Thread#onSpinWait()} (a burst of work usually resumes within them), then
 * {@code maxYields} steps of {@link Thread#yield()}, then {@link LockSupport#parkNanos(long)}
 * with a period that starts at {@code minParkNanos} and doubles on every step up to
 * {@code maxParkNanos}. Any work ({@code idle(n > 0)} or {@link #reset()}) starts over at
 * spinning.
 *
 * <p>Parking is a timed sleep, not a wake-up: a message that arrives while the thread is parked
 * waits up to the current period. The cap bounds that delay; a blocking strategy that is woken by
 * the producer is {@code ConsumerAttachment.pollBlocking} on channels whose host wakes parked consumers.
 *
 * <p>One instance per thread: the phase and the current period are plain fields.
 */
public final class BackOffIdleStrategy implements IdleStrategy {
    /** Busy spins before the first yield, by default. */
    public static final long DEFAULT_MAX_SPINS = 100;
    /** Yields before the first park, by default. */
    public static final long DEFAULT_MAX_YIELDS = 10;
    /** The first park, in nanoseconds, by default (1 µs). */
    public static final long DEFAULT_MIN_PARK_NANOS = 1_000;
    /** The longest park, in nanoseconds, by default (1 ms); each park doubles the last up to it. */
    public static final long DEFAULT_MAX_PARK_NANOS = 1_000_000;

    /** Where the strategy is in its back-off; visible for tests and diagnostics. */
    enum Phase { SPINNING, YIELDING, PARKING }

    private final long maxSpins;
    private final long maxYields;
    private final long minParkNanos;
    private final long maxParkNanos;

    private Phase phase = Phase.SPINNING;
    private long spins;
    private long yields;
    private long parkNanos;

    /** Spins 100 times, yields 10 times, then parks from 1 µs doubling up to 1 ms. */
    public BackOffIdleStrategy() {
        this(DEFAULT_MAX_SPINS, DEFAULT_MAX_YIELDS, DEFAULT_MIN_PARK_NANOS, DEFAULT_MAX_PARK_NANOS);
    }

    /**
     * Spins {@code maxSpins} times, yields {@code maxYields} times, then parks from
     * {@code minParkNanos}, doubling up to {@code maxParkNanos}; work resets it to spinning.
     *
     * @param maxSpins     busy spins ({@link Thread#onSpinWait()}) before yielding, 0 or more
     * @param maxYields    {@link Thread#yield()} calls before parking, 0 or more
     * @param minParkNanos the first park, in nanoseconds, at least 1
     * @param maxParkNanos the longest park, in nanoseconds, at least {@code minParkNanos}
     * @throws IllegalArgumentException if a count is negative, {@code minParkNanos < 1} or
     *                                  {@code maxParkNanos < minParkNanos}
     */
    public BackOffIdleStrategy(long maxSpins, long maxYields, long minParkNanos, long maxParkNanos) {
        if (maxSpins < 0 || maxYields < 0) {
            throw new IllegalArgumentException("maxSpins and maxYields must not be negative, were "
                    + maxSpins + " and " + maxYields);
        }
        if (minParkNanos < 1 || maxParkNanos < minParkNanos) {
            throw new IllegalArgumentException("need 1 <= minParkNanos <= maxParkNanos, were "
                    + minParkNanos + " and " + maxParkNanos);
        }
        this.maxSpins = maxSpins;
        this.maxYields = maxYields;
        this.minParkNanos = minParkNanos;
        this.maxParkNanos = maxParkNanos;
        reset();
    }

    @Override
    public void idle() {
        if (phase == Phase.SPINNING) {
            if (spins < maxSpins) {
                spins++;
                Thread.onSpinWait();
                return;
            }
            phase = Phase.YIELDING;
        }
        if (phase == Phase.YIELDING) {
            if (yields < maxYields) {
                yields++;
                Thread.yield();
                return;
            }
            phase = Phase.PARKING;
        }
        LockSupport.parkNanos(parkNanos);
        parkNanos = doubled(parkNanos, maxParkNanos);
    }

    /** Twice {@code period}, at most {@code cap}; comparing with half the cap first keeps the shift from overflowing. */
    static long doubled(long period, long cap) {
        return period > cap >> 1 ? cap : period << 1;
    }

    @Override
    public void reset() {
        phase = Phase.SPINNING;
        spins = 0;
        yields = 0;
        parkNanos = minParkNanos;
    }

    Phase phase() {
        return phase;
    }

    /** The period the next park will use. */
    long parkNanos() {
        return parkNanos;
    }

    @Override
    public String toString() {
        return "BackOffIdleStrategy[spins=" + maxSpins + ", yields=" + maxYields
                + ", park=" + minParkNanos + ".." + maxParkNanos + " ns]";
    }
}
