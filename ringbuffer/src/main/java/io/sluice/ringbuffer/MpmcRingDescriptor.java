package io.sluice.ringbuffer;

import io.sluice.api.RingKind;
import io.sluice.api.RingLayoutException;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * The MPMC ring region: the common header, the ring's own fields, two counter lines, a wait line,
 * then {@code slotCount} slots of {@code slotLength} bytes ({@link MpmcSlotDescriptor}).
 * Every participant maps the whole region read-write (a trusted group: docs/security.md).
 * All fields little-endian.
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |   Common header (RegionHeaderDescriptor): magic, version,    ...  0
 *  |   kind = MPMC (4), header length = 512,                       |
 *  |   ring-specific u32 at 20 = Slot Length,                      |
 *  |   capacity at 24 = Slot Count x Slot Length                   |
 *  +-------------------------------+-------------------------------+
 *  |        Slot Count (u32)       |   Max Participant Id (u32)    | 32
 *  +-------------------------------+-------------------------------+
 *  |                     Reserved, zero (88 bytes)                ... 40
 *  +---------------------------------------------------------------+
 *  |                    Tail Position (u64, CAS)                   | 128
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                     Padding, zero (120 bytes)                ... 136
 *  +---------------------------------------------------------------+
 *  |                    Head Position (u64, CAS)                   | 256
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                     Padding, zero (120 bytes)                ... 264
 *  +---------------------------------------------------------------+
 *  |      Wake Sequence (u32)      |      Parked Count (u32)       | 384
 *  +-------------------------------+-------------------------------+
 *  |                     Reserved, zero (56 bytes)                ... 392
 *  +---------------------------------------------------------------+
 *  |     Producer Wait Word (u32, reserved, zero)                  | 448
 *  +---------------------------------------------------------------+
 *  |                     Reserved, zero (60 bytes)                ... 452
 *  +---------------------------------------------------------------+
 *  |           Slot 0 ... Slot (Slot Count - 1)                   ... 512
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * <ul>
 *   <li>Slot Length (u32 at 20): bytes per slot including its 16-byte header; a power of two in
 *       [{@value MpmcSlotDescriptor#MIN_SLOT_LENGTH}, 2<sup>30</sup>]. Written once by the
 *       creator (plain; the hand-over of the region publishes it), never changed.</li>
 *   <li>Slot Count (u32 at 32): a power of two in [2, 2<sup>30</sup>]. Written once, like Slot
 *       Length.</li>
 *   <li>Data capacity (the common header's, u64 at 24): Slot Count &times; Slot Length, at most
 *       {@link #MAX_DATA_LENGTH} (2<sup>30</sup> bytes, 1 GiB) as for every ring. So a region
 *       needs at most {@code 512 + 2^30} bytes; {@link MpmcRing#regionSize} refuses anything larger
 *       before anything is allocated, and attaching refuses a header that says more.</li>
 *   <li>Max Participant Id (u32 at 36): participants are numbered 1..this, at most
 *       {@value MpmcSlotDescriptor#MAX_PARTICIPANT_ID}; 0 means "nobody". Written once.</li>
 *   <li>Tail Position (u64 at 128): the next ring position a producer will claim. Written only
 *       by compare-and-set from {@code t} to {@code t + 1}, by the producer that claimed slot
 *       {@code t} or by any participant that saw slot {@code t} already claimed ("helping");
 *       read with acquire. It is monotonic and 64-bit (2<sup>63</sup> positions last 2,900
 *       years at 10<sup>8</sup> messages/s), so its CAS has no ABA. Invariant: every position
 *       below it has been claimed.</li>
 *   <li>Head Position (u64 at 256): the next position a consumer will take. Same rules, by
 *       consumers; every position below it has been taken (CONSUMING) or skipped (ABORTED).</li>
 *   <li>Wake Sequence (u32 at 384): the futex word parked consumers sleep on; 0 at format. A
 *       producer (any participant, in any process; or the host, after a recovery and on close)
 *       adds 1 atomically and then calls {@code FUTEX_WAKE} for all waiters, after a commit or
 *       abort whose full fence was followed by a volatile load that found the Parked Count not
 *       zero. A consumer acquire-loads it before it counts itself parked and waits on that
 *       value, so a wake in between makes its wait return at once.</li>
 *   <li>Parked Count (u32 at 388): consumers about to sleep or sleeping; 0 at format. A consumer
 *       adds 1 atomically (then a full fence, then one more take attempt, then the wait) and
 *       afterwards takes 1 away by compare-and-set, never below 0. Producers volatile-load it
 *       after the full fence that follows their commit's CAS. Dekker's protocol, argued in
 *       {@link MpmcWakeup}. Shared by all, so it can be wrong (a consumer killed asleep leaves it
 *       1 too high; the host sets it to 0 when the last consumer leaves): too high costs needless
 *       wakes, too low a sleep to the end of its slice (50 ms), never a hang.</li>
 *   <li>Producer Wait Word (448): reserved (a futex word for producers waiting for room); zero,
 *       nobody writes it in this layout version. Away from the consumers' half of the line.</li>
 * </ul>
 * A region holding only zeros after the first 40 bytes is an empty ring: every slot word is
 * FREE at lap 0, tail and head are 0.
 */
public final class MpmcRingDescriptor {
    private MpmcRingDescriptor() {
    }

    /** Offset of the u32 slot length in bytes (a power of two, header included). */
    public static final long SLOT_LENGTH_OFFSET = RegionHeaderDescriptor.RING_SPECIFIC_U32_OFFSET;
    /** Offset of the u32 slot count (a power of two). */
    public static final long SLOT_COUNT_OFFSET = RegionHeaderDescriptor.RING_FIELDS_OFFSET;
    /** Offset of the u32 highest participant id. */
    public static final long MAX_PARTICIPANT_ID_OFFSET = SLOT_COUNT_OFFSET + Integer.BYTES;
    /** First reserved byte of the ring fields; bytes from here to 128 are zero. */
    public static final long RESERVED_FIELDS_OFFSET = MAX_PARTICIPANT_ID_OFFSET + Integer.BYTES;
    /** The producers' counter, alone on the second 128-byte line. */
    public static final long TAIL_POSITION_OFFSET = RegionHeaderDescriptor.LINE;
    /** The consumers' counter, alone on the third line. */
    public static final long HEAD_POSITION_OFFSET = 2 * RegionHeaderDescriptor.LINE;
    /** Offset of the u32 Wake Sequence parked consumers sleep on: the fourth line's first 64-byte half. */
    public static final long WAKE_SEQUENCE_OFFSET = 3 * RegionHeaderDescriptor.LINE;
    /** Offset of the u32 Parked Count: consumers about to sleep or sleeping, next to the Wake Sequence. */
    public static final long PARKED_COUNT_OFFSET = WAKE_SEQUENCE_OFFSET + Integer.BYTES;
    /** Reserved for a futex word of producers waiting for room: the fourth line's second half. */
    public static final long PRODUCER_WAIT_WORD_OFFSET = WAKE_SEQUENCE_OFFSET + RegionHeaderDescriptor.LINE / 2;
    /** Header and counter lines; slot 0 starts here. */
    public static final int HEADER_LENGTH = 4 * RegionHeaderDescriptor.LINE;
    /** Fewest slots a ring may have. */
    public static final int MIN_SLOT_COUNT = 2;
    /** Most slots a ring may have. */
    public static final int MAX_SLOT_COUNT = 1 << 30;
    /**
     * Largest data area, slot count &times; slot length: 2<sup>30</sup> bytes (1 GiB), as for every
     * ring ({@link RegionHeaderDescriptor#MAX_CAPACITY}).
     */
    public static final long MAX_DATA_LENGTH = RegionHeaderDescriptor.MAX_CAPACITY;

    /** Tail and head: aligned, for getAcquire and compareAndSet. Coordinates (segment, offset). */
    static final VarHandle POSITION = RegionHeaderDescriptor.ALIGNED_U64.varHandle().withInvokeExactBehavior();

    private static final ValueLayout.OfInt U32 = RegionHeaderDescriptor.U32;

    /**
     * Bytes a region needs for {@code slotCount} slots of {@code slotLength} bytes:
     * {@code 512 + slotCount * slotLength}. Call it before creating the region: an absurd size
     * fails here, not in the kernel.
     *
     * @throws IllegalArgumentException if either is not a power of two in range, or their product
     *                                  is above {@link #MAX_DATA_LENGTH} (2^30)
     */
    static long regionSize(int slotCount, int slotLength) {
        checkSlotCount(slotCount);
        checkSlotLength(slotLength);
        final long dataLength = (long) slotCount * slotLength; // both at most 2^30: no overflow in a long
        if (dataLength > MAX_DATA_LENGTH) {
            throw new IllegalArgumentException("mpmc data length " + dataLength + " (" + slotCount + " slots of "
                    + slotLength + " bytes) is above the maximum " + MAX_DATA_LENGTH);
        }
        return HEADER_LENGTH + dataLength;
    }

    /**
     * Lays out an empty ring at the start of {@code region}: writes the header, zeroes counters,
     * reserved words and every slot. Plain stores: call before the region is shared.
     *
     * @throws IllegalArgumentException if a size is not a power of two in range, slot count
     *                                  &times; slot length is above {@link #MAX_DATA_LENGTH}, the
     *                                  participant limit is outside 1..{@value MpmcSlotDescriptor#MAX_PARTICIPANT_ID},
     *                                  or the region is too small, read-only or not 8-byte aligned
     */
    static void format(MemorySegment region, int slotCount, int slotLength, int maxParticipantId) {
        long length = regionSize(slotCount, slotLength);
        if (maxParticipantId < 1 || maxParticipantId > MpmcSlotDescriptor.MAX_PARTICIPANT_ID) {
            throw new IllegalArgumentException("max participant id " + maxParticipantId + " outside 1.."
                    + MpmcSlotDescriptor.MAX_PARTICIPANT_ID);
        }
        Misuse.checkFormatTarget(region, length, what(null), slotCount + " slots of " + slotLength + " bytes");
        region.asSlice(0, length).fill((byte) 0);
        RegionHeaderDescriptor.write(region, RingKind.MPMC, HEADER_LENGTH, (long) slotCount * slotLength, slotLength);
        region.set(U32, SLOT_COUNT_OFFSET, slotCount);
        region.set(U32, MAX_PARTICIPANT_ID_OFFSET, maxParticipantId);
    }

    /**
     * Checks that {@code region} holds an MPMC ring this library can run: common header, slot
     * length and count, participant limit, reserved fields, alignment, and counters that are not
     * negative nor head more than one past tail. Whether the segment is writable is the caller's
     * to check: participants and recovery write it, an inspector only reads.
     *
     * @param ringName names the ring in messages
     * @param region the whole ring region
     * @return the ring's sizes
     * @throws RingLayoutException naming the first field that is wrong
     */
    public static MpmcRingGeometry validate(MemorySegment region, String ringName) {
        String what = what(ringName);
        long capacity = RegionHeaderDescriptor.validate(region, what, HEADER_LENGTH,
                (long) MIN_SLOT_COUNT * MpmcSlotDescriptor.MIN_SLOT_LENGTH, RingKind.MPMC);
        int slotLength = region.get(U32, SLOT_LENGTH_OFFSET);
        if (slotLength < MpmcSlotDescriptor.MIN_SLOT_LENGTH || slotLength > MpmcSlotDescriptor.MAX_SLOT_LENGTH
                || Integer.bitCount(slotLength) != 1) {
            throw new RingLayoutException(what + ": slot length " + slotLength + " is not a power of two in ["
                    + MpmcSlotDescriptor.MIN_SLOT_LENGTH + ", " + MpmcSlotDescriptor.MAX_SLOT_LENGTH + "]");
        }
        int slotCount = region.get(U32, SLOT_COUNT_OFFSET);
        if (slotCount < MIN_SLOT_COUNT || slotCount > MAX_SLOT_COUNT || Integer.bitCount(slotCount) != 1) {
            throw new RingLayoutException(what + ": slot count " + slotCount + " is not a power of two in ["
                    + MIN_SLOT_COUNT + ", " + MAX_SLOT_COUNT + "]");
        }
        if ((long) slotCount * slotLength != capacity) {
            throw new RingLayoutException(what + ": capacity " + capacity + " is not slot count " + slotCount
                    + " x slot length " + slotLength);
        }
        int maxParticipantId = region.get(U32, MAX_PARTICIPANT_ID_OFFSET);
        if (maxParticipantId < 1 || maxParticipantId > MpmcSlotDescriptor.MAX_PARTICIPANT_ID) {
            throw new RingLayoutException(what + ": max participant id " + maxParticipantId + " outside 1.."
                    + MpmcSlotDescriptor.MAX_PARTICIPANT_ID);
        }
        for (long off = RESERVED_FIELDS_OFFSET; off < RegionHeaderDescriptor.LINE; off += Long.BYTES) {
            long v = region.get(RegionHeaderDescriptor.U64, off);
            if (v != 0) {
                throw new RingLayoutException(what + ": reserved header bytes at " + off + " are 0x"
                        + Long.toHexString(v) + ", expected zero");
            }
        }
        // Head first: head <= tail + 1 holds at every instant and tail only grows, so a later
        // read of tail cannot be more than one behind this read of head.
        long head = (long) POSITION.getAcquire(region, HEAD_POSITION_OFFSET);
        long tail = (long) POSITION.getAcquire(region, TAIL_POSITION_OFFSET);
        if (head < 0 || tail < 0 || head > tail + 1) {
            throw new RingLayoutException(what + ": impossible counters head " + head + ", tail " + tail);
        }
        return new MpmcRingGeometry(slotCount, slotLength, maxParticipantId);
    }

    static String what(String ringName) {
        return Misuse.what("mpmc", ringName);
    }

    private static void checkSlotCount(int slotCount) {
        if (slotCount < MIN_SLOT_COUNT || slotCount > MAX_SLOT_COUNT || Integer.bitCount(slotCount) != 1) {
            throw new IllegalArgumentException("slot count " + slotCount + " is not a power of two in ["
                    + MIN_SLOT_COUNT + ", " + MAX_SLOT_COUNT + "]");
        }
    }

    private static void checkSlotLength(int slotLength) {
        if (slotLength < MpmcSlotDescriptor.MIN_SLOT_LENGTH || slotLength > MpmcSlotDescriptor.MAX_SLOT_LENGTH
                || Integer.bitCount(slotLength) != 1) {
            throw new IllegalArgumentException("slot length " + slotLength + " is not a power of two in ["
                    + MpmcSlotDescriptor.MIN_SLOT_LENGTH + ", " + MpmcSlotDescriptor.MAX_SLOT_LENGTH + "]");
        }
    }
}
