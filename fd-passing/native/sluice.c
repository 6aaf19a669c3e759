/*
 * sluice.c — the native client of Sluice channels. See sluice.h for the API.
 *
 * Normative sources, mirrored here section by section:
 *   docs/protocol.md               attach handshake          (Java: io.sluice.channel.Handshake*)
 *   docs/layout.md (SPSC)            SPSC ring, records,       (SpscRingDescriptor, RecordDescriptor,
 *                                  consumer position region   ConsumerPositionDescriptor, SpscConsumer)
 *   broadcast ring                 BroadcastRingDescriptor, BroadcastRecordDescriptor,
 *                                  BroadcastConsumerPositionDescriptor, BroadcastConsumer
 *   docs/layout.md (MPMC)            MPMC ring and slots       (Mpmc*)
 *
 * Memory orderings, Java -> C11:
 *   VarHandle getAcquire / setRelease  -> atomic_load/store_explicit(acquire / release)
 *   compareAndSet                      -> atomic_compare_exchange_strong_explicit(acq_rel, acquire)
 *                                         (docs/layout.md (MPMC): release on success, acquire on reads)
 *   getAndAdd, getVolatile             -> seq_cst
 *   VarHandle.loadLoadFence            -> atomic_thread_fence(acquire)
 *   VarHandle.fullFence                -> atomic_thread_fence(seq_cst)
 *   plain loads of record headers      -> relaxed atomic loads: a field that a concurrent producer may
 *                                         rewrite is loaded exactly once, so the value validated is
 *                                         the value used (no compiler re-load between check and use).
 * Header fields written once before a region is shared are read with one relaxed atomic load each
 * (rd32, rd64) and used from our own copy: the writer is another process we do not trust.
 *
 * Trust: nothing that arrives on the socket or lies in a shared page is believed before it is
 * checked, and nothing is checked in one load and used from another. A received fd is checked
 * in the order docs/protocol.md gives (type, target, seals, and only then its size); text from
 * the host is escaped before it reaches a message; every fd we hold is closed exactly once.
 */
#define _GNU_SOURCE
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
void (*sluice_test_hook)(const char *point, int fd) = NULL;
#define TEST_HOOK(point, fd)                \
    do {                                    \
        if (sluice_test_hook != NULL) {     \
            sluice_test_hook((point), (fd)); \
        }                                   \
    } while (0)
#else
#define TEST_HOOK(point, fd) ((void) 0)
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

/* ---- small helpers ------------------------------------------------------------------------- */

