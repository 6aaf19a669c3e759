package io.sluice.ringbuffer;

import io.sluice.api.CorruptRingException;
import io.sluice.api.MessageConsumer;
import io.sluice.api.MessageHandler;
import io.sluice.api.RingLayoutException;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.Objects;

import static io.sluice.ringbuffer.MpmcRingDescriptor.HEAD_POSITION_OFFSET;
import static io.sluice.ringbuffer.MpmcRingDescriptor.HEADER_LENGTH;
import static io.sluice.ringbuffer.MpmcSlotDescriptor.ABORTED;
import static io.sluice.ringbuffer.MpmcSlotDescriptor.COMMITTED;
import static io.sluice.ringbuffer.MpmcSlotDescriptor.CONSUMING;
import static io.sluice.ringbuffer.MpmcSlotDescriptor.LAP_AND_STATE_MASK;
import static io.sluice.ringbuffer.MpmcSlotDescriptor.PAYLOAD_OFFSET;

/**
 * The consumer side of the MPMC ring, for one participant on one thread. Several consumers share
 * the ring, each through its own instance; each message goes to exactly one of them.
 *
 * <h2>Take</h2>
 * <ol>
 *   <li>Read the head position {@code h} (acquire) and the state word of its slot (acquire).</li>
 *   <li>{@code COMMITTED} at {@code h}'s lap: CAS it to {@code CONSUMING} with this consumer's
 *       id (the take and its attribution are one step); on success try once to CAS the head
 *       {@code h -> h + 1}, hand the handler a read-only slice of the payload in place, and when
 *       the handler returns CAS the word to {@code FREE} for the next lap, which hands the slot
 *       back to producers. On failure another consumer won: start again.</li>
 *   <li>{@code ABORTED} at {@code h}'s lap (an aborted or recovered claim): CAS it to {@code FREE}
 *       for the next lap, CAS the head on, deliver nothing.</li>
 *   <li>{@code CONSUMING} at {@code h}'s lap, or any word of the next lap: position {@code h}
 *       is taken but the head not yet moved; help, CAS the head {@code h -> h + 1}.</li>
 *   <li>{@code FREE} or {@code CLAIMED} at {@code h}'s lap, or {@code CONSUMING} of the previous
 *       lap: nothing is published at {@code h} yet; the poll ends.</li>
 *   <li>Anything else is impossible at the head: {@link CorruptRingException}.</li>
 * </ol>
 *
 * <h2>Delivery guarantee</h2>
 * Consumers take positions in order, so one consumer sees each producer's messages in the order
 * they were claimed; across consumers, handlers run in parallel and may finish in any order.
 * The head cannot pass a claimed-but-uncommitted slot: consumers wait for its producer to commit
 * or abort, or for the host to recover it ({@link MpmcRecovery}), after which it is skipped.
 * A consumer that dies while {@code CONSUMING} holds its slot until the host recovers it; the
 * message it took is then lost (at-most-once for that one message: it may have been partly or
 * fully processed, and it is not redelivered, because consumers have already moved past it).
 * If the handler throws, the slot is released all the same and the exception propagates: the
 * message counts as consumed.
 *
 * <p>Not thread-safe: one thread per instance.
 */
public final class MpmcConsumer implements MessageConsumer {
    private static final VarHandle STATE = MpmcSlotDescriptor.STATE;
    private static final VarHandle TYPE = MpmcSlotDescriptor.TYPE;
    private static final VarHandle LENGTH = MpmcSlotDescriptor.LENGTH;
    private static final VarHandle POSITION = MpmcRingDescriptor.POSITION;
    private static final long COMMITTED_BITS = MpmcSlotDescriptor.stateBits(COMMITTED);
    private static final long CONSUMING_BITS = MpmcSlotDescriptor.stateBits(CONSUMING);

