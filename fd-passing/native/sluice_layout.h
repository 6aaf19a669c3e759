/*
 * sluice_layout.h: the bytes the native client shares with the host, as named constants.
 *
 * Every offset, length, magic and code of the attach handshake (docs/protocol.md) and of the
 * regions it hands over (docs/layout.md: the common region header, the SPSC, broadcast and MPMC
 * rings, and the consumer position regions), and of the caches' regions (docs/snapshot-layout.md:
 * the sealed snapshot table; docs/cache-layout.md: the shared map), appears here once, under a
 * name that says which field it is. The library uses only these names. The host is written in
 * Java, and its copies of the same values are checked against this file by conformance tests:
 * test/layout_constants.c prints every constant below, and the fd-passing tests (the SLI_SNAP_ and
 * SLI_MAP_ constants: the cache module's tests) compare each line with the Java value. A constant
 * added here belongs in that program too.
 *
 * This file describes formats: changing a value here changes a byte on the wire or in shared
 * memory, which the documents above forbid without a new protocol or layout version.
 * Integers are little-endian in every format.
 */
#ifndef SLUICE_LAYOUT_H
#define SLUICE_LAYOUT_H

/* ---- attach handshake (docs/protocol.md) ----------------------------------------------------------
 *
 * Every message starts with an 8-byte header:
 *
 *     0        4          6       8
 *     +--------+----------+-------+----------------
 *     | magic  | version  | type  | body ...
 *     +--------+----------+-------+----------------
 *       u32      u16        u16
 */
#define SLI_PROTO_MAGIC 0x50434C53u /* the bytes "SLCP" */
#define SLI_PROTO_MAGIC_OFFSET 0
#define SLI_PROTO_VERSION_OFFSET 4 /* u16: SLUICE_PROTOCOL_VERSION */
#define SLI_PROTO_TYPE_OFFSET 6    /* u16: one of SLI_MSG_* */
#define SLI_PROTO_HEADER_LENGTH 8

/* Message types. */
#define SLI_MSG_HELLO 1    /* client -> host, no fds */
#define SLI_MSG_WELCOME 2  /* host -> client, 1 fd: the data region */
#define SLI_MSG_REFUSE 3   /* host -> client, no fds; the host then closes */
#define SLI_MSG_POSITION 4 /* consumer -> host, 1 fd: the consumer's position region */
#define SLI_MSG_READY 5    /* host -> client, no fds: attached */
#define SLI_MSG_DETACH 6   /* host -> client after READY (or in its place): REFUSE's body; the host then closes */

/* HELLO: role, name length, flags, then the channel name; exactly 16 + name length bytes. */
#define SLI_HELLO_ROLE_OFFSET 8         /* u16: sluice_role */
#define SLI_HELLO_NAME_LENGTH_OFFSET 10 /* u16: 1..SLI_MAX_NAME_BYTES */
#define SLI_HELLO_FLAGS_OFFSET 12       /* u32: reserved, 0 */
#define SLI_HELLO_NAME_OFFSET 16        /* the name's bytes, no terminator */

/* WELCOME: exactly 48 bytes. */
#define SLI_WELCOME_KIND_OFFSET 8            /* u32: sluice_kind */
#define SLI_WELCOME_PARTICIPANT_OFFSET 12    /* u32: MPMC participant id, else 0 */
#define SLI_WELCOME_DATA_SIZE_OFFSET 16      /* u64: exact size of the data region's memfd */
#define SLI_WELCOME_POSITION_SIZE_OFFSET 24  /* u64: size of the position region to create, 0 for MPMC */
#define SLI_WELCOME_MAX_MESSAGE_OFFSET 32    /* u32: longest message (MPMC: slot payload) */
#define SLI_WELCOME_FLAGS_OFFSET 36          /* u32: SLI_WELCOME_FLAG_* */
#define SLI_WELCOME_START_POSITION_OFFSET 40 /* u64: SPSC: where the consumer starts; else 0 */
#define SLI_WELCOME_LENGTH 48
#define SLI_WELCOME_FLAG_WAKE 0x1u /* producers wake parked consumers (any ring kind) */

