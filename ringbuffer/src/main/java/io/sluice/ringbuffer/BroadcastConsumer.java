package io.sluice.ringbuffer;

import io.sluice.api.CorruptRingException;
import io.sluice.api.MessageConsumer;
import io.sluice.api.MessageHandler;
import io.sluice.api.RingKind;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.Objects;

import static io.sluice.ringbuffer.BroadcastRecordCheck.aligned;
import static io.sluice.ringbuffer.BroadcastRecordDescriptor.HEADER_LENGTH;
import static io.sluice.ringbuffer.BroadcastRecordDescriptor.LENGTH_OFFSET;
import static io.sluice.ringbuffer.BroadcastRecordDescriptor.NOT_COMMITTED;
import static io.sluice.ringbuffer.BroadcastRecordDescriptor.PADDING_TYPE;
import static io.sluice.ringbuffer.BroadcastRecordDescriptor.SEQUENCE_OFFSET;
import static io.sluice.ringbuffer.BroadcastRecordDescriptor.TYPE_OFFSET;
import static io.sluice.ringbuffer.BroadcastRecordDescriptor.nextRecordStart;
import static io.sluice.ringbuffer.BroadcastRingDescriptor.DATA_OFFSET;
import static io.sluice.ringbuffer.BroadcastRingDescriptor.HEAD_OFFSET;
import static io.sluice.ringbuffer.BroadcastRingDescriptor.TAIL_INTENT_OFFSET;
import static io.sluice.ringbuffer.BroadcastRingDescriptor.TAIL_OFFSET;

/**
 * One read-only consumer of a broadcast ring (layout: {@link BroadcastRingDescriptor}). It reads
 * the ring through {@link MemorySegment#asReadOnly() a read-only view} and never writes it; its
 * only writes go to its own position region, if it has one. Not thread safe: one thread polls.
 *
 * <h2>Reading</h2>
 * {@link #poll} follows the records' commit words: it acquire-loads the Sequence at its cursor
 * and, if it is the number expected next, reads that record and the ones after it while theirs
 * are too, handing each message's payload to the handler as a read-only slice of the ring (no
 * copy). So a consumer that keeps up reads one cache line per message, the record's, as on the
 * SPSC ring. It reads up to an acquire load of the Tail instead when it does not know what to
 * expect (not anchored yet, after a lap), in its first poll and after each change of the
 * consumer set (backpressure: see below), when an overwrite ring has nothing new, and when the
 * Sequence at the cursor is neither not-committed nor expected (a lap or corruption, which the
 * Tail sorts out).
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
 *       release-stored at the end of each poll, after the handler calls returned. Whether it
 *       was lapped before the producer adopted it, or removed since, the consumer checks against
 *       the Tail Intent whenever the ring's Gated Registration differs from the one it last
 *       checked under (one load of a line the producer writes only when its consumer set
 *       changes). A consumer the producer no longer gates (removed, or registered with an earlier
 *       producer) is not protected: between those checks it may read a record overwritten under
 *       it without noticing; its host detaches it.</li>
 * </ul>
 *
 * <h2>Lap accounting</h2>
 * Every record header carries a sequence (see {@link BroadcastRecordDescriptor}), so after a lap
 * the first intact record tells exactly how many messages were lost; {@link #lapCount()},
 * {@link #lostMessages()}, {@link #lostBytes()} and an optional {@link BroadcastLapListener}
 * report it. A lap counts once however many times the consumer had to resynchronise.
 */
public final class BroadcastConsumer implements MessageConsumer {
    private static final VarHandle LONG = RegionHeaderDescriptor.ALIGNED_U64.varHandle().withInvokeExactBehavior();
    private static final VarHandle INT_U = RegionHeaderDescriptor.U32.varHandle().withInvokeExactBehavior();
    /** {@link #drain}'s bound when records are read by their commit words, not up to the Tail. */
    private static final long NO_TAIL = Long.MAX_VALUE;

