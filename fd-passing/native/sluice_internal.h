/*
 * sluice_internal.h: what the units of the native client share, and nothing a user includes.
 * The public API is sluice.h; every .c file of the library includes this header first.
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

/* ---- docs/protocol.md --------------------------------------------------------------------- */

#define P_MAGIC 0x50434C53u /* "SLCP" */
#define P_HELLO 1
#define P_WELCOME 2
#define P_REFUSE 3
#define P_POSITION 4
#define P_READY 5
#define P_DETACH 6 /* after READY, host -> attached process: same body as REFUSE; the host then closes */
#define P_HEADER_LENGTH 8
#define P_HELLO_NAME_OFFSET 16
#define P_WELCOME_LENGTH 48
#define P_POSITION_LENGTH 16
#define P_READY_LENGTH 16
#define P_REFUSE_TEXT_OFFSET 12
#define P_MAX_NAME 128
#define P_MAX_TEXT 1024
#define P_MAX_MESSAGE (P_REFUSE_TEXT_OFFSET + P_MAX_TEXT) /* 1036 */
#define P_MAX_FDS 253                                     /* the kernel's SCM_MAX_FD */
#define P_WELCOME_FLAG_WAKE 0x1u
#define P_DEFAULT_TIMEOUT_MS 5000
#define P_MAX_DATA_AREA (1ull << 30)                          /* every ring's data area is at most 1 GiB */
#define P_MAX_DATA_REGION (P_MAX_DATA_AREA + 64 * 1024)       /* plus the largest header, with room to spare */
#define P_MAX_STRAY_MESSAGES 64 /* messages sluice_host_alive reads per call (a flooding host cannot hold it) */
/* Room for an escaped host text: longer ones (escaping can quadruple a text) are cut with "...", so
   that the text and what we say around it fit a sluice_error message. */
#define P_ESCAPED_TEXT 1024

/* ---- common region header (RegionHeaderDescriptor) ---------------------------------------- */

#define R_MAGIC 0x4252454349554C53ull /* "SLUICERB" */
#define R_VERSION_OFFSET 8
#define R_KIND_OFFSET 12
#define R_HEADER_LENGTH_OFFSET 16
#define R_SPECIFIC_U32_OFFSET 20
#define R_CAPACITY_OFFSET 24
#define R_LINE 128

/* ---- SPSC (docs/layout.md (SPSC)) ------------------------------------------------------------ */

#define S_HEADER_LENGTH 128
#define S_RECORD_HEADER_LENGTH_OFFSET 32
#define S_RECORD_ALIGNMENT_OFFSET 36
#define S_WAKE_SEQUENCE_OFFSET 64
#define S_MIN_CAPACITY 64
#define S_MAX_MESSAGE_LIMIT (1 << 30)
#define S_REC_STAMP 0
#define S_REC_LENGTH 8
#define S_REC_TYPE 12
#define S_REC_HEADER 16
#define S_PADDING_TYPE (-1)
#define S_INVALID_STAMP (-1LL)

/* consumer position region (ConsumerPositionDescriptor) */
#define CP_MAGIC 0x5043454349554C53ull /* "SLUICECP" */
#define CP_POSITION_OFFSET 128
#define CP_PARKED_OFFSET 256
#define CP_REGION_SIZE 384

/* ---- broadcast (BroadcastRingDescriptor, BroadcastRecordDescriptor) ------------------------- */

#define B_RECORD_HEADER_LENGTH_OFFSET 32
#define B_RECORD_ALIGNMENT_OFFSET 36
#define B_TAIL_INTENT 128
#define B_TAIL 136
#define B_HEAD 144
#define B_LATEST 152
#define B_NEXT_SEQUENCE 160
#define B_GATED_REGISTRATION 256
#define B_HEADER_LENGTH 384
#define B_NO_MESSAGE (-1LL)
#define B_MIN_CAPACITY 128LL
#define B_MAX_CAPACITY (1LL << 30)
#define B_REC_LENGTH 0
#define B_REC_TYPE 4
#define B_REC_SEQUENCE 8
#define B_REC_HEADER 16
#define B_PADDING_TYPE (-1)
#define B_START_ATTEMPTS 10000

/* broadcast consumer position region (BroadcastConsumerPositionDescriptor) */
#define BP_MAGIC 0x5042454349554C53ull /* "SLUICEBP" */
#define BP_VERSION_OFFSET 8
#define BP_REGION_LENGTH_OFFSET 12
#define BP_POSITION_OFFSET 128
#define BP_REGION_LENGTH 384

/* ---- MPMC (docs/layout.md (MPMC)) ------------------------------------------------------------- */