__attribute__((format(printf, 3, 4)))
static int fail(sluice_error *e, int code, const char *fmt, ...) {
    if (e != NULL) {
        va_list ap;
        va_start(ap, fmt);
        e->code = code;
        e->refusal = 0;
        e->sys_errno = 0;
        vsnprintf(e->message, sizeof e->message, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* A failed system call: "<call>: EPERM (Operation not permitted)". errno as it was. */
__attribute__((format(printf, 3, 4)))
static int fail_sys(sluice_error *e, int err, const char *fmt, ...) {
    if (e != NULL) {
        char what[600];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(what, sizeof what, fmt, ap);
        va_end(ap);
        e->code = SLUICE_ESYSCALL;
        e->refusal = 0;
        e->sys_errno = err;
        snprintf(e->message, sizeof e->message, "%s: %s (%s)", what, sluice_errno_name(err), strerror(err));
    }
    return SLUICE_ESYSCALL;
}

static void put16(uint8_t *b, size_t off, uint16_t v) {
    b[off] = (uint8_t) v;
    b[off + 1] = (uint8_t) (v >> 8);
}

static void put32(uint8_t *b, size_t off, uint32_t v) {
    for (int i = 0; i < 4; i++) {
        b[off + (size_t) i] = (uint8_t) (v >> (8 * i));
    }
}

static void put64(uint8_t *b, size_t off, uint64_t v) {
    for (int i = 0; i < 8; i++) {
        b[off + (size_t) i] = (uint8_t) (v >> (8 * i));
    }
}

static uint16_t get16(const uint8_t *b, size_t off) {
    return (uint16_t) (b[off] | (b[off + 1] << 8));
}

static uint32_t get32(const uint8_t *b, size_t off) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--) {
        v = (v << 8) | b[off + (size_t) i];
    }
    return v;
}

static uint64_t get64(const uint8_t *b, size_t off) {
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
static uint32_t rd32(const uint8_t *region, size_t off) {
    return (uint32_t) atomic_load_explicit((const _Atomic int32_t *) (const void *) (region + off), memory_order_relaxed);
}

static uint64_t rd64(const uint8_t *region, size_t off) {
    return (uint64_t) atomic_load_explicit((const _Atomic int64_t *) (const void *) (region + off), memory_order_relaxed);
}

static void wr32(uint8_t *region, size_t off, uint32_t v) {
    memcpy(region + off, &v, sizeof v);
}

static void wr64(uint8_t *region, size_t off, uint64_t v) {
    memcpy(region + off, &v, sizeof v);
}

/* Atomic views of words in a mapping; every offset used is naturally aligned (checked at attach). */
static inline int64_t load_acquire64(const uint8_t *p) {
    return atomic_load_explicit((const _Atomic int64_t *) (const void *) p, memory_order_acquire);
}

static inline int64_t load_relaxed64(const uint8_t *p) {
    return atomic_load_explicit((const _Atomic int64_t *) (const void *) p, memory_order_relaxed);
}

static inline int32_t load_relaxed32(const uint8_t *p) {
    return atomic_load_explicit((const _Atomic int32_t *) (const void *) p, memory_order_relaxed);
}

static inline bool cas64(uint8_t *p, uint64_t expected, uint64_t desired) {
    int64_t e = (int64_t) expected;
    return atomic_compare_exchange_strong_explicit((_Atomic int64_t *) (void *) p, &e, (int64_t) desired,
                                                   memory_order_acq_rel, memory_order_acquire);
}

static inline void spin_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static bool is_pow2_64(int64_t v) {
    return v > 0 && (v & (v - 1)) == 0;
}

static bool is_pow2_32(uint32_t v) {
    return v != 0 && (v & (v - 1)) == 0;
}

static int64_t monotonic_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *sluice_errno_name(int err) {
    switch (err) {
        case EPERM: return "EPERM";
        case ENOENT: return "ENOENT";
        case ESRCH: return "ESRCH";
        case EINTR: return "EINTR";
        case EIO: return "EIO";
        case ENXIO: return "ENXIO";
        case E2BIG: return "E2BIG";
        case EBADF: return "EBADF";
        case EAGAIN: return "EAGAIN";
        case ENOMEM: return "ENOMEM";
        case EACCES: return "EACCES";
        case EFAULT: return "EFAULT";
        case EBUSY: return "EBUSY";
        case EEXIST: return "EEXIST";
        case ENODEV: return "ENODEV";
        case ENOTDIR: return "ENOTDIR";
        case EISDIR: return "EISDIR";
        case EINVAL: return "EINVAL";
        case ENFILE: return "ENFILE";
        case EMFILE: return "EMFILE";
        case ETXTBSY: return "ETXTBSY";
        case EFBIG: return "EFBIG";
        case ENOSPC: return "ENOSPC";
        case ESPIPE: return "ESPIPE";
        case EROFS: return "EROFS";
        case EPIPE: return "EPIPE";
        case ERANGE: return "ERANGE";
        case EDEADLK: return "EDEADLK";
        case ENAMETOOLONG: return "ENAMETOOLONG";
        case ENOSYS: return "ENOSYS";
        case ELOOP: return "ELOOP";
        case EOVERFLOW: return "EOVERFLOW";
        case ENOTSOCK: return "ENOTSOCK";
        case EMSGSIZE: return "EMSGSIZE";
        case EPROTOTYPE: return "EPROTOTYPE";
        case EOPNOTSUPP: return "EOPNOTSUPP";
        case EAFNOSUPPORT: return "EAFNOSUPPORT";
        case EADDRINUSE: return "EADDRINUSE";
        case ENETDOWN: return "ENETDOWN";
        case ECONNABORTED: return "ECONNABORTED";
        case ECONNRESET: return "ECONNRESET";
        case ENOBUFS: return "ENOBUFS";
        case EISCONN: return "EISCONN";
        case ENOTCONN: return "ENOTCONN";
        case ETIMEDOUT: return "ETIMEDOUT";
        case ECONNREFUSED: return "ECONNREFUSED";
        default: return "errno ?";
    }
}

const char *sluice_refusal_name(int reason) {
    switch (reason) {
        case SLUICE_REFUSED_UNKNOWN_CHANNEL: return "UNKNOWN_CHANNEL";
        case SLUICE_REFUSED_ROLE_NOT_ALLOWED: return "ROLE_NOT_ALLOWED";
        case SLUICE_REFUSED_VERSION_MISMATCH: return "VERSION_MISMATCH";
        case SLUICE_REFUSED_ACCESS_DENIED: return "ACCESS_DENIED";
        case SLUICE_REFUSED_CHANNEL_FULL: return "CHANNEL_FULL";
        case SLUICE_REFUSED_MALFORMED: return "MALFORMED";
        case SLUICE_REFUSED_BAD_REGION: return "BAD_REGION";
        case SLUICE_REFUSED_TIMEOUT: return "TIMEOUT";
        case SLUICE_REFUSED_INTERNAL: return "INTERNAL";
        case SLUICE_REFUSED_CONNECTION_LIMIT: return "CONNECTION_LIMIT";
        case SLUICE_REFUSED_CHANNEL_CORRUPT: return "CHANNEL_CORRUPT";
        case SLUICE_REFUSED_BAD_POSITION: return "BAD_POSITION";
        case SLUICE_REFUSED_CHANNEL_CLOSED: return "CHANNEL_CLOSED";
        default: return "UNKNOWN_REASON";
    }
}

const char *sluice_code_name(int code) {
    switch (code) {
        case SLUICE_OK: return "SLUICE_OK";
        case SLUICE_FULL: return "SLUICE_FULL";
        case SLUICE_ESYSCALL: return "SLUICE_ESYSCALL";
        case SLUICE_EREFUSED: return "SLUICE_EREFUSED";
        case SLUICE_EPROTOCOL: return "SLUICE_EPROTOCOL";
        case SLUICE_EREGION: return "SLUICE_EREGION";
        case SLUICE_ELAYOUT: return "SLUICE_ELAYOUT";
        case SLUICE_ECORRUPT: return "SLUICE_ECORRUPT";
        case SLUICE_EHOSTGONE: return "SLUICE_EHOSTGONE";
        case SLUICE_ETIMEOUT: return "SLUICE_ETIMEOUT";
        case SLUICE_EARGUMENT: return "SLUICE_EARGUMENT";
        case SLUICE_ESTATE: return "SLUICE_ESTATE";
        case SLUICE_ESLOTLOST: return "SLUICE_ESLOTLOST";
        default: return "SLUICE_E?";
    }
}

static const char *kind_name(uint32_t kind) {
    switch (kind) {
        case SLUICE_KIND_SPSC: return "SPSC";
        case SLUICE_KIND_BROADCAST_BACKPRESSURE: return "BROADCAST_BACKPRESSURE";
        case SLUICE_KIND_BROADCAST_OVERWRITE: return "BROADCAST_OVERWRITE";
        case SLUICE_KIND_MPMC: return "MPMC";
        default: return "unknown kind";
    }
}

/*
 * Strict UTF-8 (no overlongs, no surrogates, at most U+10FFFF), as Java's REPORT decoder: the
 * length of the sequence at s[0] and its code point, or 0 if s does not start with one.
 */
static size_t utf8_sequence(const uint8_t *s, size_t n, uint32_t *cp_out) {
    uint8_t c = s[0];
    size_t k;
    uint32_t cp;
    if (c < 0x80) {
        *cp_out = c;
        return 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
        k = 1;
        cp = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
        k = 2;
        cp = c & 0x0Fu;
    } else if (c >= 0xF0 && c <= 0xF4) {
        k = 3;
        cp = c & 0x07u;
    } else {
        return 0;
    }
    if (n <= k) { /* needs k continuation bytes */
        return 0;
    }
    for (size_t j = 1; j <= k; j++) {
        if ((s[j] & 0xC0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (s[j] & 0x3Fu);
    }
    if ((k == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (k == 3 && (cp < 0x10000 || cp > 0x10FFFF))) {
        return 0;
    }
    *cp_out = cp;
    return k + 1;
}

/* Code points that print as nothing, move the cursor or reorder text: C1 controls, invisible and
   bidirectional formatting characters, line and paragraph separators, tags, non-characters. */
static bool invisible_code_point(uint32_t cp) {
    return cp < 0xA0 || cp == 0xAD || cp == 0x061C || cp == 0x180E || (cp >= 0x200B && cp <= 0x200F) ||
           (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2060 && cp <= 0x206F) || cp == 0xFEFF ||
           (cp >= 0xFFF9 && cp <= 0xFFFB) || cp == 0xFFFE || cp == 0xFFFF || (cp >= 0xE0000 && cp <= 0xE007F);
}

/*
 * Copies untrusted bytes (a host's REFUSE or DETACH text, a memfd name, a path) into out as text
 * that is safe to print on one line. Printable ASCII and printable UTF-8 stay as they are; a
 * backslash is doubled; newline, carriage return and tab become backslash-n, -r, -t; any other
 * control byte, DEL, and every byte that is not part of valid UTF-8 becomes backslash-x and two hex
 * digits (ESC: \x1b); invisible or reordering code points become backslash-u and four hex digits
 * (backslash-U and eight above U+FFFF). What does not fit in cap bytes is cut on an escape
 * boundary and marked "...".
 */
static void escape_untrusted(const uint8_t *s, size_t n, char *out, size_t cap) {
    size_t used = 0;
    size_t i = 0;
    while (i < n) {
        char piece[16];
        size_t len;
        const char *from = piece;
        uint32_t cp;
        size_t k = utf8_sequence(s + i, n - i, &cp);
        uint8_t c = s[i];
        if (k == 0) {
            len = (size_t) snprintf(piece, sizeof piece, "\\x%02x", c);
            k = 1;
        } else if (c == '\\') {
            len = (size_t) snprintf(piece, sizeof piece, "\\\\");
        } else if (c == '\n' || c == '\r' || c == '\t') {
            len = (size_t) snprintf(piece, sizeof piece, "\\%c", c == '\n' ? 'n' : c == '\r' ? 'r' : 't');
        } else if (k == 1 && (c < 0x20 || c == 0x7F)) {
            len = (size_t) snprintf(piece, sizeof piece, "\\x%02x", c);
        } else if (k > 1 && invisible_code_point(cp)) {
            len = (size_t) snprintf(piece, sizeof piece, cp > 0xFFFF ? "\\U%08x" : "\\u%04x", (unsigned) cp);
        } else {
            from = (const char *) s + i; /* printable: the bytes themselves */
            len = k;
        }
        if (used + len + (i + k == n ? 1 : 4) > cap) { /* room for the terminator, and "..." unless this is the end */
            if (cap >= 4) {
                memcpy(out + used, "...", 3);
                used += 3;
            }
            break;
        }
        memcpy(out + used, from, len);
        used += len;
        i += k;
    }
    if (cap > 0) {
        out[used < cap ? used : cap - 1] = '\0';
    }
}

/* ---- packets (docs/protocol.md, Transport) ------------------------------------------------ */

typedef struct {
    uint8_t buf[P_MAX_MESSAGE];
    size_t len;
    int fds[P_MAX_FDS];
    int nfds;
} packet;

/* Closes fd if it is one, and forgets its number: no fd is ever closed twice or used after its close. */
static void close_fd(int *fd) {
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

/* Closes every fd the packet brought (each exactly once). */
static void close_fds(packet *p) {
    for (int i = 0; i < p->nfds; i++) {
        close_fd(&p->fds[i]);
    }
    p->nfds = 0;
}

/*
 * Receives one packet within timeout_ms: fds taken with MSG_CMSG_CLOEXEC, control space for the
 * kernel's maximum of 253; a packet with MSG_TRUNC or MSG_CTRUNC is refused (its fds closed).
 */
static int recv_packet(int sock, packet *p, int timeout_ms, const char *waiting_for, sluice_error *e) {
    p->len = 0;
    p->nfds = 0;
    int64_t deadline = monotonic_ms() + timeout_ms;
    for (;;) {
        int64_t left = deadline - monotonic_ms();
        if (left < 0) {
            left = 0;
        }
        struct pollfd pfd = {.fd = sock, .events = POLLIN};
        int r = poll(&pfd, 1, (int) left);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            return fail_sys(e, errno, "poll on the host connection");
        }
        if (r == 0) {
            return fail(e, SLUICE_ETIMEOUT, "no %s from the host within %d ms", waiting_for, timeout_ms);
        }
        break;
    }
    union {
        char buf[CMSG_SPACE(P_MAX_FDS * sizeof(int))];
        struct cmsghdr align;
    } control;
    struct iovec iov = {.iov_base = p->buf, .iov_len = sizeof p->buf};
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = control.buf;
    m.msg_controllen = sizeof control.buf;
    ssize_t n;
    do {
        n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno == ECONNRESET) {
            return fail(e, SLUICE_EHOSTGONE, "the host reset the connection while we waited for %s", waiting_for);
        }
        return fail_sys(e, errno, "recvmsg (waiting for %s)", waiting_for);
    }
    if (m.msg_controllen > 0) {
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c != NULL; c = CMSG_NXTHDR(&m, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS || c->cmsg_len < CMSG_LEN(0)) {
                continue;
            }
            size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            const unsigned char *d = CMSG_DATA(c);
            for (size_t i = 0; i < count; i++) {
                int fd;
                memcpy(&fd, d + i * sizeof(int), sizeof fd);
                if (p->nfds < P_MAX_FDS) {
                    p->fds[p->nfds++] = fd;
                } else {
                    close(fd);
                }
            }
        }
    }
    if (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
        int fds = p->nfds;
        close_fds(p);
        const char *flags = (m.msg_flags & MSG_TRUNC) && (m.msg_flags & MSG_CTRUNC) ? "MSG_TRUNC|MSG_CTRUNC"
                            : (m.msg_flags & MSG_TRUNC)                             ? "MSG_TRUNC"
                                                                                    : "MSG_CTRUNC";
        return fail(e, SLUICE_EPROTOCOL, "the host's %s was truncated (%s; %d fds closed): longer than the "
                    "protocol's %d bytes or %d fds", waiting_for, flags, fds, P_MAX_MESSAGE, P_MAX_FDS);
    }
    if (n == 0) {
        close_fds(p);
        return fail(e, SLUICE_EHOSTGONE, "the host closed the connection while we waited for %s", waiting_for);
    }
    p->len = (size_t) n;
    return SLUICE_OK;
}

static int send_packet(int sock, const uint8_t *buf, size_t len, int fd, const char *what, sluice_error *e) {
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    struct iovec iov = {.iov_base = (void *) buf, .iov_len = len};
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    if (fd >= 0) {
        memset(&control, 0, sizeof control);
        m.msg_control = control.buf;
        m.msg_controllen = sizeof control.buf;
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof fd);
    }
    ssize_t n;
    do {
        n = sendmsg(sock, &m, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno == EPIPE || errno == ECONNRESET) {
            return fail(e, SLUICE_EHOSTGONE, "the host closed the connection before our %s", what);
        }
        return fail_sys(e, errno, "sendmsg (%s)", what);
    }
    if ((size_t) n != len) {
        return fail(e, SLUICE_ESYSCALL, "sendmsg (%s): sent %zd of %zu bytes", what, n, len);
    }
    return SLUICE_OK;
}

static void header(uint8_t *b, int type) {
    put32(b, 0, P_MAGIC);
    put16(b, 4, SLUICE_PROTOCOL_VERSION);
    put16(b, 6, (uint16_t) type);
}

/*
 * The body REFUSE and DETACH share: reason code, text length, text. *reason and text (escaped,
 * see escape_untrusted) on success; a protocol error if it is malformed (what names the message).
 * The text is the host's and untrusted: it is never printed unescaped, and text that is not UTF-8
 * is shown byte by byte rather than refused.
 */
static int decode_reason_body(const packet *p, const char *what, unsigned *reason, char *text, size_t cap,
                              sluice_error *e) {
    if (p->nfds != 0) {
        return fail(e, SLUICE_EPROTOCOL, "the host's %s carried %d fds, expected none", what, p->nfds);
    }
    if (p->len < P_REFUSE_TEXT_OFFSET) {
        return fail(e, SLUICE_EPROTOCOL, "the host's %s of %zu bytes is truncated", what, p->len);
    }
    size_t n = get16(p->buf, 10);
    if (n > P_MAX_TEXT || p->len != P_REFUSE_TEXT_OFFSET + n) {
        return fail(e, SLUICE_EPROTOCOL, "the host's %s text length %zu does not match the message (%zu bytes)", what, n,
                    p->len);
    }
    *reason = get16(p->buf, 8);
    escape_untrusted(p->buf + P_REFUSE_TEXT_OFFSET, n, text, cap);
    return SLUICE_OK;
}

/* Decodes a REFUSE into e (reason and escaped text) — or a protocol error if it is malformed. */
static int decode_refuse(const packet *p, const char *what, const char *channel, sluice_error *e) {
    unsigned reason;
    char text[P_ESCAPED_TEXT];
    int rc = decode_reason_body(p, what, &reason, text, sizeof text, e);
    if (rc != SLUICE_OK) {
        return rc;
    }
    fail(e, SLUICE_EREFUSED, "attaching to '%s' refused (%s): %s", channel, sluice_refusal_name((int) reason), text);
    if (e != NULL) {
        e->refusal = (int) reason;
    }
    return SLUICE_EREFUSED;
}

/*
 * Receives the host's next message, which must be `expected` (or a REFUSE, or a DETACH in READY's place): checks length, magic,
 * version, type. Either of those is turned into SLUICE_EREFUSED with the host's reason and text.
 */
static int expect_message(sluice_channel *ch, packet *p, int expected, const char *name, int timeout_ms, sluice_error *e) {
    int rc = recv_packet(ch->sock, p, timeout_ms, name, e);
    if (rc != SLUICE_OK) {
        return rc;
    }
    if (p->len < P_HEADER_LENGTH) {
        close_fds(p);
        return fail(e, SLUICE_EPROTOCOL, "the host's message of %zu bytes is shorter than the %d-byte header", p->len,
                    P_HEADER_LENGTH);
    }
    uint32_t magic = get32(p->buf, 0);
    if (magic != P_MAGIC) {
        close_fds(p);
        return fail(e, SLUICE_EPROTOCOL, "the host's message has bad magic 0x%x, expected 0x%x (\"SLCP\")", magic, P_MAGIC);
    }
    unsigned type = get16(p->buf, 6);
    if (type == P_REFUSE) { /* read whatever its version: a VERSION_MISMATCH refusal must get through */
        rc = decode_refuse(p, "REFUSE", ch->name, e);
        close_fds(p);
        return rc;
    }
    unsigned version = get16(p->buf, 4);
    if (version != SLUICE_PROTOCOL_VERSION) {
        close_fds(p);
        return fail(e, SLUICE_EPROTOCOL, "the host speaks protocol version %u, this client %d", version,
                    SLUICE_PROTOCOL_VERSION);
    }
    if (type == P_DETACH && expected == P_READY) {
        /* The host had joined us and ended it before READY went out (the channel closed
           meanwhile): to this side a refusal, with the host's reason. */
        rc = decode_refuse(p, "DETACH", ch->name, e);
        close_fds(p);
        return rc;
    }
    if (type != (unsigned) expected) {
        close_fds(p);
        return fail(e, SLUICE_EPROTOCOL, "expected %s (type %d) from the host, got message type %u", name, expected, type);
    }
    return SLUICE_OK;
}

/* ---- regions ------------------------------------------------------------------------------ */

static void seals_describe(int seals, char *out, size_t n) {
    static const struct {
        int bit;
        const char *name;
    } names[] = {{F_SEAL_SEAL, "SEAL"}, {F_SEAL_SHRINK, "SHRINK"}, {F_SEAL_GROW, "GROW"}, {F_SEAL_WRITE, "WRITE"},
                 {F_SEAL_FUTURE_WRITE, "FUTURE_WRITE"}, {F_SEAL_EXEC, "EXEC"}};
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (seals & names[i].bit) {
            int w = snprintf(out + used, n - used, "%s%s", used ? "|" : "", names[i].name);
            if (w < 0 || (size_t) w >= n - used) {
                return;
            }
            used += (size_t) w;
        }
    }
    if (used == 0) {
        snprintf(out, n, "none");
    }
}

static const char *file_type(mode_t m) {
    if (S_ISREG(m)) return "regular file";
    if (S_ISDIR(m)) return "directory";
    if (S_ISFIFO(m)) return "pipe";
    if (S_ISSOCK(m)) return "socket";
    if (S_ISCHR(m)) return "character device";
    if (S_ISBLK(m)) return "block device";
    if (S_ISLNK(m)) return "symbolic link";
    return "file of unknown type";
}

/* How a region is to be mapped: read-only (SPSC and broadcast consumers) or read-write (MPMC). */
enum { MAP_FOR_READING = 0, MAP_FOR_WRITING = 1 };

/*
 * Checks a received fd before mapping it (docs/protocol.md, WELCOME), in an order that leaves a
 * hostile sender no window: (1) fstat: a regular file; /proc/self/fd/N: /memfd:...; its access
 * mode allows the mapping we need; (2) F_GET_SEALS: at least `seals`, which must include
 * SHRINK|GROW; (3) only now, with the size final, fstat again: exactly `size` bytes. A size read
 * before the seals were verified means nothing: the sender could shrink the memfd, then seal it,
 * between the two, and a mapping of the promised size would then fault (SIGBUS) past the end.
 */
static int verify_memfd(int fd, int seals, uint64_t size, int use, const char *what, sluice_error *e) {
    struct stat st;
    if (fstat(fd, &st) != 0) {
        return fail_sys(e, errno, "fstat of the %s (fd %d)", what, fd);
    }
    if (!S_ISREG(st.st_mode)) {
        return fail(e, SLUICE_EREGION, "the %s (fd %d) is a %s, not a memfd", what, fd, file_type(st.st_mode));
    }
    char path[64];
    char target[PATH_MAX];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(path, target, sizeof target - 1);
    if (n < 0) {
        return fail_sys(e, errno, "readlink %s (the %s)", path, what);
    }
    target[n] = '\0';
    char shown[P_ESCAPED_TEXT / 4]; /* the target and the memfd name are the sender's words: escaped */
    if (strncmp(target, "/memfd:", 7) != 0) {
        escape_untrusted((const uint8_t *) target, (size_t) n, shown, sizeof shown);
        return fail(e, SLUICE_EREGION, "the %s (fd %d) is %s (a regular file), not a memfd", what, fd, shown);
    }
    char *deleted = strstr(target, " (deleted)");
    if (deleted != NULL) {
        *deleted = '\0';
    }
    escape_untrusted((const uint8_t *) target + 7, strlen(target + 7), shown, sizeof shown);
    const char *name = shown;
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0) {
        return fail_sys(e, errno, "F_GETFL on memfd '%s' (the %s)", name, what);
    }
    int accmode = flags & O_ACCMODE;
    if (accmode == O_WRONLY) {
        return fail(e, SLUICE_EREGION, "memfd '%s' (the %s) is open O_WRONLY: it cannot be mapped for reading", name, what);
    }
    if (use == MAP_FOR_WRITING && accmode != O_RDWR) {
        return fail(e, SLUICE_EREGION, "memfd '%s' (the %s) is open O_RDONLY, but this role writes the ring: it needs "
                    "O_RDWR", name, what);
    }
    TEST_HOOK("data-region-before-seals", fd);
    int have = fcntl(fd, F_GET_SEALS);
    if (have < 0) {
        return fail_sys(e, errno, "F_GET_SEALS on memfd '%s' (the %s)", name, what);
    }
    if ((have & seals) != seals) {
        char h[80], need[80];
        seals_describe(have, h, sizeof h);
        seals_describe(seals & ~have, need, sizeof need);
        return fail(e, SLUICE_EREGION, "memfd '%s' (the %s) has seals %s, missing %s", name, what, h, need);
    }
    /* SHRINK|GROW are on (seals includes them): the size read now is the size for good. */
    if (fstat(fd, &st) != 0) {
        return fail_sys(e, errno, "fstat of memfd '%s' (the %s), after its seals", name, what);
    }
    if (st.st_size < 0 || (uint64_t) st.st_size != size) {
        return fail(e, SLUICE_EREGION, "memfd '%s' (the %s) is %lld bytes, the host promised %llu", name, what,
                    (long long) st.st_size, (unsigned long long) size);
    }
    return SLUICE_OK;
}

