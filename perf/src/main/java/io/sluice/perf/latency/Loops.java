package io.sluice.perf.latency;

import org.HdrHistogram.Histogram;

/**
 * The measured loops, one static method per side and scenario, each called once per batch:
 * called many times, each is compiled normally (not only on-stack replaced) during warm-up, and
 * the measured batches run that code. Waiting is a bare busy spin on {@link Endpoint#poll()},
 * as in the raw probe: no {@code Thread.onSpinWait()}, no idle strategy of any system.
 */
final class Loops {
    private Loops() {
    }

    /** Ping-pong, A: {@code n} round trips numbered from {@code first}, each recorded. */
    static void ping(Endpoint e, int n, long first, Histogram h) {
        for (int i = 0; i < n; i++) {
            long seq = first + i;
            long t0 = System.nanoTime();
            e.send(seq);
            long v;
            while ((v = e.poll()) == Endpoint.EMPTY) {
                // spin
            }
            long rtt = System.nanoTime() - t0;
            if (v != seq) {
                throw new IllegalStateException("ping " + seq + " came back as " + v);
            }
            h.recordValue(rtt);
        }
    }

    /**
     * Ping-pong, A, traced ({@link TailTrace}): as {@link #ping}, and every spin iteration or
     * send longer than {@link TailTrace#GAP_NANOS} is logged as a gap, every round trip as a trip.
     */
    static void pingTraced(Endpoint e, int n, long first, Histogram h, TailTrace trace) {
        for (int i = 0; i < n; i++) {
            long seq = first + i;
            long t0 = System.nanoTime();
            e.send(seq);
            long last = System.nanoTime();
            if (last - t0 > TailTrace.GAP_NANOS) {
                trace.gap(t0, last);
            }
            long v;
            while ((v = e.poll()) == Endpoint.EMPTY) {
                long now = System.nanoTime();
                if (now - last > TailTrace.GAP_NANOS) {
                    trace.gap(last, now);
                }
                last = now;
            }
            long rtt = System.nanoTime() - t0;
            if (v != seq) {
                throw new IllegalStateException("ping " + seq + " came back as " + v);
            }
            h.recordValue(rtt);
            trace.trip(t0, rtt, seq);
        }
    }

    /** Ping-pong, B, traced: as {@link #echo}, logging the gaps of its spin and its sends. */
    static void echoTraced(Endpoint e, int n, TailTrace trace) {
        long last = System.nanoTime();
        for (int i = 0; i < n; i++) {
            long v;
            while ((v = e.poll()) == Endpoint.EMPTY) {
                long now = System.nanoTime();
                if (now - last > TailTrace.GAP_NANOS) {
                    trace.gap(last, now);
                }
                last = now;
            }
            e.send(v);
            long now = System.nanoTime();
            if (now - last > TailTrace.GAP_NANOS) {
                trace.gap(last, now);
            }
            last = now;
        }
    }

    /** Ping-pong, B: echo {@code n} messages. */
    static void echo(Endpoint e, int n) {
        for (int i = 0; i < n; i++) {
            long v;
            while ((v = e.poll()) == Endpoint.EMPTY) {
                // spin
            }
            e.send(v);
        }
    }

    /**
     * Fixed rate, A: sends {@code n} messages on the schedule {@code schedule[0]} (next send
     * time), one every {@code intervalNs}, each stamped with the time it was actually sent.
     * A sender that falls behind sends at once until it has caught up; {@code schedule[1]}
     * counts sends more than one interval late.
     */
    static void sendAtRate(Endpoint e, int n, long intervalNs, long[] schedule) {
        long next = schedule[0];
        long late = schedule[1];
        for (int i = 0; i < n; i++) {
            long now;
            while ((now = System.nanoTime()) < next) {
                e.idle();
            }
            e.send(now);
            if (now - next > intervalNs) {
                late++;
            }
            next += intervalNs;
        }
        schedule[0] = next;
        schedule[1] = late;
    }

    /**
     * Fixed rate, B: receives {@code n} messages and records now minus the stamp, as measured.
     * The coordinated-omission correction is applied per slice afterwards
     * ({@code copyCorrectedForCoordinatedOmission}, which HdrHistogram documents as equivalent to
     * {@code recordValueWithExpectedInterval} on every value): back-filling inline makes the
     * receiver's cost per message grow with its latency, so one long stall (this machine has
     * 100 ms ones) at 1M msg/s made it fall further behind with every message, without end.
     */
    static void receiveStamped(Endpoint e, int n, Histogram h) {
        for (int i = 0; i < n; i++) {
            long v;
            while ((v = e.poll()) == Endpoint.EMPTY) {
                // spin
            }
            h.recordValue(Math.max(0, System.nanoTime() - v));
        }
    }

    /** Throughput, A: {@code n} messages numbered from {@code first}, as fast as they are taken. */
    static void send(Endpoint e, int n, long first) {
        for (int i = 0; i < n; i++) {
            e.send(first + i);
        }
    }

    /** Throughput, B: receives {@code n} messages; returns the last value. */
    static long receive(Endpoint e, int n) {
        long v = Endpoint.EMPTY;
        for (int i = 0; i < n; i++) {
            while ((v = e.poll()) == Endpoint.EMPTY) {
                // spin
            }
        }
        return v;
    }
}
