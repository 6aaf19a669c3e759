package io.sluice.ringbuffer;

import io.sluice.api.CorruptRingException;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

import static io.sluice.ringbuffer.BroadcastRecordCheck.aligned;
import static io.sluice.ringbuffer.BroadcastRecordDescriptor.LENGTH_OFFSET;
import static io.sluice.ringbuffer.BroadcastRecordDescriptor.SEQUENCE_OFFSET;
import static io.sluice.ringbuffer.BroadcastRecordDescriptor.TYPE_OFFSET;
import static io.sluice.ringbuffer.BroadcastRingDescriptor.DATA_OFFSET;
import static io.sluice.ringbuffer.BroadcastRingDescriptor.HEAD_OFFSET;
import static io.sluice.ringbuffer.BroadcastRingDescriptor.LATEST_OFFSET;
import static io.sluice.ringbuffer.BroadcastRingDescriptor.NEXT_SEQUENCE_OFFSET;
import static io.sluice.ringbuffer.BroadcastRingDescriptor.NO_MESSAGE;
import static io.sluice.ringbuffer.BroadcastRingDescriptor.TAIL_INTENT_OFFSET;
import static io.sluice.ringbuffer.BroadcastRingDescriptor.TAIL_OFFSET;

/**
 * Where a broadcast consumer starts reading, and which sequence it expects there. Reading the
 * start record's header races with an overwriting producer, so the header is checked against the
 * Tail Intent like any other; at the tail the sequence comes from the Next Sequence counter, valid
 * only if no claim is in flight (Tail Intent is the tail's
 * {@link BroadcastRecordDescriptor#reach reach}). Retries a bounded number of times; if a
 * claim stays in flight throughout, the consumer anchors on the first record it reads.
 */
final class BroadcastConsumerStart {
    private static final VarHandle LONG = RegionHeaderDescriptor.ALIGNED_U64.varHandle().withInvokeExactBehavior();
    private static final VarHandle INT_U = RegionHeaderDescriptor.U32.varHandle().withInvokeExactBehavior();
    private static final VarHandle LONG_U = RegionHeaderDescriptor.U64.varHandle().withInvokeExactBehavior();
    /** Attempts at reading a consistent start before giving up and anchoring on the first read. */
    private static final int START_ATTEMPTS = 10_000;

    private BroadcastConsumerStart() {
    }

    /**
     * Chooses the start position under {@code policy} and anchors {@code laps} there if it can.
     *
     * @return the position of the first record to read
     * @throws CorruptRingException if the counters or the start record's intact header are impossible
     */
    static long choose(MemorySegment region, String what, long capacity, BroadcastStart policy,
                       BroadcastRecordCheck check, BroadcastLaps laps) {
        final long mask = capacity - 1;
        long candidate = 0;
        for (int attempt = 0; attempt < START_ATTEMPTS; attempt++) {
            // Acquire loads in this order give head <= tail and latest < tail (see the descriptor).
            final long head = (long) LONG.getAcquire(region, HEAD_OFFSET);
            final long latest = (long) LONG.getAcquire(region, LATEST_OFFSET);
            final long tail = (long) LONG.getAcquire(region, TAIL_OFFSET);
            if (head < 0 || head > tail || !aligned(head) || !aligned(tail)) {
                throw new CorruptRingException(what + ": counters head " + head + " and tail " + tail
                        + " are impossible (negative, unaligned or head past tail)");
            }
            if (latest != NO_MESSAGE && (latest < 0 || latest >= tail || !aligned(latest))) {
                throw new CorruptRingException(what + ": latest " + latest + " is not an aligned position before tail " + tail);
            }
            if (policy == BroadcastStart.NEWEST) {
                // The newest message may be older than the Head if padding (aborts) overwrote it.
                candidate = latest == NO_MESSAGE ? tail : Math.max(latest, head);
            } else {
                candidate = head;
            }
            if (candidate < tail) {
                // The Head may sit in the implicit gap; the record follows it.
                final long at = BroadcastRecordDescriptor.nextRecordStart(candidate, capacity);
                final long base = DATA_OFFSET + (at & mask);
                final int length = (int) INT_U.get(region, base + LENGTH_OFFSET);
                final int type = (int) INT_U.get(region, base + TYPE_OFFSET);
                final long seq = (long) LONG_U.get(region, base + SEQUENCE_OFFSET);
                VarHandle.loadLoadFence();
                if ((long) LONG.getAcquire(region, TAIL_INTENT_OFFSET) - capacity > candidate) {
                    Thread.onSpinWait(); // overwritten while we read it: choose again
                    continue;
                }
                check.span(at, length, type, tail);
                if (seq < 0) {
                    throw check.corrupt(at, "negative sequence " + seq);
                }
                laps.anchor(seq);
                return candidate;
            }
            final long seq = (long) LONG.getAcquire(region, NEXT_SEQUENCE_OFFSET);
            final long intent = (long) LONG.getAcquire(region, TAIL_INTENT_OFFSET);
            if (intent == BroadcastRecordDescriptor.reach(tail, capacity)) {
                if (seq < 0) {
                    throw new CorruptRingException(what + ": negative next sequence " + seq);
                }
                laps.anchor(seq);
                return tail;
            }
            if (intent < tail) {
                throw new CorruptRingException(what + ": tail intent " + intent + " is behind tail " + tail);
            }
            Thread.onSpinWait(); // a claim is in flight at the tail; its sequence is not published yet
        }
        return candidate;
    }
}