/* Common region header (RegionHeaderDescriptor.validate). Returns the capacity via *capacity. */
static int validate_common(const uint8_t *r, size_t size, uint32_t kind, uint32_t header_length, const char *what,
                           int64_t *capacity, sluice_error *e) {
    if (size < R_LINE || size < header_length) {
        return fail(e, SLUICE_ELAYOUT, "%s: segment of %zu bytes is smaller than the %u-byte header", what, size,
                    header_length > R_LINE ? header_length : R_LINE);
    }
    uint64_t magic = rd64(r, 0);
    if (magic != R_MAGIC) {
        return fail(e, SLUICE_ELAYOUT, "%s: bad magic 0x%llx, expected 0x%llx (\"SLUICERB\")", what,
                    (unsigned long long) magic, (unsigned long long) R_MAGIC);
    }
    uint32_t version = rd32(r, R_VERSION_OFFSET);
    if (version != SLUICE_LAYOUT_VERSION) {
        return fail(e, SLUICE_ELAYOUT, "%s: layout version %u, this library reads %d", what, version, SLUICE_LAYOUT_VERSION);
    }
    uint32_t k = rd32(r, R_KIND_OFFSET);
    if (k != kind) {
        return fail(e, SLUICE_ELAYOUT, "%s: ring kind %s (code %u), expected %s", what, kind_name(k), k, kind_name(kind));
    }
    uint32_t hl = rd32(r, R_HEADER_LENGTH_OFFSET);
    if (hl != header_length) {
        return fail(e, SLUICE_ELAYOUT, "%s: header length %u, expected %u", what, hl, header_length);
    }
    int64_t cap = (int64_t) rd64(r, R_CAPACITY_OFFSET);
    if (!is_pow2_64(cap)) {
        return fail(e, SLUICE_ELAYOUT, "%s: capacity %lld is not a positive power of two", what, (long long) cap);
    }
    if ((uint64_t) cap > size - header_length) {
        return fail(e, SLUICE_ELAYOUT, "%s: capacity %lld plus header %u exceeds the segment's %zu bytes", what,
                    (long long) cap, header_length, size);
    }
    *capacity = cap;
    return SLUICE_OK;
}

/* SPSC ring region (docs/layout.md (SPSC) 4.4). */
static int validate_spsc(sluice_channel *ch, sluice_error *e) {
    struct spsc_state *s = &ch->u.spsc;
    int64_t cap;
    int rc = validate_common(ch->data, ch->data_size, SLUICE_KIND_SPSC, S_HEADER_LENGTH, ch->what, &cap, e);
    if (rc != SLUICE_OK) {
        return rc;
    }
    if (cap < S_MIN_CAPACITY) {
        return fail(e, SLUICE_ELAYOUT, "%s: capacity %lld is below the minimum %d", ch->what, (long long) cap, S_MIN_CAPACITY);
    }
    int32_t expected_max = (int32_t) ((cap >> 3) < S_MAX_MESSAGE_LIMIT ? (cap >> 3) : S_MAX_MESSAGE_LIMIT);
    int32_t max = (int32_t) rd32(ch->data, R_SPECIFIC_U32_OFFSET);
    if (max != expected_max) {
        return fail(e, SLUICE_ELAYOUT, "%s: max message length %d, expected %d for capacity %lld", ch->what, max,
                    expected_max, (long long) cap);
    }
    uint32_t rh = rd32(ch->data, S_RECORD_HEADER_LENGTH_OFFSET);
    if (rh != S_REC_HEADER) {
        return fail(e, SLUICE_ELAYOUT, "%s: record header length %u, expected %d", ch->what, rh, S_REC_HEADER);
    }
    uint32_t al = rd32(ch->data, S_RECORD_ALIGNMENT_OFFSET);
    if (al != 8) {
        return fail(e, SLUICE_ELAYOUT, "%s: record alignment %u, expected 8", ch->what, al);
    }
    s->data = ch->data + S_HEADER_LENGTH;
    s->capacity = cap;
    s->mask = cap - 1;
    s->max_length = max;
    s->wake = (const _Atomic int32_t *) (const void *) (ch->data + S_WAKE_SEQUENCE_OFFSET);
    return SLUICE_OK;
}

/* Broadcast ring region (BroadcastRingDescriptor.validate). */
static int validate_bcast(sluice_channel *ch, sluice_error *e) {
    struct bcast_state *b = &ch->u.bc;
    const uint8_t *r = ch->data;
    if (ch->data_size < B_HEADER_LENGTH) {
        return fail(e, SLUICE_ELAYOUT, "%s: segment of %zu bytes is smaller than the %d-byte broadcast header", ch->what,
                    ch->data_size, B_HEADER_LENGTH);
    }
    int64_t cap;
    int rc = validate_common(r, ch->data_size, ch->kind, B_HEADER_LENGTH, ch->what, &cap, e);
    if (rc != SLUICE_OK) {
        return rc;
    }
    if (cap < B_MIN_CAPACITY || cap > B_MAX_CAPACITY) {
        return fail(e, SLUICE_ELAYOUT, "%s: capacity %lld outside [%lld, %lld]", ch->what, (long long) cap,
                    (long long) B_MIN_CAPACITY, (long long) B_MAX_CAPACITY);
    }
    uint32_t rh = rd32(r, B_RECORD_HEADER_LENGTH_OFFSET);
    if (rh != B_REC_HEADER) {
        return fail(e, SLUICE_ELAYOUT, "%s: record header length %u, expected %d", ch->what, rh, B_REC_HEADER);
    }
    uint32_t al = rd32(r, B_RECORD_ALIGNMENT_OFFSET);
    if (al != 8) {
        return fail(e, SLUICE_ELAYOUT, "%s: record alignment %u, expected 8", ch->what, al);
    }
    int32_t max = (int32_t) rd32(r, R_SPECIFIC_U32_OFFSET);
    int32_t limit = (int32_t) (cap / 2 - B_REC_HEADER);
    if (max < 0 || max > limit) {
        return fail(e, SLUICE_ELAYOUT, "%s: max message length %d outside [0, %d] for capacity %lld", ch->what, max, limit,
                    (long long) cap);
    }
    b->region = r;
    b->overwrite = ch->kind == SLUICE_KIND_BROADCAST_OVERWRITE;
    b->capacity = cap;
    b->mask = cap - 1;
    b->max_length = max;
    return SLUICE_OK;
}

