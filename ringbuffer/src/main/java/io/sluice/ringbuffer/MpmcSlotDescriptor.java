package io.sluice.ringbuffer;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * One slot of the MPMC ring: a 16-byte slot header followed by the payload. Slots are
 * {@code slotLength} bytes apart (a power of two, at least {@value #MIN_SLOT_LENGTH}), so every
 * state word is 8-byte aligned. All fields little-endian ({@link RegionHeaderDescriptor#BYTE_ORDER}).
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                    State Word (u64, CAS)                      |  0
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                       Type (i32, plain)                       |  8
 *  +---------------------------------------------------------------+
 *  |                      Length (i32, plain)                      | 12
 *  +---------------------------------------------------------------+
 *  |            Payload (slotLength - 16 bytes, plain)            ... 16
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * <h2>The state word</h2>
 * <pre>
 *   63                                              16 15    12 11            0
 *  +--------------------------------------------------+--------+---------------+
 *  |                  Lap (48 bits)                   | State  |  Participant  |
 *  +--------------------------------------------------+--------+---------------+
 * </pre>
 * <ul>
 *   <li><b>Lap</b>: {@code position >>> log2(slotCount)}, modulo 2<sup>48</sup>, of the ring
 *       position the slot currently serves. Laps are compared as 48-bit two's-complement
 *       differences ({@link #lapDifference}), so the field wrapping is a non-event.</li>
 *   <li><b>State</b>: {@link #FREE}, {@link #CLAIMED}, {@link #COMMITTED}, {@link #ABORTED},
 *       {@link #CONSUMING}; any other value is corruption.</li>
 *   <li><b>Participant</b>: who holds or last held the slot, 1..{@value #MAX_PARTICIPANT_ID};
 *       0 ("nobody") exactly when the state is {@code FREE}.</li>
 * </ul>
 * The claim and its owner are one CAS on one word: there is no instant at which a slot is
 * claimed but not yet attributed, so a host can recover the slots of a participant that died at
 * any instruction.
 *
 * <h2>Bit budget, wrap, ABA</h2>
 * Positions (tail, head) are full 64-bit counters. The word keeps only the lap modulo
 * 2<sup>48</sup>: it wraps after 2<sup>48</sup> &times; slotCount messages, at 10<sup>8</sup>
 * messages/s 65 days with 2 slots, 5.7 years with 64, 91 years with 1024. The wrap is harmless
 * because laps are only compared as signed 48-bit differences, and a freshly read counter is
 * within one lap of its slot. A word value recurs only after a multiple of 2<sup>48</sup> laps,
 * so an ABA on a slot CAS needs a participant stalled between its read and its CAS for that
 * long; even then the CAS acts on the slot's current position (a free slot, a committed
 * message), which could reorder one message but not lose or duplicate it. See
 * {@code docs/layout.md (MPMC)}.
 *
 * <h2>Transitions (lap L, participant p producer, c consumer)</h2>
 * <pre>
 *   FREE(L,0) --p claims: CAS--> CLAIMED(L,p) --p commits: CAS--> COMMITTED(L,p)
 *                                     |                                  |
 *                    p aborts, or host recovers p: CAS      c takes: CAS |
 *                                     v                                  v
 *                               ABORTED(L,p)                      CONSUMING(L,c)
 *                                     |                                  |
 *                   a consumer skips: CAS          c releases, or host recovers c: CAS
 *                                     v                                  v
 *                               FREE(L+1,0) &lt;----------------------------+
 * </pre>
 * Every transition is a compare-and-set of the whole word (volatile: release on the write,
 * acquire on the read), made only by the party the arrow names. Type and Length are written
 * with plain stores by the claiming producer between its claim and its commit; the commit CAS
 * publishes them and the payload, and the consumer's take CAS (which read {@code COMMITTED})
 * acquires them.
 */
public final class MpmcSlotDescriptor {
    private MpmcSlotDescriptor() {
    }

    /** The slot header, for field var handles on the slot base. */
    public static final StructLayout SLOT_HEADER = MemoryLayout.structLayout(
            RegionHeaderDescriptor.ALIGNED_U64.withName("state"),
            RegionHeaderDescriptor.U32.withName("type"),
            RegionHeaderDescriptor.U32.withName("length"));

    /** Offset in a slot of its u64 state word (lap, state, participant). */
    public static final long STATE_WORD_OFFSET = SLOT_HEADER.byteOffset(PathElement.groupElement("state"));
    /** Offset in a slot of its u32 message type. */
    public static final long TYPE_OFFSET = SLOT_HEADER.byteOffset(PathElement.groupElement("type"));
    /** Offset in a slot of its u32 payload length. */
    public static final long LENGTH_OFFSET = SLOT_HEADER.byteOffset(PathElement.groupElement("length"));
    /** Bytes of slot header before the payload. */
    public static final int HEADER_LENGTH = (int) SLOT_HEADER.byteSize();
    /** Offset in a slot of its payload. */
    public static final long PAYLOAD_OFFSET = HEADER_LENGTH;
    /** Smallest slot: header plus a 16-byte payload. */
    public static final int MIN_SLOT_LENGTH = 32;
    /** Largest slot (1 GiB): keeps every length an int. */
    public static final int MAX_SLOT_LENGTH = 1 << 30;

    // ---- state word packing ----------------------------------------------------------------

    /** Width of the state word's participant field (bits 0..11). */
    public static final int PARTICIPANT_BITS = 12;
    /** Width of the state word's state field. */
    public static final int STATE_BITS = 4;
    /** Width of the state word's lap field (the top bits). */
    public static final int LAP_BITS = 48;
    /** Position of the state field's lowest bit. */
    public static final int STATE_SHIFT = PARTICIPANT_BITS;
    /** Position of the lap field's lowest bit. */
    public static final int LAP_SHIFT = PARTICIPANT_BITS + STATE_BITS;
    /** Selects the participant field of a state word. */
    public static final long PARTICIPANT_MASK = (1L << PARTICIPANT_BITS) - 1;
    /** Selects the state field of a state word (not shifted down). */
    public static final long STATE_MASK = ((1L << STATE_BITS) - 1) << STATE_SHIFT;
    /** Everything but the participant: lap and state. */
    public static final long LAP_AND_STATE_MASK = ~PARTICIPANT_MASK;
    /** Largest participant id the word can carry; 0 means "nobody". */
    public static final int MAX_PARTICIPANT_ID = (int) PARTICIPANT_MASK;

    /** Empty, waiting for the producer of its lap. Participant 0. */
    public static final int FREE = 0;
    /** A producer (the participant) owns it and is writing. */
    public static final int CLAIMED = 1;
    /** Holds a message; the participant is the producer that wrote it. */
    public static final int COMMITTED = 2;
    /** Claimed, then given back (abort or recovery); consumers skip it. Participant: the producer. */
    public static final int ABORTED = 3;
    /** A consumer (the participant) took the message and is reading it in place. */
    public static final int CONSUMING = 4;

    // ---- var handles (static final, exact: docs/performance-notes.md, rules 1-3) ------------------------

    /** The state word: aligned, for getAcquire and compareAndSet. Coordinates (segment, slot offset). */
    static final VarHandle STATE = SLOT_HEADER.varHandle(PathElement.groupElement("state")).withInvokeExactBehavior();
    /** Type: plain, unaligned layout. Coordinates (segment, slot offset). */
    static final VarHandle TYPE = SLOT_HEADER.varHandle(PathElement.groupElement("type")).withInvokeExactBehavior();
    /** Length: plain, unaligned layout. Coordinates (segment, slot offset). */
    static final VarHandle LENGTH = SLOT_HEADER.varHandle(PathElement.groupElement("length")).withInvokeExactBehavior();

    // ---- encoding ----------------------------------------------------------------------------

    /**
     * The lap of {@code position} in a ring of {@code 1 << slotShift} slots, in place in a word.
     *
     * @param position a ring position, not negative
     * @param slotShift log2 of the slot count
     * @return the lap field of a word serving {@code position}
     */
    public static long lapBits(long position, int slotShift) {
        return (position >>> slotShift) << LAP_SHIFT; // the shift drops the lap's top 16 bits: mod 2^48
    }

    /**
     * The state bits of {@code state} in place in a word.
     *
     * @param state one of the state constants
     * @return the state field of a word holding {@code state}
     */
    public static long stateBits(int state) {
        return (long) state << STATE_SHIFT;
    }

    /**
     * A whole state word.
     *
     * @param position the ring position the slot serves
     * @param slotShift log2 of the slot count
     * @param state one of the state constants
     * @param participantId the holder, or 0 for FREE
     * @return the state word
     */
    public static long word(long position, int slotShift, int state, int participantId) {
        return lapBits(position, slotShift) | stateBits(state) | participantId;
    }

    /**
     * The lap field (48 bits, unsigned).
     *
     * @param word a state word
     * @return its lap, 0..2<sup>48</sup>-1
     */
    public static long lap(long word) {
        return word >>> LAP_SHIFT;
    }

    /**
     * The state field (0..15; only 0..4 are valid).
     *
     * @param word a state word
     * @return its state value
     */
    public static int state(long word) {
        return (int) ((word & STATE_MASK) >>> STATE_SHIFT);
    }

    /**
     * The participant field.
     *
     * @param word a state word
     * @return its participant id, 0..{@link #PARTICIPANT_MASK}
     */
    public static int participant(long word) {
        return (int) (word & PARTICIPANT_MASK);
    }

    /**
     * The word's lap minus the lap of {@code position}, as a signed 48-bit difference: 0 when the
     * slot serves {@code position}, -1 when it still serves the position one lap earlier, and so
     * on. Correct across the wrap of the 48-bit field as long as the true difference is below
     * 2<sup>47</sup> laps.
     *
     * @param word a state word
     * @param position the ring position compared with
     * @param slotShift log2 of the slot count
     * @return the signed lap difference
     */
    public static long lapDifference(long word, long position, int slotShift) {
        return ((word >>> LAP_SHIFT) - (position >>> slotShift)) << LAP_SHIFT >> LAP_SHIFT;
    }

    /**
     * Whether {@code word} could exist in a sound ring whose participants are numbered
     * 1..{@code maxParticipantId}: a known state, participant 0 iff FREE.
     *
     * @param word a state word read from the ring
     * @param maxParticipantId the ring's highest participant id
     * @return false if the word is impossible (corruption)
     */
    public static boolean isWellFormed(long word, int maxParticipantId) {
        int state = state(word);
        int participant = participant(word);
        if (state == FREE) {
            return participant == 0;
        }
        return state <= CONSUMING && participant >= 1 && participant <= maxParticipantId;
    }

    /**
     * The name of a state value, for messages.
     *
     * @param state a state value, valid or not
     * @return e.g. {@code "CLAIMED"}, or {@code "state 9"} for an unknown one
     */
    public static String stateName(int state) {
        return switch (state) {
            case FREE -> "FREE";
            case CLAIMED -> "CLAIMED";
            case COMMITTED -> "COMMITTED";
            case ABORTED -> "ABORTED";
            case CONSUMING -> "CONSUMING";
            default -> "state " + state;
        };
    }

    /**
     * A word in words, e.g. {@code 0x301005 (lap 48, CLAIMED, participant 5)}.
     *
     * @param word a state word
     * @return the word in hex with its fields spelled out
     */
    public static String describe(long word) {
        return "0x" + Long.toHexString(word) + " (lap " + lap(word) + ", " + stateName(state(word))
                + ", participant " + participant(word) + ")";
    }
}