/* REFUSE and DETACH: reason code, text length, text (UTF-8, untrusted). */
#define SLI_REFUSE_REASON_OFFSET 8       /* u16: SLUICE_REFUSED_* */
#define SLI_REFUSE_TEXT_LENGTH_OFFSET 10 /* u16: at most SLI_MAX_TEXT_BYTES */
#define SLI_REFUSE_TEXT_OFFSET 12

/* POSITION: exactly 16 bytes. */
#define SLI_POSITION_SIZE_OFFSET 8 /* u64: the position region's size, as WELCOME said */
#define SLI_POSITION_LENGTH 16

/* READY: exactly 16 bytes. */
#define SLI_READY_REGISTRATION_OFFSET 8 /* u64: broadcast back-pressure: > 0, the gating number; else 0 */
#define SLI_READY_LENGTH 16

/* Limits. */
#define SLI_MAX_NAME_BYTES 128
#define SLI_MAX_TEXT_BYTES 1024
#define SLI_MAX_MESSAGE_BYTES (SLI_REFUSE_TEXT_OFFSET + SLI_MAX_TEXT_BYTES) /* 1036: the longest message */
/* The largest data region a WELCOME may announce: the largest ring data area plus room for any header. */
#define SLI_MAX_DATA_REGION_BYTES (SLI_REGION_MAX_CAPACITY + 64 * 1024)

/* ---- common region header (docs/layout.md): the first 32 bytes of every ring region ----------------
 *
 *     0                8          12         16              20                 24          32
 *     +----------------+----------+----------+---------------+------------------+-----------+
 *     | magic "SLUICERB"| version  | kind     | header length | ring-specific u32| capacity  |
 *     +----------------+----------+----------+---------------+------------------+-----------+
 *       u64              u32        u32        u32             u32                u64
 */
#define SLI_REGION_MAGIC 0x4252454349554C53ull /* the bytes "SLUICERB" */
#define SLI_REGION_MAGIC_OFFSET 0
#define SLI_REGION_VERSION_OFFSET 8  /* u32: SLUICE_LAYOUT_VERSION */
#define SLI_REGION_KIND_OFFSET 12    /* u32: sluice_kind */
#define SLI_REGION_HEADER_LENGTH_OFFSET 16
#define SLI_REGION_RING_SPECIFIC_U32_OFFSET 20
#define SLI_REGION_CAPACITY_OFFSET 24   /* u64: bytes of the data area, a power of two */
#define SLI_REGION_RING_FIELDS_OFFSET 32 /* where each ring's own header fields begin */
#define SLI_LINE 128                     /* header lines are this long: no false sharing between fields of different writers */
#define SLI_REGION_MAX_CAPACITY (1ull << 30) /* every ring's data area is at most 1 GiB */

/* ---- SPSC ring (docs/layout.md, SPSC) ------------------------------------------------------------
 *
 * Header (one line), then the data area:
 *     0   common header (ring-specific u32: max message length)
 *     32  record header length (u32, 16)   36  record alignment (u32, 8)
 *     64  wake sequence (u32: futex word, incremented by the producer)
 *     128 data area: records, each at an 8-aligned position
 */
#define SLI_SPSC_HEADER_LENGTH SLI_LINE
#define SLI_SPSC_MAX_MESSAGE_LENGTH_OFFSET SLI_REGION_RING_SPECIFIC_U32_OFFSET
#define SLI_SPSC_RECORD_HEADER_LENGTH_OFFSET 32
#define SLI_SPSC_RECORD_ALIGNMENT_OFFSET 36
#define SLI_SPSC_WAKE_SEQUENCE_OFFSET 64
#define SLI_SPSC_PRODUCER_POSITION_OFFSET 72 /* u64: after the last commit (producer, release); for monitors */
#define SLI_SPSC_MIN_CAPACITY 64
#define SLI_SPSC_MAX_MESSAGE_LENGTH_LIMIT (1 << 30)