/* MPMC ring region (docs/layout.md (MPMC) 4). */
static int validate_mpmc(sluice_channel *ch, sluice_error *e) {
    struct mpmc_state *m = &ch->u.mp;
    uint8_t *r = ch->data;
    int64_t cap;
    int rc = validate_common(r, ch->data_size, SLUICE_KIND_MPMC, M_HEADER_LENGTH, ch->what, &cap, e);
    if (rc != SLUICE_OK) {
        return rc;
    }
    uint32_t slot_length = rd32(r, M_SLOT_LENGTH_OFFSET);
    if (slot_length < M_MIN_SLOT_LENGTH || slot_length > M_MAX_SLOT_LENGTH || !is_pow2_32(slot_length)) {
        return fail(e, SLUICE_ELAYOUT, "%s: slot length %u is not a power of two in [%u, %u]", ch->what, slot_length,
                    M_MIN_SLOT_LENGTH, M_MAX_SLOT_LENGTH);
    }
    uint32_t slot_count = rd32(r, M_SLOT_COUNT_OFFSET);
    if (slot_count < M_MIN_SLOT_COUNT || slot_count > M_MAX_SLOT_COUNT || !is_pow2_32(slot_count)) {
        return fail(e, SLUICE_ELAYOUT, "%s: slot count %u is not a power of two in [%u, %u]", ch->what, slot_count,
                    M_MIN_SLOT_COUNT, M_MAX_SLOT_COUNT);
    }
    if ((int64_t) slot_count * slot_length != cap) {
        return fail(e, SLUICE_ELAYOUT, "%s: capacity %lld is not slot count %u x slot length %u", ch->what,
                    (long long) cap, slot_count, slot_length);
    }
    uint32_t max_pid = rd32(r, M_MAX_PARTICIPANT_OFFSET);
    if (max_pid < 1 || max_pid > M_MAX_PARTICIPANT) {
        return fail(e, SLUICE_ELAYOUT, "%s: max participant id %u outside 1..%u", ch->what, max_pid, M_MAX_PARTICIPANT);
    }
    for (size_t off = M_RESERVED_OFFSET; off < R_LINE; off += 8) {
        uint64_t v = rd64(r, off);
        if (v != 0) {
            return fail(e, SLUICE_ELAYOUT, "%s: reserved header bytes at %zu are 0x%llx, expected zero", ch->what, off,
                        (unsigned long long) v);
        }
    }
    /* Head first: head <= tail + 1 at every instant and tail only grows. */
    int64_t head = load_acquire64(r + M_HEAD);
    int64_t tail = load_acquire64(r + M_TAIL);
    if (head < 0 || tail < 0 || head > tail + 1) {
        return fail(e, SLUICE_ELAYOUT, "%s: impossible counters head %lld, tail %lld", ch->what, (long long) head,
                    (long long) tail);
    }
    m->region = r;
    m->slot_count = slot_count;
    m->slot_mask = slot_count - 1;
    m->slot_count_shift = __builtin_ctz(slot_count);
    m->slot_length_shift = __builtin_ctz(slot_length);
    m->max_participant = max_pid;
    m->max_payload = slot_length - M_SLOT_PAYLOAD;
    m->claimed_slot = -1;
    return SLUICE_OK;
}

/* ---- the consumer's own position region ----------------------------------------------------- */

/* Creates our position region (mode 0600, sized, mapped read-write); *fd_out is its memfd. */
static int create_position_region(sluice_channel *ch, int *fd_out, sluice_error *e) {
    char name[P_MAX_NAME + 64];
    snprintf(name, sizeof name, "sluice:%s.consumer.%ld", ch->name, (long) getpid());
    int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL);
    if (fd < 0 && errno == EINVAL) {
        fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING); /* kernel < 6.3: no MFD_NOEXEC_SEAL */
    }
    if (fd < 0) {
        return fail_sys(e, errno, "memfd_create(%s)", name);
    }
    int rc = SLUICE_OK;
    if (fchmod(fd, 0600) != 0) { /* memfds are born 0777 (0666 with MFD_NOEXEC_SEAL) */
        rc = fail_sys(e, errno, "fchmod 0600 of the position region (memfd %s)", name);
    } else if (ftruncate(fd, (off_t) ch->pos_size) != 0) {
        rc = fail_sys(e, errno, "ftruncate of the position region to %zu bytes", ch->pos_size);
    } else {
        void *p = mmap(NULL, ch->pos_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED) {
            rc = fail_sys(e, errno, "mmap of the position region");
        } else {
            ch->pos = p;
        }
    }
    if (rc != SLUICE_OK) {
        close_fd(&fd);
        return rc;
    }
    *fd_out = fd;
    return SLUICE_OK;
}

/* Seals our position region: from now on only our existing mapping can write it; then, with the
   seals final, F_SEAL_SEAL, so that nobody holding the fd (the host) can add any more. */
static int seal_position_region(int fd, sluice_error *e) {
    if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE) != 0) {
        return fail_sys(e, errno, "F_ADD_SEALS SHRINK|GROW|FUTURE_WRITE on the position region");
    }
    if (fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL) != 0) {
        return fail_sys(e, errno, "F_ADD_SEALS SEAL on the position region");
    }
    return SLUICE_OK;
}

/* SPSC: ConsumerPositionDescriptor.format, then the start position (SpscRing.attachConsumer). */
static int spsc_init_position(sluice_channel *ch, int64_t start, sluice_error *e) {
    struct spsc_state *s = &ch->u.spsc;
    uint8_t *p = ch->pos;
    memset(p, 0, CP_REGION_SIZE);
    wr64(p, 0, CP_MAGIC);
    wr32(p, 8, SLUICE_LAYOUT_VERSION);
    wr32(p, 12, SLUICE_KIND_SPSC);
    wr32(p, 16, R_LINE);
    wr64(p, 24, (uint64_t) s->capacity);
    s->position = (_Atomic int64_t *) (void *) (p + CP_POSITION_OFFSET);
    s->parked = (_Atomic int32_t *) (void *) (p + CP_PARKED_OFFSET);
    if (start < 0 || (start & 7) != 0) {
        return fail(e, SLUICE_EPROTOCOL, "%s: WELCOME start position %lld is not a non-negative multiple of 8", ch->what,
                    (long long) start);
    }
    atomic_store_explicit(s->position, start, memory_order_release);
    int64_t stamp = load_acquire64(s->data + (start & s->mask));
    if (stamp != start && stamp != S_INVALID_STAMP) {
        return fail(e, SLUICE_ELAYOUT, "%s: consumer position %lld does not match the ring: the stamp there is %lld",
                    ch->what, (long long) start, (long long) stamp);
    }
    s->head = start;
    return SLUICE_OK;
}

static bool aligned8(int64_t v) {
    return (v & 7) == 0;
}

