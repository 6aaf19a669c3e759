package io.sluice.ringbuffer;

import io.sluice.api.MessageProducer;
import io.sluice.api.RingKind;
import io.sluice.api.RingLayoutException;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

import static io.sluice.ringbuffer.BroadcastRecordDescriptor.HEADER_LENGTH;
import static io.sluice.ringbuffer.BroadcastRecordDescriptor.LENGTH_OFFSET;
import static io.sluice.ringbuffer.BroadcastRecordDescriptor.NOT_COMMITTED;
import static io.sluice.ringbuffer.BroadcastRecordDescriptor.PADDING_TYPE;
import static io.sluice.ringbuffer.BroadcastRecordDescriptor.SEQUENCE_OFFSET;
import static io.sluice.ringbuffer.BroadcastRecordDescriptor.TYPE_OFFSET;
import static io.sluice.ringbuffer.BroadcastRecordDescriptor.align;
import static io.sluice.ringbuffer.BroadcastRecordDescriptor.reach;
import static io.sluice.ringbuffer.BroadcastRingDescriptor.DATA_OFFSET;
import static io.sluice.ringbuffer.BroadcastRingDescriptor.LATEST_OFFSET;
import static io.sluice.ringbuffer.BroadcastRingDescriptor.NEXT_SEQUENCE_OFFSET;
import static io.sluice.ringbuffer.BroadcastRingDescriptor.TAIL_OFFSET;

/**
 * The single producer of a broadcast ring (layout: {@link BroadcastRingDescriptor}). Not thread
 * safe, except {@link #addConsumer} and {@link #removeConsumer}, which any thread may call.
 *
 * <h2>Claim, write, commit</h2>
 * {@link #tryClaim} computes where the record goes (a padding record or implicit gap first if it
 * does not fit before the end of the data area), advances the Head past every record the claim
 * will overwrite, publishes the Tail Intent (release, then a store-store fence), marks the
 * Sequence of the slot after the record not committed, writes the padding and record headers except
 * their Sequences, and returns the payload offset in {@link #buffer()}. The caller writes the
 * payload in place; {@link #commit} release-stores the Sequences (the commit words consumers
 * follow, {@link BroadcastRecordDescriptor}), then Next Sequence, Tail and Latest. {@link #abort}
 * turns the claimed record into padding and publishes it the same way without consuming a
 * sequence number. A claim writes 16 bytes past its record (the mark), so a backpressure ring
 * holds records up to its capacity less 16 bytes ahead of its slowest consumer.
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
 * A joiner is protected from the moment the producer adopts the consumer set that holds it, not
 * before:
 * <ol>
 *   <li>the joiner attaches ({@link BroadcastRing#attachConsumer}), choosing its start, and
 *       publishes that start in its position region;</li>
 *   <li>the host calls {@link #addConsumer} with that region and hands the returned registration
 *       number to the joiner ({@link BroadcastConsumer#registered});</li>
 *   <li>the joiner delivers nothing until the ring's Gated Registration reaches its number. The
 *       producer adopts new sets in {@link #tryClaim} and {@link #refreshConsumers} — an idle
 *       producer should call the latter from its idle loop so joiners need not wait.</li>
 * </ol>
 * A joiner whose start was overwritten before adoption reports a lap and resumes at the Head; no
 * record is ever delivered torn. Every position the producer reads is validated: a consumer that
 * publishes an impossible one gates it no more and is reported once ({@link #onConsumerFault},
 * {@link #latestFault()}); the host removes and detaches it. An honest consumer that is merely
 * slow, or dead, holds the producer until the host removes it.
 */
public final class BroadcastProducer extends ProducerCounters implements MessageProducer {
    private static final VarHandle LONG = RegionHeaderDescriptor.ALIGNED_U64.varHandle().withInvokeExactBehavior();
    private static final VarHandle INT_U = RegionHeaderDescriptor.U32.varHandle().withInvokeExactBehavior();
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
    private long nextSequence;
    private long claimStart = NO_CLAIM;
    private long claimEnd;
    private long claimPayloadOffset;
    // What a claim overwrites: the Head walk and the Tail Intent (both policies).
    private final BroadcastOverwrite overwrite;
    // The consumers it gates on: consulted on backpressure rings only (empty on an overwrite ring).
    private final BroadcastGate gate;
    // Wakes parked consumers after commits; null (the default) when consumers only spin. Set
    // once before the producer thread starts producing (see wakeParkedConsumersWith).
    private BroadcastWakeup wakeup;

