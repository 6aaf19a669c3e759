package io.sluice.ringbuffer;

import io.sluice.api.CorruptRingException;
import io.sluice.api.MessageProducer;
import io.sluice.api.RingKind;
import io.sluice.api.RingLayoutException;

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
 * The single producer of a broadcast ring (layout: {@link BroadcastRingDescriptor}). Not thread
 * safe, except {@link #addConsumer} and {@link #removeConsumer}, which any thread may call.
 *
 * <h2>Claim, write, commit</h2>
 * {@link #tryClaim} computes where the record goes (a padding record or implicit gap first if it
 * does not fit before the end of the data area), advances the Head past every record the claim
 * will overwrite, publishes the Tail Intent (release, then a store-store fence), writes the
 * padding and record headers, and returns the payload offset in {@link #buffer()}. The caller
 * writes the payload in place; {@link #commit} publishes Next Sequence, Tail and Latest with release
 * stores. {@link #abort} turns the claimed record into padding and publishes the Tail without
 * consuming a sequence number.
 *
 * <h2>Overflow</h2>
 * <ul>
 *   <li>{@link RingKind#BROADCAST_OVERWRITE}: the producer never waits. Consumers detect being
 *       lapped through the Tail Intent and resume at the Head.</li>
 *   <li>{@link RingKind#BROADCAST_BACKPRESSURE}: the claim fails with {@link #INSUFFICIENT_CAPACITY}
 *       rather than write past {@code p + capacity}, {@code p} being the lowest position among the
 *       consumers it gates on. It caches that limit and rereads the positions (acquire loads of
 *       each consumer's {@link BroadcastConsumerPositionDescriptor position region}) only when a
 *       claim would pass it. With no consumer registered nothing gates the producer.</li>
 * </ul>
 *
 * <h2>Consumers joining and leaving (backpressure)</h2>
 * {@link #addConsumer} and {@link #removeConsumer} publish a new copy-on-write
 * {@link BroadcastConsumerSet} with a release store; the hot path acquire-loads the reference once
 * per claim and, when it changed, <em>adopts</em> it: reads every position, recomputes the limit,
 * and release-stores the set's version into the ring's Gated Registration field. A joiner is
 * protected from that moment, not before:
 * <ol>
 *   <li>the joiner attaches ({@link BroadcastConsumer#attach}), choosing its start, and publishes
 *       that start in its position region;</li>
 *   <li>the host calls {@code addConsumer(region)} and hands the returned registration number to
 *       the joiner ({@link BroadcastConsumer#registered});</li>
 *   <li>the joiner delivers nothing until Gated Registration reaches its number. The producer
 *       adopts new sets in {@link #tryClaim} and {@link #refreshConsumers} — an idle producer should
 *       call the latter from its idle loop so joiners need not wait for the next message.</li>
 * </ol>
 * If the producer overwrote the joiner's start between steps 1 and 3 ("registered while the
 * producer is ahead"), it finds on adoption a position more than a capacity behind its tail, so it
 * cannot claim at all until that consumer moves; the joiner, once gated, sees the Tail Intent past
 * its start plus the capacity, reports the overwritten records as a lap (exact counts, as in
 * overwrite mode), resumes at the Head — which cannot move while the producer is stuck — and
 * publishes that position, which releases the producer. No record is ever delivered torn.
 *
 * <h2>Consumers it does not trust (backpressure)</h2>
 * A position region is written by its consumer's process. Every position the producer reads is
 * validated: not negative, a multiple of 8, not beyond the producer's tail, and not behind the
 * last value read from the same registration (the first read may be far behind: the lapped
 * joiner above). A consumer whose position fails is faulty, not the ring: it no longer gates the
 * producer — the producer must not be held, nor misled into overwriting the others' unread
 * records, by it — and it is reported once ({@link #onConsumerFault}, {@link #latestFault()}).
 * Like a removed consumer it is no longer protected; the host removes and detaches it. An honest
 * consumer that is merely slow, or dead, still holds the producer until the host removes it.
 */
public final class BroadcastProducer implements MessageProducer {
    private static final VarHandle LONG = RegionHeaderDescriptor.ALIGNED_U64.varHandle().withInvokeExactBehavior();
    private static final VarHandle INT_U = RegionHeaderDescriptor.U32.varHandle().withInvokeExactBehavior();
    private static final VarHandle LONG_U = RegionHeaderDescriptor.U64.varHandle().withInvokeExactBehavior();
    private static final long NO_CLAIM = -1;

    private final MemorySegment region;
    private final MemorySegment data;
    private final String what;
    private final RingKind kind;
    private final boolean backpressure;
    private final long capacity;
    private final long mask;
    private final int maxMessageLength;

    // Producer-thread state: the authoritative copies of the counters this producer publishes.
    private long tail;
    private long head;
    private long nextSequence;
    private long claimStart = NO_CLAIM;
    private long claimEnd;
    private long claimPayloadOffset;
    // Backpressure only (null on an overwrite ring): the consumers it gates on.
    private final BroadcastGate gate;

    private BroadcastProducer(MemorySegment region, String what, BroadcastRingDescriptor.Header header) {
        this.region = region;
        this.what = what;
        this.kind = header.kind();
        this.backpressure = kind == RingKind.BROADCAST_BACKPRESSURE;
        this.capacity = header.capacity();
        this.mask = capacity - 1;
        this.maxMessageLength = header.maxMessageLength();
        this.data = region.asSlice(DATA_OFFSET, capacity);
        // Continues the registration version a previous producer left (attach then checks it).
        this.gate = new BroadcastGate(region, what, capacity, (long) LONG.getAcquire(region, GATED_REGISTRATION_OFFSET));
    }

    /** See {@link BroadcastRing#attachProducer}. */
    static BroadcastProducer attach(MemorySegment ring, String name) {
        String what = Misuse.what("broadcast", name);
        Misuse.checkWritable(ring, what, "the producer", "ring region");
        BroadcastRingDescriptor.Header header = BroadcastRingDescriptor.validate(ring, what);
        BroadcastProducer producer = new BroadcastProducer(ring, what, header);
        producer.loadCounters();
        return producer;
    }

    private void loadCounters() {
        long intent = (long) LONG.getAcquire(region, TAIL_INTENT_OFFSET);
        long tail = (long) LONG.getAcquire(region, TAIL_OFFSET);
        long head = (long) LONG.getAcquire(region, HEAD_OFFSET);
        long latest = (long) LONG.getAcquire(region, LATEST_OFFSET);
        long nextSequence = (long) LONG.getAcquire(region, NEXT_SEQUENCE_OFFSET);
        long gated = (long) LONG.getAcquire(region, GATED_REGISTRATION_OFFSET);
        if (tail < 0 || (tail & (ALIGNMENT - 1)) != 0) {
            throw new RingLayoutException(what + ": tail " + tail + " is negative or not 8-byte aligned");
        }
        if (intent != tail) {
            throw new RingLayoutException(what + ": tail intent " + intent + " differs from tail " + tail
                    + ": another producer is active, or one died in the middle of a claim");
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
        this.tail = tail;
        this.head = head;
        this.nextSequence = nextSequence;
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalStateException if a claim is still open
     */
    @Override
    public long tryClaim(int type, int length) {
        if (type <= 0 || length < 0 || length > maxMessageLength) {
            throw Misuse.claimArguments(what, type, length, maxMessageLength);
        }
        if (claimStart != NO_CLAIM) {
            throw Misuse.claimStillOpen(what, claimPayloadOffset);
        }
        final long recordLength = HEADER_LENGTH + (long) length;
        final long span = align(recordLength);
        final long tail = this.tail;
        final long offset = tail & mask;
        // A record never wraps: if it does not fit before the end, the rest of the lap is padding.
        final long gap = offset + span > capacity ? capacity - offset : 0;
        final long newTail = tail + gap + span;
        if (backpressure && !gate.admits(newTail, tail)) {
            return INSUFFICIENT_CAPACITY;
        }

        advanceHead(newTail - capacity);
        // The seqlock "intent": release orders the Head store before it; the store-store fence
        // orders it before every byte of the claim, so a reader that sees any of those bytes and
        // then loads the intent sees this value (or a later one).
        LONG.setRelease(region, TAIL_INTENT_OFFSET, newTail);
        VarHandle.storeStoreFence();

        final long sequence = nextSequence;
        if (gap >= HEADER_LENGTH) {
            writeHeader(DATA_OFFSET + offset, (int) gap, PADDING_TYPE, sequence);
        }
        final long start = tail + gap;
        final long recordOffset = start & mask;
        writeHeader(DATA_OFFSET + recordOffset, (int) recordLength, type, sequence);

        claimStart = start;
        claimEnd = newTail;
        claimPayloadOffset = recordOffset + HEADER_LENGTH;
        return claimPayloadOffset;
    }

    private void writeHeader(long at, int length, int type, long sequence) {
        INT_U.set(region, at + LENGTH_OFFSET, length);
        INT_U.set(region, at + TYPE_OFFSET, type);
        LONG_U.set(region, at + SEQUENCE_OFFSET, sequence);
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalStateException    if nothing is claimed
     * @throws IllegalArgumentException if {@code offset} is not the open claim's
     */
    @Override
    public void commit(long offset) {
        checkClaim(offset, "commit");
        final long sequence = nextSequence + 1;
        // Next Sequence before Tail: a joiner at the tail reads Tail, Next Sequence, Tail Intent.
        LONG.setRelease(region, NEXT_SEQUENCE_OFFSET, sequence);
        // Publishes the record: everything written since the claim happens-before an acquire
        // load of Tail that sees it.
        LONG.setRelease(region, TAIL_OFFSET, claimEnd);
        // After Tail, so that a reader who acquire-loads Latest finds a Tail beyond that record.
        LONG.setRelease(region, LATEST_OFFSET, claimStart);
        nextSequence = sequence;
        tail = claimEnd;
        claimStart = NO_CLAIM;
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalStateException    if nothing is claimed
     * @throws IllegalArgumentException if {@code offset} is not the open claim's
     */
    @Override
    public void abort(long offset) {
        checkClaim(offset, "abort");
        final long at = DATA_OFFSET + (claimStart & mask);
        // The record becomes padding over its whole span; its Sequence (the one the claim would
        // have used) is exactly what a padding record carries: the next message's number.
        INT_U.set(region, at + TYPE_OFFSET, PADDING_TYPE);
        INT_U.set(region, at + LENGTH_OFFSET, (int) (claimEnd - claimStart));
        LONG.setRelease(region, TAIL_OFFSET, claimEnd);
        tail = claimEnd;
        claimStart = NO_CLAIM;
    }

    private void checkClaim(long offset, String operation) {
        if (claimStart == NO_CLAIM) {
            throw Misuse.noClaim(what, operation, offset);
        }
        if (offset != claimPayloadOffset) {
            throw Misuse.notTheClaim(what, operation, offset, claimPayloadOffset);
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>If the copy fails (the source's arena was closed meanwhile, say), the claim is aborted and
     * the exception propagates: consumers skip the aborted record and the next claim follows it.
     *
     * @return false if the ring has no room now (backpressure)
     * @throws IllegalArgumentException  as {@link #tryClaim}
     * @throws IndexOutOfBoundsException if the source range is outside {@code source} (checked
     *                                   before anything is claimed)
     * @throws IllegalStateException     if a claim is still open
     */
    @Override
    public boolean offer(int type, MemorySegment source, long sourceOffset, int length) {
        if (Misuse.outside(sourceOffset, length, source.byteSize())) {
            throw Misuse.offerArguments(what, type, sourceOffset, length, source.byteSize(), maxMessageLength);
        }
        final long at = tryClaim(type, length);
        if (at == INSUFFICIENT_CAPACITY) {
            return false;
        }
        try {
            MemorySegment.copy(source, sourceOffset, data, at, length);
        } catch (RuntimeException e) {
            abort(at);
            throw e;
        }
        commit(at);
        return true;
    }

    /**
     * Moves the Head to the first record start at or after {@code floor}, walking the headers of
     * the records the coming claim overwrites (this producer wrote them; nobody else may write the
     * data area). Because a claim spans less than the capacity, {@code floor < tail} and the walk
     * never reaches the claim itself.
     */
    private void advanceHead(long floor) {
        long head = this.head;
        if (head >= floor) {
            return;
        }
        final long tail = this.tail;
        do {
            head += spanAt(head, tail);
        } while (head < floor);
        this.head = head;
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

    /**
     * Makes the producer tell {@code listener} of each registered consumer whose position it
     * refuses (once per registration); that consumer gates the producer no more. Call before
     * producing, from the thread that starts the producer thread; the listener runs on the
     * producer thread ({@link ConsumerFaultListener}). The host typically removes that consumer
     * ({@link #removeConsumer}) and detaches it.
     */
    public void onConsumerFault(ConsumerFaultListener listener) {
        gate.onConsumerFault(listener);
    }

    /** The last consumer fault the producer found (volatile), or null if none. */
    public ConsumerFault latestFault() {
        return gate.latestFault();
    }

    /**
     * Producer thread only: adopts a consumer set changed by {@link #addConsumer} or
     * {@link #removeConsumer} since the last claim, acknowledging the new registrations in the
     * ring's Gated Registration field. {@link #tryClaim} does the same; call this when idle so that
     * joiners do not wait for the next message. Cheap when nothing changed (one acquire load).
     *
     * @return whether a new set was adopted
     */
    public boolean refreshConsumers() {
        return gate.refreshConsumers(tail);
    }

    /**
     * Any thread: whether the producer will never again read the position region of a consumer
     * removed before the set of {@code version} was published ({@link #requestedRegistration()}
     * right after the removal), so that the region may be unmapped now — also while the producer
     * is idle. False only while the producer is reading positions at this moment: ask again later.
     */
    public boolean isDoneWith(long version) {
        return gate.isDoneWith(version);
    }

    /**
     * Any thread: registers a consumer's position region; the producer gates on it from the
     * moment it adopts the new set (see the class comment for the joining protocol).
     *
     * @param positionRegion the consumer's position region (a read-only mapping is enough; the
     *                       producer keeps a read-only view)
     * @return the registration number: hand it to the consumer ({@link BroadcastConsumer#registered})
     *         and use it for {@link #removeConsumer}; positive, increasing
     * @throws IllegalStateException if the ring is not a backpressure ring
     * @throws RingLayoutException   if the region is not a valid position region
     */
    public long addConsumer(MemorySegment positionRegion) {
        requireBackpressure("addConsumer");
        return gate.addConsumer(positionRegion);
    }

    /**
     * Any thread: stops gating on a consumer (it detached, or the host saw it die). A consumer
     * removed while still reading is no longer protected: the producer may overwrite what it reads.
     *
     * @return false if that registration is not (or no longer) registered
     */
    public boolean removeConsumer(long registration) {
        requireBackpressure("removeConsumer");
        return gate.removeConsumer(registration);
    }

    /**
     * The latest consumer-set version requested by {@link #addConsumer}/{@link #removeConsumer}
     * (any thread). A removed consumer's position region may be unmapped once
     * {@link #adoptedRegistration()} has reached the version current right after its removal.
     */
    public long requestedRegistration() {
        return gate.requestedRegistration();
    }

    /** The consumer-set version the producer has adopted: the ring's Gated Registration (acquire). */
    public long adoptedRegistration() {
        return gate.adoptedRegistration();
    }

    private void requireBackpressure(String operation) {
        if (!backpressure) {
            throw new IllegalStateException(what + ": " + operation + " on an overwrite ring: its producer never"
                    + " reads consumer positions");
        }
    }

    /** The data area; offsets returned by {@link #tryClaim} index it. */
    @Override
    public MemorySegment buffer() {
        return data;
    }

    @Override
    public int maxMessageLength() {
        return maxMessageLength;
    }

    /** {@link RingKind#BROADCAST_BACKPRESSURE} or {@link RingKind#BROADCAST_OVERWRITE}. */
    public RingKind kind() {
        return kind;
    }

    /** Bytes in the data area. */
    public long capacity() {
        return capacity;
    }

    /** The ring position the next record will start at (the committed tail). */
    public long position() {
        return tail;
    }

    /** The sequence number the next committed message will carry. */
    public long nextSequence() {
        return nextSequence;
    }

    @Override
    public String toString() {
        return what + " producer at " + tail;
    }
}
