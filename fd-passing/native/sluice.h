/*
 * sluice.h — the native (C11, libc only, Linux) client of Sluice channels.
 *
 * A C process attaches to a channel that a Java process hosts (io.sluice.channel.ChannelHost),
 * over the host's Unix socket, exactly as a Java peer does: the attach handshake of
 * docs/protocol.md, the verified fd hand-over (SCM_RIGHTS, seals, sizes), and the ring layouts
 * (docs/layout-*.md). It then reads and writes the very pages the host maps: zero copies.
 * It also reads the caches a JVM keeps (io.sluice.cache): sealed snapshot tables and the shared
 * map, subscribing to the JVM's cache host (the cache protocol: "Cache subscriptions" below) or
 * from a memfd the application received itself (see "Caches" below).
 *
 * Roles this client can take (the producers of SPSC and broadcast channels are their hosts):
 *   - SPSC consumer            (data region mapped read-only, from an O_RDWR or O_RDONLY fd; own position
 *                                region, mode 0600, sealed)
 *   - broadcast consumer       (both overflow policies; lap detection; read-only mapping)
 *   - MPMC producer, consumer  (or both: "participant"; region mapped read-write)
 *
 *     sluice_error err;
 *     sluice_channel *ch;
 *     sluice_attach_options o = { .socket_path = "/run/md.sock", .channel = "md.quotes",
 *                                 .role = SLUICE_ROLE_CONSUMER };
 *     if (sluice_attach(&o, &ch, &err) != SLUICE_OK) { fprintf(stderr, "%s\n", err.message); exit(1); }
 *     int n = sluice_poll(ch, on_message, ctx, 64);   // >= 0 messages handled, < 0 error code
 *     ...
 *     sluice_detach(ch);
 *
 * Errors: every function returns SLUICE_OK (0) or a count (>= 0) on success and a negative
 * SLUICE_E* code on failure; the message (what, where, why; system calls with their errno name)
 * is in the sluice_error given to sluice_attach, or in sluice_last_error(ch) afterwards. Nothing
 * read from the socket or from shared memory is trusted: a corrupt header or record is an error
 * code with a message, never a read outside the mapped region.
 *
 * Threads: a sluice_channel is used by one thread at a time (it holds unsynchronised state: a cursor, a pending claim).
 * Several threads of a process attach several times (MPMC: each gets its own participant id).
 *
 * Hot path: sluice_poll, the claim/commit calls and sluice_bcast_still_valid make no system call
 * and allocate nothing. sluice_host_alive and the blocking poll do make system calls.
 */
#ifndef SLUICE_H
#define SLUICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SLUICE_PROTOCOL_VERSION 1 /* docs/protocol.md */
#define SLUICE_LAYOUT_VERSION 3          /* ring region layouts (2: the broadcast record's sequence commits it;
                                            3: no SPSC record starts in the last 16 bytes of a line) */
#define SLUICE_POSITION_LAYOUT_VERSION 1 /* consumer position region layouts */

/* HELLO's role field. */
typedef enum {
    SLUICE_ROLE_CONSUMER = 1,
    SLUICE_ROLE_PRODUCER = 2,    /* MPMC only */
    SLUICE_ROLE_PARTICIPANT = 3  /* MPMC: producer and consumer */
} sluice_role;

/* WELCOME's ring kind, also the Ring Kind field of every ring header. */
typedef enum {
    SLUICE_KIND_SPSC = 1,
    SLUICE_KIND_BROADCAST_BACKPRESSURE = 2,
    SLUICE_KIND_BROADCAST_OVERWRITE = 3,
    SLUICE_KIND_MPMC = 4
} sluice_kind;

#define SLUICE_KIND_MASK(kind) (1u << (kind))

/* Where a broadcast consumer starts (it chooses: the host does not; docs/protocol.md, WELCOME). */
typedef enum {
    SLUICE_START_NEWEST = 0, /* at the newest committed message, or the tail if there is none */
    SLUICE_START_OLDEST = 1  /* at the oldest record still intact (the ring's Head) */
} sluice_start;