    private BroadcastProducer(MemorySegment region, String what, BroadcastRingDescriptor.Header header,
                              BroadcastOverwrite overwrite) {
        this.region = region;
        this.what = what;
        this.kind = header.kind();
        this.backpressure = kind == RingKind.BROADCAST_BACKPRESSURE;
        this.capacity = header.capacity();
        this.mask = capacity - 1;
        this.maxMessageLength = header.maxMessageLength();
        this.data = region.asSlice(DATA_OFFSET, capacity);
        this.overwrite = overwrite;
        this.tail = overwrite.resumedTail;
        this.nextSequence = overwrite.resumedNextSequence;
        this.gate = new BroadcastGate(region, what, header);
    }

    /** See {@link BroadcastRing#attachProducer}. */
    static BroadcastProducer attach(MemorySegment ring, String name) {
        String what = Misuse.what("broadcast", name);
        Misuse.checkWritable(ring, what, "the producer", "ring region");
        BroadcastRingDescriptor.Header header = BroadcastRingDescriptor.validate(ring, what);
        return new BroadcastProducer(ring, what, header, BroadcastOverwrite.resume(ring, what, header));
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
        final long reach = reach(newTail, capacity);
        if (backpressure && !gate.admits(reach, tail)) {
            onRefused();
            return INSUFFICIENT_CAPACITY;
        }
        overwrite.announce(reach, tail);
        overwrite.made(gap, span);

        // The slot after the record is not committed: a consumer that reads this record's commit
        // and moves on must find the mark there, not an older lap's bytes. Opaque: one untorn
        // 8-byte store; the commit's release store orders it before the commit.
        LONG.setOpaque(region, DATA_OFFSET + ((reach - HEADER_LENGTH) & mask) + SEQUENCE_OFFSET, NOT_COMMITTED);
        if (gap >= HEADER_LENGTH) {
            writeHeader(DATA_OFFSET + offset, (int) gap, PADDING_TYPE);
        }
        final long start = tail + gap;
        final long recordOffset = start & mask;
        writeHeader(DATA_OFFSET + recordOffset, (int) recordLength, type);

        claimStart = start;
        claimEnd = newTail;
        claimPayloadOffset = recordOffset + HEADER_LENGTH;
        return claimPayloadOffset;
    }

    // Length and Type only: the Sequence is the commit word, release-stored by commit or abort.
    private void writeHeader(long at, int length, int type) {
        INT_U.set(region, at + LENGTH_OFFSET, length);
        INT_U.set(region, at + TYPE_OFFSET, type);
    }

    /**
     * Release-stores the Sequence of the claim's record and then of its padding (if any): a
     * consumer that acquire-loads the record's Sequence and finds the number it expects sees every
     * byte written since the claim. Both carry {@code sequence}: a padding record carries the
     * number of the message after it.
     */
    private void publishRecord(long sequence) {
        LONG.setRelease(region, DATA_OFFSET + (claimStart & mask) + SEQUENCE_OFFSET, sequence);
        // The claim's padding, if any, runs from the committed tail (not yet advanced) to its
        // start. Its Sequence last: a consumer that finds the padding committed finds the record
        // after it committed too. In the other order a poll between the two stores skipped the
        // padding and stopped at the record, a branch so rare that the JIT compiled consumers'
        // read loops without it and deoptimized them when it came (docs/benchmarks.md).
        if (claimStart - tail >= HEADER_LENGTH) {
            LONG.setRelease(region, DATA_OFFSET + (tail & mask) + SEQUENCE_OFFSET, sequence);
        }
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
        publishRecord(nextSequence);
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
        onCommit();
        final BroadcastWakeup w = wakeup;
        if (w != null) {
            w.afterCommit(); // the protocol (fence, parked flags, wake) and its argument: BroadcastWakeup
        }
    }