/* SPSC record: stamp (u64, its own position once committed, -1 before), length, type, payload. */
#define SLI_SPSC_REC_STAMP_OFFSET 0
#define SLI_SPSC_REC_LENGTH_OFFSET 8 /* u32: payload bytes */
#define SLI_SPSC_REC_TYPE_OFFSET 12  /* i32: > 0 a message, SLI_SPSC_PADDING_TYPE to the end of the data area */
#define SLI_SPSC_REC_HEADER_LENGTH 16
#define SLI_SPSC_REC_ALIGNMENT 8
/* No record starts in the last 16 bytes of a 64-byte line of the data area (header and the first 8
   payload bytes share a line): a record ending there is followed by the next line. */
#define SLI_SPSC_LINE_LENGTH 64
#define SLI_SPSC_LAST_START_IN_LINE (SLI_SPSC_LINE_LENGTH - SLI_SPSC_REC_HEADER_LENGTH - 8)
#define SLI_SPSC_PADDING_TYPE (-1)
#define SLI_SPSC_INVALID_STAMP (-1LL)

/* SPSC consumer position region ("SLUICECP"): a header line, the position line, the parked line. */
#define SLI_SPSC_POS_MAGIC 0x5043454349554C53ull /* the bytes "SLUICECP" */
#define SLI_SPSC_POS_MAGIC_OFFSET 0
#define SLI_SPSC_POS_VERSION_OFFSET 8        /* u32: SLUICE_POSITION_LAYOUT_VERSION */
#define SLI_SPSC_POS_KIND_OFFSET 12          /* u32: SLUICE_KIND_SPSC */
#define SLI_SPSC_POS_HEADER_LENGTH_OFFSET 16 /* u32: SLI_SPSC_POS_HEADER_LENGTH */
#define SLI_SPSC_POS_CAPACITY_OFFSET 24      /* u64: the ring's data capacity */
#define SLI_SPSC_POS_HEADER_LENGTH SLI_LINE
#define SLI_SPSC_POS_POSITION_OFFSET 128 /* u64: the consumer's position (release) */
#define SLI_SPSC_POS_CONSUMED_OFFSET 136 /* u64: messages consumed (consumer, relaxed, after the position) */
#define SLI_SPSC_POS_PARKED_OFFSET 256   /* u32: 1 while the consumer sleeps on the wake sequence */
#define SLI_SPSC_POS_REGION_SIZE 384

/* ---- broadcast ring (docs/layout.md, broadcast) ---------------------------------------------------
 *
 * Header (three lines), then the data area:
 *     0   common header (ring-specific u32: max message length)
 *     32  record header length (u32, 16)   36  record alignment (u32, 8)
 *     128 tail intent  136 tail  144 head  152 latest  160 next sequence  (u64 each, producer-written)
 *     256 gated registration (u64: the highest consumer registration the producer gates on)
 *     384 data area
 */
#define SLI_BC_MAX_MESSAGE_LENGTH_OFFSET SLI_REGION_RING_SPECIFIC_U32_OFFSET
#define SLI_BC_RECORD_HEADER_LENGTH_OFFSET 32
#define SLI_BC_RECORD_ALIGNMENT_OFFSET 36
#define SLI_BC_TAIL_INTENT_OFFSET 128
#define SLI_BC_TAIL_OFFSET 136
#define SLI_BC_HEAD_OFFSET 144
#define SLI_BC_LATEST_OFFSET 152
#define SLI_BC_NEXT_SEQUENCE_OFFSET 160
#define SLI_BC_GATED_REGISTRATION_OFFSET 256
#define SLI_BC_WAKE_SEQUENCE_OFFSET 320 /* u32: futex word parked consumers sleep on (the producer adds 1, then wakes all) */
#define SLI_BC_HEADER_LENGTH 384
#define SLI_BC_DATA_OFFSET SLI_BC_HEADER_LENGTH
#define SLI_BC_NO_MESSAGE (-1LL) /* Latest when nothing was committed yet */
#define SLI_BC_MIN_CAPACITY 128LL
#define SLI_BC_MAX_CAPACITY ((long long) SLI_REGION_MAX_CAPACITY)