/* Return codes. */
enum {
    SLUICE_OK = 0,
    SLUICE_FULL = 1,          /* MPMC claim/offer: no free slot now (not an error) */
    SLUICE_ESYSCALL = -1,     /* a system call failed; sluice_error.sys_errno holds errno */
    SLUICE_EREFUSED = -2,     /* the host refused; sluice_error.refusal holds its reason code */
    SLUICE_EPROTOCOL = -3,    /* the host sent what docs/protocol.md does not allow */
    SLUICE_EREGION = -4,      /* a received fd is not a memfd with the seals and size promised */
    SLUICE_ELAYOUT = -5,      /* a region header is not a layout this library reads */
    SLUICE_ECORRUPT = -6,     /* shared memory holds something impossible (while running) */
    SLUICE_EHOSTGONE = -7,    /* the host closed the connection (and, for polls, all was delivered) */
    SLUICE_ETIMEOUT = -8,     /* a handshake step did not arrive in time */
    SLUICE_EARGUMENT = -9,    /* the caller passed something invalid */
    SLUICE_ESTATE = -10,      /* not possible in this state or role (e.g. commit without a claim) */
    SLUICE_ESLOTLOST = -11,   /* MPMC: the host recovered our slot, believing us dead */
    SLUICE_ABSENT = -12,      /* snapshot and shared-map lookups: the key is not there (not a failure: no
                                 message is written) */
    SLUICE_ECONTENDED = -13,  /* shared map: the writer changed the key's slot on every one of the reader's
                                 tries (SLUICE_MAP_READ_RETRIES retries) */
    SLUICE_EENDED = -14       /* cache subscription: the host sent END (it closed the region or itself): no
                                 version will come (not a failure: versions already received stay readable) */
};

/* REFUSE and DETACH reason codes (docs/protocol.md). */
enum {
    SLUICE_REFUSED_UNKNOWN_CHANNEL = 1,
    SLUICE_REFUSED_ROLE_NOT_ALLOWED = 2,
    SLUICE_REFUSED_VERSION_MISMATCH = 3,
    SLUICE_REFUSED_ACCESS_DENIED = 4,
    SLUICE_REFUSED_CHANNEL_FULL = 5,
    SLUICE_REFUSED_MALFORMED = 6,
    SLUICE_REFUSED_BAD_REGION = 7,
    SLUICE_REFUSED_TIMEOUT = 8,
    SLUICE_REFUSED_INTERNAL = 9,
    SLUICE_REFUSED_CONNECTION_LIMIT = 10, /* too many connections to the host (in all, or from this uid) */
    SLUICE_REFUSED_CHANNEL_CORRUPT = 11,  /* the channel's ring is corrupt (REFUSE and DETACH) */
    SLUICE_REFUSED_BAD_POSITION = 12,     /* DETACH: this consumer published an impossible position */
    SLUICE_REFUSED_CHANNEL_CLOSED = 13,   /* the host closed the channel or is shutting down (REFUSE and DETACH) */
    SLUICE_REFUSED_STUCK = 14             /* DETACH: this consumer did not move while the producer waited (host option) */
};

typedef struct {
    int code;          /* SLUICE_E* */
    int refusal;       /* SLUICE_EREFUSED: the host's reason code; SLUICE_EHOSTGONE after the host sent DETACH:
                          the reason it gave; else 0 */
    int sys_errno;     /* SLUICE_ESYSCALL: errno; else 0 */
    char message[1400];
} sluice_error;

typedef struct sluice_channel sluice_channel;

typedef struct {
    const char *socket_path; /* the host's socket */
    const char *channel;     /* channel name: 1..128 bytes, each printable ASCII 0x21..0x7E except '/' */
    sluice_role role;
    unsigned kinds;          /* SLUICE_KIND_MASK(...) of acceptable kinds; 0: any the role can use */
    int timeout_ms;          /* per handshake step; 0: 5000 */
    sluice_start start;      /* broadcast consumers only */
} sluice_attach_options;

/*
 * A message, in place in the shared mapping: valid only until the handler returns. SPSC and
 * broadcast payloads lie in a read-only mapping (a write kills the process with SIGSEGV).
 * Broadcast overwrite channels: the producer may overwrite the payload while the handler reads
 * it; the handler calls sluice_bcast_still_valid() after reading and discards what it read if
 * that returns 0 (a seqlock).
 */
typedef void (*sluice_handler)(void *ctx, int32_t type, const void *payload, uint32_t length);

