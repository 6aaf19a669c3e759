/*
 * sluice_internal.h: what the units of the native client share, and nothing a user includes (the
 * API is sluice.h). Every .c file of the library includes this header first. The bytes shared
 * with the host are named in sluice_layout.h; functions shared between units are prefixed sli_.
 *
 * Memory orderings. The host and the client access the same words of the same pages, so each
 * access here has the ordering its counterpart in the layout needs (docs/layout.md says which):
 *   a value published by a release store is read with an acquire load (sli_load_acquire64);
 *   a CAS is acq_rel on success and acquire on failure (sli_cas64), so that a successful claim
 *   publishes what was written before it and sees what was published before the word it replaced;
 *   a fence orders loads that a later check depends on (atomic_thread_fence(acquire) before a
 *   seqlock re-check; seq_cst for the park flag before the ring re-check, a Dekker pair).
 * Record and slot header fields that a peer may be rewriting, and header fields written once
 * before the region was shared, are read with one relaxed atomic load each (sli_rd32, sli_rd64,
 * sli_load_relaxed32): the compiler then cannot load a field twice, so the value checked is the
 * value used. Every shared word is naturally aligned and mappings are page-aligned.
 *
 * Trust. Nothing that arrives on the socket or lies in a shared page is believed before it is
 * checked, and nothing is checked in one load and used from another. Text from the host is
 * escaped before it reaches a message; every fd we hold is closed exactly once.
 */
#ifndef SLUICE_INTERNAL_H
#define SLUICE_INTERNAL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memfd_create, F_GET_SEALS, MSG_CMSG_CLOEXEC, SOCK_CLOEXEC */
#endif
#include "sluice.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "Sluice layouts are little-endian and this client reads them in place: little-endian hosts only"
#endif

/* Shared between processes, atomics must be lock-free (a lock would live in one process only). */
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2 && ATOMIC_INT_LOCK_FREE == 2, "64- and 32-bit atomics must be lock-free");
_Static_assert(sizeof(_Atomic int64_t) == 8 && _Alignof(_Atomic int64_t) == 8, "_Atomic int64_t is a plain aligned word");
_Static_assert(sizeof(_Atomic int32_t) == 4 && _Alignof(_Atomic int32_t) == 4, "_Atomic int32_t is a plain aligned word");

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif

#ifdef SLUICE_TEST_HOOKS
/* Test builds only: lets a test act as a hostile host at fixed points (sluice.h). */
#define SLI_TEST_HOOK(point, fd)             \
    do {                                     \
        if (sluice_test_hook != NULL) {      \
            sluice_test_hook((point), (fd)); \
        }                                    \
    } while (0)
#else
#define SLI_TEST_HOOK(point, fd) ((void) 0)
#endif

#include "sluice_layout.h"

/* ---- the client's own limits (policy, not format) ------------------------------------------- */

#define SLI_MAX_FDS 253             /* control space for the kernel's maximum per message (SCM_MAX_FD) */
#define SLI_DEFAULT_TIMEOUT_MS 5000 /* per handshake step, when the options give none */
#define SLI_MAX_STRAY_MESSAGES 64   /* messages sluice_host_alive reads per call (a flooding host cannot hold it) */
/* Room for an escaped host text: longer ones (escaping can quadruple a text) are cut with "...", so
   that the text and what we say around it fit a sluice_error message. */
#define SLI_ESCAPED_TEXT 1024
/* Tries of a broadcast consumer to read a stable start before it anchors on the first record it reads. */
#define SLI_BC_START_ATTEMPTS 10000
/* sluice_poll_blocking: polls spun before parking, and the longest single sleep (bounded so that a
   host that died without waking us is noticed). */
#define SLI_PARK_SPINS 200
#define SLI_PARK_SLICE_MS 50

/* ---- the attachment --------------------------------------------------------------------- */

struct spsc_state {
    const uint8_t *data; /* data area, read-only */
    int64_t capacity;
    int64_t mask;
    int32_t max_length;
    int64_t head;                 /* next record; equals the published position between polls */
    _Atomic int64_t *position;    /* ours, writable */
    _Atomic int64_t *consumed;    /* ours, writable: messages consumed, for monitors */
    uint64_t consumed_count;
    _Atomic int32_t *parked;      /* ours, writable */
    const _Atomic int32_t *wake;  /* the ring's wake sequence, read-only */
};