    /**
     * Makes every commit check whether a registered consumer is parked and, if so, wake the
     * sleepers: the producer's half of {@link BroadcastWakeup}, made with
     * {@link BroadcastWakeup#forProducer} on this ring's region (its owner registers each
     * consumer with {@link BroadcastWakeup#addConsumer}). Costs a full fence and one load per
     * registered consumer per commit; without it consumers must spin or poll. Call before
     * producing, from the thread that starts the producer thread. An abort needs no wake: it
     * publishes no message.
     *
     * @param wakeup the producer's half of the wake-up, on this ring's region
     */
    public void wakeParkedConsumersWith(BroadcastWakeup wakeup) {
        this.wakeup = wakeup;
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
        publishRecord(nextSequence);
        LONG.setRelease(region, TAIL_OFFSET, claimEnd);
        tail = claimEnd;
        claimStart = NO_CLAIM;
        onAbort();
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
        return Offer.offer(this, data, what, maxMessageLength, type, source, sourceOffset, length);
    }

    /**
     * Makes the producer tell {@code listener} of each registered consumer whose position it
     * refuses (once per registration); that consumer gates the producer no more. Call before
     * producing, from the thread that starts the producer thread; the listener runs on the
     * producer thread ({@link ConsumerFaultListener}). The host typically removes that consumer
     * ({@link #removeConsumer}) and detaches it.
     *
     * @param listener told of each refused consumer, on the producer thread; null for nobody
     */
    public void onConsumerFault(ConsumerFaultListener listener) {
        gate.onConsumerFault(listener);
    }

    /** {@return the last consumer fault the producer found (volatile), or null if none} */
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
     *
     * @param version {@link #requestedRegistration()} as read right after the removal
     * @return true if the removed consumers' regions may be unmapped now
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
        return gate.addConsumer(positionRegion);
    }

    /**
     * Any thread: stops gating on a consumer (it detached, or the host saw it die). A consumer
     * removed while still reading is no longer protected: the producer may overwrite what it reads.
     *
     * @param registration the number {@link #addConsumer} returned
     * @return false if that registration is not (or no longer) registered
     */
    public boolean removeConsumer(long registration) {
        return gate.removeConsumer(registration);
    }

    /**
     * The latest consumer-set version requested by {@link #addConsumer}/{@link #removeConsumer}
     * (any thread). A removed consumer's position region may be unmapped once
     * {@link #adoptedRegistration()} has reached the version current right after its removal.
     *
     * @return the newest consumer-set version, 0 before any registration (or the previous producer's)
     */
    public long requestedRegistration() {
        return gate.requestedRegistration();
    }

    /** {@return the consumer-set version the producer has adopted: the ring's Gated Registration (acquire)} */
    public long adoptedRegistration() {
        return gate.adoptedRegistration();
    }

    /** {@return the data area; offsets returned by {@link #tryClaim} index it} */
    @Override
    public MemorySegment buffer() {
        return data;
    }

    @Override
    public int maxMessageLength() {
        return maxMessageLength;
    }

    /** {@return {@link RingKind#BROADCAST_BACKPRESSURE} or {@link RingKind#BROADCAST_OVERWRITE}} */
    public RingKind kind() {
        return kind;
    }

    /** {@return bytes in the data area} */
    public long capacity() {
        return capacity;
    }

    /** {@return the ring position the next record will start at (the committed tail)} */
    public long position() {
        return tail;
    }

    /** {@return the sequence number the next committed message will carry} */
    public long nextSequence() {
        return nextSequence;
    }

    /**
     * The position after the last committed record, as the ring publishes it (its Tail, acquire):
     * for any thread, where {@link #position()} is for the producer's.
     *
     * @return the published tail
     */
    public long publishedPosition() {
        return (long) LONG.getAcquire(region, BroadcastRingDescriptor.TAIL_OFFSET);
    }

    /**
     * The sequence the next message will carry, as the ring publishes it (acquire): for any thread.
     *
     * @return the published next sequence
     */
    public long publishedNextSequence() {
        return (long) LONG.getAcquire(region, BroadcastRingDescriptor.NEXT_SEQUENCE_OFFSET);
    }

    @Override
    public String toString() {
        return what + " producer at " + tail;
    }
}
