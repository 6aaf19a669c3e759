package io.sluice.perf.jmh;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Per-thread counts of a producer/consumer benchmark pair, reported by JMH as rates (per second).
 * The figure to compare is {@code received}: messages handed to the consumer per second. A
 * benchmark call is one attempt (an offer or a poll), so JMH's own ops/s is not that figure.
 */
@AuxCounters(AuxCounters.Type.OPERATIONS)
@State(Scope.Thread)
public class ThroughputCounters {
    /** Messages the producer wrote. */
    public long sent;
    /** Offers refused because the ring was full. */
    public long offersFull;
    /** Messages the consumer received. */
    public long received;
    /** Polls that found nothing. */
    public long pollsEmpty;

    /** Counts one offer attempt. */
    public void offered(boolean accepted) {
        if (accepted) {
            sent++;
        } else {
            offersFull++;
        }
    }

    /** Counts one poll that handed over {@code n} messages. */
    public void polled(int n) {
        if (n > 0) {
            received += n;
        } else {
            pollsEmpty++;
        }
    }

    @Setup(Level.Iteration)
    public void reset() {
        sent = 0;
        offersFull = 0;
        received = 0;
        pollsEmpty = 0;
    }
}