/* A broadcast consumer. Everything but the mapped words is this consumer's own (one thread). */
struct bcast_state {
    const uint8_t *region;     /* whole ring region, read-only */
    _Atomic int64_t *position; /* our published position, in our position region */
    bool overwrite;            /* overwrite policy: the producer never waits for us */
    int64_t capacity;          /* data area bytes, a power of two; mask = capacity - 1 */
    int64_t mask;
    int32_t max_length;        /* longest payload, from the ring header */
    int64_t cursor;            /* the next record to read */
    int64_t published;         /* the last position stored in *position */
    bool anchored;             /* expected_sequence is known (the start found a record) */
    int64_t expected_sequence; /* the sequence the record at cursor must carry */
    int64_t record_position;   /* the record last delivered, or -1: what sluice_bcast_still_valid checks */
    int64_t sequence;          /* its sequence, or -1 */
    int64_t registration;      /* READY's number; back-pressure: gated once the ring's Gated Registration reaches it */
    int64_t settled;           /* back-pressure: the Gated Registration of the last check against Tail Intent, -1 never */
    bool gated;                /* the producer waits for us (overwrite: always) */
    bool lap_pending;          /* we were lapped at lap_from; the next record read says how much was lost */
    int64_t lap_from;
    _Atomic int64_t *counts;   /* our published counts (delivered, next sequence, laps, lost), for monitors */
    uint64_t delivered;
    uint64_t laps;             /* what sluice_bcast_stats_get reports */
    uint64_t lost_messages;
    uint64_t lost_bytes;
};

/* An MPMC participant: the ring geometry, read once at attach, and the claim in progress. */
struct mpmc_state {
    uint8_t *region; /* whole ring region, read-write */
    uint64_t slot_mask;    /* slot_count - 1 */
    uint32_t slot_count;
    int slot_count_shift;  /* log2(slot_count): position >> shift is the lap */
    int slot_length_shift; /* log2(slot length): slot index << shift is its offset */
    uint32_t max_participant;
    uint32_t max_payload;  /* slot length - slot header */
    bool produces;         /* role PRODUCER or PARTICIPANT */
    bool consumes;         /* role CONSUMER or PARTICIPANT */
    int64_t claimed_slot;  /* region offset of the slot we hold a claim on, or -1 */
    uint64_t claimed_word; /* the state word our claim CAS wrote: commit and abort CAS from it */
    int64_t claimed_position;
};

/* An attachment: what the handshake established, and the state of the ring it consumes or feeds. */
struct sluice_channel {
    int sock;
    int data_fd;
    sluice_kind kind;
    sluice_role role;
    uint8_t *data;
    size_t data_size;
    uint8_t *pos; /* our position region (SPSC and broadcast consumers), read-write */
    size_t pos_size;
    uint32_t participant_id;
    uint32_t max_message_length;
    uint32_t welcome_flags;
    int64_t registration;
    bool host_gone; /* the connection ended: the host closed it or died */
    int detach_reason;                   /* the reason of the host's DETACH, 0 if none came */
    char detach_text[SLI_ESCAPED_TEXT];    /* its text, escaped */
    char name[SLI_MAX_NAME_BYTES + 1];
    char what[SLI_MAX_NAME_BYTES + 32]; /* "spsc ring 'name'", for messages */
    sluice_error error;
    union {
        struct spsc_state spsc;
        struct bcast_state bc;
        struct mpmc_state mp;
    } u;
};

/* One received message and the fds that came with it (owned until taken or closed). */
typedef struct {
    uint8_t buf[SLI_MAX_MESSAGE_BYTES];
    size_t len;
    int fds[SLI_MAX_FDS];
    int nfds;
} sli_packet;
/* ---- byte order, shared words -------------------------------------------------------------- */

static inline void sli_put16(uint8_t *b, size_t off, uint16_t v) {
    b[off] = (uint8_t) v;
    b[off + 1] = (uint8_t) (v >> 8);
}

static inline void sli_put32(uint8_t *b, size_t off, uint32_t v) {
    for (int i = 0; i < 4; i++) {
        b[off + (size_t) i] = (uint8_t) (v >> (8 * i));
    }
}

