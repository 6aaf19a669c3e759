package io.sluice.ringbuffer;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/**
 * The header of every record in an SPSC ring's data area. Records are laid end to end from
 * position 0; each starts at a multiple of {@link #ALIGNMENT} and takes
 * {@code align(HEADER_LENGTH + length, ALIGNMENT)} bytes. All fields little-endian.
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                    Position Stamp (i64)                       |  0
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                        Length (i32)                           |  8
 *  +---------------------------------------------------------------+
 *  |                         Type (i32)                            | 12
 *  +---------------------------------------------------------------+
 *  |                   Payload (Length bytes)                     ... 16
 * ...                                                              |
 *  +---------------------------------------------------------------+
 *  |     0..7 bytes to the next multiple of 8 (unspecified)        |
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * <h2>Position Stamp: the commit flag</h2>
 * Written by the producer, <b>last, with a release store</b>, once the header and payload are in
 * place: the 64-bit position of the record (the count of bytes written to the ring before it).
 * The consumer <b>acquire-loads</b> the stamp at its position {@code p} and takes the record only
 * if the stamp equals {@code p}; everything the producer wrote before the release (length, type,
 * payload) is then visible to it. The consumer never writes the data area (it maps it read-only),
 * so nothing is zeroed behind it: the bytes at a stamp offset are whatever the last lap left,
 * including <em>payload</em> bytes of an older, longer record, which may well equal {@code p}.
 * The producer closes that hole:
 * <ol>
 *   <li>before it releases a record ending at position {@code q}, it writes
 *       {@link #INVALID_STAMP} (plain) into the stamp slot of {@code q}, the next record's slot.
 *       The release of the record orders that store before it; its room is part of every claim
 *       (a claim owns its record plus the next 8 bytes);</li>
 *   <li>format writes {@link #INVALID_STAMP} into the slot of position 0.</li>
 * </ol>
 * So the slot of the producer's next position always holds {@code INVALID_STAMP} by the time
 * the consumer can get there (it learnt that position by acquiring the previous record's stamp,
 * which happens after the invalid stamp was written). Until the producer commits a record there,
 * nothing else writes those 8 bytes in this lap: a payload never covers a record boundary, and
 * the same bytes of the next lap lie beyond the consumer's position + capacity. Hence a consumer
 * at {@code p} only ever reads {@code INVALID_STAMP} (not yet) or {@code p} (committed); any other
 * value means a corrupt ring. Positions are never negative, so {@code -1} is never valid.
 *
 * <h2>Length and Type</h2>
 * Plain stores by the producer, before the release of the stamp; plain loads by the consumer,
 * after the acquire of the stamp. Length is the payload length in bytes, {@code 0..} the ring's
 * maximum message length. Type is positive for a message, or {@link #PADDING_TYPE} for the
 * padding record that fills the end of the data area when the next record does not fit there
 * (its payload runs exactly to the end of the data area and is skipped).
 */
public final class SpscRecordDescriptor {
    private SpscRecordDescriptor() {
    }

    /** The record header as a layout: stamp aligned (acquire/release), length and type plain. */
    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            RegionHeaderDescriptor.ALIGNED_U64.withName("stamp"),
            RegionHeaderDescriptor.U32.withName("length"),
            RegionHeaderDescriptor.U32.withName("type"));

    /** Offset in a record of its u64 stamp: its own position once committed. */
    public static final long STAMP_OFFSET = LAYOUT.byteOffset(groupElement("stamp"));
    /** Offset in a record of its u32 payload length. */
    public static final long LENGTH_OFFSET = LAYOUT.byteOffset(groupElement("length"));
    /** Offset in a record of its u32 type (positive, or padding). */
    public static final long TYPE_OFFSET = LAYOUT.byteOffset(groupElement("type"));
    /** Bytes before the payload. */
    public static final int HEADER_LENGTH = (int) LAYOUT.byteSize();
    /** Every record starts at a multiple of this. */
    public static final int ALIGNMENT = 8;
    /** Size of the stamp slot the producer invalidates ahead of each commit. */
    public static final int STAMP_LENGTH = 8;
    /** Type of a padding record. Types 0 and below other than this are invalid. */
    public static final int PADDING_TYPE = -1;
    /** A stamp no record ever carries (positions are not negative): "not committed". */
    public static final long INVALID_STAMP = -1L;


    // Coordinates (MemorySegment data, long recordOffset). Exact invocation: a wrong offset type
    // or a missing cast throws in tests instead of silently taking a 20x slower path.
    static final VarHandle STAMP = LAYOUT.varHandle(groupElement("stamp")).withInvokeExactBehavior();
    static final VarHandle LENGTH = LAYOUT.varHandle(groupElement("length")).withInvokeExactBehavior();
    static final VarHandle TYPE = LAYOUT.varHandle(groupElement("type")).withInvokeExactBehavior();

    /**
     * Bytes a record with a payload of {@code length} bytes takes in the ring.
     *
     * @param length payload bytes, not negative
     * @return header plus payload, rounded up to the record alignment
     */
    public static int recordLength(int length) {
        return (HEADER_LENGTH + length + ALIGNMENT - 1) & -ALIGNMENT;
    }
}
