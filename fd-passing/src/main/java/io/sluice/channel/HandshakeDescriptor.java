package io.sluice.channel;

/**
 * The bytes of the attach handshake. Every message is one {@code SOCK_SEQPACKET} packet, all
 * integers little-endian, strings UTF-8 without terminator. {@code docs/protocol.md} is the
 * normative text; this class mirrors it.
 *
 * <pre>
 * Common header (every message)
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                    Magic "SLCP" (u32 LE)                      |  0
 *  +-------------------------------+-------------------------------+
 *  |       Protocol Version        |         Message Type          |  4
 *  +-------------------------------+-------------------------------+
 *
 * HELLO (1), attaching process to host, no fds
 *  +-------------------------------+-------------------------------+
 *  |             Role              |       Channel Name Length     |  8
 *  +-------------------------------+-------------------------------+
 *  |                       Flags (u32, 0)                          | 12
 *  +---------------------------------------------------------------+
 *  |                  Channel Name (UTF-8) ...                    ... 16
 *
 * WELCOME (2), host to attaching process, fds: [data region]
 *  +---------------------------------------------------------------+
 *  |                        Ring Kind (u32)                        |  8
 *  +---------------------------------------------------------------+
 *  |                      Participant Id (u32)                     | 12
 *  +---------------------------------------------------------------+
 *  |                   Data Region Size (u64)                      | 16
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                 Position Region Size (u64)                    | 24
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                  Max Message Length (u32)                     | 32
 *  +---------------------------------------------------------------+
 *  |                        Flags (u32)                            | 36
 *  +---------------------------------------------------------------+
 *  |                  Start Position (u64)                         | 40
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *
 * REFUSE (3), host to attaching process, no fds; the host closes the connection after it
 *  +-------------------------------+-------------------------------+
 *  |          Reason Code          |          Text Length          |  8
 *  +-------------------------------+-------------------------------+
 *  |                       Text (UTF-8) ...                       ... 12
 *
 * POSITION (4), consumer to host, fds: [the consumer's position region]
 *  +---------------------------------------------------------------+
 *  |                 Position Region Size (u64)                    |  8
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *
 * READY (5), host to attaching process, no fds
 *  +---------------------------------------------------------------+
 *  |                    Registration (u64)                         |  8
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *
 * DETACH (6), host to attached process, after READY, no fds; the host closes the connection after it
 *  +-------------------------------+-------------------------------+
 *  |          Reason Code          |          Text Length          |  8
 *  +-------------------------------+-------------------------------+
 *  |                       Text (UTF-8) ...                       ... 12
 * </pre>
 */
final class HandshakeDescriptor {
    private HandshakeDescriptor() {
    }

    /** "SLCP" read as a little-endian u32. */
    static final int MAGIC = 0x5043_4C53;
    static final int PROTOCOL_VERSION = 1;

    static final int HELLO = 1;
    static final int WELCOME = 2;
    static final int REFUSE = 3;
    static final int POSITION = 4;
    static final int READY = 5;
    static final int DETACH = 6;

    static final int MAGIC_OFFSET = 0;
    static final int VERSION_OFFSET = 4;
    static final int TYPE_OFFSET = 6;
    static final int HEADER_LENGTH = 8;

    static final int HELLO_ROLE_OFFSET = 8;
    static final int HELLO_NAME_LENGTH_OFFSET = 10;
    static final int HELLO_FLAGS_OFFSET = 12;
    static final int HELLO_NAME_OFFSET = 16;

    static final int WELCOME_KIND_OFFSET = 8;
    static final int WELCOME_PARTICIPANT_OFFSET = 12;
    static final int WELCOME_DATA_SIZE_OFFSET = 16;
    static final int WELCOME_POSITION_SIZE_OFFSET = 24;
    static final int WELCOME_MAX_MESSAGE_OFFSET = 32;
    static final int WELCOME_FLAGS_OFFSET = 36;
    static final int WELCOME_START_POSITION_OFFSET = 40;
    static final int WELCOME_LENGTH = 48;

    /** WELCOME flag, any ring kind: producers wake parked consumers (futex); a consumer may block. */
    static final int WELCOME_FLAG_BLOCKING_WAKE = 0x1;

    // REFUSE's body, which DETACH shares: reason code, text length, text.
    static final int REFUSE_REASON_OFFSET = 8;
    static final int REFUSE_TEXT_LENGTH_OFFSET = 10;
    static final int REFUSE_TEXT_OFFSET = 12;

    static final int POSITION_SIZE_OFFSET = 8;
    static final int POSITION_LENGTH = 16;

    static final int READY_REGISTRATION_OFFSET = 8;
    static final int READY_LENGTH = 16;

    /** Longest channel name, in bytes ({@link io.sluice.api.ChannelNames#MAX_LENGTH}). */
    static final int MAX_NAME_BYTES = io.sluice.api.ChannelNames.MAX_LENGTH;
    /**
     * Largest data region a client maps: the largest ring data area (1 GiB) plus room for any
     * ring's header. A WELCOME announcing more is refused before anything is mapped.
     */
    static final long MAX_DATA_REGION_BYTES = (1L << 30) + (64 << 10);
    /** Longest refusal text, in bytes; longer texts are cut. */
    static final int MAX_TEXT_BYTES = 1024;
    /** Longest message of the handshake; anything longer is malformed. */
    static final int MAX_MESSAGE_BYTES = REFUSE_TEXT_OFFSET + MAX_TEXT_BYTES;
}