    private final MemorySegment region;
    private final MemorySegment positionRegion;
    private final String what;
    private final RingKind kind;
    private final boolean overwrite;
    private final long capacity;
    private final long mask;
    private final int maxMessageLength;

    private final BroadcastRecordCheck check;
    private final BroadcastLaps laps;
    private final BroadcastRegistration registration;

    private long cursor;
    private long publishedPosition = -1;
    private long recordPosition = -1;
    private long sequence = -1;

    private BroadcastConsumer(MemorySegment region, MemorySegment positionRegion, String what,
                              BroadcastRingDescriptor.Header header, boolean tap) {
        this.region = region;
        this.positionRegion = positionRegion;
        this.what = what;
        this.kind = header.kind();
        // A tap reads as on an overwrite ring whatever the policy: nobody waits for it.
        this.overwrite = tap || kind == RingKind.BROADCAST_OVERWRITE;
        this.capacity = header.capacity();
        this.mask = capacity - 1;
        this.maxMessageLength = header.maxMessageLength();
        this.check = new BroadcastRecordCheck(what, capacity, maxMessageLength);
        this.laps = new BroadcastLaps(check);
        this.registration = new BroadcastRegistration(region, what, overwrite);
    }

    /** See {@link BroadcastRing#attachConsumer}. */
    static BroadcastConsumer attach(MemorySegment ring, MemorySegment positionRegion, BroadcastStart start,
                                    String name) {
        return attach(ring, positionRegion, start, name, false);
    }

    /** See {@link BroadcastRing#attachTap}. */
    static BroadcastConsumer attachTap(MemorySegment ring, BroadcastStart start, String name) {
        return attach(ring, null, start, name, true);
    }

    private static BroadcastConsumer attach(MemorySegment ring, MemorySegment positionRegion, BroadcastStart start,
                                            String name, boolean tap) {
        Objects.requireNonNull(ring, "ring region");
        Objects.requireNonNull(start, "start");
        String what = Misuse.what("broadcast", name);
        MemorySegment view = ring.asReadOnly();
        BroadcastRingDescriptor.Header header = BroadcastRingDescriptor.validate(view, what);
        if (!tap && positionRegion == null && header.kind() == RingKind.BROADCAST_BACKPRESSURE) {
            throw new IllegalArgumentException(what + ": a backpressure consumer needs a position region");
        }
        if (positionRegion != null) {
            Misuse.checkWritable(positionRegion, what, "the consumer", "position region");
        }
        BroadcastConsumer consumer = new BroadcastConsumer(view, positionRegion, what, header, tap);
        consumer.cursor = BroadcastConsumerStart.choose(view, what, consumer.capacity, start, consumer.check,
                consumer.laps);
        if (positionRegion != null) {
            BroadcastConsumerPositionDescriptor.format(positionRegion, consumer.cursor);
            consumer.publishedPosition = consumer.cursor;
            consumer.laps.publishTo(positionRegion);
        }
        return consumer;
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
        if (!registration.isGated()) {
            return 0;
        }
        // The fast path: the record at the cursor is committed when its Sequence, the commit
        // word, holds the number this consumer expects (every slot after a committed record holds
        // NOT_COMMITTED until its own commit). It reads only the record's line.
        final long expected = laps.expectedSequence();
        if (expected >= 0) {
            final long seq = (long) LONG.getAcquire(region, sequenceAddress(cursor));
            final boolean settled = overwrite || registration.isSettled();
            if (seq == expected && settled) {
                return drain(handler, limit, NO_TAIL);
            }
            if (seq == NOT_COMMITTED && settled && !overwrite) {
                return 0;
            }
        }
        // Anything else (not anchored yet, a lap, a change of the consumer set, corruption, or
        // an overwrite ring with nothing new) is sorted out against the Tail.
        final long gatedRegistration = registration.gatedRegistration();
        final long tail = (long) LONG.getAcquire(region, TAIL_OFFSET);
        if (cursor >= tail) {
            registration.settle(gatedRegistration);
            return 0;
        }
        // Records are read by drain, entered only with something to read: inside one method the
        // JIT would profile the delivery as rare next to the empty polls of a spinning consumer,
        // decline to inline handler and slice, and allocate a slice per message (SpscConsumer.poll
        // says more).
        final int delivered = drain(handler, limit, tail);
        registration.settle(gatedRegistration);
        return delivered;
    }

