package io.sluice.ringbuffer;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

/**
 * A broadcast consumer's sequence expectation and what it lost to being lapped (overwrite rings,
 * or a backpressure joiner the producer lapped before it adopted it). Every record header carries
 * a sequence ({@link BroadcastRecordDescriptor}); the consumer anchors the expected one when it
 * attaches and checks every record against it. When it detects a lap (its record overwritten: the
 * Tail Intent more than a capacity past it) it resumes at the Head and, at the first intact
 * record, reports the loss here: the difference of the record sequences is exact. A lap counts
 * once however many times the consumer had to resynchronise before reading an intact record.
 * Consumer thread only.
 */
final class BroadcastLaps {
    private static final VarHandle LONG = RegionHeaderDescriptor.ALIGNED_U64.varHandle().withInvokeExactBehavior();

    private final BroadcastRecordCheck check;
    // The consumer's position region (null for a tap): laps and losses are published there when
    // they change, opaque, for monitors only (BroadcastConsumerPositionDescriptor).
    private MemorySegment countsRegion;
    // False until the consumer knows which sequence to expect (its start raced a claim throughout).
    private boolean anchored;
    private long expectedSequence = -1;
    // Between a detected lap and the first intact record after it; lapFrom: where the lap began.
    private boolean lapPending;
    private long lapFrom;

    private long count;
    private long delivered;
    private long lostMessages;
    private long lostBytes;
    private BroadcastLapListener listener;

    BroadcastLaps(BroadcastRecordCheck check) {
        this.check = check;
    }

    /** The next record is expected to carry {@code sequence}. */
    void anchor(long sequence) {
        expectedSequence = sequence;
        anchored = true;
    }

    /** The record at {@code position} was overwritten before it was read; the first lap since counts. */
    void lappedAt(long position) {
        if (anchored && !lapPending) {
            lapPending = true;
            lapFrom = position;
        }
    }

    /**
     * Checks the intact record at {@code position} against the expected sequence, reporting a
     * pending lap; the caller then advances the expectation ({@link #delivered}) if it is a message.
     */
    void check(long position, long seq) {
        if (seq == expectedSequence && !lapPending) {
            return;
        }
        if (!anchored) {
            if (seq < 0) {
                throw check.corrupt(position, "negative sequence " + seq);
            }
            anchor(seq);
            return;
        }
        if (!lapPending) {
            throw check.corrupt(position, "sequence " + seq + ", expected " + expectedSequence);
        }
        final long lost = seq - expectedSequence;
        if (lost < 0) {
            throw check.corrupt(position, "sequence " + seq + " after a lap is behind the expected " + expectedSequence);
        }
        lapPending = false;
        expectedSequence = seq;
        lapped(lost, position - lapFrom);
    }

    /** A message of {@code seq} was delivered: the next one is expected to carry the one after. */
    void delivered(long seq) {
        expectedSequence = seq + 1;
        delivered++;
    }

    /** {@return messages delivered} */
    long delivered() {
        return delivered;
    }

    /** The sequence the next message is expected to carry, or -1 if not anchored yet. */
    long nextSequence() {
        return anchored ? expectedSequence : -1;
    }

    /**
     * The sequence the record at the consumer's cursor carries once committed, or -1 while that is
     * not known: not anchored yet, or a lap is pending (the cursor moved to the Head, whose record
     * tells the loss).
     */
    long expectedSequence() {
        return anchored && !lapPending ? expectedSequence : -1;
    }

    /** Publishes laps and losses in {@code positionRegion} from now on, whenever they change. */
    void publishTo(MemorySegment positionRegion) {
        countsRegion = positionRegion;
    }

    /** One lap: {@code messages} and {@code bytes} skipped. Publishes the counts and tells the listener, if any. */
    private void lapped(long messages, long bytes) {
        count++;
        lostMessages += messages;
        lostBytes += bytes;
        if (countsRegion != null) {
            // Here, where they change (a lap is rare), before the position store that ends this poll.
            LONG.setOpaque(countsRegion, BroadcastConsumerPositionDescriptor.LAPS_OFFSET, count);
            LONG.setOpaque(countsRegion, BroadcastConsumerPositionDescriptor.LOST_OFFSET, lostMessages);
        }
        if (listener != null) {
            listener.onLapped(messages, bytes);
        }
    }

    void listener(BroadcastLapListener listener) {
        this.listener = listener;
    }

    long count() {
        return count;
    }

    long lostMessages() {
        return lostMessages;
    }

    long lostBytes() {
        return lostBytes;
    }
}
