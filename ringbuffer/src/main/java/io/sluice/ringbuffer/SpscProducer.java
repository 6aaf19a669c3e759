package io.sluice.ringbuffer;

import io.sluice.api.CorruptRingException;
import io.sluice.api.MessageProducer;
import io.sluice.api.RingKind;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

import static io.sluice.ringbuffer.SpscConsumerPositionDescriptor.POSITION;
import static io.sluice.ringbuffer.SpscConsumerPositionDescriptor.POSITION_OFFSET;
import static io.sluice.ringbuffer.SpscRecordDescriptor.ALIGNMENT;
import static io.sluice.ringbuffer.SpscRingDescriptor.PRODUCER_POSITION_OFFSET;
import static io.sluice.ringbuffer.SpscRecordDescriptor.HEADER_LENGTH;
import static io.sluice.ringbuffer.SpscRecordDescriptor.INVALID_STAMP;
import static io.sluice.ringbuffer.SpscRecordDescriptor.LENGTH;
import static io.sluice.ringbuffer.SpscRecordDescriptor.LINE_LENGTH;
import static io.sluice.ringbuffer.SpscRecordDescriptor.PADDING_TYPE;
import static io.sluice.ringbuffer.SpscRecordDescriptor.STAMP;
import static io.sluice.ringbuffer.SpscRecordDescriptor.STAMP_LENGTH;
import static io.sluice.ringbuffer.SpscRecordDescriptor.TYPE;
import static io.sluice.ringbuffer.SpscRecordDescriptor.nextRecordStart;

/**
 * The one producer of an SPSC ring. Not thread-safe: one thread at a time (hand it over with a
 * happens-before edge, as for any plain object). Get one from {@link SpscRing#attachProducer}.
 *
 * <p>Claim, write in place, commit:
 * <ol>
 *   <li>{@link #tryClaim} computes the room the record needs (its aligned length, a padding
 *       record if it does not fit before the end of the data area, the gap to the next line if it
 *       ends in the last 16 bytes of one, and the next record's stamp slot) and checks it against
 *       the cached consumer position; only when the cache says full does it acquire-load the
 *       consumer's position again (a commit has usually done so already, see below). It writes
 *       {@link SpscRecordDescriptor#INVALID_STAMP} into the next record's stamp slot, then length
 *       and type (all plain), and returns the payload offset in {@link #buffer()}.</li>
 *   <li>The caller writes the payload there.</li>
 *   <li>{@link #commit} writes the record's position into its stamp slot (release): the
 *       consumer that acquires the stamp sees the invalidated next slot, header and payload.
 *       Then, off the path of that record and of the next claim, it does what would otherwise
 *       cost a claim once a lap: it reads the consumer's position again when less than a quarter
 *       of the ring is left; it publishes a padding record to the end of the lap when a record as
 *       long as this one would not fit before it; and, once per line, it stores an invalid stamp
 *       at the start of the line after the next record's, so that line is already its own when a
 *       later commit first writes it.</li>
 * </ol>
 * {@link #abort} simply forgets the claim: nothing was published (the claimed record's stamp slot
 * still holds the invalid stamp, and the one the claim wrote lies in free room), and the next
 * claim reuses the space.
 *
 * <p>Steady state allocates nothing and makes no system call.
 *
 * <h2>A consumer it does not trust</h2>
 * The consumer's position region is written by another process. Whenever the producer reads a
 * position (when its cached room runs out, or runs low at a commit) it validates it: a multiple
 * of 8, not behind the last position it accepted ({@link #validatedPosition()}), not beyond its
 * own tail, and where a record starts (a private map of where its records of the last two laps
 * start, {@code SpscRecordStarts}: the ring itself is not read). A position that fails is that
 * consumer's fault, not the ring's: the producer does not throw. It stops reading that region
 * until the host hands it another, keeps the room the last accepted position gave it (claims
 * return {@link #INSUFFICIENT_CAPACITY} once that is used up, as if the consumer had stalled), and
 * reports the fault once ({@link #onConsumerFault}, {@link #latestFault()}).
 *
 * <h2>Consumers coming and going</h2>
 * A host (any thread) switches the producer to another position region with
 * {@link #followConsumer}, adopted at the producer's next capacity check. When a consumer leaves,
 * the race-free sequence is:
 * <ol>
 *   <li>{@link #hold()}: from its return on, the producer's room never extends past
 *       {@link #validatedPosition()} plus the capacity, whatever the departing consumer writes;</li>
 *   <li>{@link #nextConsumerStart(long) nextConsumerStart(its last position)}: where the next
 *       consumer starts, that position if it is sound, else the validated one;</li>
 *   <li>publish that start in the next region (the host's standby region, or the next consumer's)
 *       and {@link #followConsumer} it.</li>
 * </ol>
 * The adopted region's position is validated like any other; nothing committed is skipped.
 *
 * <p>On a thread that spins on a consumer between sends (a responder), C2 profiles the send
 * path as cold next to the spin and may leave tryClaim and commit out of line: measured 40-60 ns
 * more per round trip in some runs of the latency harness (docs/benchmarks.md). {@link #offer}
 * is a single call C2 compiles whole, so it costs the same in every run; for a message staged
 * off-heap it is the steadier choice there. Claim and commit stay the way to encode in place.
 */
