package io.sluice.channel;

/**
 * The layout of a host's status region: what a monitor ({@code sluice stat}, or any reader, in C
 * too) maps read-only to watch a running host without attaching to any channel. Little-endian;
 * every field 8-byte aligned (4-byte for u32s). Normative text: {@code docs/layout.md}, *Host
 * status region*.
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                 Magic "SLUICEST" (u64, LE bytes)              |  0
 *  +-------------------------------+-------------------------------+
 *  |      Layout Version (1)       |     Header Length (256)       |  8
 *  +-------------------------------+-------------------------------+
 *  |       Channel Slots (C)       |        Peer Slots (P)         | 16
 *  +-------------------------------+-------------------------------+
 *  |                      Region Size (u64)                        | 24
 *  |                        Host Pid (u64)                         | 32
 *  |                 Host Started (u64, epoch ms)                  | 40
 *  |                   Reserved, zero (16 bytes)                  ... 48
 *  +---------------------------------------------------------------+
 *  |          Update Sequence (u64; odd while the host writes)     | 64
 *  |                  Updated At (u64, epoch ms)                   | 72
 *  +-------------------------------+-------------------------------+
 *  |      Channels In Use (u32)    |       Peers In Use (u32)      | 80
 *  +-------------------------------+-------------------------------+
 *  |   Attaches | Detaches | Hang-ups | Recoveries | Stuck Detaches | 88..127 (u64 each)
 *  +---------------------------------------------------------------+
 *  |        Refusals by reason code (16 x u64, index = code)      ... 128
 *  +===============================================================+
 *  |                 Channel slot 0 (256 bytes)                   ... 256
 *  |                 ...  Channel slot C-1                        ...
 *  +===============================================================+
 *  |                 Peer slot 0 (128 bytes)                      ... 256 + 256 C
 *  |                 ...  Peer slot P-1                           ...
 *  +---------------------------------------------------------------+
 *
 *  Channel slot (256 bytes)                 Peer slot (128 bytes)
 *    0 u32 ring kind (0: slot unused)         0 u32 channel slot + 1 (0: unused; -1: the host)
 *    4 u32 max message length                 4 u32 role code
 *    8 u64 capacity (bytes; MPMC: slots)      8 u32 participant id   12 u32 pid
 *   16 u64 producer position                 16 u32 uid              20 u32 gid
 *   24 u64 consumer position (slowest)       24 u64 attachment id
 *   32 u64 messages committed                32 u64 attached at (epoch ms)
 *   40 u64 claims aborted                    40 i64 position         (-1: none)
 *   48 u64 claims refused                    48 i64 lag, bytes       (-1: unknown)
 *   56 u64 time stalled, ns (all)            56 i64 lag, messages    (-1: unknown)
 *   64 u64 current stall, ns (0: none)       64 i64 messages read    (-1: unknown)
 *   72 u32 peers    76 u32 name length       72 u64 laps
 *   80..127 reserved                         80 u64 messages lost
 *  128 name (ASCII, 128 bytes)               88..127 reserved
 * </pre>
 *
 * <p>Writer and ordering: the host's thread alone writes the region (everyone else maps it
 * read-only, from an {@code O_RDONLY} fd of a memfd sealed {@code SHRINK|GROW|FUTURE_WRITE|SEAL}).
 * Everything from offset 0 to 63 is written once before the region is shared. The rest is
 * rewritten together a few times a second under a seqlock: the host stores Update Sequence + 1
 * (odd), a store-store fence, the fields (plain), then Update Sequence + 2 (release). A reader
 * acquire-loads the sequence, retries while it is odd, copies what it needs (plain), issues a
 * load-load fence and reloads the sequence: equal, and the copy is one update's whole; different,
 * and it retries (a bounded number of times: a reader never spins forever on a host that died
 * mid-update). Every count and index it copies is bounded before use: slot counts and the region
 * size come from the header, which it checks against the mapping; a name length above 128 or a
 * channel slot index out of range means a corrupt region.
 */
