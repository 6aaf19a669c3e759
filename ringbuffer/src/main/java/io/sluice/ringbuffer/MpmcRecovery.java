package io.sluice.ringbuffer;

import io.sluice.api.CorruptRingException;
import io.sluice.api.RingLayoutException;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.Objects;

import static io.sluice.ringbuffer.MpmcSlotDescriptor.ABORTED;
import static io.sluice.ringbuffer.MpmcSlotDescriptor.CLAIMED;
import static io.sluice.ringbuffer.MpmcSlotDescriptor.CONSUMING;
import static io.sluice.ringbuffer.MpmcSlotDescriptor.LAP_SHIFT;
import static io.sluice.ringbuffer.MpmcSlotDescriptor.STATE_MASK;

/**
 * Gives back the slots a dead participant held, while the others keep running. The host calls
 * it when a participant's connection ends (socket EOF) and it knows the process is gone.
 *
 * <p>One pass over every slot, one compare-and-set per slot the dead participant holds:
 * <ul>
 *   <li>{@code CLAIMED} by it (a message it was writing, never committed) becomes
 *       {@code ABORTED}: consumers skip it, it is never delivered, the head moves past it and
 *       the ring flows again.</li>
 *   <li>{@code CONSUMING} by it (a message it took and was reading) becomes {@code FREE} for the
 *       next lap: producers reuse the slot. That message is lost: the dead consumer may have
 *       processed it, partly or fully, or not at all (at-most-once for that message).</li>
 *   <li>Nothing else is touched: messages it committed are still delivered; slots it aborted
 *       are skipped as usual.</li>
 * </ul>
 * These are exactly the transitions the participant itself would have made (abort, release), so
 * to everyone else a recovery looks like a participant that aborted and released; every
 * invariant of the ring holds throughout. Participants that died between a claim (or take) and
 * moving the tail (or head) need nothing more: the others help the counter past a claimed
 * (taken) slot. One pass suffices because a dead participant makes no new claims, and only a
 * word's owner changes a word that names it as owner of a CLAIMED or CONSUMING slot.
 *
 * <h2>What the host must guarantee</h2>
 * <ul>
 *   <li>Recover an id only once its participant is known dead (its process has exited: pidfd,
 *       or the socket EOF of a process that is gone), never merely slow. If it is alive after
 *       all, the ring's control words stay sound (its later commit or release is a CAS that
 *       fails: it gets {@link MpmcSlotLostException}), but the payload it was writing or
 *       reading may then race with the slot's next user, corrupting that one message.</li>
 *   <li>Give the id to a new participant only after this call returned.</li>
 *   <li>Recover every id before handing it out, also one no participant ever had. Participants
 *       map the whole ring read-write and are trusted to share it, not to name themselves
 *       truthfully: one may claim with a free id (an orphan claim), which would block every
 *       consumer at its position with nobody to commit it and nobody's death to trigger a
 *       recovery. A recovery of a free id gives such claims back; it is one pass over the slots
 *       and changes nothing else. ({@link MpmcRingInspector} shows who holds the slot at the
 *       head, for a host that watches for a ring that stopped moving.)</li>
 * </ul>
 * Recovery works for any id in 1..the ring's max participant id, attached or not.
 */
public final class MpmcRecovery {
    private static final VarHandle STATE = MpmcSlotDescriptor.STATE;
    private static final long ABORTED_BITS = MpmcSlotDescriptor.stateBits(ABORTED);

    private MpmcRecovery() {
    }

    /**
     * What a recovery did.
     *
     * @param claimsAborted slots the dead participant had claimed and not committed, now skipped
     * @param takesReleased slots the dead participant had taken and not released, now free; one
     *                      message lost for each
     * @param raced         slots the participant held when read but not at the CAS: the word
     *                      changed in between, which only the participant itself (so it was not
     *                      dead) or a concurrent recovery of the same id can do. Zero when the
     *                      host keeps its side of the contract.
     */
    public record Result(int claimsAborted, int takesReleased, int raced) {
        /** {@return slots given back} */
        public int recovered() {
            return claimsAborted + takesReleased;
        }
    }

    /**
     * {@link #recover(MemorySegment, int, String)} for a ring named "mpmc".
     *
     * @param region the whole ring region, writable
     * @param deadParticipantId the participant known dead
     * @return what was recovered
     */
    public static Result recover(MemorySegment region, int deadParticipantId) {
        return recover(region, deadParticipantId, "mpmc");
    }

    /**
     * Recovers every slot {@code deadParticipantId} holds in the ring in {@code region}.
     *
     * @param region the whole ring region, writable
     * @param deadParticipantId the participant known dead; it must not come back under this id
     * @param ringName names the ring in exception messages; may be null
     * @return what was recovered
     * @throws RingLayoutException      if the region does not hold a valid MPMC ring
     * @throws IllegalArgumentException if the id is outside 1..the ring's max participant id
     * @throws CorruptRingException     on a malformed slot word (slots before it are recovered)
     */
    public static Result recover(MemorySegment region, int deadParticipantId, String ringName) {
        String what = MpmcRingDescriptor.what(ringName);
        Misuse.checkWritable(region, what, "recovery", "ring region");
        MpmcRingGeometry geometry = MpmcRingDescriptor.validate(region, ringName);
        int maxParticipantId = geometry.maxParticipantId();
        geometry.checkParticipantId(deadParticipantId, what);
        int claimsAborted = 0;
        int takesReleased = 0;
        int raced = 0;
        for (long index = 0; index < geometry.slotCount(); index++) {
            final long slot = geometry.slotOffset(index);
            final long word = (long) STATE.getAcquire(region, slot);
            if (!MpmcSlotDescriptor.isWellFormed(word, maxParticipantId)) {
                throw new CorruptRingException(what + ": slot " + index + " holds state word "
                        + MpmcSlotDescriptor.describe(word) + ", not a valid state with participants 1.." + maxParticipantId);
            }
            if (MpmcSlotDescriptor.participant(word) != deadParticipantId) {
                continue;
            }
            final int state = MpmcSlotDescriptor.state(word);
            final long next;
            if (state == CLAIMED) {
                next = (word & ~STATE_MASK) | ABORTED_BITS;             // same lap, same producer: skipped
            } else if (state == CONSUMING) {
                next = ((word >>> LAP_SHIFT) + 1) << LAP_SHIFT;       // FREE, next lap (mod 2^48), nobody
            } else {
                continue;                                               // COMMITTED or ABORTED: not held
            }
            if ((boolean) STATE.compareAndSet(region, slot, word, next)) {
                if (state == CLAIMED) {
                    claimsAborted++;
                } else {
                    takesReleased++;
                }
            } else {
                raced++;
            }
        }
        return new Result(claimsAborted, takesReleased, raced);
    }
}