/*
 * Connects to the host, runs the handshake, verifies and maps the regions. On success *out is
 * the attachment (free it with sluice_detach). On failure every fd received is closed, nothing
 * stays mapped, and err says why (a refusal carries the host's reason and text, with control
 * characters and non-printable bytes escaped: "\n", "\x1b", ...). A channel name outside the
 * name rule is SLUICE_EARGUMENT before anything is connected.
 */
int sluice_attach(const sluice_attach_options *options, sluice_channel **out, sluice_error *err);

/* Detaches: closes the connection (the host sees end of stream at once), unmaps, frees. */
void sluice_detach(sluice_channel *ch);

/*
 * The last error on this attachment. Once the host is seen gone (sluice_host_alive returned 0,
 * or a blocking poll returned SLUICE_EHOSTGONE) it says why: the reason and (escaped) text of the
 * host's DETACH message if it sent one ("... host detached this consumer: BAD_POSITION: ..."),
 * else that the host closed the connection.
 */
const sluice_error *sluice_last_error(const sluice_channel *ch);

/*
 * Consumers (SPSC, broadcast, MPMC): hands up to `limit` messages to `handler`, in ring order.
 * Returns how many; 0 if none is available (or, broadcast back-pressure, the producer does not
 * gate on this consumer yet); a negative code if the ring is corrupt (messages handed over before
 * the bad record stay consumed), or SLUICE_EHOSTGONE once the host was seen gone after a DETACH
 * for cause (see sluice_host_alive). No system call.
 */
int sluice_poll(sluice_channel *ch, sluice_handler handler, void *ctx, int limit);

/*
 * Consumers of any kind (SPSC, broadcast, MPMC), on a channel whose host wakes parked consumers
 * (sluice_can_block): like sluice_poll, but sleeps in the kernel (futex on the ring's Wake
 * Sequence) while the ring has nothing to read, at most timeout_ms, in slices of at most 50 ms
 * (the host's liveness is checked between them). Returns 0 only on timeout; SLUICE_EHOSTGONE once
 * the host is gone and every message it committed was delivered; SLUICE_ESTATE on a channel
 * without wake-ups, or for an MPMC producer. The host's close wakes a sleeper at once.
 */
int sluice_poll_blocking(sluice_channel *ch, sluice_handler handler, void *ctx, int limit, int timeout_ms);

/*
 * Whether the host is still there: 1 yes, 0 gone (its connection ended; sluice_last_error then
 * says why). A non-blocking poll, and a read for each message waiting: a DETACH is recorded, any
 * other message is dropped with its fds. What the host committed before it went stays readable:
 * a consumer that polls 0, then finds the host gone, polls once more to drain it (the kernel's
 * close orders its commits before our observation). Except after a DETACH for cause
 * (BAD_POSITION or STUCK: the producer no longer waits for this consumer; CHANNEL_CORRUPT): then the ring
 * may be overwritten or cannot be trusted, and sluice_poll returns SLUICE_EHOSTGONE instead.
 */
int sluice_host_alive(sluice_channel *ch);

/* Broadcast: after reading a payload in the handler, 1 if it was intact, 0 if it was being
 * overwritten (discard it); SLUICE_ESTATE if nothing was delivered yet. Always 1 on a gated
 * back-pressure channel. No system call. */
int sluice_bcast_still_valid(sluice_channel *ch);

typedef struct {
    uint64_t laps;          /* discontinuities in the delivered stream */
    uint64_t lost_messages; /* exact: differences of record sequences */
    uint64_t lost_bytes;    /* ring bytes skipped by laps */
    int64_t last_sequence;  /* sequence of the message last delivered, or -1 */
    int64_t position;       /* ring position of the next record to read */
    bool gated;             /* back-pressure: the producer waits for us (overwrite: always true) */
} sluice_bcast_stats;

int sluice_bcast_stats_get(sluice_channel *ch, sluice_bcast_stats *stats);

/*
 * MPMC producer (roles PRODUCER and PARTICIPANT). Claims a slot for a message of `length` bytes
 * (0..sluice_max_message_length) of `type` (> 0): SLUICE_OK and *payload where to write it,
 * SLUICE_FULL if no slot is free, or an error. Exactly one commit or abort follows.
 */