    private final MemorySegment region;
    /** What handlers see: slices of a read-only view, so a handler cannot write the ring. */
    private final MemorySegment readOnlyRegion;
    private final String what;
    private final int participantId;
    private final int maxParticipantId;
    private final long slotMask;
    private final int slotCount;
    private final int slotCountShift;
    private final int slotLengthShift;
    private final int maxMessageLength;

    /**
     * A consumer on the ring in {@code region}.
     *
     * @param region        the whole ring region, mapped read-write (taking and releasing a slot
     *                      writes its state word)
     * @param participantId this participant's id, 1..the ring's max participant id; unique among
     *                      live participants (the host assigns it)
     * @param ringName      names the ring in exception messages
     * @throws RingLayoutException      if the region does not hold a valid MPMC ring
     * @throws IllegalArgumentException if the id is out of range
     */
    MpmcConsumer(MemorySegment region, int participantId, String ringName) {
        this.what = MpmcRingDescriptor.what(ringName);
        MpmcRingGeometry geometry = MpmcRingGeometry.attach(region, participantId, ringName, what, "the consumer");
        this.region = region;
        this.readOnlyRegion = region.asReadOnly();
        this.participantId = participantId;
        this.maxParticipantId = geometry.maxParticipantId();
        this.slotCount = geometry.slotCount();
        this.slotMask = geometry.slotCount() - 1;
        this.slotCountShift = geometry.slotCountShift();
        this.slotLengthShift = geometry.slotLengthShift();
        this.maxMessageLength = geometry.maxMessageLength();
    }

    /**
     * Takes and handles up to {@code limit} messages, in ring order. Skipped (aborted) slots do
     * not count.
     *
     * @throws IllegalArgumentException if {@code limit < 1}
     * @throws CorruptRingException     if a slot word, type or length read from the ring is impossible
     * @throws MpmcSlotLostException    if the host recovered the slot while the handler held it
     */
    @Override
    public int poll(MessageHandler handler, int limit) {
        Objects.requireNonNull(handler, "handler");
        if (limit < 1) {
            throw Misuse.pollLimit(what, limit);
        }
        final MemorySegment region = this.region;
        int count = 0;
        while (count < limit) {
            final long head = (long) POSITION.getAcquire(region, HEAD_POSITION_OFFSET);
            if (head < 0) {
                throw MpmcCorruption.counter(what, "head", head);
            }
            final long slot = HEADER_LENGTH + ((head & slotMask) << slotLengthShift);
            final long word = (long) STATE.getAcquire(region, slot);
            final long lap = MpmcSlotDescriptor.lapBits(head, slotCountShift);
            if ((word & LAP_AND_STATE_MASK) == (lap | COMMITTED_BITS)) {
                final int producer = MpmcSlotDescriptor.participant(word);
                if (producer == 0 || producer > maxParticipantId) {
                    throw MpmcCorruption.malformed(what, "head", head, slotCount, word, maxParticipantId);
                }
                final long taken = lap | CONSUMING_BITS | participantId;
                if ((boolean) STATE.compareAndSet(region, slot, word, taken)) {
                    // Ours. Move the head on before running the handler, so that other
                    // consumers go on taking while we read; a failed CAS means one helped.
                    POSITION.compareAndSet(region, HEAD_POSITION_OFFSET, head, head + 1);
                    deliver(handler, head, slot, taken);
                    count++;
                }
                continue; // taken, or lost the race for it: look at the head again
            }
            if (!onSlotNotCommitted(head, slot, word)) {
                break;
            }
        }
        return count;
    }