    /** Address of the Sequence of the record slot at {@code position} (past the implicit gap, if there). */
    private long sequenceAddress(long position) {
        return DATA_OFFSET + (nextRecordStart(position, capacity) & mask) + SEQUENCE_OFFSET;
    }

    /**
     * Delivers records from the cursor: up to {@code tail}, or, with {@link #NO_TAIL}, as long as
     * each record's Sequence shows its commit (the number expected next).
     */
    private int drain(MessageHandler handler, int limit, long tail) {
        final MemorySegment region = this.region;
        boolean stamped = tail == NO_TAIL;
        long cursor = this.cursor;
        int delivered = 0;
        int resyncs = 0;
        try {
            if (!overwrite && !stamped) {
                // Gated, nothing can overwrite us; when the consumer set changed, catch the cases
                // where we were not gated: lapped before the producer adopted us, or removed.
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
                // Past the implicit gap, if the cursor is in it; the cursor moves there only once
                // the record there is known to be committed (a published position never passes
                // the producer's tail).
                final long start = nextRecordStart(cursor, capacity);
                if (start >= tail) {
                    cursor = start; // the tail itself is past the gap: nothing more to read
                    break;
                }
                final long at = DATA_OFFSET + (start & mask);
                // Acquire: the commit word first, the rest of the header and the payload after it.
                final long seq = (long) LONG.getAcquire(region, at + SEQUENCE_OFFSET);
                // An expectation not known (-1) never meets a commit word: -1 is also NOT_COMMITTED.
                if (stamped && (laps.expectedSequence() < 0 || seq != laps.expectedSequence())) {
                    if (!overwrite || seq == NOT_COMMITTED) {
                        break; // not committed yet (backpressure: anything else is the next poll's, against the Tail)
                    }
                    // Another number on an overwrite ring: a lap under way (or corruption); the
                    // Tail and the seqlock check below sort it out.
                    tail = (long) LONG.getAcquire(region, TAIL_OFFSET);
                    stamped = false;
                    continue;
                }
                cursor = start;
                final int length = (int) INT_U.get(region, at + LENGTH_OFFSET);
                final int type = (int) INT_U.get(region, at + TYPE_OFFSET);
                if (overwrite) {
                    // Seqlock check: the header loads above before the intent load below.
                    VarHandle.loadLoadFence();
                    if ((long) LONG.getAcquire(region, TAIL_INTENT_OFFSET) - capacity > cursor) {
                        if (++resyncs > limit) {
                            break; // bounded work per poll even against a producer that laps us forever
                        }
                        cursor = resync(cursor);
                        tail = (long) LONG.getAcquire(region, TAIL_OFFSET);
                        stamped = false; // from the Head on, read up to the Tail
                        continue;
                    }
                }
                final long span = check.span(cursor, length, type, tail);
                laps.check(cursor, seq);
                if (type == PADDING_TYPE) {
                    cursor += span;
                    continue;
                }
                recordPosition = cursor;
                sequence = seq;
                laps.delivered(seq);
                cursor += span;
                delivered++;
                handler.onMessage(type, PayloadSlice.of(region, at + HEADER_LENGTH, length - HEADER_LENGTH));
            }
        } finally {
            this.cursor = cursor;
            publishPosition(cursor);
        }
        return delivered;
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
        laps.lappedAt(cursor);
        return head;
    }