/* Broadcast record: length (header included), type, sequence, payload. */
#define SLI_BC_REC_LENGTH_OFFSET 0   /* i32: header + payload bytes */
#define SLI_BC_REC_TYPE_OFFSET 4     /* i32: > 0 a message, SLI_BC_PADDING_TYPE a gap to skip */
#define SLI_BC_REC_SEQUENCE_OFFSET 8 /* i64: the message's sequence number; the commit word (release) */
#define SLI_BC_NOT_COMMITTED (-1LL)   /* the Sequence of the slot after the last claimed record */
#define SLI_BC_REC_HEADER_LENGTH 16
#define SLI_BC_REC_ALIGNMENT 8
#define SLI_BC_PADDING_TYPE (-1)

/* Broadcast consumer position region ("SLUICEBP"). */
#define SLI_BC_POS_MAGIC 0x5042454349554C53ull /* the bytes "SLUICEBP" */
#define SLI_BC_POS_MAGIC_OFFSET 0
#define SLI_BC_POS_VERSION_OFFSET 8        /* u32: SLUICE_POSITION_LAYOUT_VERSION */
#define SLI_BC_POS_REGION_LENGTH_OFFSET 12 /* u32: SLI_BC_POS_REGION_SIZE */
#define SLI_BC_POS_POSITION_OFFSET 128     /* u64: the consumer's position (release) */
#define SLI_BC_POS_DELIVERED_OFFSET 136     /* u64: messages delivered (consumer, relaxed, after the position) */
#define SLI_BC_POS_NEXT_SEQUENCE_OFFSET 144 /* i64: the sequence expected next, -1 unknown (idem) */
#define SLI_BC_POS_LAPS_OFFSET 152          /* u64: laps (idem) */
#define SLI_BC_POS_LOST_OFFSET 160          /* u64: messages lost to laps (idem) */
#define SLI_BC_POS_PARKED_OFFSET 256        /* u32: 1 while the consumer sleeps on the ring's wake sequence */
#define SLI_BC_POS_REGION_SIZE 384

/* The host status region (docs/layout.md, "Host status region"): what a monitor maps read-only.
   Written by the host alone under a seqlock at SLI_ST_SEQUENCE_OFFSET (odd while it writes). */
#define SLI_ST_MAGIC 0x5453454349554C53ull /* the bytes "SLUICEST" */
#define SLI_ST_VERSION_OFFSET 8         /* u32: 1 */
#define SLI_ST_HEADER_LENGTH_OFFSET 12  /* u32: SLI_ST_HEADER_LENGTH */
#define SLI_ST_HEADER_LENGTH 256
#define SLI_ST_CHANNEL_SLOTS_OFFSET 16  /* u32: C */
#define SLI_ST_PEER_SLOTS_OFFSET 20     /* u32: P */
#define SLI_ST_SEQUENCE_OFFSET 64       /* u64: seqlock */
#define SLI_ST_CHANNELS_IN_USE_OFFSET 80
#define SLI_ST_PEERS_IN_USE_OFFSET 84
#define SLI_ST_REFUSALS_OFFSET 128      /* 16 x u64 by reason code */
#define SLI_ST_CHANNEL_SLOT_LENGTH 256  /* channel slot i at SLI_ST_HEADER_LENGTH + i * 256 */
#define SLI_ST_CH_COMMITTED 32          /* u64 within a channel slot */
#define SLI_ST_CH_NAME_LENGTH 76        /* u32 */
#define SLI_ST_CH_NAME 128              /* ASCII, at most 128 bytes */
#define SLI_ST_PEER_SLOT_LENGTH 128     /* peer slot j after the C channel slots */
#define SLI_ST_PEER_PID 12              /* u32 within a peer slot */
#define SLI_ST_PEER_LAG_BYTES 48        /* i64 */