public final class HostStatusDescriptor {
    private HostStatusDescriptor() {
    }

    /** "SLUICEST" as a little-endian u64. */
    public static final long MAGIC = 0x5453_4543_4955_4C53L;
    /** The layout version this code reads and writes. */
    public static final int LAYOUT_VERSION = 1;
    /** Bytes before the first channel slot. */
    public static final int HEADER_LENGTH = 256;
    /** The WELCOME ring-kind code of a status region (no ring has kind 0). */
    public static final int WELCOME_KIND = 0;
    /** The channel name a monitor asks for to get the host's status region. */
    public static final String HOST_CHANNEL = "*";

    /** Offset of the u64 magic. */
    public static final long MAGIC_OFFSET = 0;
    /** Offset of the u32 layout version. */
    public static final long VERSION_OFFSET = 8;
    /** Offset of the u32 header length. */
    public static final long HEADER_LENGTH_OFFSET = 12;
    /** Offset of the u32 number of channel slots. */
    public static final long CHANNEL_SLOTS_OFFSET = 16;
    /** Offset of the u32 number of peer slots. */
    public static final long PEER_SLOTS_OFFSET = 20;
    /** Offset of the u64 region size. */
    public static final long REGION_SIZE_OFFSET = 24;
    /** Offset of the u64 pid of the host process. */
    public static final long HOST_PID_OFFSET = 32;
    /** Offset of the u64 time the host started, in milliseconds since the epoch. */
    public static final long HOST_STARTED_OFFSET = 40;
    /** Offset of the u64 seqlock sequence: odd while the host writes. */
    public static final long SEQUENCE_OFFSET = 64;
    /** Offset of the u64 time of the last update, in milliseconds since the epoch. */
    public static final long UPDATED_AT_OFFSET = 72;
    /** Offset of the u32 number of channel slots in use. */
    public static final long CHANNELS_IN_USE_OFFSET = 80;
    /** Offset of the u32 number of peer slots in use. */
    public static final long PEERS_IN_USE_OFFSET = 84;
    /** Offset of the u64 count of attachments that joined. */
    public static final long ATTACHES_OFFSET = 88;
    /** Offset of the u64 count of attachments that ended (any cause). */
    public static final long DETACHES_OFFSET = 96;
    /** Offset of the u64 count of those that ended because the peer closed its connection or died. */
    public static final long HANG_UPS_OFFSET = 104;
    /** Offset of the u64 count of MPMC recoveries. */
    public static final long RECOVERIES_OFFSET = 112;
    /** Offset of the u64 count of consumers detached by the stuck-consumer policy. */
    public static final long STUCK_DETACHES_OFFSET = 120;
    /** Offset of the first of 16 u64 refusal counts, indexed by reason code. */
    public static final long REFUSALS_OFFSET = 128;
    /** Refusal counts kept: reason codes 0 to 15. */
    public static final int REFUSAL_CODES = 16;

    /** Bytes of a channel slot. */
    public static final int CHANNEL_SLOT_LENGTH = 256;
    /** Channel slot: u32 ring kind code, 0 if unused. */
    public static final long CH_KIND = 0;
    /** Channel slot: u32 max message length. */
    public static final long CH_MAX_MESSAGE_LENGTH = 4;
    /** Channel slot: u64 capacity (bytes; MPMC: slots). */
    public static final long CH_CAPACITY = 8;
    /** Channel slot: u64 producer position (bytes; MPMC: the tail, in slots). */
    public static final long CH_PRODUCER_POSITION = 16;
    /** Channel slot: u64 slowest consumer's position (bytes; MPMC: the head, in slots). */
    public static final long CH_CONSUMER_POSITION = 24;
    /** Channel slot: u64 messages committed by the host's producer (MPMC: by the host's own producers). */
    public static final long CH_COMMITTED = 32;
    /** Channel slot: u64 claims aborted. */
    public static final long CH_ABORTED = 40;
    /** Channel slot: u64 claims refused for want of room. */
    public static final long CH_REFUSED = 48;
    /** Channel slot: u64 nanoseconds the producer was held back, in all. */
    public static final long CH_STALLED_NANOS = 56;
    /** Channel slot: u64 nanoseconds of the stall in progress, 0 if none. */
    public static final long CH_CURRENT_STALL_NANOS = 64;
    /** Channel slot: u32 attached peers. */
    public static final long CH_PEERS = 72;
    /** Channel slot: u32 name length in bytes. */
    public static final long CH_NAME_LENGTH = 76;
    /** Channel slot: the name, ASCII. */
    public static final long CH_NAME = 128;
    /** Longest name a channel slot holds (every channel name fits). */
    public static final int CH_NAME_CAPACITY = 128;