static int bc_corrupt(sluice_channel *ch, int64_t position, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int bc_corrupt(sluice_channel *ch, int64_t position, const char *fmt, ...) {
    char problem[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(problem, sizeof problem, fmt, ap);
    va_end(ap);
    return fail(&ch->error, SLUICE_ECORRUPT, "%s: corrupt record at position %lld (offset %lld): %s", ch->what,
                (long long) position, (long long) (position & ch->u.bc.mask), problem);
}

/* Returns the record's span (> 0), or a negative code if the (intact) header is impossible. */
static int64_t bc_check_record(sluice_channel *ch, int64_t position, int32_t length, int32_t type, int64_t tail) {
    struct bcast_state *b = &ch->u.bc;
    int64_t to_end = b->capacity - (position & b->mask);
    int64_t span;
    if (type == B_PADDING_TYPE) {
        if (length < B_REC_HEADER || !aligned8(length) || length > to_end) {
            return bc_corrupt(ch, position, "padding length %d (must be a multiple of 8 in [%d, %lld])", length,
                              B_REC_HEADER, (long long) to_end);
        }
        span = length;
    } else if (type > 0) {
        if (length < B_REC_HEADER || length - B_REC_HEADER > b->max_length) {
            return bc_corrupt(ch, position, "message length %d (header %d plus at most %d)", length, B_REC_HEADER,
                              b->max_length);
        }
        span = ((int64_t) length + 7) & ~7LL;
        if (span > to_end) {
            return bc_corrupt(ch, position, "message of length %d crosses the end of the data area (%lld bytes left)",
                              length, (long long) to_end);
        }
    } else {
        return bc_corrupt(ch, position, "unknown record type %d", type);
    }
    if (position + span > tail) {
        return bc_corrupt(ch, position, "record of %lld bytes ends past the tail %lld", (long long) span, (long long) tail);
    }
    return span;
}

/* BroadcastConsumer.start: chooses the start position and anchors the expected sequence there. */
static int bc_start(sluice_channel *ch, sluice_start policy) {
    struct bcast_state *b = &ch->u.bc;
    const uint8_t *r = b->region;
    int64_t candidate = 0;
    for (int attempt = 0; attempt < B_START_ATTEMPTS; attempt++) {
        /* Acquire loads in this order give head <= tail and latest < tail. */
        int64_t head = load_acquire64(r + B_HEAD);
        int64_t latest = load_acquire64(r + B_LATEST);
        int64_t tail = load_acquire64(r + B_TAIL);
        if (head < 0 || head > tail || !aligned8(head) || !aligned8(tail)) {
            return fail(&ch->error, SLUICE_ECORRUPT, "%s: counters head %lld and tail %lld are impossible (negative, "
                        "unaligned or head past tail)", ch->what, (long long) head, (long long) tail);
        }
        if (latest != B_NO_MESSAGE && (latest < 0 || latest >= tail || !aligned8(latest))) {
            return fail(&ch->error, SLUICE_ECORRUPT, "%s: latest %lld is not an aligned position before tail %lld",
                        ch->what, (long long) latest, (long long) tail);
        }
        if (policy == SLUICE_START_NEWEST) {
            candidate = latest == B_NO_MESSAGE ? tail : (latest > head ? latest : head);
        } else {
            candidate = head;
        }
        if (candidate < tail) {
            int64_t at = candidate;
            int64_t to_end = b->capacity - (at & b->mask);
            if (to_end < B_REC_HEADER) {
                at += to_end; /* the Head may sit in the implicit gap; the record follows it */
            }
            const uint8_t *rec = r + B_HEADER_LENGTH + (at & b->mask);
            int32_t length = load_relaxed32(rec + B_REC_LENGTH);
            int32_t type = load_relaxed32(rec + B_REC_TYPE);
            int64_t seq = load_relaxed64(rec + B_REC_SEQUENCE);
            atomic_thread_fence(memory_order_acquire); /* the header loads before the intent load */
            if (load_acquire64(r + B_TAIL_INTENT) - b->capacity > candidate) {
                spin_pause(); /* overwritten while we read it: choose again */
                continue;
            }
            int64_t span = bc_check_record(ch, at, length, type, tail);
            if (span < 0) {
                return (int) span;
            }
            if (seq < 0) {
                return bc_corrupt(ch, at, "negative sequence %lld", (long long) seq);
            }
            b->cursor = candidate;
            b->expected_sequence = seq;
            b->anchored = true;
            return SLUICE_OK;
        }
        int64_t seq = load_acquire64(r + B_NEXT_SEQUENCE);
        int64_t intent = load_acquire64(r + B_TAIL_INTENT);
        if (intent == tail) {
            if (seq < 0) {
                return fail(&ch->error, SLUICE_ECORRUPT, "%s: negative next sequence %lld", ch->what, (long long) seq);
            }
            b->cursor = tail;
            b->expected_sequence = seq;
            b->anchored = true;
            return SLUICE_OK;
        }
        if (intent < tail) {
            return fail(&ch->error, SLUICE_ECORRUPT, "%s: tail intent %lld is behind tail %lld", ch->what,
                        (long long) intent, (long long) tail);
        }
        spin_pause(); /* a claim is in flight at the tail; its sequence is not published yet */
    }
    b->cursor = candidate; /* anchor on the first record read */
    b->anchored = false;
    return SLUICE_OK;
}

/* BroadcastConsumerPositionDescriptor.format with the chosen start. */
static void bc_init_position(sluice_channel *ch) {
    struct bcast_state *b = &ch->u.bc;
    uint8_t *p = ch->pos;
    memset(p, 0, BP_REGION_LENGTH);
    wr64(p, 0, BP_MAGIC);
    wr32(p, BP_VERSION_OFFSET, SLUICE_LAYOUT_VERSION);
    wr32(p, BP_REGION_LENGTH_OFFSET, BP_REGION_LENGTH);
    b->position = (_Atomic int64_t *) (void *) (p + BP_POSITION_OFFSET);
    atomic_store_explicit(b->position, b->cursor, memory_order_release);
    b->published = b->cursor;
}

/* ---- attach ------------------------------------------------------------------------------- */

/* Closes and unmaps everything the attachment holds (each once), then frees it. */
static void release_channel(sluice_channel *ch) {
    close_fd(&ch->sock);
    if (ch->data != NULL) {
        munmap(ch->data, ch->data_size);
        ch->data = NULL;
    }
    close_fd(&ch->data_fd);
    if (ch->pos != NULL) {
        munmap(ch->pos, ch->pos_size);
        ch->pos = NULL;
    }
    free(ch);
}

static const char *ring_word(sluice_kind kind) {
    switch (kind) {
        case SLUICE_KIND_SPSC: return "spsc ring";
        case SLUICE_KIND_MPMC: return "mpmc ring";
        default: return "broadcast ring";
    }
}

/* WELCOME (docs/protocol.md): every field checked, then the fd, then the mapping. */
static int take_welcome(sluice_channel *ch, packet *p, const sluice_attach_options *o, int64_t *start, sluice_error *e) {
    if (p->len != P_WELCOME_LENGTH) {
        close_fds(p);
        return fail(e, SLUICE_EPROTOCOL, "WELCOME is %zu bytes, expected %d", p->len, P_WELCOME_LENGTH);
    }
    uint32_t kind = get32(p->buf, 8);
    uint32_t participant = get32(p->buf, 12);
    uint64_t data_size = get64(p->buf, 16);
    uint64_t pos_size = get64(p->buf, 24);
    uint32_t max_message = get32(p->buf, 32);
    uint32_t flags = get32(p->buf, 36);
    uint64_t start_position = get64(p->buf, 40);
    if (kind < SLUICE_KIND_SPSC || kind > SLUICE_KIND_MPMC) {
        close_fds(p);
        return fail(e, SLUICE_EPROTOCOL, "WELCOME ring kind %u is unknown", kind);
    }
    unsigned usable = o->role == SLUICE_ROLE_CONSUMER
                          ? SLUICE_KIND_MASK(SLUICE_KIND_SPSC) | SLUICE_KIND_MASK(SLUICE_KIND_BROADCAST_BACKPRESSURE) |
                                SLUICE_KIND_MASK(SLUICE_KIND_BROADCAST_OVERWRITE) | SLUICE_KIND_MASK(SLUICE_KIND_MPMC)
                          : SLUICE_KIND_MASK(SLUICE_KIND_MPMC);
    unsigned wanted = o->kinds != 0 ? (o->kinds & usable) : usable;
    if ((wanted & SLUICE_KIND_MASK(kind)) == 0) {
        close_fds(p);
        return fail(e, SLUICE_EPROTOCOL, "channel '%s' is %s, which this side did not ask for", ch->name, kind_name(kind));
    }
    if (p->nfds != 1) {
        int n = p->nfds;
        close_fds(p);
        return fail(e, SLUICE_EPROTOCOL, "WELCOME carried %d fds, expected 1", n);
    }
    ch->data_fd = p->fds[0]; /* ours now: release_channel closes it on every path */
    p->fds[0] = -1;
    p->nfds = 0;
    ch->kind = (sluice_kind) kind;
    snprintf(ch->what, sizeof ch->what, "%s '%s'", ring_word(ch->kind), ch->name);
    bool mpmc = kind == SLUICE_KIND_MPMC;
    if (data_size == 0 || data_size > P_MAX_DATA_REGION || data_size > (uint64_t) SIZE_MAX) {
        return fail(e, SLUICE_EPROTOCOL, "WELCOME data region size %llu is out of range: a ring's data area is at most "
                    "%llu bytes (2^30), its region at most %llu (2^30 + 64 KiB); nothing was mapped",
                    (unsigned long long) data_size, (unsigned long long) P_MAX_DATA_AREA,
                    (unsigned long long) P_MAX_DATA_REGION);
    }
    uint64_t expected_pos = mpmc ? 0 : (kind == SLUICE_KIND_SPSC ? CP_REGION_SIZE : BP_REGION_LENGTH);
    if (pos_size != expected_pos) {
        return fail(e, SLUICE_EPROTOCOL, "WELCOME position region size %llu, the %s layout's is %llu",
                    (unsigned long long) pos_size, kind_name(kind), (unsigned long long) expected_pos);
    }
    if (mpmc ? (participant < 1 || participant > M_MAX_PARTICIPANT) : participant != 0) {
        return fail(e, SLUICE_EPROTOCOL, "WELCOME participant id %u is impossible for %s", participant, kind_name(kind));
    }
    if (max_message > INT32_MAX) {
        return fail(e, SLUICE_EPROTOCOL, "WELCOME max message length %u is out of range", max_message);
    }
    if ((flags & ~P_WELCOME_FLAG_WAKE) != 0 || ((flags & P_WELCOME_FLAG_WAKE) && kind != SLUICE_KIND_SPSC)) {
        return fail(e, SLUICE_EPROTOCOL, "WELCOME flags 0x%x: unknown bits, or a wake flag on a %s channel", flags,
                    kind_name(kind));
    }
    if (start_position > (uint64_t) INT64_MAX || (kind != SLUICE_KIND_SPSC && start_position != 0)) {
        return fail(e, SLUICE_EPROTOCOL, "WELCOME start position %llu is impossible for %s",
                    (unsigned long long) start_position, kind_name(kind));
    }
    ch->participant_id = participant;
    ch->max_message_length = max_message;
    ch->welcome_flags = flags;
    ch->pos_size = (size_t) pos_size;
    *start = (int64_t) start_position;

    /* The fd, before mapping: a memfd, sealed as promised, of the promised size. */
    int seals = F_SEAL_SHRINK | F_SEAL_GROW | (mpmc ? 0 : F_SEAL_FUTURE_WRITE);
    int rc = verify_memfd(ch->data_fd, seals, data_size, mpmc ? MAP_FOR_WRITING : MAP_FOR_READING, "data region", e);
    if (rc != SLUICE_OK) {
        return rc;
    }
    /* Single-writer rings: read-only (the seal leaves us nothing else; the fd may be O_RDONLY).
       MPMC: every participant writes. */
    void *m = mmap(NULL, (size_t) data_size, mpmc ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, ch->data_fd, 0);
    if (m == MAP_FAILED) {
        return fail_sys(e, errno, "mmap of the data region (%llu bytes, %s)", (unsigned long long) data_size,
                        mpmc ? "PROT_READ|PROT_WRITE" : "PROT_READ");
    }
    ch->data = m;
    ch->data_size = (size_t) data_size;

    /* The ring header names the same kind, fits the size, and agrees with WELCOME. */
    uint32_t ring_max;
    switch (ch->kind) {
        case SLUICE_KIND_SPSC:
            rc = validate_spsc(ch, e);
            ring_max = (uint32_t) ch->u.spsc.max_length;
            break;
        case SLUICE_KIND_MPMC:
            rc = validate_mpmc(ch, e);
            ring_max = ch->u.mp.max_payload;
            if (rc == SLUICE_OK && participant > ch->u.mp.max_participant) {
                return fail(e, SLUICE_EPROTOCOL, "%s: WELCOME participant id %u exceeds the ring's max participant id %u",
                            ch->what, participant, ch->u.mp.max_participant);
            }
            break;
        default:
            rc = validate_bcast(ch, e);
            ring_max = (uint32_t) ch->u.bc.max_length;
            break;
    }
    if (rc != SLUICE_OK) {
        return rc;
    }
    if (ring_max != max_message) {
        return fail(e, SLUICE_EPROTOCOL, "%s: WELCOME max message length %u, the ring's is %u", ch->what, max_message, ring_max);
    }
    return SLUICE_OK;
}

int sluice_attach(const sluice_attach_options *o, sluice_channel **out, sluice_error *err) {
    sluice_error scratch;
    sluice_error *e = err != NULL ? err : &scratch;
    memset(e, 0, sizeof *e);
    if (out == NULL || o == NULL || o->socket_path == NULL || o->channel == NULL) {
        return fail(e, SLUICE_EARGUMENT, "sluice_attach: options, socket path, channel and out are required");
    }
    *out = NULL;
    size_t name_length = strlen(o->channel);
    if (name_length == 0 || name_length > P_MAX_NAME) {
        return fail(e, SLUICE_EARGUMENT, "channel name must be 1..%d bytes, was %zu", P_MAX_NAME, name_length);
    }
    for (size_t i = 0; i < name_length; i++) {
        uint8_t c = (uint8_t) o->channel[i];
        if (c < 0x21 || c > 0x7E || c == '/') {
            char shown[P_MAX_NAME * 4 + 4];
            escape_untrusted((const uint8_t *) o->channel, name_length, shown, sizeof shown);
            return fail(e, SLUICE_EARGUMENT, "channel name \"%s\" has byte 0x%02x at %zu: a name is printable ASCII "
                        "(0x21..0x7E) without spaces or '/'", shown, c, i);
        }
    }
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    if (strlen(o->socket_path) >= sizeof addr.sun_path) {
        return fail(e, SLUICE_EARGUMENT, "socket path '%s' is longer than the %zu bytes of sun_path", o->socket_path,
                    sizeof addr.sun_path - 1);
    }
    if (o->role < SLUICE_ROLE_CONSUMER || o->role > SLUICE_ROLE_PARTICIPANT) {
        return fail(e, SLUICE_EARGUMENT, "role %d is not a role (1 consumer, 2 producer, 3 participant)", (int) o->role);
    }
    strcpy(addr.sun_path, o->socket_path);
    int timeout = o->timeout_ms > 0 ? o->timeout_ms : P_DEFAULT_TIMEOUT_MS;

    sluice_channel *ch = calloc(1, sizeof *ch);
    if (ch == NULL) {
        return fail_sys(e, ENOMEM, "calloc");
    }
    ch->sock = -1;
    ch->data_fd = -1;
    ch->role = o->role;
    memcpy(ch->name, o->channel, name_length + 1);
    snprintf(ch->what, sizeof ch->what, "channel '%s'", ch->name);

    int pos_fd = -1;
    int rc;
    packet *p = malloc(sizeof *p);
    if (p == NULL) {
        free(ch);
        return fail_sys(e, ENOMEM, "malloc");
    }
    p->nfds = 0;
    ch->sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (ch->sock < 0) {
        rc = fail_sys(e, errno, "socket(AF_UNIX, SOCK_SEQPACKET)");
        goto failed;
    }
    if (connect(ch->sock, (struct sockaddr *) &addr, sizeof addr) != 0) {
        rc = fail_sys(e, errno, "connect %s", o->socket_path);
        goto failed;
    }

    /* HELLO */
    uint8_t hello[P_HELLO_NAME_OFFSET + P_MAX_NAME];
    header(hello, P_HELLO);
    put16(hello, 8, (uint16_t) o->role);
    put16(hello, 10, (uint16_t) name_length);
    put32(hello, 12, 0);
    memcpy(hello + P_HELLO_NAME_OFFSET, o->channel, name_length);
    rc = send_packet(ch->sock, hello, P_HELLO_NAME_OFFSET + name_length, -1, "HELLO", e);
    if (rc != SLUICE_OK) {
        goto failed;
    }

    /* WELCOME + data fd */
    int64_t start = 0;
    rc = expect_message(ch, p, P_WELCOME, "WELCOME", timeout, e);
    if (rc == SLUICE_OK) {
        rc = take_welcome(ch, p, o, &start, e);
    }
    if (rc != SLUICE_OK) {
        goto failed;
    }

    /* POSITION + our position region (SPSC and broadcast consumers) */
    if (ch->pos_size > 0) {
        rc = create_position_region(ch, &pos_fd, e);
        if (rc != SLUICE_OK) {
            goto failed;
        }
        if (ch->kind == SLUICE_KIND_SPSC) {
            rc = spsc_init_position(ch, start, e);
        } else {
            rc = bc_start(ch, o->start);
            if (rc != SLUICE_OK) {
                *e = ch->error;
            } else {
                bc_init_position(ch);
            }
        }
        if (rc == SLUICE_OK) {
            rc = seal_position_region(pos_fd, e);
        }
        if (rc != SLUICE_OK) {
            goto failed;
        }
        uint8_t position[P_POSITION_LENGTH];
        header(position, P_POSITION);
        put64(position, 8, ch->pos_size);
        rc = send_packet(ch->sock, position, sizeof position, pos_fd, "POSITION", e);
        if (rc != SLUICE_OK) {
            goto failed;
        }
        close_fd(&pos_fd); /* the host holds its own; our mapping stays */
    }

    /* READY */
    rc = expect_message(ch, p, P_READY, "READY", timeout, e);
    if (rc != SLUICE_OK) {
        goto failed;
    }
    if (p->len != P_READY_LENGTH || p->nfds != 0) {
        int nfds = p->nfds; /* counted before close_fds forgets them */
        close_fds(p);
        rc = fail(e, SLUICE_EPROTOCOL, "READY is %zu bytes with %d fds, expected %d bytes and none", p->len, nfds,
                  P_READY_LENGTH);
        goto failed;
    }
    int64_t registration = (int64_t) get64(p->buf, 8);
    if (ch->kind == SLUICE_KIND_BROADCAST_BACKPRESSURE ? registration <= 0 : registration != 0) {
        rc = fail(e, SLUICE_EPROTOCOL, "%s: READY registration %lld is impossible for %s", ch->what, (long long) registration,
                  kind_name(ch->kind));
        goto failed;
    }
    ch->registration = registration;
    if (ch->kind == SLUICE_KIND_BROADCAST_BACKPRESSURE || ch->kind == SLUICE_KIND_BROADCAST_OVERWRITE) {
        ch->u.bc.registration = registration;
        ch->u.bc.gated = ch->u.bc.overwrite; /* an overwrite producer reads no positions */
        ch->u.bc.record_position = -1;
        ch->u.bc.sequence = -1;
    }
    if (ch->kind == SLUICE_KIND_MPMC) {
        ch->u.mp.produces = ch->role != SLUICE_ROLE_CONSUMER;
        ch->u.mp.consumes = ch->role != SLUICE_ROLE_PRODUCER;
    }
    free(p);
    *out = ch;
    return SLUICE_OK;

failed:
    close_fd(&pos_fd);
    close_fds(p);
    free(p);
    release_channel(ch);
    e->code = rc;
    return rc;
}

void sluice_detach(sluice_channel *ch) {
    if (ch != NULL) {
        release_channel(ch);
    }
}

const sluice_error *sluice_last_error(const sluice_channel *ch) {
    return &ch->error;
}

static const char *role_word(sluice_role role) {
    switch (role) {
        case SLUICE_ROLE_PRODUCER: return "producer";
        case SLUICE_ROLE_PARTICIPANT: return "participant";
        default: return "consumer";
    }
}

/* Why the host is gone, into ch->error: the reason and text of its DETACH, if it sent one. */
static int host_gone_error(sluice_channel *ch, const char *after) {
    int rc;
    if (ch->detach_reason != 0) {
        rc = fail(&ch->error, SLUICE_EHOSTGONE, "%s: host detached this %s: %s: %s%s", ch->what, role_word(ch->role),
                  sluice_refusal_name(ch->detach_reason), ch->detach_text, after);
        ch->error.refusal = ch->detach_reason;
    } else {
        rc = fail(&ch->error, SLUICE_EHOSTGONE, "%s: the host is gone (it closed the connection)%s", ch->what, after);
    }
    return rc;
}

/*
 * A message after READY. A DETACH (docs/protocol.md; the host closes right after it) is recorded
 * — the first one: its reason and escaped text explain the end of stream that follows. Anything
 * else is ignored, as the protocol asks, and so is a DETACH that does not parse (wrong length,
 * fds, reason 0). The caller closes the packet's fds.
 */
static void take_after_ready(sluice_channel *ch, const packet *p) {
    if (ch->detach_reason != 0 || p->len < P_HEADER_LENGTH || get32(p->buf, 0) != P_MAGIC ||
        get16(p->buf, 4) != SLUICE_PROTOCOL_VERSION || get16(p->buf, 6) != P_DETACH) {
        return;
    }
    unsigned reason;
    char text[P_ESCAPED_TEXT];
    if (decode_reason_body(p, "DETACH", &reason, text, sizeof text, NULL) != SLUICE_OK || reason == 0) {
        return;
    }
    ch->detach_reason = (int) reason;
    memcpy(ch->detach_text, text, sizeof text);
}

int sluice_host_alive(sluice_channel *ch) {
    if (ch->host_gone) {
        return 0;
    }
    /* Bounded: a host that floods us with messages cannot keep us here. */
    for (int i = 0; i < P_MAX_STRAY_MESSAGES; i++) {
        struct pollfd pfd = {.fd = ch->sock, .events = POLLIN};
        int r = poll(&pfd, 1, 0);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            return 1; /* nothing to read: still connected (a poll error says nothing about the host) */
        }
        if (!(pfd.revents & POLLIN)) { /* hung up or failed, with nothing left to read */
            ch->host_gone = true;
            host_gone_error(ch, "");
            return 0;
        }
        /* Readable: a message (the host's DETACH is read before the hang-up that follows it) or the
           end of stream. A stray message is dropped with its fds: as in the Java client, it does
           not end the attachment. */
        packet p;
        int rc = recv_packet(ch->sock, &p, 0, "nothing (after READY)", NULL);
        if (rc == SLUICE_OK) {
            take_after_ready(ch, &p);
        }
        close_fds(&p);
        if (rc == SLUICE_EHOSTGONE || rc == SLUICE_ESYSCALL) {
            ch->host_gone = true;
            host_gone_error(ch, "");
            return 0;
        }
    }
    return 1;
}

/* ---- SPSC consumer (docs/layout.md (SPSC) 4.1) -------------------------------------------------- */

static int spsc_corrupt(sluice_channel *ch, int64_t at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int spsc_corrupt(sluice_channel *ch, int64_t at, const char *fmt, ...) {
    char problem[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(problem, sizeof problem, fmt, ap);
    va_end(ap);
    return fail(&ch->error, SLUICE_ECORRUPT, "%s: record at position %lld (data offset %lld): %s", ch->what,
                (long long) at, (long long) (at & ch->u.spsc.mask), problem);
}

static int spsc_poll(sluice_channel *ch, sluice_handler handler, void *ctx, int limit) {
    struct spsc_state *s = &ch->u.spsc;
    const uint8_t *data = s->data;
    const int64_t mask = s->mask;
    const int64_t capacity = s->capacity;
    const int64_t start = s->head;
    int64_t head = start;
    int count = 0;
    int rc = 0;
    while (count < limit) {
        const int64_t index = head & mask;
        const int64_t stamp = load_acquire64(data + index + S_REC_STAMP);
        if (stamp != head) {
            if (stamp != S_INVALID_STAMP) {
                rc = spsc_corrupt(ch, head, "stamp %lld, expected %lld or -1", (long long) stamp, (long long) head);
            }
            break;
        }
        const int32_t length = load_relaxed32(data + index + S_REC_LENGTH);
        const int32_t type = load_relaxed32(data + index + S_REC_TYPE);
        if (type > 0) {
            if (length < 0 || length > s->max_length) {
                rc = spsc_corrupt(ch, head, "length %d outside 0..%d", length, s->max_length);
                break;
            }
        } else if (type == S_PADDING_TYPE) {
            if (length != capacity - index - S_REC_HEADER) {
                rc = spsc_corrupt(ch, head, "padding length %d does not run to the end of the data area (%lld)", length,
                                  (long long) (capacity - index - S_REC_HEADER));
                break;
            }
        } else {
            rc = spsc_corrupt(ch, head, "unknown type %d", type);
            break;
        }
        const int64_t end = index + (((int64_t) S_REC_HEADER + length + 7) & ~7LL);
        if (end > capacity || capacity - end == 8) {
            rc = spsc_corrupt(ch, head, "length %d runs past the end of the data area (capacity %lld)%s", length,
                              (long long) capacity, end > capacity ? "" : " or leaves a gap shorter than a header");
            break;
        }
        head += end - index;
        if (type != S_PADDING_TYPE) {
            count++;
            handler(ctx, type, data + index + S_REC_HEADER, (uint32_t) length);
        }
    }
    if (head != start) {
        s->head = head;
        atomic_store_explicit(s->position, head, memory_order_release); /* after every read of the records passed */
    }
    return rc < 0 ? rc : count;
}

/* ---- broadcast consumer (BroadcastConsumer) --------------------------------------------------- */

static bool bc_try_gate(struct bcast_state *b) {
    if (b->registration <= 0 || load_acquire64(b->region + B_GATED_REGISTRATION) < b->registration) {
        return false;
    }
    b->gated = true;
    return true;
}

/*
 * The record at cursor was found overwritten. Head is acquire-loaded after the Tail Intent that
 * showed the lap, and the producer release-stores Head before Tail Intent: Head > cursor.
 */
static int64_t bc_resync(sluice_channel *ch, int64_t cursor) {
    struct bcast_state *b = &ch->u.bc;
    int64_t head = load_acquire64(b->region + B_HEAD);
    if (head <= cursor || !aligned8(head)) {
        return fail(&ch->error, SLUICE_ECORRUPT, "%s: lapped at position %lld but the head %lld is not an aligned "
                    "position past it", ch->what, (long long) cursor, (long long) head);
    }
    if (b->anchored && !b->lap_pending) {
        b->lap_pending = true;
        b->lap_from = cursor;
    }
    return head;
}

static int bc_check_sequence(sluice_channel *ch, int64_t position, int64_t seq) {
    struct bcast_state *b = &ch->u.bc;
    if (seq == b->expected_sequence && !b->lap_pending) {
        return SLUICE_OK;
    }
    if (!b->anchored) {
        if (seq < 0) {
            return bc_corrupt(ch, position, "negative sequence %lld", (long long) seq);
        }
        b->anchored = true;
        b->expected_sequence = seq;
        return SLUICE_OK;
    }
    if (!b->lap_pending) {
        return bc_corrupt(ch, position, "sequence %lld, expected %lld", (long long) seq, (long long) b->expected_sequence);
    }
    int64_t lost = seq - b->expected_sequence;
    if (lost < 0) {
        return bc_corrupt(ch, position, "sequence %lld after a lap is behind the expected %lld", (long long) seq,
                          (long long) b->expected_sequence);
    }
    b->lap_pending = false;
    b->laps++;
    b->lost_messages += (uint64_t) lost;
    b->lost_bytes += (uint64_t) (position - b->lap_from);
    b->expected_sequence = seq;
    return SLUICE_OK;
}

static int bc_poll(sluice_channel *ch, sluice_handler handler, void *ctx, int limit) {
    struct bcast_state *b = &ch->u.bc;
    const uint8_t *r = b->region;
    if (!b->gated && !bc_try_gate(b)) {
        return 0;
    }
    int64_t tail = load_acquire64(r + B_TAIL);
    int64_t cursor = b->cursor;
    if (cursor >= tail) {
        return 0;
    }
    int delivered = 0;
    int resyncs = 0;
    int rc = 0;
    if (!b->overwrite) {
        /* Gated, nothing overwrites us; once per poll, catch a lap from before we were gated. */
        int64_t intent = load_acquire64(r + B_TAIL_INTENT);
        if (intent < tail) {
            rc = fail(&ch->error, SLUICE_ECORRUPT, "%s: tail intent %lld is behind tail %lld", ch->what,
                      (long long) intent, (long long) tail);
            goto out;
        }
        if (intent - b->capacity > cursor) {
            int64_t next = bc_resync(ch, cursor);
            if (next < 0) {
                rc = (int) next;
                goto out;
            }
            cursor = next;
            tail = load_acquire64(r + B_TAIL);
            resyncs++;
        }
    }
    while (delivered < limit && cursor < tail) {
        const int64_t offset = cursor & b->mask;
        const int64_t to_end = b->capacity - offset;
        if (to_end < B_REC_HEADER) {
            cursor += to_end; /* implicit gap: nothing is written there */
            continue;
        }
        const uint8_t *rec = r + B_HEADER_LENGTH + offset;
        const int32_t length = load_relaxed32(rec + B_REC_LENGTH);
        const int32_t type = load_relaxed32(rec + B_REC_TYPE);
        const int64_t seq = load_relaxed64(rec + B_REC_SEQUENCE);
        if (b->overwrite) {
            /* Seqlock check: the header loads above before the intent load below. */
            atomic_thread_fence(memory_order_acquire);
            if (load_acquire64(r + B_TAIL_INTENT) - b->capacity > cursor) {
                if (++resyncs > limit) {
                    break; /* bounded work per poll even against a producer that laps us forever */
                }
                int64_t next = bc_resync(ch, cursor);
                if (next < 0) {
                    rc = (int) next;
                    goto out;
                }
                cursor = next;
                tail = load_acquire64(r + B_TAIL);
                continue;
            }
        }
        const int64_t span = bc_check_record(ch, cursor, length, type, tail);
        if (span < 0) {
            rc = (int) span;
            goto out;
        }
        rc = bc_check_sequence(ch, cursor, seq);
        if (rc < 0) {
            goto out;
        }
        if (type == B_PADDING_TYPE) {
            cursor += span;
            continue;
        }
        b->record_position = cursor;
        b->sequence = seq;
        b->expected_sequence = seq + 1;
        cursor += span;
        b->cursor = cursor;
        delivered++;
        handler(ctx, type, rec + B_REC_HEADER, (uint32_t) (length - B_REC_HEADER));
    }
out:
    b->cursor = cursor;
    if (cursor != b->published) {
        /* Release: the handler's reads of everything before cursor happen-before the producer's
           acquire load that lets it overwrite them. */
        atomic_store_explicit(b->position, cursor, memory_order_release);
        b->published = cursor;
    }
    return rc < 0 ? rc : delivered;
}

int sluice_bcast_still_valid(sluice_channel *ch) {
    if (ch->kind != SLUICE_KIND_BROADCAST_BACKPRESSURE && ch->kind != SLUICE_KIND_BROADCAST_OVERWRITE) {
        return fail(&ch->error, SLUICE_ESTATE, "%s: not a broadcast channel", ch->what);
    }
    struct bcast_state *b = &ch->u.bc;
    if (b->record_position < 0) {
        return fail(&ch->error, SLUICE_ESTATE, "%s: no message delivered yet", ch->what);
    }
    atomic_thread_fence(memory_order_acquire); /* the handler's loads of the payload before the intent load */
    return load_acquire64(b->region + B_TAIL_INTENT) - b->capacity <= b->record_position ? 1 : 0;
}

int sluice_bcast_stats_get(sluice_channel *ch, sluice_bcast_stats *stats) {
    if (ch->kind != SLUICE_KIND_BROADCAST_BACKPRESSURE && ch->kind != SLUICE_KIND_BROADCAST_OVERWRITE) {
        return fail(&ch->error, SLUICE_ESTATE, "%s: not a broadcast channel", ch->what);
    }
    struct bcast_state *b = &ch->u.bc;
    stats->laps = b->laps;
    stats->lost_messages = b->lost_messages;
    stats->lost_bytes = b->lost_bytes;
    stats->last_sequence = b->sequence;
    stats->position = b->cursor;
    stats->gated = b->gated || bc_try_gate(b);
    return SLUICE_OK;
}

/* ---- MPMC (docs/layout.md (MPMC) 3) -------------------------------------------------------------- */

static inline uint64_t m_lap_bits(const struct mpmc_state *m, int64_t position) {
    return ((uint64_t) position >> m->slot_count_shift) << M_LAP_SHIFT; /* drops the top 16 bits: mod 2^48 */
}

static inline int m_state(uint64_t word) {
    return (int) ((word & M_STATE_MASK) >> M_STATE_SHIFT);
}

static inline uint32_t m_participant(uint64_t word) {
    return (uint32_t) (word & M_PARTICIPANT_MASK);
}

/* Signed 48-bit lap difference: 0 when the slot serves position, -1 one lap earlier, ... */
static inline int64_t m_lap_difference(const struct mpmc_state *m, uint64_t word, int64_t position) {
    uint64_t d = ((word >> M_LAP_SHIFT) - ((uint64_t) position >> m->slot_count_shift)) << M_LAP_SHIFT;
    return (int64_t) d >> M_LAP_SHIFT; /* arithmetic shift (gcc, clang: implementation-defined, documented) */
}

static bool m_well_formed(const struct mpmc_state *m, uint64_t word) {
    int state = m_state(word);
    uint32_t participant = m_participant(word);
    if (state == M_FREE) {
        return participant == 0;
    }
    return state <= M_CONSUMING && participant >= 1 && participant <= m->max_participant;
}

static const char *m_state_name(int state) {
    switch (state) {
        case M_FREE: return "FREE";
        case M_CLAIMED: return "CLAIMED";
        case M_COMMITTED: return "COMMITTED";
        case M_ABORTED: return "ABORTED";
        case M_CONSUMING: return "CONSUMING";
        default: return "impossible state";
    }
}

static int m_corrupt(sluice_channel *ch, const char *counter, int64_t position, uint64_t word, const char *why) {
    const struct mpmc_state *m = &ch->u.mp;
    return fail(&ch->error, SLUICE_ECORRUPT, "%s: %s position %lld, slot %llu holds 0x%llx (lap %llu, %s (%d), participant "
                "%u): %s", ch->what, counter, (long long) position, (unsigned long long) ((uint64_t) position & m->slot_mask),
                (unsigned long long) word, (unsigned long long) (word >> M_LAP_SHIFT), m_state_name(m_state(word)),
                m_state(word), m_participant(word), why);
}

static inline size_t m_slot(const struct mpmc_state *m, int64_t position) {
    return M_HEADER_LENGTH + ((size_t) ((uint64_t) position & m->slot_mask) << m->slot_length_shift);
}

int sluice_mpmc_try_claim(sluice_channel *ch, int32_t type, uint32_t length, void **payload) {
    if (ch->kind != SLUICE_KIND_MPMC || !ch->u.mp.produces) {
        return fail(&ch->error, SLUICE_ESTATE, "%s: attached as %s, not as an MPMC producer", ch->what,
                    ch->role == SLUICE_ROLE_CONSUMER ? "consumer" : "producer of another kind");
    }
    struct mpmc_state *m = &ch->u.mp;
    if (type <= 0) {
        return fail(&ch->error, SLUICE_EARGUMENT, "%s: message type must be positive, was %d", ch->what, type);
    }
    if (length > m->max_payload) {
        return fail(&ch->error, SLUICE_EARGUMENT, "%s: message length %u outside 0..%u", ch->what, length, m->max_payload);
    }
    if (m->claimed_slot >= 0) {
        return fail(&ch->error, SLUICE_ESTATE, "%s: a claim of position %lld is pending; commit or abort it first", ch->what,
                    (long long) m->claimed_position);
    }
    uint8_t *r = m->region;
    const uint64_t id = ch->participant_id;
    for (;;) {
        const int64_t tail = load_acquire64(r + M_TAIL);
        if (tail < 0) {
            return fail(&ch->error, SLUICE_ECORRUPT, "%s: tail %lld is negative", ch->what, (long long) tail);
        }
        const size_t slot = m_slot(m, tail);
        const uint64_t word = (uint64_t) load_acquire64(r + slot);
        const uint64_t free_word = m_lap_bits(m, tail); /* FREE at tail's lap, nobody */
        if (word == free_word) {
            const uint64_t claimed = free_word | ((uint64_t) M_CLAIMED << M_STATE_SHIFT) | id;
            if (cas64(r + slot, word, claimed)) {
                /* Ours, attributed to us in the same step. Move the tail on; a failure means someone helped. */
                cas64(r + M_TAIL, (uint64_t) tail, (uint64_t) tail + 1);
                /* Plain stores: published with the payload by the commit CAS (release). */
                wr32(r, slot + M_SLOT_TYPE, (uint32_t) type);
                wr32(r, slot + M_SLOT_LENGTH, length);
                m->claimed_slot = (int64_t) slot;
                m->claimed_word = claimed;
                m->claimed_position = tail;
                *payload = r + slot + M_SLOT_PAYLOAD;
                return SLUICE_OK;
            }
            continue; /* another producer claimed this position first */
        }
        if (!m_well_formed(m, word)) {
            return m_corrupt(ch, "tail", tail, word, "malformed state word");
        }
        const int64_t laps = m_lap_difference(m, word, tail);
        const int state = m_state(word);
        if (laps == 0 || (laps == 1 && state == M_FREE)) {
            /* Claimed (or even consumed and freed) but the tail still points at it: help. */
            cas64(r + M_TAIL, (uint64_t) tail, (uint64_t) tail + 1);
            continue;
        }
        if (laps > 0) {
            if (load_acquire64(r + M_TAIL) == tail) {
                return m_corrupt(ch, "tail", tail, word, "ahead of a tail that never reached it");
            }
            continue; /* our read of the tail was stale */
        }
        if (laps == -1 && state != M_FREE) {
            return SLUICE_FULL; /* still holds the previous lap's claim or message */
        }
        return m_corrupt(ch, "tail", tail, word, laps == -1 ? "FREE for the previous lap although the tail has passed "
                         "that position" : "laps behind the tail");
    }
}

static int m_finish(sluice_channel *ch, int state, const char *action) {
    if (ch->kind != SLUICE_KIND_MPMC) {
        return fail(&ch->error, SLUICE_ESTATE, "%s: not an MPMC channel", ch->what);
    }
    struct mpmc_state *m = &ch->u.mp;
    if (m->claimed_slot < 0) {
        return fail(&ch->error, SLUICE_ESTATE, "%s: %s but no claim is pending", ch->what, action);
    }
    const size_t slot = (size_t) m->claimed_slot;
    const uint64_t claimed = m->claimed_word;
    m->claimed_slot = -1;
    /* A CAS, not a release store: if the host recovered this claim the word is no longer ours. */
    const uint64_t next = (claimed & ~M_STATE_MASK) | ((uint64_t) state << M_STATE_SHIFT);
    if (!cas64(m->region + slot, claimed, next)) {
        uint64_t now = (uint64_t) load_acquire64(m->region + slot);
        return fail(&ch->error, SLUICE_ESLOTLOST, "%s: participant %u cannot %s its claim of slot %llu at position %lld: "
                    "the host recovered it (the slot now holds 0x%llx, %s)", ch->what, ch->participant_id, action,
                    (unsigned long long) ((uint64_t) m->claimed_position & m->slot_mask), (long long) m->claimed_position,
                    (unsigned long long) now, m_state_name(m_state(now)));
    }
    return SLUICE_OK;
}

int sluice_mpmc_commit(sluice_channel *ch) {
    return m_finish(ch, M_COMMITTED, "commit");
}

int sluice_mpmc_abort(sluice_channel *ch) {
    return m_finish(ch, M_ABORTED, "abort");
}

int sluice_mpmc_offer(sluice_channel *ch, int32_t type, const void *message, uint32_t length) {
    void *at;
    int rc = sluice_mpmc_try_claim(ch, type, length, &at);
    if (rc != SLUICE_OK) {
        return rc;
    }
    if (length > 0) {
        memcpy(at, message, length);
    }
    return sluice_mpmc_commit(ch);
}

/* FREE for the next lap: the slot goes back to producers; the CAS's release orders our reads first. */
static int m_release(sluice_channel *ch, int64_t head, size_t slot, uint64_t taken) {
    struct mpmc_state *m = &ch->u.mp;
    const uint64_t free_word = m_lap_bits(m, head + (int64_t) m->slot_count);
    if (!cas64(m->region + slot, taken, free_word)) {
        uint64_t now = (uint64_t) load_acquire64(m->region + slot);
        return fail(&ch->error, SLUICE_ESLOTLOST, "%s: participant %u cannot release slot %llu at position %lld: the host "
                    "recovered it while the handler ran (the slot now holds 0x%llx, %s)", ch->what, ch->participant_id,
                    (unsigned long long) ((uint64_t) head & m->slot_mask), (long long) head, (unsigned long long) now,
                    m_state_name(m_state(now)));
    }
    return SLUICE_OK;
}

/* 1: look again; 0: nothing published at head; < 0: corrupt. */
static int m_on_slot_not_committed(sluice_channel *ch, int64_t head, size_t slot, uint64_t word) {
    struct mpmc_state *m = &ch->u.mp;
    uint8_t *r = m->region;
    if (!m_well_formed(m, word)) {
        return m_corrupt(ch, "head", head, word, "malformed state word");
    }
    const int64_t laps = m_lap_difference(m, word, head);
    const int state = m_state(word);
    if (laps == 0) {
        switch (state) {
            case M_ABORTED:
                /* Skip: free it for the next lap first, then move the head. */
                if (cas64(r + slot, word, m_lap_bits(m, head + (int64_t) m->slot_count))) {
                    cas64(r + M_HEAD, (uint64_t) head, (uint64_t) head + 1);
                }
                return 1;
            case M_CONSUMING:
                cas64(r + M_HEAD, (uint64_t) head, (uint64_t) head + 1); /* taken, head not moved yet: help */
                return 1;
            case M_COMMITTED:
                return 1; /* the fast path takes it; look again */
            default:
                return 0; /* FREE: not claimed yet; CLAIMED: not committed yet */
        }
    }
    if (laps == 1) {
        cas64(r + M_HEAD, (uint64_t) head, (uint64_t) head + 1); /* done, head not moved yet: help */
        return 1;
    }
    if (laps > 1) {
        if (load_acquire64(r + M_HEAD) == head) {
            return m_corrupt(ch, "head", head, word, "laps ahead of a head that never reached it");
        }
        return 1;
    }
    if (laps == -1 && state == M_CONSUMING) {
        return 0; /* the previous lap's consumer is still reading */
    }
    return m_corrupt(ch, "head", head, word, laps == -1 ? "previous lap although the head has passed that position"
                     : "laps behind the head");
}

static int mpmc_poll(sluice_channel *ch, sluice_handler handler, void *ctx, int limit) {
    struct mpmc_state *m = &ch->u.mp;
    if (!m->consumes) {
        return fail(&ch->error, SLUICE_ESTATE, "%s: attached as producer, not as a consumer", ch->what);
    }
    uint8_t *r = m->region;
    const uint64_t id = ch->participant_id;
    int count = 0;
    while (count < limit) {
        const int64_t head = load_acquire64(r + M_HEAD);
        if (head < 0) {
            return fail(&ch->error, SLUICE_ECORRUPT, "%s: head %lld is negative", ch->what, (long long) head);
        }
        const size_t slot = m_slot(m, head);
        const uint64_t word = (uint64_t) load_acquire64(r + slot);
        const uint64_t lap = m_lap_bits(m, head);
        if ((word & ~M_PARTICIPANT_MASK) == (lap | ((uint64_t) M_COMMITTED << M_STATE_SHIFT))) {
            uint32_t producer = m_participant(word);
            if (producer == 0 || producer > m->max_participant) {
                return m_corrupt(ch, "head", head, word, "malformed state word");
            }
            const uint64_t taken = lap | ((uint64_t) M_CONSUMING << M_STATE_SHIFT) | id;
            if (cas64(r + slot, word, taken)) {
                /* Ours. Move the head on before the handler runs, so others go on taking. */
                cas64(r + M_HEAD, (uint64_t) head, (uint64_t) head + 1);
                /* Plain reads: the take CAS acquired the producer's commit, which released them. */
                const int32_t type = load_relaxed32(r + slot + M_SLOT_TYPE);
                const int32_t length = load_relaxed32(r + slot + M_SLOT_LENGTH);
                if (type <= 0 || length < 0 || (uint32_t) length > m->max_payload) {
                    int rc = m_release(ch, head, slot, taken); /* drop it, so the ring flows for the others */
                    if (rc != SLUICE_OK) {
                        return rc;
                    }
                    return fail(&ch->error, SLUICE_ECORRUPT, "%s: committed message at position %lld (slot %llu) has type "
                                "%d and length %d (max %u); dropped", ch->what, (long long) head,
                                (unsigned long long) ((uint64_t) head & m->slot_mask), type, length, m->max_payload);
                }
                handler(ctx, type, r + slot + M_SLOT_PAYLOAD, (uint32_t) length);
                int rc = m_release(ch, head, slot, taken);
                if (rc != SLUICE_OK) {
                    return rc;
                }
                count++;
            }
            continue; /* taken, or lost the race for it: look at the head again */
        }
        int again = m_on_slot_not_committed(ch, head, slot, word);
        if (again < 0) {
            return again;
        }
        if (again == 0) {
            break;
        }
    }
    return count;
}

/* ---- dispatch ---------------------------------------------------------------------------------- */

/*
 * Detached for cause (the host refused our position, or found the ring corrupt): the producer no
 * longer waits for us, or the ring cannot be trusted, so what is still in it is not read.
 */
static bool detached_for_cause(const sluice_channel *ch) {
    return ch->host_gone && (ch->detach_reason == SLUICE_REFUSED_BAD_POSITION ||
                             ch->detach_reason == SLUICE_REFUSED_CHANNEL_CORRUPT);
}

int sluice_poll(sluice_channel *ch, sluice_handler handler, void *ctx, int limit) {
    if (handler == NULL || limit < 1) {
        return fail(&ch->error, SLUICE_EARGUMENT, "%s: poll needs a handler and a positive limit (was %d)", ch->what, limit);
    }
    if (detached_for_cause(ch)) {
        return host_gone_error(ch, "");
    }
    switch (ch->kind) {
        case SLUICE_KIND_SPSC: return spsc_poll(ch, handler, ctx, limit);
        case SLUICE_KIND_MPMC: return mpmc_poll(ch, handler, ctx, limit);
        default: return bc_poll(ch, handler, ctx, limit);
    }
}

/* The consumer's half of cross-process parking (Java: io.sluice.channel.Parking). */
#define PARK_SPINS 200
#define PARK_SLICE_MS 50

int sluice_poll_blocking(sluice_channel *ch, sluice_handler handler, void *ctx, int limit, int timeout_ms) {
    if (ch->kind != SLUICE_KIND_SPSC || !(ch->welcome_flags & P_WELCOME_FLAG_WAKE)) {
        return fail(&ch->error, SLUICE_ESTATE, "%s does not wake parked consumers: its host must enable it (spin or back "
                    "off instead)", ch->what);
    }
    struct spsc_state *s = &ch->u.spsc;
    int n = sluice_poll(ch, handler, ctx, limit);
    for (int i = 0; n == 0 && i < PARK_SPINS; i++) {
        spin_pause();
        n = sluice_poll(ch, handler, ctx, limit);
    }
    int64_t deadline = monotonic_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    while (n == 0) {
        if (!sluice_host_alive(ch)) {
            /* its commits came before its close: drain (sluice_poll refuses if detached for cause) */
            n = sluice_poll(ch, handler, ctx, limit);
            if (n < 0) {
                return n;
            }
            return n != 0 ? n : host_gone_error(ch, "; every message it committed was delivered");
        }
        int64_t left = deadline - monotonic_ms();
        if (left <= 0) {
            return 0;
        }
        int32_t seen = atomic_load_explicit(s->wake, memory_order_acquire);
        atomic_store_explicit(s->parked, 1, memory_order_release);
        atomic_thread_fence(memory_order_seq_cst); /* StoreLoad: the flag before the ring check (Dekker) */
        n = sluice_poll(ch, handler, ctx, limit);
        if (n == 0) {
            int64_t ms = left < PARK_SLICE_MS ? left : PARK_SLICE_MS;
            struct timespec ts = {.tv_sec = (time_t) (ms / 1000), .tv_nsec = (long) (ms % 1000) * 1000000L};
            /* Shared (not FUTEX_PRIVATE): the word lives in the producer's memfd. EAGAIN: woken already. */
            syscall(SYS_futex, (const void *) s->wake, FUTEX_WAIT, seen, &ts, NULL, 0);
        }
        atomic_store_explicit(s->parked, 0, memory_order_release);
        if (n == 0) {
            n = sluice_poll(ch, handler, ctx, limit);
        }
    }
    return n;
}

/* ---- describing -------------------------------------------------------------------------------- */

sluice_kind sluice_channel_kind(const sluice_channel *ch) {
    return ch->kind;
}

uint32_t sluice_max_message_length(const sluice_channel *ch) {
    return ch->max_message_length;
}

uint32_t sluice_participant_id(const sluice_channel *ch) {
    return ch->participant_id;
}

bool sluice_can_block(const sluice_channel *ch) {
    return ch->kind == SLUICE_KIND_SPSC && (ch->welcome_flags & P_WELCOME_FLAG_WAKE) != 0;
}

int sluice_socket_fd(const sluice_channel *ch) {
    return ch->sock;
}

int sluice_data_fd(const sluice_channel *ch) {
    return ch->data_fd;
}

const void *sluice_data(const sluice_channel *ch) {
    return ch->data;
}

size_t sluice_data_size(const sluice_channel *ch) {
    return ch->data_size;
}

/* ---- test builds only ---------------------------------------------------------------------- */

#ifdef SLUICE_TEST_HOOKS
_Atomic int64_t *sluice_test_position_word(sluice_channel *ch) {
    switch (ch->kind) {
        case SLUICE_KIND_SPSC: return ch->u.spsc.position;
        case SLUICE_KIND_BROADCAST_BACKPRESSURE:
        case SLUICE_KIND_BROADCAST_OVERWRITE: return ch->u.bc.position;
        default: return NULL;
    }
}

int64_t sluice_test_true_position(const sluice_channel *ch) {
    switch (ch->kind) {
        case SLUICE_KIND_SPSC: return ch->u.spsc.head;
        case SLUICE_KIND_BROADCAST_BACKPRESSURE:
        case SLUICE_KIND_BROADCAST_OVERWRITE: return ch->u.bc.published;
        default: return -1;
    }
}
#endif