static inline void sli_put64(uint8_t *b, size_t off, uint64_t v) {
    for (int i = 0; i < 8; i++) {
        b[off + (size_t) i] = (uint8_t) (v >> (8 * i));
    }
}

static inline uint16_t sli_get16(const uint8_t *b, size_t off) {
    return (uint16_t) (b[off] | (b[off + 1] << 8));
}

static inline uint32_t sli_get32(const uint8_t *b, size_t off) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--) {
        v = (v << 8) | b[off + (size_t) i];
    }
    return v;
}

static inline uint64_t sli_get64(const uint8_t *b, size_t off) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) {
        v = (v << 8) | b[off + (size_t) i];
    }
    return v;
}

/*
 * Header fields of a shared mapping, written once before it was shared, but by a process we do
 * not trust to leave them alone: one relaxed atomic load each, so that the compiler cannot load a
 * field again between its check and its use (every value checked is copied into our own state
 * and used from there). Offsets are naturally aligned; mappings are page-aligned.
 */
static inline uint32_t sli_rd32(const uint8_t *region, size_t off) {
    return (uint32_t) atomic_load_explicit((const _Atomic int32_t *) (const void *) (region + off), memory_order_relaxed);
}

static inline uint64_t sli_rd64(const uint8_t *region, size_t off) {
    return (uint64_t) atomic_load_explicit((const _Atomic int64_t *) (const void *) (region + off), memory_order_relaxed);
}

static inline void sli_wr32(uint8_t *region, size_t off, uint32_t v) {
    memcpy(region + off, &v, sizeof v);
}

static inline void sli_wr64(uint8_t *region, size_t off, uint64_t v) {
    memcpy(region + off, &v, sizeof v);
}

/* Atomic views of words in a mapping; every offset used is naturally aligned (checked at attach). */
static inline int64_t sli_load_acquire64(const uint8_t *p) {
    return atomic_load_explicit((const _Atomic int64_t *) (const void *) p, memory_order_acquire);
}

static inline int64_t sli_load_relaxed64(const uint8_t *p) {
    return atomic_load_explicit((const _Atomic int64_t *) (const void *) p, memory_order_relaxed);
}

static inline int32_t sli_load_relaxed32(const uint8_t *p) {
    return atomic_load_explicit((const _Atomic int32_t *) (const void *) p, memory_order_relaxed);
}

static inline bool sli_cas64(uint8_t *p, uint64_t expected, uint64_t desired) {
    int64_t e = (int64_t) expected;
    return atomic_compare_exchange_strong_explicit((_Atomic int64_t *) (void *) p, &e, (int64_t) desired,
                                                   memory_order_acq_rel, memory_order_acquire);
}

static inline void sli_spin_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static inline bool sli_is_pow2_64(int64_t v) {
    return v > 0 && (v & (v - 1)) == 0;
}

static inline bool sli_is_pow2_32(uint32_t v) {
    return v != 0 && (v & (v - 1)) == 0;
}

static inline int64_t sli_monotonic_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Records in every ring start at multiples of 8: positions are multiples of 8, and a record's
   span is its length rounded up to the next one. */
static inline bool sli_aligned8(int64_t v) {
    return (v & 7) == 0;
}

static inline int64_t sli_align8(int64_t v) {
    return (v + 7) & ~(int64_t) 7;
}

/* Where the SPSC record after one ending at end (a position or data offset, 8-aligned) starts. */
static inline int64_t sli_spsc_next_record_start(int64_t end) {
    return (end & (SLI_SPSC_LINE_LENGTH - 1)) <= SLI_SPSC_LAST_START_IN_LINE ? end : (end | (SLI_SPSC_LINE_LENGTH - 1)) + 1;
}

/* ---- errors.c: error reporting and names ----------------------------------------------------- */

/* Fills e (if not NULL) with code and a formatted message; returns code. */
__attribute__((format(printf, 3, 4))) int sli_fail(sluice_error *e, int code, const char *fmt, ...);
/* A failed system call: "<what>: EPERM (Operation not permitted)"; returns SLUICE_ESYSCALL. */
__attribute__((format(printf, 3, 4))) int sli_fail_sys(sluice_error *e, int err, const char *fmt, ...);
/*
 * A corrupt record of ch's SPSC or broadcast ring at position: "<what>: <where>: <problem>", where
 * says the position and its offset in the data area in the words the Java consumer of the same ring
 * uses; returns SLUICE_ECORRUPT.
 */