    /** Bytes of a peer slot. */
    public static final int PEER_SLOT_LENGTH = 128;
    /** Peer slot: u32 channel slot index + 1; 0 if the slot is unused; {@link #PEER_OF_HOST} for a host monitor. */
    public static final long PEER_CHANNEL = 0;
    /** Peer slot: u32 role code. */
    public static final long PEER_ROLE = 4;
    /** Peer slot: u32 MPMC participant id, else 0. */
    public static final long PEER_PARTICIPANT = 8;
    /** Peer slot: u32 pid. */
    public static final long PEER_PID = 12;
    /** Peer slot: u32 uid. */
    public static final long PEER_UID = 16;
    /** Peer slot: u32 gid. */
    public static final long PEER_GID = 20;
    /** Peer slot: u64 attachment id. */
    public static final long PEER_ATTACHMENT = 24;
    /** Peer slot: u64 attach time, milliseconds since the epoch. */
    public static final long PEER_ATTACHED_AT = 32;
    /** Peer slot: i64 the consumer's position, -1 if it has none. */
    public static final long PEER_POSITION = 40;
    /** Peer slot: i64 bytes between the producer and this consumer, -1 if unknown. */
    public static final long PEER_LAG_BYTES = 48;
    /** Peer slot: i64 messages between the producer and this consumer, -1 if unknown. */
    public static final long PEER_LAG_MESSAGES = 56;
    /** Peer slot: i64 messages this consumer has read, -1 if unknown. */
    public static final long PEER_MESSAGES_READ = 64;
    /** Peer slot: u64 laps (broadcast). */
    public static final long PEER_LAPS = 72;
    /** Peer slot: u64 messages lost to laps (broadcast). */
    public static final long PEER_LOST = 80;
    /** The Peer Channel value of a monitor of the whole host. */
    public static final int PEER_OF_HOST = -1;

    /** Channel slots a host's status region holds. */
    public static final int CHANNEL_SLOTS = 256;

    /**
     * Bytes of a status region with {@code peerSlots} peer slots.
     *
     * @param peerSlots peer slots, 1 or more
     * @return the region size
     */
    public static long regionSize(int peerSlots) {
        return HEADER_LENGTH + (long) CHANNEL_SLOTS * CHANNEL_SLOT_LENGTH + (long) peerSlots * PEER_SLOT_LENGTH;
    }

    /**
     * Offset of channel slot {@code i}.
     *
     * @param i the slot index
     * @return its offset in the region
     */
    public static long channelSlot(int i) {
        return HEADER_LENGTH + (long) i * CHANNEL_SLOT_LENGTH;
    }

    /**
     * Offset of peer slot {@code j} in a region of {@code channelSlots} channel slots.
     *
     * @param channelSlots the region's channel slot count
     * @param j            the slot index
     * @return its offset in the region
     */
    public static long peerSlot(int channelSlots, int j) {
        return HEADER_LENGTH + (long) channelSlots * CHANNEL_SLOT_LENGTH + (long) j * PEER_SLOT_LENGTH;
    }
}