/* ---- MPMC ring (docs/layout.md, MPMC) -------------------------------------------------------------
 *
 * Header (four lines), then Slot Count slots of Slot Length bytes:
 *     0   common header (ring-specific u32: slot length; capacity = slot count x slot length)
 *     32  slot count (u32)   36  max participant id (u32)   40..127 reserved, zero
 *     128 tail position (u64, CAS)   256 head position (u64, CAS)
 *     384 wake sequence (u32: futex word; producers add 1, then wake all)   388 parked count (u32: consumers
 *         about to sleep or asleep; +1 before, -1 after, never below 0)   448 reserved wait word
 *     512 slot 0 ...
 */
#define SLI_MPMC_SLOT_LENGTH_OFFSET SLI_REGION_RING_SPECIFIC_U32_OFFSET
#define SLI_MPMC_SLOT_COUNT_OFFSET 32
#define SLI_MPMC_MAX_PARTICIPANT_ID_OFFSET 36
#define SLI_MPMC_RESERVED_FIELDS_OFFSET 40
#define SLI_MPMC_TAIL_OFFSET 128
#define SLI_MPMC_HEAD_OFFSET 256
#define SLI_MPMC_WAKE_SEQUENCE_OFFSET 384
#define SLI_MPMC_PARKED_COUNT_OFFSET 388
#define SLI_MPMC_HEADER_LENGTH 512
#define SLI_MPMC_MIN_SLOT_LENGTH 32u
#define SLI_MPMC_MAX_SLOT_LENGTH (1u << 30)
#define SLI_MPMC_MIN_SLOT_COUNT 2u
#define SLI_MPMC_MAX_SLOT_COUNT (1u << 30)

/* MPMC slot: state word (u64), type (i32), message length (i32), payload. */
#define SLI_MPMC_SLOT_STATE_OFFSET 0
#define SLI_MPMC_SLOT_TYPE_OFFSET 8
#define SLI_MPMC_SLOT_MESSAGE_LENGTH_OFFSET 12
#define SLI_MPMC_SLOT_PAYLOAD_OFFSET 16
#define SLI_MPMC_SLOT_HEADER_LENGTH 16

/* The state word: lap (48 bits) | state (4 bits) | participant id (12 bits). */
#define SLI_MPMC_PARTICIPANT_MASK 0xFFFull
#define SLI_MPMC_STATE_SHIFT 12
#define SLI_MPMC_STATE_MASK (0xFull << SLI_MPMC_STATE_SHIFT)
#define SLI_MPMC_LAP_SHIFT 16
#define SLI_MPMC_MAX_PARTICIPANT_ID 4095u /* ids are 1..this; 0 is nobody */
#define SLI_MPMC_FREE 0      /* claimable in its lap */
#define SLI_MPMC_CLAIMED 1   /* a producer writes it */
#define SLI_MPMC_COMMITTED 2 /* published, waiting for a consumer */
#define SLI_MPMC_ABORTED 3   /* given back by its producer; consumers skip it */
#define SLI_MPMC_CONSUMING 4 /* a consumer reads it */

/* ---- sealed snapshot table (docs/snapshot-layout.md) ---------------------------------------------
 *
 * Written whole by its owner, then sealed SHRINK|GROW|WRITE: nobody writes it again. A 64-byte
 * header, Slot Count slots of 16 bytes, then the heap of entries:
 *     0   magic "SLUICESN" (u64)   8 layout version (u32, 1)   12 header length (u32, 64)
 *     16  snapshot version (u64, 1 .. 2^63 - 1)   24 entry count (u32)   28 slot count (u32)
 *     32  max probe length (u32)   36 reserved (u32, 0)   40 heap offset (u64)   48 heap length (u64)
 *     56  reserved (u64, 0)
 * Slot: key hash (u64), entry offset (u64, 0 = empty). Entry: key length (u32), value length (u32),
 * key bytes padded to 8, value bytes padded to 8.
 */
