package io.sluice.api;

/**
 * Wakes consumers that parked (slept) waiting for a message, possibly in other processes. A
 * producer calls it after a commit, and only when it saw a consumer's parked flag set: a producer
 * whose consumers all spin makes no system call.
 */
@FunctionalInterface
public interface ConsumerWaker {
    /** Wakes every consumer parked on this ring. */
    void wake();
}