int sluice_mpmc_try_claim(sluice_channel *ch, int32_t type, uint32_t length, void **payload);
/* Publishes the claimed message. SLUICE_ESLOTLOST if the host recovered the claim meanwhile. On a
   channel with wake-ups (sluice_can_block), commit and abort wake parked consumers: a full fence and
   one load, and a system call only when some consumer is asleep. */
int sluice_mpmc_commit(sluice_channel *ch);
/* Gives the claimed slot back; consumers skip it. */
int sluice_mpmc_abort(sluice_channel *ch);
/* Claim, copy, commit. SLUICE_OK, SLUICE_FULL, or an error. */
int sluice_mpmc_offer(sluice_channel *ch, int32_t type, const void *message, uint32_t length);

/* Describing the attachment. */
sluice_kind sluice_channel_kind(const sluice_channel *ch);
uint32_t sluice_max_message_length(const sluice_channel *ch);
uint32_t sluice_participant_id(const sluice_channel *ch); /* MPMC; else 0 */
bool sluice_can_block(const sluice_channel *ch);          /* WELCOME's wake flag: producers wake parked consumers */
/* The two fds stay open until sluice_detach, which closes them: do not close them, nor use them after. */
int sluice_socket_fd(const sluice_channel *ch);           /* for epoll: readable/HUP = host gone (or a DETACH to read:
                                                             call sluice_host_alive) */
int sluice_data_fd(const sluice_channel *ch);             /* the data region's memfd (O_RDONLY for consumers of a
                                                             hardened host) */
const void *sluice_data(const sluice_channel *ch);        /* the data region's mapping */
size_t sluice_data_size(const sluice_channel *ch);

/*
 * ---- Caches: sealed snapshot tables and the shared map -----------------------------------------
 *
 * Both arrive as a memfd that another process (usually a JVM: io.sluice.cache) owns, sent with
 * its size over a socket (SCM_RIGHTS): from a cache host through "Cache subscriptions" below,
 * which opens each version itself, or over a socket of the application's own. Each open
 * function takes the fd (it is the handle's from then on: closed by the close function, and on
 * every failure before the open function returns), checks it before mapping it (a memfd, the
 * seals the layout needs, then, with the size final, the size announced), maps it read-only, and
 * validates the header field by field (SLUICE_EREGION for the fd, SLUICE_ELAYOUT for the header).
 * Lookups check every offset and length they follow: whatever the bytes, nothing outside the
 * mapping is read and no probe is endless.
 *
 * Threads: once open, a handle is only read; any number of threads may look up at once. Errors
 * are written to the sluice_error passed (NULL: none written), so each thread passes its own.
 */

/*
 * The key hash of both layouts: FNV-1a 64 over the key bytes, then the MurmurHash3 fmix64
 * finaliser (docs/snapshot-layout.md, "The hash").
 */
uint64_t sluice_key_hash(const void *key, size_t length);

/*
 * A sealed snapshot table (docs/snapshot-layout.md): immutable, sealed SHRINK|GROW|WRITE by its
 * owner, so a value found is a pointer into the mapping that stays valid and unchanged until
 * sluice_snapshot_close.
 */
typedef struct sluice_snapshot sluice_snapshot;

/*
 * Opens the table in `fd` (taken: see above), of `size` bytes and version `version` as the owner
 * announced them (PUBLISH); `version` 0: whatever version the header holds. SLUICE_EREGION if the
 * fd is not a memfd sealed SHRINK|GROW|WRITE of that size; SLUICE_ELAYOUT if the header breaks a
 * rule of the layout or names another version.
 */
int sluice_snapshot_open(int fd, uint64_t size, uint64_t version, sluice_snapshot **out, sluice_error *err);

/*
 * Looks `key` up: SLUICE_OK with *value (in place, read-only, 8-aligned) and *value_length set,
 * SLUICE_ABSENT, or SLUICE_ECORRUPT if a slot the lookup examines points outside the heap or its
 * hash is not its key's. Examines at most the header's max probe length slots; no system call,
 * no allocation.
 */
int sluice_snapshot_get(const sluice_snapshot *snapshot, const void *key, size_t key_length, const void **value,
                        size_t *value_length, sluice_error *err);