#define SLI_SNAP_MAGIC 0x4E53454349554C53ull /* the bytes "SLUICESN" */
#define SLI_SNAP_MAGIC_OFFSET 0
#define SLI_SNAP_LAYOUT_VERSION 1
#define SLI_SNAP_LAYOUT_VERSION_OFFSET 8
#define SLI_SNAP_HEADER_LENGTH_OFFSET 12
#define SLI_SNAP_HEADER_LENGTH 64
#define SLI_SNAP_VERSION_OFFSET 16
#define SLI_SNAP_ENTRY_COUNT_OFFSET 24
#define SLI_SNAP_SLOT_COUNT_OFFSET 28
#define SLI_SNAP_MAX_PROBE_OFFSET 32
#define SLI_SNAP_RESERVED_U32_OFFSET 36
#define SLI_SNAP_HEAP_OFFSET_OFFSET 40
#define SLI_SNAP_HEAP_LENGTH_OFFSET 48
#define SLI_SNAP_RESERVED_U64_OFFSET 56
#define SLI_SNAP_MAX_SLOT_COUNT (1u << 30)
#define SLI_SNAP_SLOT_LENGTH 16
#define SLI_SNAP_SLOT_HASH_OFFSET 0
#define SLI_SNAP_SLOT_ENTRY_OFFSET 8
#define SLI_SNAP_ENTRY_KEY_LENGTH_OFFSET 0
#define SLI_SNAP_ENTRY_VALUE_LENGTH_OFFSET 4
#define SLI_SNAP_ENTRY_HEADER_LENGTH 8
#define SLI_SNAP_ALIGNMENT 8

/* ---- shared map (docs/cache-layout.md) --------------------------------------------------------------
 *
 * One writer (the owner) updates it in place; readers map it read-only (sealed SHRINK|GROW|
 * FUTURE_WRITE). A 128-byte header, then Slot Count slots of Slot Length bytes:
 *     0   magic "SLUICEMP" (u64)   8 layout version (u32, 1)   12 header length (u32, 128)
 *     16  slot count (u32)   20 slot length (u32)   24 max key length (u32)   28 max value length (u32)
 *     32  capacity (u32)   36 reserved (u32, 0)   40 live entries (u64)   48 updates applied (u64)
 *     56..127 reserved, zero
 * Slot: control (u64: state in bits 0-1, active value buffer in bit 2, change count above), key
 * hash (u64), key length (u32), reserved (u32), value length of buffer 0 (u32), of buffer 1 (u32),
 * key bytes (align8(max key) bytes), value buffer 0, value buffer 1 (align8(max value) bytes each).
 */
