package io.sluice.ringbuffer;

import io.sluice.api.CorruptRingException;
import io.sluice.api.RingLayoutException;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

import static io.sluice.ringbuffer.BroadcastRecordDescriptor.ALIGNMENT;
import static io.sluice.ringbuffer.BroadcastRecordDescriptor.HEADER_LENGTH;
import static io.sluice.ringbuffer.BroadcastRecordDescriptor.LENGTH_OFFSET;
import static io.sluice.ringbuffer.BroadcastRecordDescriptor.PADDING_TYPE;
import static io.sluice.ringbuffer.BroadcastRecordDescriptor.TYPE_OFFSET;
import static io.sluice.ringbuffer.BroadcastRecordDescriptor.align;
import static io.sluice.ringbuffer.BroadcastRingDescriptor.DATA_OFFSET;
import static io.sluice.ringbuffer.BroadcastRingDescriptor.GATED_REGISTRATION_OFFSET;
import static io.sluice.ringbuffer.BroadcastRingDescriptor.HEAD_OFFSET;
import static io.sluice.ringbuffer.BroadcastRingDescriptor.LATEST_OFFSET;
import static io.sluice.ringbuffer.BroadcastRingDescriptor.NEXT_SEQUENCE_OFFSET;
import static io.sluice.ringbuffer.BroadcastRingDescriptor.NO_MESSAGE;
import static io.sluice.ringbuffer.BroadcastRingDescriptor.TAIL_INTENT_OFFSET;
import static io.sluice.ringbuffer.BroadcastRingDescriptor.TAIL_OFFSET;

/**
 * What a broadcast producer's claim overwrites, and how it tells readers: the Head walk and the
 * Tail Intent, the writer's half of the seqlock. Before a claim writes a byte, {@link #announce}
 * moves the Head past every record the claim will overwrite and publishes the claim's end as the
 * Tail Intent. Both overflow policies go through it: on an overwrite ring the claim may land on
 * records a consumer has not read (the consumer then sees the lap through the intent); on a
 * backpressure ring {@link BroadcastGate} has already refused any claim that would reach past a
 * gated consumer, so the records walked over are ones every gated consumer has read. Producer
 * thread only.
 */
final class BroadcastOverwrite {
    private static final VarHandle LONG = RegionHeaderDescriptor.ALIGNED_U64.varHandle().withInvokeExactBehavior();
    private static final VarHandle INT_U = RegionHeaderDescriptor.U32.varHandle().withInvokeExactBehavior();

    private final MemorySegment region;
    private final String what;
    private final long capacity;
    private final long mask;
    private final int maxMessageLength;
    /** The committed Tail and Next Sequence the previous producer left: the producer resumes there. */
    final long resumedTail;
    final long resumedNextSequence;
    // The authoritative Head: only this producer writes the ring's copy (release, see advanceHead).
    private long head;
    // The spans of the records made since this producer started, for the Head walk.
    private final BroadcastSpans spans;

    private BroadcastOverwrite(MemorySegment region, String what, BroadcastRingDescriptor.Header header,
                               long tail, long head, long nextSequence) {
        this.region = region;
        this.resumedTail = tail;
        this.resumedNextSequence = nextSequence;
        this.what = what;
        this.capacity = header.capacity();
        this.mask = capacity - 1;
        this.maxMessageLength = header.maxMessageLength();
        this.head = head;
        this.spans = new BroadcastSpans(capacity, tail);
    }

