package io.sluice.ringbuffer;

import io.sluice.api.CorruptRingException;
import io.sluice.api.MessageProducer;
import io.sluice.api.RingLayoutException;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.Objects;

import static io.sluice.ringbuffer.MpmcRingDescriptor.HEADER_LENGTH;
import static io.sluice.ringbuffer.MpmcRingDescriptor.TAIL_POSITION_OFFSET;
import static io.sluice.ringbuffer.MpmcSlotDescriptor.ABORTED;
import static io.sluice.ringbuffer.MpmcSlotDescriptor.CLAIMED;
import static io.sluice.ringbuffer.MpmcSlotDescriptor.COMMITTED;
import static io.sluice.ringbuffer.MpmcSlotDescriptor.FREE;
import static io.sluice.ringbuffer.MpmcSlotDescriptor.PAYLOAD_OFFSET;
import static io.sluice.ringbuffer.MpmcSlotDescriptor.STATE_MASK;

/**
 * The producer side of the MPMC ring, for one participant on one thread. Several producers
 * (threads of one process, or processes) write the same ring, each through its own instance;
 * instances may share a participant id (recovery is per id, so per process is the natural unit).
 *
 * <h2>Claim</h2>
 * <ol>
 *   <li>Read the tail position {@code t} (acquire) and the state word of slot {@code t mod
 *       slotCount} (acquire).</li>
 *   <li>If the word is {@code FREE} at {@code t}'s lap: compare-and-set it to {@code CLAIMED} at
 *       that lap with this participant's id. The claim and its attribution are one atomic step.
 *       On success, try once to move the tail from {@code t} to {@code t + 1} by CAS (failure
 *       means another participant already helped), write type and length, and hand out the
 *       payload offset. On failure another producer won the slot: start again.</li>
 *   <li>If the word shows position {@code t} already claimed (same lap, not FREE; or FREE one lap
 *       later), its claimant has not moved the tail yet: help, CAS the tail {@code t -> t + 1},
 *       and start again. Nobody ever waits for another participant to move a counter.</li>
 *   <li>If the word still serves the previous lap (not FREE), the ring is full:
 *       {@link #INSUFFICIENT_CAPACITY}.</li>
 *   <li>Any other word is impossible at the tail: {@link CorruptRingException}.</li>
 * </ol>
 * Every retry follows a CAS that failed because another participant succeeded, or a counter that
 * moved: the claim is lock-free. Commit and abort are one CAS each on the claimed word, expecting
 * exactly the word this producer wrote; if the host recovered the claim meanwhile (believing this
 * participant dead) the CAS fails, nothing changes, and {@link MpmcSlotLostException} is thrown.
 *
 * <h2>Delivery guarantee</h2>
 * A committed message is delivered exactly once to one consumer unless that consumer dies (or
 * is recovered) while holding it (see {@link MpmcConsumer}). Messages of one producer are
 * claimed at increasing positions and consumers take positions in order, so each consumer sees
 * each producer's messages in the order they were claimed. A claimed slot that is never
 * committed blocks consumers at that position (they cannot pass it) until it is committed,
 * aborted, or recovered by the host; an aborted or recovered claim is skipped and never
 * delivered. Producers are not blocked by it until the ring wraps round to it.
 *
 * <p>Not thread-safe: one thread per instance, at most one claim pending at a time.
 */
public final class MpmcProducer extends ProducerCounters implements MessageProducer {
    private static final VarHandle STATE = MpmcSlotDescriptor.STATE;
    private static final VarHandle TYPE = MpmcSlotDescriptor.TYPE;
    private static final VarHandle LENGTH = MpmcSlotDescriptor.LENGTH;
    private static final VarHandle POSITION = MpmcRingDescriptor.POSITION;
    private static final long CLAIMED_BITS = MpmcSlotDescriptor.stateBits(CLAIMED);
    private static final long COMMITTED_BITS = MpmcSlotDescriptor.stateBits(COMMITTED);
    private static final long ABORTED_BITS = MpmcSlotDescriptor.stateBits(ABORTED);
    private static final long NO_CLAIM = -1;

    private final MemorySegment region;
    private final String what;
    private final int participantId;
    private final int maxParticipantId;
    private final long slotMask;
    private final int slotCount;
    private final int slotCountShift;
    private final int slotLengthShift;
    private final int maxMessageLength;