    private void publishPosition(long cursor) {
        if (positionRegion != null && cursor != publishedPosition) {
            // Release: the handler's reads of everything before cursor happen-before the
            // producer's acquire load that lets it overwrite them.
            LONG.setRelease(positionRegion, BroadcastConsumerPositionDescriptor.POSITION_OFFSET, cursor);
            publishedPosition = cursor;
            // For monitors only, after the position: opaque, on the position's line. Only the two
            // counts every delivery moves; laps and losses are stored where they change (BroadcastLaps).
            LONG.setOpaque(positionRegion, BroadcastConsumerPositionDescriptor.DELIVERED_OFFSET, laps.delivered());
            LONG.setOpaque(positionRegion, BroadcastConsumerPositionDescriptor.NEXT_SEQUENCE_OFFSET, laps.nextSequence());
        }
    }

    /**
     * Whether the message last handed to the handler is still intact: true if the producer has
     * not started overwriting it. Called by the handler after it read the payload (and before it
     * acts on it), this is the second half of the seqlock: if it returns true, every byte the
     * handler read was the committed payload; if false, anything read may be torn and must be
     * discarded. Always true while a backpressure consumer is gated.
     *
     * @return true if every byte the handler read of the last message was the committed payload
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
     * @param registration the number {@link BroadcastProducer#addConsumer} returned for this consumer's position region
     * @throws IllegalStateException    on an overwrite ring, or if already registered
     * @throws IllegalArgumentException if {@code registration} is not positive
     */
    public void registered(long registration) {
        this.registration.register(registration);
    }

    /**
     * Whether the producer gates on this consumer yet (always true on overwrite rings). Checks the
     * ring's Gated Registration if not known yet.
     *
     * @return whether the producer gates on this consumer, so that it may deliver
     */
    public boolean isGated() {
        return registration.isGated();
    }

    /**
     * Sets (or clears, with null) the listener told about laps.
     *
     * @param listener told of each lap on the polling thread, from within {@link #poll}; null for nobody
     */
    public void lapListener(BroadcastLapListener listener) {
        laps.listener(listener);
    }

    /** {@return laps so far: each a discontinuity in the delivered stream} */
    public long lapCount() {
        return laps.count();
    }

    /** {@return messages lost to laps so far (exact: a difference of record sequences)} */
    public long lostMessages() {
        return laps.lostMessages();
    }

    /** {@return ring bytes skipped by laps so far} */
    public long lostBytes() {
        return laps.lostBytes();
    }

    /** {@return the sequence of the message last handed to the handler, or -1} */
    public long sequence() {
        return sequence;
    }

    /** {@return the sequence the next message is expected to carry, or -1 if not anchored yet} */
    public long nextSequence() {
        return laps.nextSequence();
    }

    /** {@return the ring position of the next record to read} */
    public long position() {
        return cursor;
    }

    /** {@return a read-only view of this consumer's position region, for the producer; null if none} */
    public MemorySegment positionRegion() {
        return positionRegion == null ? null : positionRegion.asReadOnly();
    }

    /** {@return {@link RingKind#BROADCAST_BACKPRESSURE} or {@link RingKind#BROADCAST_OVERWRITE}, as the ring header says} */
    public RingKind kind() {
        return kind;
    }

    /**
     * The read-only segment every payload this consumer hands to a handler is a slice of, for
     * code that keeps a reference across messages without keeping the slice (a buffer view
     * re-pointed per message keeps this segment and a payload's offset in it, the difference of
     * their addresses).
     * Keeping the payload slice itself in a field makes the JIT allocate it, 40 bytes a message;
     * an offset into this segment costs nothing.
     *
     * @return a read-only segment over the ring this consumer reads; valid as long as the ring is
     */
    public MemorySegment buffer() {
        return region.asReadOnly();
    }

    /** {@return bytes in the data area, a power of two} */
    public long capacity() {
        return capacity;
    }

    /** {@return the longest payload a record of this ring carries, in bytes} */
    public int maxMessageLength() {
        return maxMessageLength;
    }

    @Override
    public String toString() {
        return what + " consumer at " + cursor;
    }
}
