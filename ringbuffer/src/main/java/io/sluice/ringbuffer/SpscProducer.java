package io.sluice.ringbuffer;

import io.sluice.api.ConsumerWaker;
import io.sluice.api.CorruptRingException;
import io.sluice.api.MessageProducer;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

import static io.sluice.ringbuffer.ConsumerPositionDescriptor.POSITION;
import static io.sluice.ringbuffer.ConsumerPositionDescriptor.POSITION_OFFSET;
import static io.sluice.ringbuffer.RecordDescriptor.ALIGNMENT;
import static io.sluice.ringbuffer.RecordDescriptor.HEADER_LENGTH;
import static io.sluice.ringbuffer.RecordDescriptor.INVALID_STAMP;
import static io.sluice.ringbuffer.RecordDescriptor.LENGTH;
import static io.sluice.ringbuffer.RecordDescriptor.PADDING_TYPE;
import static io.sluice.ringbuffer.RecordDescriptor.STAMP;
import static io.sluice.ringbuffer.RecordDescriptor.STAMP_LENGTH;
import static io.sluice.ringbuffer.RecordDescriptor.TYPE;

/**
 * The one producer of an SPSC ring. Not thread-safe: one thread at a time (hand it over with a
 * happens-before edge, as for any plain object). Get one from {@link SpscRing#attachProducer}.
 *
 * <p>Claim, write in place, commit:
 * <ol>
 *   <li>{@link #tryClaim} computes the room the record needs (its aligned length, a padding
 *       record if it does not fit before the end of the data area, and the next record's stamp
 *       slot) and checks it against the cached consumer position; only when the cache says full
 *       does it acquire-load the consumer's position again. It writes length and type (plain)
 *       and returns the payload offset in {@link #buffer()}.</li>
 *   <li>The caller writes the payload there.</li>
 *   <li>{@link #commit} writes {@link RecordDescriptor#INVALID_STAMP} into the next record's
 *       stamp slot (plain), then the record's position into its own stamp slot (release): the
 *       consumer that acquires the stamp sees header, payload and the invalidated next slot.</li>
 * </ol>
 * {@link #abort} simply forgets the claim: nothing was published (the claimed record's stamp slot
 * still holds the invalid stamp), and the next claim reuses the space.
 *
 * <p>Steady state allocates nothing and makes no system call.
 *
 * <p>On a thread that spins on a consumer between sends (a responder), C2 profiles the send
 * path as cold next to the spin and may leave tryClaim and commit out of line: measured 40-60 ns
 * more per round trip in some runs of the latency harness (docs/benchmarks.md). {@link #offer}
 * is a single call C2 compiles whole, so it costs the same in every run; for a message staged
 * off-heap it is the steadier choice there. Claim and commit stay the way to encode in place.
 */
public final class SpscProducer implements MessageProducer {
    private static final VarHandle HANDOVER;

