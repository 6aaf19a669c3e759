package io.sluice.ringbuffer;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * What a producer has done since it was attached: messages committed, claims aborted, claims
 * refused for want of room (back-pressure), and how long it has been held back. Every producer
 * is one (it extends this class, so that the counts live in the producer object itself, beside
 * the fields its commit touches anyway: no reference to follow on the hot path) and hands itself
 * out as {@code counters()}; a channel host copies them into its status region, and a monitor
 * (another thread) reads them at any time.
 *
 * <p>Memory ordering: every field has a single writer, the producer thread, which stores it
 * opaque (a plain {@code mov} on x86 and ARM: nothing is fenced, so the hot path pays one store to
 * a line it already owns); readers load it opaque. A reader therefore sees each value whole
 * (a 64-bit opaque access never tears) and never older than one it saw before, but the fields are
 * not a consistent snapshot of one instant, and seeing a count implies nothing about the ring's
 * data: they are for watching, never for synchronising.
 *
 * <p>Time held back: the first refused claim opens a stall ({@link System#nanoTime()}, read on
 * that slow path only); the next commit closes it and adds its length to the total. The commit's
 * test of an open stall is one load of a field on the same line as the count it stores.
 */
public abstract sealed class ProducerCounters permits SpscProducer, BroadcastProducer, MpmcProducer {
    private static final VarHandle COMMITTED;
    private static final VarHandle ABORTED;
    private static final VarHandle REFUSED;
    private static final VarHandle STALLED_NANOS;
    private static final VarHandle STALL_START;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            COMMITTED = lookup.findVarHandle(ProducerCounters.class, "committed", long.class);
            ABORTED = lookup.findVarHandle(ProducerCounters.class, "aborted", long.class);
            REFUSED = lookup.findVarHandle(ProducerCounters.class, "refused", long.class);
            STALLED_NANOS = lookup.findVarHandle(ProducerCounters.class, "stalledNanos", long.class);
            STALL_START = lookup.findVarHandle(ProducerCounters.class, "stallStart", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** {@link #stallingSince()} when the producer is not held back. */
    public static final long NOT_STALLED = 0;

    // Producer thread writes (opaque), any thread reads (opaque). The plain reads below are the
    // writer reading its own last store.
    private long committed;
    private long aborted;
    private long refused;
    private long stalledNanos;
    private long stallStart; // System.nanoTime() of the first refusal of the open stall, or NOT_STALLED

    ProducerCounters() {
    }

    /**
     * These counts, as a type of their own: what {@code counters()} on each producer returns.
     *
     * @return this producer's counts
     */
    public final ProducerCounters counters() {
        return this;
    }

    /** A message was committed; closes an open stall. */
    final void onCommit() {
        COMMITTED.setOpaque(this, committed + 1);
        if (stallStart != NOT_STALLED) {
            endStall();
        }
    }

    private void endStall() {
        STALLED_NANOS.setOpaque(this, stalledNanos + (System.nanoTime() - stallStart));
        STALL_START.setOpaque(this, NOT_STALLED);
    }

    /** A claim was aborted. */
    final void onAbort() {
        ABORTED.setOpaque(this, aborted + 1);
    }

    /** A claim was refused for want of room; opens a stall if none is open. */
    final void onRefused() {
        REFUSED.setOpaque(this, refused + 1);
        if (stallStart == NOT_STALLED) {
            long now = System.nanoTime();
            STALL_START.setOpaque(this, now == NOT_STALLED ? 1 : now);
        }
    }

    /** {@return messages committed} */
    public final long committed() {
        return (long) COMMITTED.getOpaque(this);
    }

    /** {@return claims aborted} */
    public final long aborted() {
        return (long) ABORTED.getOpaque(this);
    }

    /** {@return claims refused because the ring had no room (a back-pressure ring's consumers held it)} */
    public final long refusedClaims() {
        return (long) REFUSED.getOpaque(this);
    }

    /**
     * The {@link System#nanoTime()} at which the open stall began: the first claim refused since
     * the last commit; {@link #NOT_STALLED} if the last claim succeeded.
     *
     * @return when the producer began to be held back, or {@link #NOT_STALLED}
     */
    public final long stallingSince() {
        return (long) STALL_START.getOpaque(this);
    }

    /**
     * Nanoseconds the producer has been held back in all: closed stalls, plus the open one up to
     * {@code now}.
     *
     * @param now a {@link System#nanoTime()} reading
     * @return total time between a first refused claim and the commit that ended its stall
     */
    public final long stalledNanos(long now) {
        long since = stallingSince();
        long closed = (long) STALLED_NANOS.getOpaque(this);
        return since == NOT_STALLED ? closed : closed + Math.max(0, now - since);
    }

    /** {@return the counts in words, for a log line} */
    public final String describeCounts() {
        return "committed " + committed() + ", aborted " + aborted() + ", refused " + refusedClaims()
                + ", stalled " + stalledNanos(System.nanoTime()) + " ns";
    }
}