uint64_t sluice_snapshot_version(const sluice_snapshot *snapshot);
uint32_t sluice_snapshot_entry_count(const sluice_snapshot *snapshot);
size_t sluice_snapshot_size(const sluice_snapshot *snapshot);

/* Unmaps the table and closes its fd; values found in it are gone with it. NULL: nothing. */
void sluice_snapshot_close(sluice_snapshot *snapshot);

/*
 * A shared map (docs/cache-layout.md): one writer, its owner, updates it in place while readers
 * look keys up; readers map it read-only (sealed SHRINK|GROW|FUTURE_WRITE). A lookup copies the
 * value out under the slot's control word (a seqlock) and returns it only once the copy is known
 * whole: a pointer into the mapping could change under the caller, so none is handed out.
 */
typedef struct sluice_map sluice_map;

/* Retries of one lookup (or of one slot, iterating) while the writer keeps changing the slot. */
#define SLUICE_MAP_READ_RETRIES 64

/*
 * Opens the map in `fd` (taken: see above) of `size` bytes, as its owner announced. SLUICE_EREGION
 * if the fd is not a memfd sealed SHRINK|GROW|FUTURE_WRITE of that size; SLUICE_ELAYOUT if the
 * header breaks a rule of the layout or the size is not the header's.
 */
int sluice_map_open(int fd, uint64_t size, sluice_map **out, sluice_error *err);

/*
 * Looks `key` up and copies its value into `value` (room for `capacity` bytes; a buffer of
 * sluice_map_max_value_length bytes always suffices). Returns the value's length (>= 0), a
 * value the writer wrote whole (the old or the new one of an update in progress, never a mix);
 * SLUICE_ABSENT; SLUICE_EARGUMENT if the value is longer than `capacity` (nothing copied);
 * SLUICE_ECONTENDED after SLUICE_MAP_READ_RETRIES retries that all saw the writer change the slot;
 * SLUICE_ECORRUPT if the slot holds what no writer can write. At most slot-count slots are
 * examined; no system call, no allocation.
 */
int sluice_map_get(const sluice_map *map, const void *key, size_t key_length, void *value, size_t capacity,
                   sluice_error *err);

/* One live entry, copied out whole; the pointers are valid during the call only. Return false to stop. */
typedef bool (*sluice_map_visitor)(void *ctx, const void *key, uint32_t key_length, const void *value,
                                   uint32_t value_length);

/*
 * Calls `visit` for every entry that is live when its slot is read, in slot order, each with a
 * consistent copy of its key and value. A map being updated meanwhile gives no snapshot of the
 * whole: an entry updated during the walk is seen once, old or new; one inserted or deleted may
 * be seen or not. Returns the number of entries visited, or a negative code (SLUICE_ECONTENDED,
 * SLUICE_ECORRUPT; SLUICE_ESYSCALL if the copy buffers, max key + max value bytes, cannot be
 * allocated).
 */
int64_t sluice_map_for_each(const sluice_map *map, sluice_map_visitor visit, void *ctx, sluice_error *err);

uint32_t sluice_map_slot_count(const sluice_map *map);
uint32_t sluice_map_capacity(const sluice_map *map);
uint32_t sluice_map_max_key_length(const sluice_map *map);
uint32_t sluice_map_max_value_length(const sluice_map *map);
/* The owner's counts in the header: informational (the owner updates them; a reader trusts nothing in them). */
uint64_t sluice_map_live_entries(const sluice_map *map);
uint64_t sluice_map_updates_applied(const sluice_map *map);

/* Unmaps the map and closes its fd. NULL: nothing. */
void sluice_map_close(sluice_map *map);

/*
 * ---- Cache subscriptions: the cache protocol (docs/cache-protocol.md) --------------------------
 *
 * A C reader of the regions a JVM serves with io.sluice.cache.CacheHost, by socket path and name,
 * as Caches.snapshot does in Java: sluice_cache_connect says HELLO and waits for the first
 * version; sluice_cache_next hands out each version as an open handle (a sluice_snapshot or a
 * sluice_map), so the fds that arrive never leave the library unowned. Every message is checked
 * before it is acted on (header, exact length and fd count of its type, reserved fields, the kind
 * asked for, a version above the last, a size in bounds), then the fd by the open function (memfd,
 * seals, then size, before mapping); a message that fails a check ends the subscription with its
 * fds closed. A cache subscription is used by one thread at a time; the handles it hands out are
 * independent of it (they outlive sluice_cache_close) and are closed by their own close function.
 */