public final class SpscProducer extends ProducerCounters implements MessageProducer {
    private static final VarHandle HANDOVER;
    private static final VarHandle VALIDATED_POSITION;
    private static final VarHandle READING_POSITIONS;

    static {
        try {
            HANDOVER = MethodHandles.lookup().findVarHandle(SpscProducer.class, "handover", Handover.class)
                    .withInvokeExactBehavior();
            VALIDATED_POSITION = MethodHandles.lookup().findVarHandle(SpscProducer.class, "validatedPosition", long.class)
                    .withInvokeExactBehavior();
            READING_POSITIONS = MethodHandles.lookup().findVarHandle(SpscProducer.class, "readingPositions", boolean.class)
                    .withInvokeExactBehavior();
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static final VarHandle PRODUCER_POSITION =
            RegionHeaderDescriptor.ALIGNED_U64.varHandle().withInvokeExactBehavior();
    private static final long NO_CLAIM = -1;

    private final String name;
    // The ring's header line, writable: the producer position lives there (SpscRingDescriptor).
    private final MemorySegment header;
    // The data area (the region after its header), writable. Final, one per instance: the JIT
    // can hoist its base and size (docs/performance-notes.md).
    private final MemorySegment data;
    // The consumer's position region, read-only: the producer only ever acquire-loads from it.
    // Producer thread only; replaced (at a capacity check) by a region handed over through
    // followConsumer, so not final. Null while the producer reads no position: after hold(), or
    // once the region published a position it refused (faulted), until the next hand-over.
    private MemorySegment consumerPosition;
    // Producer thread only: the generation of the hand-over that brought consumerPosition (0: the
    // region given at attach), and whether no position has been accepted from it yet (a position
    // behind the validated one is then BEHIND_ON_ADOPTION rather than REWOUND).
    private long followedGeneration;
    private boolean adoptedRegionUnread;
    // A region to follow instead (null view: hold), handed over by another thread (a channel
    // host, when consumers come and go). A volatile store publishes the record and its view; the
    // producer loads it (volatile) at its capacity checks only (in a claim, or a commit's early
    // read), and before it looks for a parked consumer, so the hot path pays nothing; it
    // clears it with a CAS, so a newer hand-over is never lost.
    //
    // With validatedPosition below it is also one half of a Dekker pair that makes hold()
    // airtight. The host's accesses are volatile; the producer's store of V is a release store
    // followed by a full fence, so it too is ordered before its volatile load of handover:
    //   host, hold():        handover = H ............. then load validatedPosition
    //   producer, refresh:   validatedPosition = V (release), full fence, then load handover
    // If the producer's load misses H, that load precedes the store of H, so the producer's
    // store of V precedes the host's load: the host reads V (or later). If the host reads a value
    // older than V, its load precedes the store of V, so the producer's load follows the store of
    // H: the producer sees the hand-over, puts the older value back and never uses V. Either way,
    // once hold() has returned, whatever the host reads from validatedPosition() is at least
    // every position the producer still uses, so the producer never writes at or past that
    // value + capacity: the records from there on stay as they are (nextConsumerStart relies on it).
    private volatile Handover handover;
    // The last consumer position the producer accepted (validated) from any region it followed;
    // its room ends at this + capacity. Written by the producer thread only, always before the
    // new room is used, with a release store followed by a full fence (the Dekker pair above; the
    // fence also keeps the producer's later overwrites from being reordered before the store): a
    // volatile store there would pay a second fence for nothing, once per capacity check that
    // reads the consumer. Read (volatile) by the host.
    private volatile long validatedPosition;
    // Generation of the last hand-over the producer adopted: written by the producer after it
    // switched, read by the host to know when it may unmap the region left behind.
    private volatile long adoptedGeneration;
    // True while the producer thread reads a consumer's region: in its capacity check (in a claim,
    // or a commit's early read), and after a commit when it looks for a parked consumer to wake.
    // With handover it is a second Dekker pair, telling a host when a region it handed over away
    // from may be unmapped (isDoneWith), even while the producer is idle:
    //   producer, reading:   readingPositions = true, then load handover, then read the region
    //   host, hand-over:     handover = H ............. then load readingPositions
    // If the host reads false, a check that starts later loads handover after its store of true,
    // so after H: it adopts H (or later) before reading any region; a check that ended before
    // stored false after its last read: a release store, which orders every read of the region
    // before it (no fence needed; the store of true is volatile, as the Dekker pair needs).
    private volatile boolean readingPositions;
    private long requestedGeneration; // guarded by this (hand-overs from any thread)
    private boolean holding;          // guarded by this: the last hand-over requested was hold()

    private record Handover(MemorySegment view, long generation) {
    }

    // Told of a consumer's impossible position; null: nobody. Set once before the producer thread
    // starts producing (see onConsumerFault), read by the producer thread only.
    private ConsumerFaultListener faultListener;
    // The last fault found: written by the producer thread (volatile: a host may poll it).
    private volatile ConsumerFault latestFault;

    // Wakes a parked consumer after commits; null (the default) when consumers only spin. Set
    // once before the producer thread starts producing (see wakeParkedConsumersWith).
    private SpscWakeup wakeup;
    private final long capacity;
    private final long mask;
    private final int maxMessageLength;

    // Producer-local state; nothing below is shared.
    private final SpscRecordStarts recordStarts; // where the last two laps' records start: check()
    private long tail;               // position of the next record (its stamp slot holds INVALID_STAMP)
    private long lineAhead = -1;     // the line start commit last stored an invalid stamp at (see commit)
    private long producerLimit;          // validatedPosition + capacity: room ends here
    private long claimPosition = NO_CLAIM;
    private long claimNext;          // where the record after the open claim starts (its mark goes there)
    private long refreshAhead;       // commit reads the consumer's position early again from this tail on

    SpscProducer(String name, MemorySegment header, MemorySegment data, MemorySegment consumerPosition, long tail,
                 long head) {
        this.name = name;
        this.header = header;
        this.data = data;
        this.consumerPosition = consumerPosition;
        this.capacity = data.byteSize();
        this.mask = capacity - 1;
        this.maxMessageLength = SpscRingDescriptor.maxMessageLength(capacity);
        this.tail = tail;
        this.producerLimit = head + capacity;
        this.validatedPosition = head;
        this.recordStarts = new SpscRecordStarts(capacity);
        // The records a previous producer committed and the consumer has not read yet: their
        // headers were checked while the tail was found, a padding record's length included (it
        // runs to the end of the data area, so its record length is the rest of the lap too).
        for (long position = head; position < tail;
             position = nextRecordStart(position + SpscRecordDescriptor.recordLength((int) LENGTH.get(data, position & mask)))) {
            recordStarts.recordAt(position);
        }
        PRODUCER_POSITION.setRelease(header, PRODUCER_POSITION_OFFSET, tail);
    }

    /**
     * {@inheritDoc}
     *
     * <p>The returned offset is a multiple of 8 plus 16 (so 8-byte aligned), and
     * {@code offset + length <= capacity}: the payload never wraps.
     *
     * <p>An impossible consumer position does not make it throw: see the class comment.
     *
     * @throws IllegalStateException if a claim is still open
     * @throws CorruptRingException  if a record header this producer wrote was overwritten (found
     *                               only while it validates a consumer position): something wrote
     *                               the data area outside a claim
     */
    @Override
    public long tryClaim(int type, int length) {
        // Hot path, kept small so that the JIT inlines it into the caller's loop more often:
        // failures are built by badClaim, padding and the re-read of the consumer's position
        // live in claimSlowly.
        if (type <= 0 || length < 0 || length > maxMessageLength || claimPosition != NO_CLAIM) {
            throw badClaim(type, length);
        }
        final int recordLength = SpscRecordDescriptor.recordLength(length);
        final long position = tail;
        final long index = position & mask;
        final long toEnd = capacity - index;
        // Pad to the end when the record does not fit. (A record ending in the last 16 bytes of the
        // data area is followed by the next lap: nextRecordStart, so no header ever wraps.)
        final long padding = recordLength <= toEnd ? 0 : toEnd;
        // The claim owns padding, record, the gap after it and the next record's stamp slot.
        final long next = nextRecordStart(position + padding + recordLength);
        if (padding != 0 || next + STAMP_LENGTH > producerLimit) {
            return claimSlowly(type, length, position, index, padding, next);
        }
        return claimAt(position, index, type, length, next);
    }

    /** The claim that pads to the end of the data area first, or needs the consumer's position read again. */
    private long claimSlowly(int type, int length, long position, long index, long padding, long next) {
        final long end = next + STAMP_LENGTH;
        if (end > producerLimit && end > refreshProducerLimit()) {
            onRefused();
            return INSUFFICIENT_CAPACITY;
        }
        if (padding == 0) {
            return claimAt(position, index, type, length, next);
        }
        publishPadding(position, index, padding);
        tail = position + padding;
        return claimAt(position + padding, 0, type, length, next);
    }

    private long claimAt(long position, long index, int type, int length, long next) {
        final MemorySegment data = this.data;
        // The next record's slot: not committed (plain; the claim owns it, and the commit's
        // release orders it before the stamp). Stored first rather than at commit: then header,
        // payload and stamp reach the record's line back to back, and a consumer spinning on that
        // line takes it away from this core once instead of again between payload and stamp
        // (docs/benchmarks.md). If the claim is aborted it stays, in free room.
        STAMP.set(data, next & mask, INVALID_STAMP);
        LENGTH.set(data, index, length);
        TYPE.set(data, index, type);
        claimPosition = position;
        claimNext = next;
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
        final long next = claimNext;
        final MemorySegment data = this.data;
        recordStarts.recordAt(position);
        STAMP.setRelease(data, position & mask, position);       // publishes header, payload, the line above
        // For monitors only: after the stamp, so a monitor that loads this finds every record before it committed.
        PRODUCER_POSITION.setRelease(header, PRODUCER_POSITION_OFFSET, next);
        claimPosition = NO_CLAIM;
        tail = next; // before step 3: a consumer may already be past this record
        // What follows is off the path of the record just published and of the next claim; each
        // step moves a once-a-lap cost out of the claim that would otherwise pay it (docs/benchmarks.md).
        // The steps are those of docs/layout.md, SPSC 3.2.
        // Step 3. Read the consumer's position before the room runs out, not in the claim that finds it
        //    gone: a quarter of the ring early, and at most once per eighth of it (when the
        //    consumer lags, claims still read it whenever they need more room).
        if (next >= refreshAhead && producerLimit - next < (capacity >>> 2)) {
            refreshAhead = next + (capacity >>> 3);
            refreshProducerLimit();
        }
        // Step 4. Pad to the end of the lap now if a record as long as this one would not fit before
        //    it, so that the next claim (commonly of the same size) starts the next lap as a plain
        //    claim: the consumer meanwhile reads the padding and waits at the lap's first line, as
        //    it waits for any record. A shorter next message loses the rest of the lap, at most
        //    one record's span. Only inside the room (hold() relies on that).
        final long toEnd = capacity - (next & mask);
        if (toEnd < next - position && next + toEnd + STAMP_LENGTH <= producerLimit) {
            publishPadding(next, next & mask, toEnd);
            tail = next + toEnd;
            // Published again, after the padding, so that what the producer writes past the
            // position a tap may have loaded stays within its reach (inFlightReach).
            PRODUCER_POSITION.setRelease(header, PRODUCER_POSITION_OFFSET, tail);
        }
        // Step 5. Take the line after the next record's own now, while the consumer reads this record:
        //    a store there (an invalid stamp in free room, which no consumer reads before a record
        //    is committed over it) makes the line this core's, so that the commit that first
        //    writes it does not wait, before its stamp can be seen, for the consumer's core to
        //    drop the copy it kept from the last lap. Once per line; never past the room (hold()
        //    relies on that). Release (a plain mov on x86): ordered after the producer position
        //    above, so a tap that loads that position may count this store in the reach past it
        //    (inFlightReach).
        final long ahead = (tail | (LINE_LENGTH - 1)) + 1;
        if (ahead != lineAhead && ahead + STAMP_LENGTH <= producerLimit) {
            STAMP.setRelease(data, ahead & mask, INVALID_STAMP);
            lineAhead = ahead;
        }
        onCommit();
        final SpscWakeup w = wakeup;
        if (w != null) {
            wakeIfParked(w);
        }
    }

    private void wakeIfParked(SpscWakeup w) {
        // Reads the followed consumer's region, so it is bracketed like the capacity check (see
        // readingPositions): a host that hands the consumer over meanwhile does not unmap it under us.
        readingPositions = true;
        try {
            // The parked flag to check is the attached consumer's: take a pending hand-over now
            // rather than at the next capacity check.
            final Handover h = handover;
            if (h != null) {
                adopt(h);
            }
            // The protocol (fence, parked flag, wake) and its ordering argument: SpscWakeup.
            w.afterCommit(consumerPosition); // null: holding, or the region is faulted
        } finally {
            READING_POSITIONS.setRelease(this, false);
        }
    }

    /**
     * Makes every commit check whether the consumer is parked and, if so, wake it: the
     * producer's half of {@link SpscWakeup}, made with {@link SpscWakeup#forProducer} on this
     * ring's region. Costs a full fence per commit; without it consumers must spin or poll. Call
     * before producing, from the thread that starts the producer thread.
     *
     * @param wakeup the producer's half of the wake-up, on this ring's region
     */
    public void wakeParkedConsumersWith(SpscWakeup wakeup) {
        this.wakeup = wakeup;
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
        onAbort();
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
        return Offer.offer(this, data, name, maxMessageLength, type, source, sourceOffset, length);
    }

    /** {@return the data area, which claim offsets index; write only inside the open claim's payload} */
    @Override
    public MemorySegment buffer() {
        return data;
    }

    @Override
    public int maxMessageLength() {
        return maxMessageLength;
    }

    /** {@return bytes in the data area} */
    public long capacity() {
        return capacity;
    }


    /**
     * The position after the last committed record, as the ring header publishes it (acquire):
     * for any thread, where {@link #position()} is for the producer's.
     *
     * @return the published producer position
     */
    public long publishedPosition() {
        return (long) PRODUCER_POSITION.getAcquire(header, PRODUCER_POSITION_OFFSET);
    }

    /** {@return the position the next record goes to (bytes written so far, padding and gaps included)} */
    public long position() {
        return tail;
    }

    /**
     * The slow path of a claim: takes a pending hand-over, reads the followed consumer's position
     * (acquire), validates it, and publishes it before using it (see the Dekker pair at the
     * handover field).
     *
     * @return the room limit: the validated position + capacity
     */
    private long refreshProducerLimit() {
        readingPositions = true;
        try {
            return refreshProducerLimitReading();
        } finally {
            READING_POSITIONS.setRelease(this, false);
        }
    }

    private long refreshProducerLimitReading() {
        while (true) {
            final Handover h = handover;
            if (h != null) {
                adopt(h);
            }
            final MemorySegment region = consumerPosition;
            if (region == null) {
                return producerLimit; // holding, or faulted: the room stays what it was
            }
            final long validated = producerLimit - capacity;
            final long position = (long) POSITION.getAcquire(region, POSITION_OFFSET);
            if (position == validated) {
                adoptedRegionUnread = false;
                return producerLimit;
            }
            final ConsumerFault.Problem problem = check(position, validated);
            if (problem != null) {
                fault(problem, position, validated);
                return producerLimit;
            }
            VALIDATED_POSITION.setRelease(this, position);
            VarHandle.fullFence();
            if (handover != null) {
                // A hold (or another region) came in after we read this position: the host may
                // have read the older value, so this one must not be used. Put it back and take
                // the hand-over.
                validatedPosition = validated;
                continue;
            }
            adoptedRegionUnread = false;
            return producerLimit = position + capacity;
        }
    }

    /** What is wrong with a consumer position read while {@code validated} is the accepted one, or null. */
    private ConsumerFault.Problem check(long position, long validated) {
        if (position < 0) {
            return ConsumerFault.Problem.NEGATIVE;
        }
        if ((position & (ALIGNMENT - 1)) != 0) {
            return ConsumerFault.Problem.UNALIGNED;
        }
        if (position > tail) {
            return ConsumerFault.Problem.BEYOND_PRODUCER;
        }
        if (position < validated) {
            return adoptedRegionUnread ? ConsumerFault.Problem.BEHIND_ON_ADOPTION : ConsumerFault.Problem.REWOUND;
        }
        // The producer's own tail is always a record start; below it, its private map of record
        // starts says, without reading the ring.
        return position == tail || recordStarts.startsAt(position) ? null : ConsumerFault.Problem.INSIDE_RECORD;
    }

    private void fault(ConsumerFault.Problem problem, long position, long validated) {
        consumerPosition = null; // never read again, until the next hand-over
        final ConsumerFault fault = new ConsumerFault(followedGeneration, position, tail, validated, problem,
                describe(problem, position, validated));
        latestFault = fault;
        ConsumerFaultListener.tell(faultListener, fault);
    }

    private String describe(ConsumerFault.Problem problem, long position, long validated) {
        final String at = name + ": consumer position " + position;
        return switch (problem) {
            case NEGATIVE -> at + " is negative";
            case UNALIGNED -> at + " is not a multiple of " + ALIGNMENT;
            case BEYOND_PRODUCER -> at + " is beyond the producer's position " + tail;
            case REWOUND -> at + " is behind the position " + validated + " it published before";
            case BEHIND_ON_ADOPTION -> at + " in the region handed over (generation " + followedGeneration
                    + ") is behind the validated position " + validated;
            case INSIDE_RECORD -> at + " is inside a record: no record starts there between the validated position "
                    + validated + " and the producer's position " + tail;
        };
    }

    private void adopt(Handover h) {
        consumerPosition = h.view();
        followedGeneration = h.generation();
        adoptedRegionUnread = true;
        // After the switch: the host may unmap the region left behind as soon as it sees this.
        adoptedGeneration = h.generation();
        // Only if it is still this one: a newer hand-over stays for the next check.
        final boolean cleared = (boolean) HANDOVER.compareAndSet(this, h, (Handover) null);
        assert cleared || handover != h : "only the producer clears a hand-over";
    }

    /**
     * Any thread: makes the producer follow another consumer position region from its next
     * capacity check on (a channel host calls this when a consumer attaches or leaves). The
     * producer validates the region's position when it first reads it, as any other: it must not
     * be behind {@link #validatedPosition()}, nor beyond the producer, and a record must start
     * there; otherwise the region is faulted ({@link ConsumerFault.Problem#BEHIND_ON_ADOPTION}
     * and the rest) and the producer reads nothing until the next hand-over. After a consumer
     * left, decide the next start with {@link #hold()} and {@link #nextConsumerStart(long)} first.
     *
     * @param consumerPositionRegion the position region of the consumer to follow (read-only is enough)
     * @return the generation of this hand-over; the region followed before may be unmapped once
     *         {@link #adoptedGeneration()} reaches it
     * @throws io.sluice.api.RingLayoutException if the region is not a position region of this ring
     */
    public synchronized long followConsumer(MemorySegment consumerPositionRegion) {
        SpscConsumerPositionDescriptor.validate(consumerPositionRegion, RingKind.SPSC, capacity, name);
        final long generation = ++requestedGeneration;
        handover = new Handover(consumerPositionRegion.asSlice(0, SpscConsumerPositionDescriptor.REGION_SIZE).asReadOnly(),
                generation);
        holding = false;
        return generation;
    }

    /**
     * Any thread: stops the producer reading the followed consumer's position (a channel host
     * calls this when that consumer leaves, before it decides where the next one starts). From the
     * moment this returns, the producer never again accepts a position from that region: its room
     * stays {@link #validatedPosition()} + capacity (claims return
     * {@link #INSUFFICIENT_CAPACITY} once that is used up) until {@link #followConsumer} hands it
     * another region. The producer need not be running, nor have taken the hold yet, for this to
     * be so: it stores each position it accepts before using it, then checks for a hand-over,
     * while this method stores the hand-over before the host reads {@link #validatedPosition()};
     * either the host sees the newer position or the producer sees the hold and does not use it.
     *
     * @return the generation of this hand-over; the region followed before may be unmapped once
     *         {@link #adoptedGeneration()} reaches it
     */
    public synchronized long hold() {
        final long generation = ++requestedGeneration;
        handover = new Handover(null, generation);
        holding = true;
        return generation;
    }

    /**
     * Any thread, after {@link #hold()} and before the next {@link #followConsumer}: where the next
     * consumer should start, given {@code departedPosition}, the last position the departing
     * consumer published. That position if a record starts there between
     * {@link #validatedPosition()} and the producer's tail (inclusive); else the validated
     * position: the departed consumer lied, and what it claimed beyond the last validated
     * position is delivered again. Either way nothing committed is skipped.
     *
     * <p>It finds the records by their stamps (acquire loads), as a consumer would: the producer
     * thread's own tail is not shared. The walk is safe while the hold lasts: the producer then
     * never writes at or past the validated position + capacity, so every record from the
     * validated position on stays as it is while it is read, and a record committed meanwhile is
     * seen whole or not at all (its stamp is released last). At most one capacity is walked.
     *
     * @param departedPosition the last position the departed consumer published
     * @return the position the next consumer should start at: a record start, or the tail
     * @throws IllegalStateException if the last hand-over requested was not {@link #hold()}
     * @throws CorruptRingException  if a committed record header is impossible (something wrote
     *                               the data area outside a claim)
     */
    public synchronized long nextConsumerStart(long departedPosition) {
        if (!holding) {
            throw new IllegalStateException(name + ": nextConsumerStart without hold(): the producer may still be"
                    + " overwriting the records it would walk");
        }
        final long validated = validatedPosition;
        if (departedPosition <= validated || (departedPosition & (ALIGNMENT - 1)) != 0) {
            return validated;
        }
        final MemorySegment data = this.data;
        long position = validated;
        while (position < departedPosition && position - validated <= capacity) {
            final long index = position & mask;
            final long stamp = (long) STAMP.getAcquire(data, index);
            if (stamp != position) {
                return validated; // the tail (or a slot of an older lap) before the departed position: beyond the producer
            }
            final int type = (int) TYPE.get(data, index);
            final int length = (int) LENGTH.get(data, index);
            final long span = type == PADDING_TYPE ? capacity - index : SpscRecordDescriptor.recordLength(length);
            if (span < HEADER_LENGTH || index + span > capacity || (type <= 0 && type != PADDING_TYPE)) {
                throw new CorruptRingException(name + ": committed record at position " + position + " (data offset "
                        + index + ") has length " + length + " and type " + type
                        + ": something wrote the data area outside a claim");
            }
            position = nextRecordStart(position + span);
        }
        return position == departedPosition ? departedPosition : validated;
    }

    /**
     * Any thread: whether the producer will never again read a position region it followed
     * before the hand-over of {@code generation} ({@link #followConsumer} or {@link #hold} returned
     * it), so that the region may be unmapped now, also while the producer is idle. False only
     * while the producer is reading a consumer's region at this moment (a capacity check, or a
     * look for a parked consumer): ask again later.
     *
     * @param generation a generation {@link #followConsumer} or {@link #hold} returned
     * @return true if regions followed before it may be unmapped now
     */
    public boolean isDoneWith(long generation) {
        return adoptedGeneration >= generation || !readingPositions;
    }

    /**
     * The last consumer position the producer accepted (volatile): every record before it was
     * consumed, and the producer's room ends at this + capacity. Starts at the position found at
     * attach; never decreases, except that a value stored during a race with {@link #hold()} may
     * be put back (see there).
     *
     * @return the last accepted consumer position, in ring bytes
     */
    public long validatedPosition() {
        return validatedPosition;
    }

    /**
     * Makes the producer tell {@code listener} of each consumer whose position it refuses (once
     * per followed region). Call before producing, from the thread that starts the producer
     * thread; the listener runs on the producer thread ({@link ConsumerFaultListener}).
     *
     * @param listener told of each refused consumer, on the producer thread; null for nobody
     */
    public void onConsumerFault(ConsumerFaultListener listener) {
        this.faultListener = listener;
    }

    /** {@return the last consumer fault the producer found (volatile), or null if none} */
    public ConsumerFault latestFault() {
        return latestFault;
    }

    /** {@return the generation of the last {@link #followConsumer} or {@link #hold} hand-over the producer has switched to (0: none)} */
    public long adoptedGeneration() {
        return adoptedGeneration;
    }

    private void publishPadding(long position, long index, long padding) {
        final MemorySegment data = this.data;
        recordStarts.recordAt(position);
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
