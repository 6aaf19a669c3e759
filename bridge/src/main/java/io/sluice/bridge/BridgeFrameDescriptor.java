package io.sluice.bridge;

/**
 * Layout of one bridged message in an Aeron stream: a 16-byte header before the payload, one Aeron
 * message per Sluice message (Aeron fragments and reassembles messages longer than its MTU, so
 * message boundaries are kept whatever the length). All fields little-endian.
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                     Message Type (i32, > 0)                   |  0
 *  +---------------------------------------------------------------+
 *  |                        Reserved, zero                         |  4
 *  +---------------------------------------------------------------+
 *  |                    Bridge Sequence (i64)                      |  8
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                 Payload (the message's bytes)                ... 16
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * <ul>
 *   <li><b>Message Type</b>: the Sluice message type, as the source channel carried it.</li>
 *   <li><b>Bridge Sequence</b>: 0 for the first message an out side offers after it starts, then
 *       1, 2, ... for every message it takes from its channel, including one it drops: a gap in
 *       the sequence is exactly the messages the in side did not get. A new Aeron session (the
 *       out side restarted) starts again at 0.</li>
 * </ul>
 *
 * The in side trusts nothing here: a frame shorter than the header, a type that is not positive
 * or a payload longer than its channel's maximum is counted as malformed and skipped.
 */
public final class BridgeFrameDescriptor {
    private BridgeFrameDescriptor() {
    }

    /** Offset of the i32 message type. */
    public static final int TYPE_OFFSET = 0;
    /** Offset of the i64 bridge sequence. */
    public static final int SEQUENCE_OFFSET = 8;
    /** Bytes before the payload. */
    public static final int HEADER_LENGTH = 16;
}
