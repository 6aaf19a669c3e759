package io.sluice.ringbuffer;

import io.sluice.api.CorruptRingException;
import io.sluice.api.MessageConsumer;
import io.sluice.api.MessageHandler;
import io.sluice.api.RingKind;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.Objects;

import static io.sluice.ringbuffer.BroadcastRecordDescriptor.ALIGNMENT;
import static io.sluice.ringbuffer.BroadcastRecordDescriptor.HEADER_LENGTH;
import static io.sluice.ringbuffer.BroadcastRecordDescriptor.LENGTH_OFFSET;
import static io.sluice.ringbuffer.BroadcastRecordDescriptor.PADDING_TYPE;
import static io.sluice.ringbuffer.BroadcastRecordDescriptor.SEQUENCE_OFFSET;
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
 * One read-only consumer of a broadcast ring (layout: {@link BroadcastRingDescriptor}). It reads
 * the ring through {@link MemorySegment#asReadOnly() a read-only view} and never writes it; its
 * only writes go to its own position region, if it has one. Not thread safe: one thread polls.
 *
 * <h2>Reading</h2>
 * {@link #poll} acquire-loads the Tail once, then walks records up to it, handing each message's
 * payload to the handler as a read-only slice of the ring (no copy).
 * <ul>
 *   <li><b>Overwrite rings.</b> The producer may overwrite a record while it is read. After
 *       loading a record header the consumer issues a load-load fence and checks the Tail Intent:
 *       if it passed the record's position plus the capacity, the header may be torn — that is a
 *       lap, not corruption; the consumer resumes at the Head (the oldest record still intact) and
 *       counts what it lost. Only a header that is still intact <em>and</em> impossible is
 *       reported as {@link CorruptRingException}. The payload is read by the handler, in place, so
 *       only the handler knows when it finished reading: it calls {@link #isStillValid()} then
 *       (the seqlock's second check) and discards what it read if that returns false.</li>
 *   <li><b>Backpressure rings.</b> Once gated, the producer never writes past this consumer's
 *       published position plus the capacity, so records are stable while read. The position is
 *       release-stored at the end of each poll, after the handler calls returned.</li>
 * </ul>
 *
 * <h2>Lap accounting</h2>
 * Every record header carries a sequence (see {@link BroadcastRecordDescriptor}). The consumer
 * anchors its expected sequence when it attaches and checks every record against it. After a lap,
 * the first intact record it reads tells exactly how many messages it lost
 * ({@code its sequence - the expected one}); {@link #lapCount()}, {@link #lostMessages()},
 * {@link #lostBytes()} and an optional {@link BroadcastLapListener} report it. A lap counts once
 * however many times the consumer had to resynchronise before reading an intact record.
 */
public final class BroadcastConsumer implements MessageConsumer {
    private static final VarHandle LONG = RegionHeaderDescriptor.ALIGNED_U64.varHandle().withInvokeExactBehavior();
    private static final VarHandle INT_U = RegionHeaderDescriptor.U32.varHandle().withInvokeExactBehavior();
    private static final VarHandle LONG_U = RegionHeaderDescriptor.U64.varHandle().withInvokeExactBehavior();

    /** Attempts at reading a consistent start before giving up and anchoring on the first read. */
    private static final int START_ATTEMPTS = 10_000;
    private static final long UNREGISTERED = 0;

    private final MemorySegment region;
    private final MemorySegment positionRegion;
    private final String what;
    private final RingKind kind;
    private final boolean overwrite;
    private final long capacity;
    private final long mask;
    private final int maxMessageLength;

    private long cursor;
    private long publishedPosition = -1;
    private boolean anchored;
    private long expectedSequence = -1;
    private long recordPosition = -1;
    private long sequence = -1;

    private long registration = UNREGISTERED;
    private boolean gated;

    private boolean lapPending;
    private long lapFrom;
    private final BroadcastLaps laps = new BroadcastLaps();

    private BroadcastConsumer(MemorySegment region, MemorySegment positionRegion, String what,
                              BroadcastRingDescriptor.Header header) {
        this.region = region;
        this.positionRegion = positionRegion;
        this.what = what;
        this.kind = header.kind();
        this.overwrite = kind == RingKind.BROADCAST_OVERWRITE;
        this.capacity = header.capacity();
        this.mask = capacity - 1;
        this.maxMessageLength = header.maxMessageLength();
        this.gated = overwrite; // an overwrite producer reads no positions: nothing to wait for
    }

    /** See {@link BroadcastRing#attachConsumer}. */
    static BroadcastConsumer attach(MemorySegment ring, MemorySegment positionRegion, BroadcastStart start,
                                    String name) {
        Objects.requireNonNull(ring, "ring region");
        Objects.requireNonNull(start, "start");
        String what = Misuse.what("broadcast", name);
        MemorySegment view = ring.asReadOnly();
        BroadcastRingDescriptor.Header header = BroadcastRingDescriptor.validate(view, what);
        if (positionRegion == null && header.kind() == RingKind.BROADCAST_BACKPRESSURE) {
            throw new IllegalArgumentException(what + ": a backpressure consumer needs a position region");
        }
        if (positionRegion != null) {
            Misuse.checkWritable(positionRegion, what, "the consumer", "position region");
        }
        BroadcastConsumer consumer = new BroadcastConsumer(view, positionRegion, what, header);
        consumer.start(start);
        if (positionRegion != null) {
            BroadcastConsumerPositionDescriptor.format(positionRegion, consumer.cursor);
            consumer.publishedPosition = consumer.cursor;
        }
        return consumer;
    }

    /**
     * Chooses the start position and anchors the expected sequence there. Reading the start
     * record's header races with an overwriting producer, so the header is checked against the Tail
     * Intent like any other; at the tail the sequence comes from the Next Sequence counter, valid
     * only if no claim is in flight (Tail Intent == Tail). Retries a bounded number of times; if a
     * claim stays in flight throughout, the consumer anchors on the first record it reads.
     */
    private void start(BroadcastStart policy) {
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
                long at = candidate;
                final long toEnd = capacity - (at & mask);
                if (toEnd < HEADER_LENGTH) {
                    at += toEnd; // the Head may sit in the implicit gap; the record follows it
                }
                final long base = DATA_OFFSET + (at & mask);
                final int length = (int) INT_U.get(region, base + LENGTH_OFFSET);
                final int type = (int) INT_U.get(region, base + TYPE_OFFSET);
                final long seq = (long) LONG_U.get(region, base + SEQUENCE_OFFSET);
                VarHandle.loadLoadFence();
                if ((long) LONG.getAcquire(region, TAIL_INTENT_OFFSET) - capacity > candidate) {
                    Thread.onSpinWait(); // overwritten while we read it: choose again
                    continue;
                }
                checkRecord(at, length, type, tail);
                if (seq < 0) {
                    throw corrupt(at, "negative sequence " + seq);
                }
                anchor(candidate, seq);
                return;
            }
            final long seq = (long) LONG.getAcquire(region, NEXT_SEQUENCE_OFFSET);
            final long intent = (long) LONG.getAcquire(region, TAIL_INTENT_OFFSET);
            if (intent == tail) {
                if (seq < 0) {
                    throw new CorruptRingException(what + ": negative next sequence " + seq);
                }
                anchor(tail, seq);
                return;
            }
            if (intent < tail) {
                throw new CorruptRingException(what + ": tail intent " + intent + " is behind tail " + tail);
            }
            Thread.onSpinWait(); // a claim is in flight at the tail; its sequence is not published yet
        }
        cursor = candidate;
        anchored = false;
    }

    private void anchor(long position, long seq) {
        cursor = position;
        expectedSequence = seq;
        anchored = true;
    }

    /**
     * Hands up to {@code limit} messages to {@code handler}, each as a read-only slice of the ring
     * valid until the handler returns. On an overwrite ring the handler must call
     * {@link #isStillValid()} after reading the slice and before trusting what it read.
     * A message whose handler throws counts as consumed.
     *
     * @return messages handed to the handler; 0 if none is available, or (backpressure) the
     *         consumer is not yet gated
     * @throws IllegalArgumentException if {@code limit < 1}
     * @throws CorruptRingException     if an intact record header is impossible (length, type,
     *                                  sequence, or extent), or the counters are
     */
    @Override
    public int poll(MessageHandler handler, int limit) {
        if (limit < 1) {
            throw Misuse.pollLimit(what, limit);
        }
        if (!gated && !tryGate()) {
            return 0;
        }
        final long tail = (long) LONG.getAcquire(region, TAIL_OFFSET);
        if (cursor >= tail) {
            return 0;
        }
        // Records are read by drain, entered only with something to read: inside one method the
        // JIT would profile the delivery as rare next to the empty polls of a spinning consumer,
        // decline to inline handler and slice, and allocate a slice per message (SpscConsumer.poll
        // says more).
        return drain(handler, limit, tail);
    }

    private int drain(MessageHandler handler, int limit, long tail) {
        final MemorySegment region = this.region;
        long cursor = this.cursor;
        int delivered = 0;
        int resyncs = 0;
        try {
            if (!overwrite) {
                // Gated, nothing can overwrite us; once per poll, catch the cases where we were
                // not gated: lapped before the producer adopted us, or removed while reading.
                final long intent = (long) LONG.getAcquire(region, TAIL_INTENT_OFFSET);
                if (intent < tail) {
                    throw new CorruptRingException(what + ": tail intent " + intent + " is behind tail " + tail);
                }
                if (intent - capacity > cursor) {
                    cursor = resync(cursor);
                    tail = (long) LONG.getAcquire(region, TAIL_OFFSET);
                    resyncs++;
                }
            }
            while (delivered < limit && cursor < tail) {
                final long offset = cursor & mask;
                final long toEnd = capacity - offset;
                if (toEnd < HEADER_LENGTH) {
                    cursor += toEnd; // implicit gap: nothing is written there
                    continue;
                }
                final long at = DATA_OFFSET + offset;
                final int length = (int) INT_U.get(region, at + LENGTH_OFFSET);
                final int type = (int) INT_U.get(region, at + TYPE_OFFSET);
                final long seq = (long) LONG_U.get(region, at + SEQUENCE_OFFSET);
                if (overwrite) {
                    // Seqlock check: the header loads above before the intent load below.
                    VarHandle.loadLoadFence();
                    if ((long) LONG.getAcquire(region, TAIL_INTENT_OFFSET) - capacity > cursor) {
                        if (++resyncs > limit) {
                            break; // bounded work per poll even against a producer that laps us forever
                        }
                        cursor = resync(cursor);
                        tail = (long) LONG.getAcquire(region, TAIL_OFFSET);
                        continue;
                    }
                }
                final long span = checkRecord(cursor, length, type, tail);
                checkSequence(cursor, seq);
                if (type == PADDING_TYPE) {
                    cursor += span;
                    continue;
                }
                recordPosition = cursor;
                sequence = seq;
                expectedSequence = seq + 1;
                cursor += span;
                delivered++;
                handler.onMessage(type, region.asSlice(at + HEADER_LENGTH, length - HEADER_LENGTH));
            }
        } finally {
            this.cursor = cursor;
            publishPosition(cursor);
        }
        return delivered;
    }

    private boolean tryGate() {
        if (registration == UNREGISTERED
                || (long) LONG.getAcquire(region, GATED_REGISTRATION_OFFSET) < registration) {
            return false;
        }
        gated = true;
        return true;
    }

    /**
     * Called when the record at {@code cursor} was found overwritten. The Head is acquire-loaded
     * after the Tail Intent that showed the lap, and the producer release-stores Head before Tail
     * Intent, so Head >= that intent - capacity > cursor.
     */
    private long resync(long cursor) {
        final long head = (long) LONG.getAcquire(region, HEAD_OFFSET);
        if (head <= cursor || !aligned(head)) {
            throw new CorruptRingException(what + ": lapped at position " + cursor + " but the head " + head
                    + " is not an aligned position past it");
        }
        if (anchored && !lapPending) {
            lapPending = true;
            lapFrom = cursor;
        }
        return head;
    }

    /** Returns the record's span, or throws if the (intact) header is impossible. */
    private long checkRecord(long position, int length, int type, long tail) {
        final long toEnd = capacity - (position & mask);
        final long span;
        if (type == PADDING_TYPE) {
            if (length < HEADER_LENGTH || !aligned(length) || length > toEnd) {
                throw corrupt(position, "padding length " + length + " (must be a multiple of " + ALIGNMENT
                        + " in [" + HEADER_LENGTH + ", " + toEnd + "])");
            }
            span = length;
        } else if (type > 0) {
            if (length < HEADER_LENGTH || length - HEADER_LENGTH > maxMessageLength) {
                throw corrupt(position, "message length " + length + " (header " + HEADER_LENGTH
                        + " plus at most " + maxMessageLength + ")");
            }
            span = align(length);
            if (span > toEnd) {
                throw corrupt(position, "message of length " + length + " crosses the end of the data area ("
                        + toEnd + " bytes left)");
            }
        } else {
            throw corrupt(position, "unknown record type " + type);
        }
        if (position + span > tail) {
            throw corrupt(position, "record of " + span + " bytes ends past the tail " + tail);
        }
        return span;
    }

    private void checkSequence(long position, long seq) {
        if (seq == expectedSequence && !lapPending) {
            return;
        }
        if (!anchored) {
            if (seq < 0) {
                throw corrupt(position, "negative sequence " + seq);
            }
            anchored = true;
            expectedSequence = seq;
            return;
        }
        if (!lapPending) {
            throw corrupt(position, "sequence " + seq + ", expected " + expectedSequence);
        }
        final long lost = seq - expectedSequence;
        if (lost < 0) {
            throw corrupt(position, "sequence " + seq + " after a lap is behind the expected " + expectedSequence);
        }
        lapPending = false;
        expectedSequence = seq;
        laps.lapped(lost, position - lapFrom);
    }

    private void publishPosition(long cursor) {
        if (positionRegion != null && cursor != publishedPosition) {
            // Release: the handler's reads of everything before cursor happen-before the
            // producer's acquire load that lets it overwrite them.
            LONG.setRelease(positionRegion, BroadcastConsumerPositionDescriptor.POSITION_OFFSET, cursor);
            publishedPosition = cursor;
        }
    }

    private CorruptRingException corrupt(long position, String problem) {
        return new CorruptRingException(what + ": corrupt record at position " + position + " (offset "
                + (position & mask) + "): " + problem);
    }

    private static boolean aligned(long value) {
        return (value & (ALIGNMENT - 1)) == 0;
    }

    /**
     * Whether the message last handed to the handler is still intact: true if the producer has
     * not started overwriting it. Called by the handler after it read the payload (and before it
     * acts on it), this is the second half of the seqlock: if it returns true, every byte the
     * handler read was the committed payload; if false, anything read may be torn and must be
     * discarded. Always true while a backpressure consumer is gated.
     *
     * @throws IllegalStateException if no message was delivered yet
     */
    public boolean isStillValid() {
        if (recordPosition < 0) {
            throw new IllegalStateException(what + ": no message delivered yet");
        }
        // The handler's loads of the payload before the intent load.
        VarHandle.loadLoadFence();
        return (long) LONG.getAcquire(region, TAIL_INTENT_OFFSET) - capacity <= recordPosition;
    }

    /**
     * Backpressure rings: tells the consumer the registration number the producer's
     * {@link BroadcastProducer#addConsumer} returned for its position region. The consumer starts
     * delivering once the producer has adopted it.
     *
     * @throws IllegalStateException    on an overwrite ring, or if already registered
     * @throws IllegalArgumentException if {@code registration} is not positive
     */
    public void registered(long registration) {
        if (overwrite) {
            throw new IllegalStateException(what + ": overwrite rings do not register consumers");
        }
        if (registration <= 0) {
            throw new IllegalArgumentException(what + ": registration " + registration + " is not positive");
        }
        if (this.registration != UNREGISTERED) {
            throw new IllegalStateException(what + ": already registered as " + this.registration);
        }
        this.registration = registration;
    }

    /**
     * Whether the producer gates on this consumer yet (always true on overwrite rings). Checks the
     * ring's Gated Registration if not known yet.
     */
    public boolean isGated() {
        return gated || tryGate();
    }

    /** Sets (or clears, with null) the listener told about laps. */
    public void lapListener(BroadcastLapListener listener) {
        laps.listener(listener);
    }

    /** Laps so far: each a discontinuity in the delivered stream. */
    public long lapCount() {
        return laps.count();
    }

    /** Messages lost to laps so far (exact: a difference of record sequences). */
    public long lostMessages() {
        return laps.lostMessages();
    }

    /** Ring bytes skipped by laps so far. */
    public long lostBytes() {
        return laps.lostBytes();
    }

    /** The sequence of the message last handed to the handler, or -1. */
    public long sequence() {
        return sequence;
    }

    /** The sequence the next message is expected to carry, or -1 if not anchored yet. */
    public long nextSequence() {
        return anchored ? expectedSequence : -1;
    }

    /** The ring position of the next record to read. */
    public long position() {
        return cursor;
    }

    /** A read-only view of this consumer's position region, for the producer; null if none. */
    public MemorySegment positionRegion() {
        return positionRegion == null ? null : positionRegion.asReadOnly();
    }

    public RingKind kind() {
        return kind;
    }

    public long capacity() {
        return capacity;
    }

    public int maxMessageLength() {
        return maxMessageLength;
    }

    @Override
    public String toString() {
        return what + " consumer at " + cursor;
    }
}
