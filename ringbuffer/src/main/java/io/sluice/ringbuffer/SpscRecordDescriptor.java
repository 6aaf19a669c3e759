package io.sluice.ringbuffer;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/**
 * The header of every record in an SPSC ring's data area. Records follow one another from
 * position 0; each starts at a multiple of {@link #ALIGNMENT} and takes
 * {@code align(HEADER_LENGTH + length, ALIGNMENT)} bytes ({@link #recordLength}). The next record
 * starts where the last one ends, except that no record starts in the last 16 bytes of a 64-byte
 * line ({@link #LINE_LENGTH}): a record that ends there is followed by a gap to the next line
 * ({@link #nextRecordStart}). All fields little-endian.
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
 *  |  0, 8 or 16 bytes of gap to the next line (unspecified), when  |
 *  |  the record ends in the last 16 bytes of a 64-byte line        |
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * <h2>Why no record starts in the last 16 bytes of a line</h2>
 * A consumer learns of a record from its stamp and reads the payload right after: if the header
 * filled the end of a line, the payload would begin on the next one, and the consumer would wait
 * for a second line to come from the producer's core after the first. Starting at most 40 bytes
 * into a line keeps the header and the first 8 payload bytes on the stamp's line (and a payload of
 * up to 48 bytes whole on it when the record starts on a line boundary). The gap costs at most
 * 16 bytes per record; what it saves is in docs/benchmarks.md.
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
 *   <li>before it releases a record whose successor starts at position {@code q}
 *       ({@link #nextRecordStart} of the record's end), it writes {@link #INVALID_STAMP} (plain,
 *       when it claims the record)
 *       into the stamp slot of {@code q}, the next record's slot. The release of the record orders
 *       that store before it; its room is part of every claim (a claim owns its record, the gap
 *       after it and the next 8 bytes);</li>
 *   <li>format writes {@link #INVALID_STAMP} into the slot of position 0.</li>
 * </ol>
 * The producer may also write {@link #INVALID_STAMP} anywhere in its free room, past the next
 * record's slot and below its limit, the last consumer position it validated + capacity (it
 * stores one into the first slot of the line after the next record's, so that the line is its own
 * before a later commit needs it): no consumer reads there before a record is committed over it.
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
    /**
     * The line length records are placed by: no record starts in the last 16 bytes of a line of
     * this many bytes (the data area's offsets, so a line starts at every multiple of it).
     */
    public static final int LINE_LENGTH = 64;
    /** The furthest into a line a record starts: header and 8 payload bytes then share the line. */
    public static final int LAST_START_IN_LINE = LINE_LENGTH - HEADER_LENGTH - 8;
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

    /**
     * Where the record after one ending at {@code end} starts: {@code end} itself, or the start of
     * the next line if {@code end} lies in the last 16 bytes of a line (see the class comment).
     * The same for positions and data offsets: a line starts at every multiple of
     * {@link #LINE_LENGTH} in both.
     *
     * @param end where a record ends (a position or data offset), a multiple of {@link #ALIGNMENT}
     * @return where the next record starts, at most 16 bytes further
     */
    public static long nextRecordStart(long end) {
        return (end & (LINE_LENGTH - 1)) <= LAST_START_IN_LINE ? end : (end | (LINE_LENGTH - 1)) + 1;
    }
}
