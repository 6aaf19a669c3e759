package io.sluice.channel;

import io.sluice.ringbuffer.ProducerCounters;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.function.Supplier;

/**
 * The host's look at one producer's back-pressure stalls: a stall that lasts beyond the host's
 * threshold is logged once, with the consumer that holds the producer, and logged and recorded
 * (JFR {@code io.sluice.Stall}) once more when it ends, or when the channel closes under it.
 *
 * <p>Threads: every method runs under the owning channel's lock (the host thread's watch tick,
 * or {@link HostedChannel#close()} on any thread), so the fields below need no more.
 *
 * <p>Memory ordering: the producer's counters are stored opaque by the producer thread and loaded
 * opaque here ({@link ProducerCounters}); the producer and consumer positions and the consumers'
 * counts that {@link #opaque} reads are each stored by their one writer (release or opaque) and
 * loaded opaque here. Opaque loads see each value whole, and a later load never returns an older
 * value than an earlier one of the same field; they order nothing else. That is all a watch needs:
 * nothing here reads the ring's data on the strength of a value, and every decision rests on a
 * value staying the same across two looks a threshold apart. A value may be seen late; then a
 * report or a detach comes late, or (for a consumer that moved an instant before the look) is a
 * detach a moment sooner than the truth would have made it — the same race as the consumer moving
 * an instant after the look, which no watch can avoid.
 */
final class StallWatch {
    private static final VarHandle U64 = ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN).varHandle();

    /**
     * What holds a producer back, as the host saw it: the consumer (null if none is attached: an
     * SPSC ring full of what the last one left), its published position, and the bytes between
     * the producer's position and it.
     */
    record Holder(Attachment consumer, long position, long lag) {
    }

    private final HostedChannel channel;
    private final ProducerCounters counters;
    private long stall = ProducerCounters.NOT_STALLED; // the watched stall's start, as the counters said
    private boolean reported;                          // it passed the threshold and was logged
    private Holder holder;                             // what held the producer when it was reported
    private long refusedBefore;                        // refusedClaims() when the host last saw no stall

    StallWatch(HostedChannel channel, ProducerCounters counters) {
        this.channel = channel;
        this.counters = counters;
    }

    /** An opaque load of the u64 at {@code offset} of a mapped region (aligned to 8). */
    static long opaque(MemorySegment region, long offset) {
        return (long) U64.getOpaque(region, offset);
    }

    /**
     * A watch tick: notes the end of the watched stall, and reports one that has just passed
     * {@code thresholdNanos} (asking {@code blame} who holds the producer).
     *
     * @return how long the open stall has lasted at {@code now}, or -1 if the producer is not stalled
     */
    long look(long now, long thresholdNanos, Supplier<Holder> blame) {
        long since = counters.stallingSince();
        long refused = counters.refusedClaims();
        if (stall != ProducerCounters.NOT_STALLED && since != stall) {
            end(now, refused, false); // a commit ended it (and a new stall may have begun since)
        }
        if (since == ProducerCounters.NOT_STALLED) {
            refusedBefore = refused;
            return -1;
        }
        stall = since;
        long stalled = now - since;
        if (!reported && stalled >= thresholdNanos) {
            reported = true;
            holder = blame.get();
            ChannelEvents.stalling(channel, holder, stalled, refused - refusedBefore);
        }
        return stalled;
    }

    /** The channel closes: a reported stall still open ends with it. */
    void channelClosing(long now) {
        if (stall != ProducerCounters.NOT_STALLED) {
            end(now, counters.refusedClaims(), true);
        }
    }

    private void end(long now, long refused, boolean closed) {
        if (reported) {
            // The commit that ended it came at most one watch interval before now.
            ChannelEvents.stallEnded(channel, holder, now - stall, refused - refusedBefore, closed);
        }
        stall = ProducerCounters.NOT_STALLED;
        reported = false;
        holder = null;
        refusedBefore = refused;
    }
}