    private void deliver(MessageHandler handler, long head, long slot, long taken) {
        // Plain reads: the take CAS read COMMITTED, which the producer's commit CAS released
        // after its plain stores of type, length and payload.
        final int type = (int) TYPE.get(region, slot);
        final int length = (int) LENGTH.get(region, slot);
        if (type <= 0 || length < 0 || length > maxMessageLength) {
            release(head, slot, taken); // drop it, so the ring keeps flowing for the others
            throw MpmcCorruption.message(what, head, slotCount, type, length, maxMessageLength);
        }
        try {
            handler.onMessage(type, PayloadSlice.of(readOnlyRegion, slot + PAYLOAD_OFFSET, length));
        } catch (Throwable t) {
            try {
                release(head, slot, taken);
            } catch (MpmcSlotLostException lost) {
                t.addSuppressed(lost);
            }
            throw t;
        }
        release(head, slot, taken);
    }

    /** FREE for the next lap: the slot goes back to producers. The CAS's release orders our reads before their writes. */
    private void release(long head, long slot, long taken) {
        final long free = MpmcSlotDescriptor.lapBits(head + slotCount, slotCountShift);
        if (!(boolean) STATE.compareAndSet(region, slot, taken, free)) {
            long now = (long) STATE.getAcquire(region, slot);
            throw new MpmcSlotLostException(what + ": participant " + participantId + " cannot release slot "
                    + (head & slotMask) + " at position " + head + ": the host recovered it while the handler ran"
                    + " (the slot now holds " + MpmcSlotDescriptor.describe(now) + ")");
        }
    }

    /**
     * The slow path: the slot at {@code head} does not hold a message of head's lap.
     *
     * @return true to look again (skipped, helped, or the head had moved), false if nothing is
     *         published at the head yet
     */
    private boolean onSlotNotCommitted(long head, long slot, long word) {
        if (!MpmcSlotDescriptor.isWellFormed(word, maxParticipantId)) {
            throw MpmcCorruption.malformed(what, "head", head, slotCount, word, maxParticipantId);
        }
        final long laps = MpmcSlotDescriptor.lapDifference(word, head, slotCountShift);
        final int state = MpmcSlotDescriptor.state(word);
        if (laps == 0) {
            switch (state) {
                case ABORTED -> {
                    // Skip it: free it for the next lap first, then move the head. Whoever sees
                    // the FREE word of the next lap at this head helps the head on.
                    final long free = MpmcSlotDescriptor.lapBits(head + slotCount, slotCountShift);
                    if ((boolean) STATE.compareAndSet(region, slot, word, free)) {
                        POSITION.compareAndSet(region, HEAD_POSITION_OFFSET, head, head + 1);
                    }
                    return true;
                }
                case CONSUMING -> {
                    // Taken by a consumer that has not moved the head yet (or died before): help.
                    POSITION.compareAndSet(region, HEAD_POSITION_OFFSET, head, head + 1);
                    return true;
                }
                case COMMITTED -> {
                    return true; // unreachable with the same word (the fast path takes it); look again
                }
                default -> {
                    return false; // FREE: not claimed yet; CLAIMED: not committed yet
                }
            }
        }
        if (laps == 1) {
            // Position `head` is done (taken and released, or skipped) and its slot may already
            // serve the next lap; the head was not moved yet. Help.
            POSITION.compareAndSet(region, HEAD_POSITION_OFFSET, head, head + 1);
            return true;
        }
        if (laps > 1) {
            // The head must have passed head + slotCount for this: our read is stale, or corrupt.
            if ((long) POSITION.getAcquire(region, HEAD_POSITION_OFFSET) == head) {
                throw MpmcCorruption.slot(what, "head", head, slotCount, word,
                        laps + " laps ahead of a head that never reached it");
            }
            return true;
        }
        if (laps == -1 && state == CONSUMING) {
            return false; // the previous lap's consumer is still reading; nothing newer published
        }
        throw MpmcCorruption.slot(what, "head", head, slotCount, word, laps == -1
                ? MpmcSlotDescriptor.stateName(state) + " for the previous lap although the head has passed that position"
                : -laps + " laps behind the head");
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
        return readOnlyRegion;
    }

    /** {@return this consumer's participant id} */
    public int participantId() {
        return participantId;
    }
}