    /**
     * Checks the counters a previous producer left (no claim in flight, Head within a capacity
     * behind Tail, everything aligned) and continues from them.
     *
     * @return the head walk, positioned at the ring's Head
     * @throws RingLayoutException if the counters are impossible, or a claim is in flight
     */
    static BroadcastOverwrite resume(MemorySegment region, String what, BroadcastRingDescriptor.Header header) {
        final long capacity = header.capacity();
        final long intent = (long) LONG.getAcquire(region, TAIL_INTENT_OFFSET);
        final long tail = (long) LONG.getAcquire(region, TAIL_OFFSET);
        final long head = (long) LONG.getAcquire(region, HEAD_OFFSET);
        final long latest = (long) LONG.getAcquire(region, LATEST_OFFSET);
        final long nextSequence = (long) LONG.getAcquire(region, NEXT_SEQUENCE_OFFSET);
        final long gated = (long) LONG.getAcquire(region, GATED_REGISTRATION_OFFSET);
        if (tail < 0 || (tail & (ALIGNMENT - 1)) != 0) {
            throw new RingLayoutException(what + ": tail " + tail + " is negative or not 8-byte aligned");
        }
        if (intent != BroadcastRecordDescriptor.reach(tail, capacity)) {
            throw new RingLayoutException(what + ": tail intent " + intent + " is not the reach of tail " + tail
                    + " (" + BroadcastRecordDescriptor.reach(tail, capacity)
                    + "): another producer is active, or one died in the middle of a claim");
        }
        if (head < 0 || head > tail || tail - head > capacity || (head & (ALIGNMENT - 1)) != 0) {
            throw new RingLayoutException(what + ": head " + head + " is not an aligned position within a capacity ("
                    + capacity + ") behind tail " + tail);
        }
        if (latest != NO_MESSAGE && (latest < 0 || latest >= tail || (latest & (ALIGNMENT - 1)) != 0)) {
            throw new RingLayoutException(what + ": latest " + latest + " is not an aligned position before tail " + tail);
        }
        if (nextSequence < 0 || gated < 0) {
            throw new RingLayoutException(what + ": negative next sequence " + nextSequence
                    + " or gated registration " + gated);
        }
        return new BroadcastOverwrite(region, what, header, tail, head, nextSequence);
    }

    /**
     * Announces a claim from {@code tail} that writes up to {@code reach} (its record, and the
     * next slot's Sequence it marks not committed): walks the Head over what it will overwrite,
     * then publishes {@code reach} as the Tail Intent. Call before writing any byte of the claim.
     */
    void announce(long reach, long tail) {
        advanceHead(reach - capacity, tail);
        // The seqlock "intent": release orders the Head store before it; the store-store fence
        // orders it before every byte of the claim, so a reader that sees any of those bytes and
        // then loads the intent sees this value (or a later one).
        LONG.setRelease(region, TAIL_INTENT_OFFSET, reach);
        VarHandle.storeStoreFence();
    }

    /**
     * Tells the walk of what a claim made from the tail: the gap or padding to the end of the lap
     * (0 if none), then its record. Call after {@link #announce}, in claim order.
     */
    void made(long gap, long span) {
        if (gap != 0) {
            spans.add(gap);
        }
        spans.add(span);
    }

    /**
     * Moves the Head to the first record start at or after {@code floor}, stepping over the
     * records the coming claim overwrites: by the spans this producer kept ({@link BroadcastSpans}),
     * or, for records it does not have, by reading their headers (this producer or the one before
     * it wrote them; nobody else may write the data area). Because a claim reaches less than a
     * capacity past the tail ({@link BroadcastRingDescriptor#maxMessageLengthLimit}),
     * {@code floor < tail} and the walk never reaches the claim itself.
     */
    private void advanceHead(long floor, long tail) {
        long head = this.head;
        if (head >= floor) {
            return;
        }
        final BroadcastSpans spans = this.spans;
        do {
            // The Head only ever steps over whole spans, and those kept start at from(): below it
            // (records older than this producer, or dropped) the walk reads the ring's headers.
            head += head == spans.from() && !spans.isEmpty() ? spans.take() : spanAt(head, tail);
        } while (head < floor);
        this.head = head;
        // Release, and before the Tail Intent: a consumer that acquire-loads an intent showing a
        // lap and then the Head finds a Head past the overwritten record.
        LONG.setRelease(region, HEAD_OFFSET, head);
    }

    private long spanAt(long position, long tail) {
        final long offset = position & mask;
        final long toEnd = capacity - offset;
        if (toEnd < HEADER_LENGTH) {
            return toEnd; // the implicit gap at the end of a lap
        }
        final long at = DATA_OFFSET + offset;
        final int length = (int) INT_U.get(region, at + LENGTH_OFFSET);
        final int type = (int) INT_U.get(region, at + TYPE_OFFSET);
        final long span = type == PADDING_TYPE ? length : align(length);
        final boolean sane = (type == PADDING_TYPE || (type > 0 && length - HEADER_LENGTH <= maxMessageLength))
                && span >= HEADER_LENGTH && span <= toEnd && (span & (ALIGNMENT - 1)) == 0
                && position + span <= tail;
        if (!sane) {
            throw new CorruptRingException(what + ": the producer found a corrupt record at position " + position
                    + " (offset " + offset + ") while advancing the head: length " + length + ", type " + type
                    + "; something wrote the data area outside a claim");
        }
        return span;
    }
}