typedef struct sluice_cache sluice_cache;

/* HELLO's and PUBLISH's kind. */
typedef enum {
    SLUICE_CACHE_SNAPSHOT = 1, /* a sealed snapshot table: versions 1, 2, ... */
    SLUICE_CACHE_MAP = 2       /* a shared map: published once, as version 1 */
} sluice_cache_kind;

/* A version received: exactly one of the handles is set, by the subscription's kind; it is the
   caller's, closed with sluice_snapshot_close or sluice_map_close. */
typedef struct {
    uint64_t version;
    sluice_snapshot *snapshot;
    sluice_map *map;
} sluice_cache_version;

/*
 * Connects to the cache host at `socket_path`, asks for region `name` (1..128 bytes, printable
 * ASCII 0x21..0x7E except '/': SLUICE_EARGUMENT before connecting otherwise) of `kind`, and waits
 * up to `timeout_ms` (0: 5000) for its first version, which it checks and opens; sluice_cache_next
 * then hands it out at once. Returns SLUICE_OK and *out, or: SLUICE_EREFUSED (err.refusal: the
 * host's reason, e.g. SLUICE_REFUSED_UNKNOWN_CHANNEL for an unknown name or one served as another
 * kind; its text escaped in the message), SLUICE_EENDED (END before any version), SLUICE_ETIMEOUT,
 * SLUICE_EHOSTGONE, SLUICE_EPROTOCOL, or what the open function returned (SLUICE_EREGION,
 * SLUICE_ELAYOUT). On failure nothing stays open.
 */
int sluice_cache_connect(const char *socket_path, const char *name, sluice_cache_kind kind, int timeout_ms,
                         sluice_cache **out, sluice_error *err);

/*
 * The next version: the first one (received by sluice_cache_connect) at once, then each later
 * PUBLISH, waiting up to `timeout_ms` (0: do not wait). SLUICE_OK and *v; SLUICE_ETIMEOUT if none
 * came (the subscription goes on); SLUICE_EENDED once the host sent END. Anything else ends the
 * subscription with its cause (SLUICE_EPROTOCOL, SLUICE_EREGION, SLUICE_ELAYOUT, SLUICE_EHOSTGONE,
 * SLUICE_ESYSCALL): the connection is closed, and every later call returns the same code and
 * message. Versions handed out before stay valid: a snapshot is sealed, nothing can change it.
 */
int sluice_cache_next(sluice_cache *cache, int timeout_ms, sluice_cache_version *v, sluice_error *err);

/* The last version received (handed out or not), 0 before the first. */
uint64_t sluice_cache_last_version(const sluice_cache *cache);

/* The connection, for epoll (readable: a version, END, or the host gone; call sluice_cache_next);
   -1 once the subscription ended. Do not close it. */
int sluice_cache_socket_fd(const sluice_cache *cache);

/* Closes the connection (the host sees end of stream at once) and a first version not handed out
   yet; handles handed out stay open. NULL: nothing. */
void sluice_cache_close(sluice_cache *cache);

/* Names for codes, for messages: "EPERM", "UNKNOWN_CHANNEL", "SLUICE_ECORRUPT". */
const char *sluice_errno_name(int err);
const char *sluice_refusal_name(int reason);
const char *sluice_code_name(int code);

#ifdef SLUICE_TEST_HOOKS
/*
 * Test builds only (compiled with -DSLUICE_TEST_HOOKS; the release and sanitized libraries have
 * none of this). sluice_test_hook, when set, is called at fixed points of the attach so that a
 * test can act there, deterministically, as a hostile host would:
 *   "data-region-before-seals"  the data region check has seen the fd's type and /proc/self/fd target
 *                               and is about to read its seals (and only then its size)
 */
extern void (*sluice_test_hook)(const char *point, int fd);
/* The word this consumer publishes its position in (SPSC and broadcast consumers), else NULL. */
_Atomic int64_t *sluice_test_position_word(sluice_channel *ch);
/* The position this consumer has really reached (what sluice_poll publishes), or -1. */
int64_t sluice_test_true_position(const sluice_channel *ch);
#endif

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_H */