#define SLI_MAP_MAGIC 0x504D454349554C53ull /* the bytes "SLUICEMP" */
#define SLI_MAP_MAGIC_OFFSET 0
#define SLI_MAP_LAYOUT_VERSION 1
#define SLI_MAP_LAYOUT_VERSION_OFFSET 8
#define SLI_MAP_HEADER_LENGTH_OFFSET 12
#define SLI_MAP_HEADER_LENGTH 128
#define SLI_MAP_SLOT_COUNT_OFFSET 16
#define SLI_MAP_SLOT_LENGTH_OFFSET 20
#define SLI_MAP_MAX_KEY_LENGTH_OFFSET 24
#define SLI_MAP_MAX_VALUE_LENGTH_OFFSET 28
#define SLI_MAP_CAPACITY_OFFSET 32
#define SLI_MAP_RESERVED_U32_OFFSET 36
#define SLI_MAP_LIVE_ENTRIES_OFFSET 40    /* u64: the owner's count, informational (never trusted) */
#define SLI_MAP_UPDATES_OFFSET 48         /* u64: the owner's count, informational (never trusted) */
#define SLI_MAP_RESERVED_FIELDS_OFFSET 56 /* 56..127 zero */
#define SLI_MAP_MAX_SLOT_COUNT (1u << 30)
#define SLI_MAP_MAX_KEY_LENGTH 65536u
#define SLI_MAP_MAX_VALUE_LENGTH (16u << 20)
#define SLI_MAP_SLOT_CONTROL_OFFSET 0
#define SLI_MAP_SLOT_HASH_OFFSET 8
#define SLI_MAP_SLOT_KEY_LENGTH_OFFSET 16
#define SLI_MAP_SLOT_RESERVED_OFFSET 20
#define SLI_MAP_SLOT_VALUE_LENGTH_OFFSET 24 /* u32 of buffer 0; buffer 1's at + 4 */
#define SLI_MAP_SLOT_KEY_OFFSET 32
#define SLI_MAP_SLOT_HEADER_LENGTH 32
#define SLI_MAP_STATE_MASK 0x3ull
#define SLI_MAP_EMPTY 0
#define SLI_MAP_LIVE 1
#define SLI_MAP_DELETED 2
#define SLI_MAP_ACTIVE_BUFFER_BIT 0x4ull
#define SLI_MAP_COUNT_SHIFT 3

/* ---- cache protocol (docs/cache-protocol.md): subscribing to a cache region a JVM serves --------
 *
 * Every message starts with the same 8-byte header as the handshake's, with its own magic:
 *     0 magic "SLCA" (u32)   4 protocol version (u16, 1)   6 type (u16)
 *     HELLO    (1) reader -> host, 12 + N bytes, no fd:  8 kind (u16)  10 name length N (u16)  12 name
 *     PUBLISH  (2) host -> reader, 32 bytes, 1 fd:       8 kind (u16)  10 reserved (u16, 0)  12 reserved (u32, 0)
 *                                                        16 version (u64)  24 region size (u64)
 *     REFUSED  (3) host -> reader, 12 + T bytes, no fd:  8 reason (u16)  10 text length T (u16)  12 text
 *     END      (4) host -> reader, 8 bytes, no fd
 */
#define SLI_CACHE_MAGIC 0x41434C53u /* the bytes "SLCA" */
#define SLI_CACHE_PROTOCOL_VERSION 1
#define SLI_CACHE_MSG_HELLO 1
#define SLI_CACHE_MSG_PUBLISH 2
#define SLI_CACHE_MSG_REFUSED 3
#define SLI_CACHE_MSG_END 4
#define SLI_CACHE_KIND_SNAPSHOT 1 /* a sealed snapshot table */
#define SLI_CACHE_KIND_MAP 2      /* a shared map, published once, as version 1 */
#define SLI_CACHE_HEADER_LENGTH 8
#define SLI_CACHE_HELLO_KIND_OFFSET 8
#define SLI_CACHE_HELLO_NAME_LENGTH_OFFSET 10
#define SLI_CACHE_HELLO_NAME_OFFSET 12
#define SLI_CACHE_PUBLISH_KIND_OFFSET 8
#define SLI_CACHE_PUBLISH_RESERVED_U16_OFFSET 10
#define SLI_CACHE_PUBLISH_RESERVED_U32_OFFSET 12
#define SLI_CACHE_PUBLISH_VERSION_OFFSET 16
#define SLI_CACHE_PUBLISH_SIZE_OFFSET 24
#define SLI_CACHE_PUBLISH_LENGTH 32
#define SLI_CACHE_REFUSED_REASON_OFFSET 8
#define SLI_CACHE_REFUSED_TEXT_LENGTH_OFFSET 10
#define SLI_CACHE_REFUSED_TEXT_OFFSET 12
#define SLI_CACHE_MAX_TEXT_BYTES 1024
#define SLI_CACHE_MAX_REGION_BYTES (1ll << 34) /* the largest region a PUBLISH may announce */

#endif /* SLUICE_LAYOUT_H */