    static {
        try {
            HANDOVER = java.lang.invoke.MethodHandles.lookup().findVarHandle(SpscProducer.class, "handover", Handover.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static final long NO_CLAIM = -1;

    private final String name;
    // The data area (the region after its header), writable. Final, one per instance: the JIT
    // can hoist its base and size (see PERF-NOTES.md).
    private final MemorySegment data;
    // The consumer's position region, read-only: the producer only ever acquire-loads from it.
    // Producer thread only; replaced (at a capacity check) by a region handed over through
    // followConsumer, so not final.
    private MemorySegment consumerPosition;
    // A region to follow instead, handed over by another thread (a channel host, when consumers
    // come and go). Published with a release store (the record, with its view, is complete
    // before it); the producer acquire-loads it at its next capacity check only, so the hot path
    // pays nothing; it clears it with a CAS, so a newer hand-over is never lost.
    private volatile Handover handover;
    // Generation of the last hand-over the producer adopted: written by the producer after it
    // switched, read by the host to know when it may unmap the region left behind.
    private volatile long adoptedGeneration;
    private long requestedGeneration; // guarded by this (hand-overs from any thread)

    private record Handover(MemorySegment view, long generation) {
    }

    // Wakes a parked consumer after commits; null (the default) when consumers only spin. Set
    // once before the producer thread starts producing (see wakeParkedConsumersWith).
    private ConsumerWaker waker;
    private final long capacity;
    private final long mask;
    private final int maxMessageLength;

    // Producer-local state; nothing below is shared.
    private long tail;               // position of the next record (its stamp slot holds INVALID_STAMP)
    private long headLimit;          // consumer position last read + capacity: room ends here
    private long claimPosition = NO_CLAIM;
    private int claimRecordLength;

    SpscProducer(String name, MemorySegment data, MemorySegment consumerPosition, long tail, long head) {
        this.name = name;
        this.data = data;
        this.consumerPosition = consumerPosition;
        this.capacity = data.byteSize();
        this.mask = capacity - 1;
        this.maxMessageLength = SpscRingDescriptor.maxMessageLength(capacity);
        this.tail = tail;
        this.headLimit = head + capacity;
    }

    /**
     * {@inheritDoc}
     *
     * <p>The returned offset is a multiple of 8 plus 16 (so 8-byte aligned), and
     * {@code offset + length <= capacity}: the payload never wraps.
     *
     * @throws IllegalStateException if a claim is still open
     * @throws CorruptRingException  if the consumer's position region holds an impossible position
     */
    @Override
    public long tryClaim(int type, int length) {
        // Hot path, kept small so that the JIT inlines it into the caller's loop more often:
        // failures are built by badClaim, padding and the re-read of the consumer's position
        // live in claimSlowly.
        if (type <= 0 || length < 0 || length > maxMessageLength || claimPosition != NO_CLAIM) {
            throw badClaim(type, length);
        }
        final int recordLength = RecordDescriptor.recordLength(length);
        final long position = tail;
        final long index = position & mask;
        final long toEnd = capacity - index;
        // Pad to the end when the record does not fit, and also when it would leave exactly 8
        // bytes: a record header (16) never starts in the last 8 bytes, so no header wraps.
        final long padding = recordLength <= toEnd && toEnd - recordLength != ALIGNMENT ? 0 : toEnd;
        // The claim owns padding, record and the next record's stamp slot (see commit).
        final long end = position + padding + recordLength + STAMP_LENGTH;
        if (padding != 0 || end > headLimit) {
            return claimSlowly(type, length, recordLength, position, index, padding, end);
        }
        return claimAt(position, index, type, length, recordLength);
    }

    /** The claim that pads to the end of the data area first, or needs the consumer's position read again. */
    private long claimSlowly(int type, int length, int recordLength, long position, long index, long padding, long end) {
        if (end > headLimit && end > refreshHeadLimit()) {
            return INSUFFICIENT_CAPACITY;
        }
        if (padding == 0) {
            return claimAt(position, index, type, length, recordLength);
        }
        publishPadding(position, index, padding);
        tail = position + padding;
        return claimAt(position + padding, 0, type, length, recordLength);
    }

    private long claimAt(long position, long index, int type, int length, int recordLength) {
        final MemorySegment data = this.data;
        LENGTH.set(data, index, length);
        TYPE.set(data, index, type);
        claimPosition = position;
        claimRecordLength = recordLength;
        return index + HEADER_LENGTH;
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalStateException    if nothing is claimed
     * @throws IllegalArgumentException if {@code offset} is not the open claim's
     */
    @Override
    public void commit(long offset) {
        final long position = checkClaim("commit", offset);
        final long next = position + claimRecordLength;
        final MemorySegment data = this.data;
        STAMP.set(data, next & mask, INVALID_STAMP);              // next slot: not committed (plain)
        STAMP.setRelease(data, position & mask, position);       // publishes header, payload, the line above
        tail = next;
        claimPosition = NO_CLAIM;
        final ConsumerWaker w = waker;
        if (w != null) {
            wakeIfParked(w);
        }
    }

    private void wakeIfParked(ConsumerWaker w) {
        // The parked flag to check is the attached consumer's: take a pending hand-over now
        // rather than at the next capacity check.
        final Handover h = handover;
        if (h != null) {
            adopt(h);
        }
        // StoreLoad: the stamp (commit's release) before the parked flag below. The consumer
        // raises its flag, fences, then checks the ring: one of us sees the other (Dekker).
        VarHandle.fullFence();
        if (ConsumerPositionDescriptor.parked(consumerPosition) != 0) {
            w.wake();
        }
    }

    /**
     * Makes every commit check whether the consumer is parked and, if so, wake it with
     * {@code waker}. Costs a full fence per commit; without it consumers must spin or poll. Call
     * before producing, from the thread that starts the producer thread.
     */
    public void wakeParkedConsumersWith(ConsumerWaker waker) {
        this.waker = waker;
    }

    /**
     * {@inheritDoc} Nothing is published; a padding record written by the claim stays (it is
     * committed, and consumers skip it).
     *
     * @throws IllegalStateException    if nothing is claimed
     * @throws IllegalArgumentException if {@code offset} is not the open claim's
     */
    @Override
    public void abort(long offset) {
        checkClaim("abort", offset);
        claimPosition = NO_CLAIM;
    }

    /**
     * {@inheritDoc}
     *
     * <p>If the copy fails (the source's arena was closed meanwhile, say), the claim is aborted and
     * the exception propagates: nothing is published and the next claim reuses the space.
     *
     * @return false if the ring has no room now
     * @throws IllegalArgumentException  as {@link #tryClaim}
     * @throws IndexOutOfBoundsException if the source range is outside {@code source} (checked
     *                                   before anything is claimed)
     * @throws IllegalStateException     if a claim is still open
     */
    @Override
    public boolean offer(int type, MemorySegment source, long sourceOffset, int length) {
        if (Misuse.outside(sourceOffset, length, source.byteSize())) {
            throw Misuse.offerArguments(name, type, sourceOffset, length, source.byteSize(), maxMessageLength);
        }
        final long offset = tryClaim(type, length);
        if (offset == INSUFFICIENT_CAPACITY) {
            return false;
        }
        try {
            MemorySegment.copy(source, sourceOffset, data, offset, length);
        } catch (RuntimeException e) {
            abort(offset);
            throw e;
        }
        commit(offset);
        return true;
    }

    /** The data area: claim offsets index it. Write only inside the open claim's payload. */
    @Override
    public MemorySegment buffer() {
        return data;
    }

    @Override
    public int maxMessageLength() {
        return maxMessageLength;
    }

    /** Bytes in the data area. */
    public long capacity() {
        return capacity;
    }

    /** The position the next record goes to (bytes written so far, padding included). */
    public long position() {
        return tail;
    }

    /**
     * Reads the consumer's position again (acquire) and validates it.
     *
     * @return the new room limit
     */
    private long refreshHeadLimit() {
        final Handover h = handover;
        if (h != null) {
            adopt(h);
        }
        final long head = (long) POSITION.getAcquire(consumerPosition, POSITION_OFFSET);
        final long previous = headLimit - capacity;
        if (head < previous || head > tail || (head & (ALIGNMENT - 1)) != 0) {
            throw new CorruptRingException(name + ": consumer position " + head + " is impossible (previous "
                    + previous + ", producer at " + tail + ", must be a multiple of " + ALIGNMENT + ")");
        }
        return headLimit = head + capacity;
    }

    private void adopt(Handover h) {
        consumerPosition = h.view();
        adoptedGeneration = h.generation();
        HANDOVER.compareAndSet(this, h, null);
    }

    /**
     * Any thread: makes the producer follow another consumer position region from its next
     * capacity check on (a channel host calls this when a consumer attaches or leaves). The new
     * region's position must not be behind the one followed now (a new consumer starts where the
     * last one stopped); the producer treats a position going backwards as corruption.
     *
     * @return the generation of this hand-over; the region followed before may be unmapped once
     *         {@link #adoptedGeneration()} reaches it
     * @throws io.sluice.api.RingLayoutException if the region is not a position region of this ring
     */
    public synchronized long followConsumer(MemorySegment consumerPositionRegion) {
        ConsumerPositionDescriptor.validate(consumerPositionRegion, io.sluice.api.RingKind.SPSC, capacity, name);
        long generation = ++requestedGeneration;
        handover = new Handover(consumerPositionRegion.asSlice(0, ConsumerPositionDescriptor.REGION_SIZE).asReadOnly(),
                generation);
        return generation;
    }

    /** The generation of the last {@link #followConsumer} hand-over the producer has switched to (0: none). */
    public long adoptedGeneration() {
        return adoptedGeneration;
    }

    private void publishPadding(long position, long index, long padding) {
        final MemorySegment data = this.data;
        LENGTH.set(data, index, (int) (padding - HEADER_LENGTH));
        TYPE.set(data, index, PADDING_TYPE);
        STAMP.set(data, 0L, INVALID_STAMP);                      // the next record starts the lap
        STAMP.setRelease(data, index, position);
    }

    private long checkClaim(String operation, long offset) {
        final long position = claimPosition;
        if (position == NO_CLAIM || offset != (position & mask) + HEADER_LENGTH) {
            throw badCommit(operation, offset);
        }
        return position;
    }

    private RuntimeException badClaim(int type, int length) {
        final IllegalArgumentException e = Misuse.claimArguments(name, type, length, maxMessageLength);
        return e != null ? e : Misuse.claimStillOpen(name, (claimPosition & mask) + HEADER_LENGTH);
    }

    private RuntimeException badCommit(String operation, long offset) {
        final long position = claimPosition;
        if (position == NO_CLAIM) {
            return Misuse.noClaim(name, operation, offset);
        }
        return Misuse.notTheClaim(name, operation, offset, (position & mask) + HEADER_LENGTH);
    }

    @Override
    public String toString() {
        return "SpscProducer[" + name + ", capacity " + capacity + ", position " + tail + "]";
    }
}