    // The pending claim: slot offset (or NO_CLAIM), the exact word our claim CAS wrote, its position.
    private long claimedSlot = NO_CLAIM;
    private long claimedWord;
    private long claimedPosition;
    // Wakes parked consumers after commits and aborts; null (the default) when consumers only
    // spin. Set once before the producer thread starts producing (see wakeParkedConsumersWith).
    private MpmcWakeup wakeup;

    /**
     * A producer on the ring in {@code region}.
     *
     * @param region        the whole ring region, mapped read-write
     * @param participantId this participant's id, 1..the ring's max participant id; unique among
     *                      live participants (the host assigns it)
     * @param ringName      names the ring in exception messages
     * @throws RingLayoutException      if the region does not hold a valid MPMC ring
     * @throws IllegalArgumentException if the id is out of range
     */
    MpmcProducer(MemorySegment region, int participantId, String ringName) {
        this.what = MpmcRingDescriptor.what(ringName);
        MpmcRingGeometry geometry = MpmcRingGeometry.attach(region, participantId, ringName, what, "the producer");
        this.region = region;
        this.participantId = participantId;
        this.maxParticipantId = geometry.maxParticipantId();
        this.slotCount = geometry.slotCount();
        this.slotMask = geometry.slotCount() - 1;
        this.slotCountShift = geometry.slotCountShift();
        this.slotLengthShift = geometry.slotLengthShift();
        this.maxMessageLength = geometry.maxMessageLength();
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalStateException if a claim is still open
     * @throws CorruptRingException  if the tail or a slot word read from the ring is impossible
     */
    @Override
    public long tryClaim(int type, int length) {
        if (type <= 0 || length < 0 || length > maxMessageLength) {
            throw Misuse.claimArguments(what, type, length, maxMessageLength);
        }
        if (claimedSlot != NO_CLAIM) {
            throw Misuse.claimStillOpen(what, claimedSlot + PAYLOAD_OFFSET);
        }
        final MemorySegment region = this.region;
        while (true) {
            final long tail = (long) POSITION.getAcquire(region, TAIL_POSITION_OFFSET);
            if (tail < 0) {
                throw MpmcCorruption.counter(what, "tail", tail);
            }
            final long slot = HEADER_LENGTH + ((tail & slotMask) << slotLengthShift);
            final long word = (long) STATE.getAcquire(region, slot);
            final long free = MpmcSlotDescriptor.lapBits(tail, slotCountShift); // FREE at tail's lap, nobody
            if (word == free) {
                final long claimed = free | CLAIMED_BITS | participantId;
                if ((boolean) STATE.compareAndSet(region, slot, word, claimed)) {
                    // Ours, and attributed to us in the same step. Move the tail on; if the CAS
                    // fails, someone who saw our claim already did (helping).
                    POSITION.compareAndSet(region, TAIL_POSITION_OFFSET, tail, tail + 1);
                    // Plain stores: published with the payload by the commit CAS (release).
                    TYPE.set(region, slot, type);
                    LENGTH.set(region, slot, length);
                    claimedSlot = slot;
                    claimedWord = claimed;
                    claimedPosition = tail;
                    return slot + PAYLOAD_OFFSET;
                }
                continue; // another producer claimed this position first
            }
            if (!onSlotNotFree(tail, word)) {
                onRefused();
                return INSUFFICIENT_CAPACITY;
            }
        }
    }

    /**
     * The slow path of a claim: the slot at {@code tail} is not FREE for tail's lap.
     *
     * @return true to try again (the tail was helped on or had moved), false if the ring is full
     */
    private boolean onSlotNotFree(long tail, long word) {
        if (!MpmcSlotDescriptor.isWellFormed(word, maxParticipantId)) {
            throw MpmcCorruption.malformed(what, "tail", tail, slotCount, word, maxParticipantId);
        }
        final long laps = MpmcSlotDescriptor.lapDifference(word, tail, slotCountShift);
        final int state = MpmcSlotDescriptor.state(word);
        if (laps == 0 || (laps == 1 && state == FREE)) {
            // Position `tail` is claimed (or even consumed and freed), but the tail still points
            // at it: its claimant has not advanced it yet, or died before it could. Help.
            POSITION.compareAndSet(region, TAIL_POSITION_OFFSET, tail, tail + 1);
            return true;
        }
        if (laps > 0) {
            // A later lap was claimed here, so the tail has passed tail + slotCount: our read of
            // it is stale. If it has not moved at all, the slot is ahead of a tail that never
            // passed it.
            if ((long) POSITION.getAcquire(region, TAIL_POSITION_OFFSET) == tail) {
                throw MpmcCorruption.slot(what, "tail", tail, slotCount, word,
                        laps + " lap(s) ahead of a tail that never reached it");
            }
            return true;
        }
        if (laps == -1 && state != FREE) {
            return false; // still holds the previous lap's claim or message: full
        }
        throw MpmcCorruption.slot(what, "tail", tail, slotCount, word, laps == -1
                ? "FREE for the previous lap although the tail has passed that position"
                : -laps + " laps behind the tail");
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalStateException    if nothing is claimed
     * @throws IllegalArgumentException if {@code offset} is not the open claim's
     * @throws MpmcSlotLostException    if the host recovered the claim meanwhile
     */
    @Override
    public void commit(long offset) {
        finish(offset, COMMITTED_BITS, "commit");
        onCommit();
        final MpmcWakeup w = wakeup;
        if (w != null) {
            w.afterPublish(); // the protocol (fence, parked count, wake) and its argument: MpmcWakeup
        }
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalStateException    if nothing is claimed
     * @throws IllegalArgumentException if {@code offset} is not the open claim's
     * @throws MpmcSlotLostException    if the host recovered the claim meanwhile
     */
    @Override
    public void abort(long offset) {
        finish(offset, ABORTED_BITS, "abort");
        onAbort();
        final MpmcWakeup w = wakeup;
        if (w != null) {
            w.afterPublish(); // consumers parked behind this claim can now skip it and take what follows
        }
    }

    /**
     * Makes every commit and abort check whether consumers are parked and, if so, wake them: the
     * producer's half of {@link MpmcWakeup}, made with {@link MpmcWakeup#forParticipant} on this
     * ring's region. Costs a full fence and one load per commit; without it consumers must spin or
     * poll. Call before producing, from the thread that starts the producer thread.
     *
     * @param wakeup the participant's wake-up, on this ring's region
     */
    public void wakeParkedConsumersWith(MpmcWakeup wakeup) {
        this.wakeup = wakeup;
    }


    private void finish(long offset, long stateBits, String action) {
        final long slot = claimedSlot;
        if (slot == NO_CLAIM) {
            throw Misuse.noClaim(what, action, offset);
        }
        if (offset != slot + PAYLOAD_OFFSET) {
            throw Misuse.notTheClaim(what, action, offset, slot + PAYLOAD_OFFSET);
        }
        final long claimed = claimedWord;
        claimedSlot = NO_CLAIM;
        // A CAS, not a release store: if the host recovered this claim, the word is no longer
        // ours and must stay as it is. The CAS's release publishes type, length and payload.
        final long next = (claimed & ~STATE_MASK) | stateBits;
        if (!(boolean) STATE.compareAndSet(region, slot, claimed, next)) {
            long now = (long) STATE.getAcquire(region, slot);
            throw new MpmcSlotLostException(what + ": participant " + participantId + " cannot " + action
                    + " its claim of slot " + (claimedPosition & slotMask) + " at position " + claimedPosition
                    + ": the host recovered it (the slot now holds " + MpmcSlotDescriptor.describe(now) + ")");
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>If the copy fails (the source's arena was closed meanwhile, say), the claim is aborted and
     * the exception propagates: consumers skip the aborted slot.
     *
     * @return false if the ring has no room now
     * @throws IllegalArgumentException  as {@link #tryClaim}
     * @throws IndexOutOfBoundsException if the source range is outside {@code source} (checked
     *                                   before anything is claimed)
     * @throws IllegalStateException     if a claim is still open
     */
    @Override
    public boolean offer(int type, MemorySegment source, long sourceOffset, int length) {
        return Offer.offer(this, region, what, maxMessageLength, type, source, sourceOffset, length);
    }

    /** {@return the whole ring region, writable; claim offsets index it} */
    @Override
    public MemorySegment buffer() {
        return region;
    }

    @Override
    public int maxMessageLength() {
        return maxMessageLength;
    }

    /** {@return this producer's participant id} */
    public int participantId() {
        return participantId;
    }
}
