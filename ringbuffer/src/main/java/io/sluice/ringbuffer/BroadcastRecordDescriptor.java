package io.sluice.ringbuffer;

/**
 * The record framing of the broadcast ring's data area. Every record starts at a position that is
 * a multiple of {@link #ALIGNMENT} and opens with a 16-byte header; the fields are little-endian.
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                          Length (i32)                         |  0
 *  +---------------------------------------------------------------+
 *  |                           Type (i32)                          |  4
 *  +---------------------------------------------------------------+
 *  |                        Sequence (i64)                         |  8
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                 Payload (Length - 16 bytes)                  ... 16
 *  +---------------------------------------------------------------+
 *  |          zero to seven unused bytes up to the next 8          |
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * <ul>
 *   <li>Length: for a message, 16 plus the payload length (the record then spans {@code Length}
 *       rounded up to 8); for a padding record, the whole span, a multiple of 8, at least 16.</li>
 *   <li>Type: a message type, {@code > 0}; or {@link #PADDING_TYPE}. Any other value is corrupt.</li>
 *   <li>Sequence: for a message, its number in the stream (0 for the first message ever committed,
 *       then 1, 2, ...); for a padding record, the number the next message will carry. So every
 *       record says "the next message at or after me is number Sequence" — which is what lets a
 *       lapped consumer count exactly how many messages it lost. It is also the record's
 *       <em>commit word</em>: the producer release-stores it last, and {@link #NOT_COMMITTED}
 *       marks a slot not committed yet.</li>
 * </ul>
 *
 * <p>A message never wraps. When the record does not fit before the end of the data area the
 * producer fills the rest of the area with a padding record and writes the message at offset 0
 * of the next lap. If only 8 bytes remain — too few for a header — they are an <em>implicit
 * gap</em>: nothing is written there, and a reader at an offset within the last 8 bytes skips to
 * the start of the next lap. A record therefore never starts in the last 8 bytes.
 *
 * <h2>The commit word</h2>
 * Length, Type and payload are written with plain stores; the commit release-stores the
 * Sequence, then the ring's Tail (see {@link BroadcastRingDescriptor}). A consumer that expects
 * number {@code n} at its cursor acquire-loads the Sequence there: {@code n} means committed,
 * every byte visible, with no load of the producer's counters. What the slot held a lap before
 * cannot pass for {@code n}: every claim first stores {@link #NOT_COMMITTED} in the Sequence of
 * the slot after its record ({@link #reach}{@code (end) - 8}), and formatting does the same for the
 * first slot, so the word at a consumer's cursor is {@code -1} until the record there is committed
 * (an older lap's record there carries a smaller number). A padding record's Sequence is stored at
 * the commit of the claim that made it, just after the record's, so a consumer that finds the
 * padding committed finds the record after it committed too. Readers that read up to the
 * Tail instead (joining, the first poll, after a lap) load the header plainly after an acquire
 * load of the Tail.
 */
public final class BroadcastRecordDescriptor {
    private BroadcastRecordDescriptor() {
    }

    /** Bytes of header before the payload. */
    public static final int HEADER_LENGTH = 16;
    /** Records start at multiples of this, and spans are rounded up to it. */
    public static final int ALIGNMENT = 8;

    /** Offset in a record of its u32 Length: 16 plus the payload length, or a padding record's span. */
    public static final long LENGTH_OFFSET = 0;
    /** Offset in a record of its u32 Type: positive for a message, {@link #PADDING_TYPE} for padding. */
    public static final long TYPE_OFFSET = 4;
    /** Offset in a record of its u64 Sequence: the message number (padding: the next message's). */
    public static final long SEQUENCE_OFFSET = 8;

    /** Type of a padding record: consumers skip it. Message types are positive. */
    public static final int PADDING_TYPE = -1;

    /**
     * The Sequence of a record slot the producer has not committed yet: written at claim time into
     * the slot that follows the claimed record, so that a consumer waiting there never takes an
     * older lap's bytes for a commit. Sequences are never negative.
     */
    public static final long NOT_COMMITTED = -1;

    /**
     * Where the record after one ending at {@code end} starts: {@code end} itself, or the start
     * of the next lap if fewer than {@link #HEADER_LENGTH} bytes remain before the end of the data
     * area (the implicit gap).
     *
     * @param end a record's end position, a multiple of {@link #ALIGNMENT}
     * @param capacity the data area's size, a power of two
     * @return the position the next record starts at
     */
    public static long nextRecordStart(long end, long capacity) {
        final long toEnd = capacity - (end & (capacity - 1));
        return toEnd < HEADER_LENGTH ? end + toEnd : end;
    }

    /**
     * How far the producer has written when its committed tail is {@code tail}: to the end of the
     * next record slot's header, whose Sequence holds {@link #NOT_COMMITTED}. The ring's Tail Intent
     * has this value whenever no claim is in flight.
     *
     * @param tail the producer's committed tail
     * @param capacity the data area's size, a power of two
     * @return the end of the next record slot's header
     */
    public static long reach(long tail, long capacity) {
        return nextRecordStart(tail, capacity) + HEADER_LENGTH;
    }

    /**
     * {@code length} rounded up to {@link #ALIGNMENT}.
     *
     * @param length a record length in bytes, not negative
     * @return the smallest multiple of {@link #ALIGNMENT} not below {@code length}
     */
    public static long align(long length) {
        return (length + (ALIGNMENT - 1)) & -ALIGNMENT;
    }

    /**
     * Bytes a message of {@code payloadLength} occupies in the ring.
     *
     * @param payloadLength payload bytes, 0..the ring's max message length
     * @return header plus payload, rounded up to {@link #ALIGNMENT}
     */
    public static long span(int payloadLength) {
        return align(HEADER_LENGTH + (long) payloadLength);
    }
}