__attribute__((format(printf, 3, 4))) int sli_fail_record(sluice_channel *ch, int64_t position, const char *fmt, ...);
const char *sli_kind_name(uint32_t kind);

/* ---- escape.c: untrusted bytes made printable -------------------------------------------------- */

void sli_escape_untrusted(const uint8_t *s, size_t n, char *out, size_t cap);

/* ---- packet.c: SOCK_SEQPACKET messages with fds ------------------------------------------------- */

void sli_close_fd(int *fd);
void sli_close_fds(sli_packet *p);
int sli_recv_packet(int sock, sli_packet *p, int timeout_ms, const char *waiting_for, sluice_error *e);
int sli_send_packet(int sock, const uint8_t *buf, size_t len, int fd, const char *what, sluice_error *e);

/* ---- protocol.c: the handshake messages ----------------------------------------------------------- */

/* WELCOME's fields, as the host sent them (unchecked). */
typedef struct {
    uint32_t kind;
    uint32_t participant;
    uint64_t data_size;
    uint64_t position_size;
    uint32_t max_message;
    uint32_t flags;
    uint64_t start_position;
} sli_welcome;

void sli_put_header(uint8_t *b, int type);
size_t sli_encode_hello(uint8_t *b, sluice_role role, const char *name, size_t name_length);
void sli_encode_position(uint8_t *b, uint64_t region_size);
int sli_decode_welcome(sli_packet *p, sli_welcome *w, sluice_error *e);
int sli_decode_ready(sli_packet *p, int64_t *registration, sluice_error *e);
int sli_decode_detach(const sli_packet *p, unsigned *reason, char *text, size_t cap);
int sli_decode_reason_body(const sli_packet *p, const char *what, unsigned *reason, char *text, size_t cap,
                           sluice_error *e);
int sli_expect_message(sluice_channel *ch, sli_packet *p, int expected, const char *name, int timeout_ms,
                       sluice_error *e);

/* ---- region.c: received fds, region headers, our position region ------------------------------ */

/* How a region is to be mapped: read-only (SPSC and broadcast consumers) or read-write (MPMC). */
enum { MAP_FOR_READING = 0, MAP_FOR_WRITING = 1 };

int sli_verify_memfd(int fd, int seals, uint64_t size, int use, const char *what, sluice_error *e);
int sli_validate_region_header(const uint8_t *r, size_t size, uint32_t kind, uint32_t header_length, const char *what,
                               int64_t *capacity, sluice_error *e);
int sli_create_position_region(sluice_channel *ch, int *fd_out, sluice_error *e);
int sli_seal_position_region(int fd, sluice_error *e);
int sli_map_cache_region(int fd, int seals, uint64_t size, size_t header_length, const char *what, const uint8_t **out,
                         sluice_error *e);

/* ---- channel.c ------------------------------------------------------------------------------------ */

int sli_host_gone_error(sluice_channel *ch, const char *after);

/* ---- spsc.c, broadcast.c, mpmc.c: the rings ------------------------------------------------------- */

int sli_spsc_validate(sluice_channel *ch, sluice_error *e);
int sli_spsc_init_position(sluice_channel *ch, int64_t start, sluice_error *e);
int sli_spsc_poll(sluice_channel *ch, sluice_handler handler, void *ctx, int limit);

int sli_bc_validate(sluice_channel *ch, sluice_error *e);
int sli_bc_start(sluice_channel *ch, sluice_start policy);
void sli_bc_init_position(sluice_channel *ch);
int sli_bc_poll(sluice_channel *ch, sluice_handler handler, void *ctx, int limit);

int sli_mpmc_validate(sluice_channel *ch, sluice_error *e);
/* park.c: producers' half of the MPMC wake-up (after a commit or abort CAS). */
void sli_mpmc_wake_parked(sluice_channel *ch);
int sli_mpmc_poll(sluice_channel *ch, sluice_handler handler, void *ctx, int limit);

#endif /* SLUICE_INTERNAL_H */
