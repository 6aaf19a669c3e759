package io.sluice.ringbuffer;

import java.util.function.IntSupplier;

/**
 * A consumer's half of a cross-process wake-up, whatever the ring: {@link SpscWakeup},
 * {@link BroadcastWakeup} and {@link MpmcWakeup} all run the same loop ({@code ParkLoop}) over
 * their own words, so a caller that blocks need not know which ring it polls.
 */
public interface ConsumerParking {
    /**
     * Runs {@code poll} until it handles messages or {@code timeoutNanos} pass: spins a little,
     * then parks one slice (at most 50 ms) at a time ({@link #parkOnce}).
     *
     * @param poll polls the ring and returns the number of messages handled
     * @param timeoutNanos the longest wait in nanoseconds, from the first empty poll
     * @return the last poll's count (0 on timeout)
     */
    int pollOrPark(IntSupplier poll, long timeoutNanos);

    /**
     * One round: tell producers this consumer is parked, check the ring once more, sleep at most
     * {@code sliceNanos} unless it had a message, tell producers it is awake; if it slept, poll
     * once more.
     *
     * @param poll polls the ring and returns the number of messages handled
     * @param sliceNanos the longest sleep, in nanoseconds
     * @return what the last poll returned
     */
    int parkOnce(IntSupplier poll, long sliceNanos);
}