#define M_SLOT_LENGTH_OFFSET 20
#define M_SLOT_COUNT_OFFSET 32
#define M_MAX_PARTICIPANT_OFFSET 36
#define M_RESERVED_OFFSET 40
#define M_TAIL 128
#define M_HEAD 256
#define M_HEADER_LENGTH 512
#define M_MIN_SLOT_LENGTH 32u
#define M_MAX_SLOT_LENGTH (1u << 30)
#define M_MIN_SLOT_COUNT 2u
#define M_MAX_SLOT_COUNT (1u << 30)
#define M_MAX_PARTICIPANT 4095u
#define M_SLOT_TYPE 8
#define M_SLOT_LENGTH 12
#define M_SLOT_PAYLOAD 16
#define M_PARTICIPANT_MASK 0xFFFull
#define M_STATE_SHIFT 12
#define M_STATE_MASK (0xFull << M_STATE_SHIFT)
#define M_LAP_SHIFT 16
#define M_FREE 0
#define M_CLAIMED 1
#define M_COMMITTED 2
#define M_ABORTED 3
#define M_CONSUMING 4

/* ---- the attachment --------------------------------------------------------------------- */

struct spsc_state {
    const uint8_t *data; /* data area, read-only */
    int64_t capacity;
    int64_t mask;
    int32_t max_length;
    int64_t head;                 /* next record; equals the published position between polls */
    _Atomic int64_t *position;    /* ours, writable */
    _Atomic int32_t *parked;      /* ours, writable */
    const _Atomic int32_t *wake;  /* the ring's wake sequence, read-only */
};

struct bcast_state {
    const uint8_t *region; /* whole ring region, read-only */
    _Atomic int64_t *position;
    bool overwrite;
    int64_t capacity;
    int64_t mask;
    int32_t max_length;
    int64_t cursor;
    int64_t published;
    bool anchored;
    int64_t expected_sequence;
    int64_t record_position;
    int64_t sequence;
    int64_t registration;
    bool gated;
    bool lap_pending;
    int64_t lap_from;
    uint64_t laps;
    uint64_t lost_messages;
    uint64_t lost_bytes;
};

struct mpmc_state {
    uint8_t *region; /* whole ring region, read-write */
    uint64_t slot_mask;
    uint32_t slot_count;
    int slot_count_shift;
    int slot_length_shift;
    uint32_t max_participant;
    uint32_t max_payload;
    bool produces;
    bool consumes;
    int64_t claimed_slot; /* region offset of the slot we hold a claim on, or -1 */
    uint64_t claimed_word;
    int64_t claimed_position;
};

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
    bool host_gone;
    int detach_reason;                   /* the reason of the host's DETACH, 0 if none came */
    char detach_text[P_ESCAPED_TEXT];    /* its text, escaped */
    char name[P_MAX_NAME + 1];
    char what[P_MAX_NAME + 32]; /* "spsc ring 'name'", for messages */
    sluice_error error;
    union {
        struct spsc_state spsc;
        struct bcast_state bc;
        struct mpmc_state mp;
    } u;
};

typedef struct {
    uint8_t buf[P_MAX_MESSAGE];
    size_t len;
    int fds[P_MAX_FDS];
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

/* Positions in the rings are multiples of 8 (every record is 8-aligned). */
static inline bool sli_aligned8(int64_t v) {
    return (v & 7) == 0;
}

/* ---- errors.c: error reporting and names ----------------------------------------------------- */

/* Fills e (if not NULL) with code and a formatted message; returns code. */
__attribute__((format(printf, 3, 4))) int sli_fail(sluice_error *e, int code, const char *fmt, ...);
/* A failed system call: "<what>: EPERM (Operation not permitted)"; returns SLUICE_ESYSCALL. */
__attribute__((format(printf, 3, 4))) int sli_fail_sys(sluice_error *e, int err, const char *fmt, ...);
const char *sli_kind_name(uint32_t kind);

/* ---- escape.c: untrusted bytes made printable -------------------------------------------------- */

void sli_escape_untrusted(const uint8_t *s, size_t n, char *out, size_t cap);

/* ---- packet.c: SOCK_SEQPACKET messages with fds ------------------------------------------------- */

void sli_close_fd(int *fd);
void sli_close_fds(sli_packet *p);
int sli_recv_packet(int sock, sli_packet *p, int timeout_ms, const char *waiting_for, sluice_error *e);
int sli_send_packet(int sock, const uint8_t *buf, size_t len, int fd, const char *what, sluice_error *e);

/* ---- protocol.c: the handshake messages ----------------------------------------------------------- */

void sli_put_header(uint8_t *b, int type);
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
int sli_mpmc_poll(sluice_channel *ch, sluice_handler handler, void *ctx, int limit);

#endif /* SLUICE_INTERNAL_H */
