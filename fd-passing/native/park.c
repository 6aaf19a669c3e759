/*
 * park.c: sleeping in the kernel while a ring has nothing to read, for every consumer (SPSC,
 * broadcast, MPMC), and the MPMC producers' half of the wake-up (docs/layout.md, "Waking a parked
 * consumer" of each ring). The loop is the same for every ring; only the words differ:
 *
 *   SPSC       wake sequence: ring + 64,  our parked flag: position region + 256
 *   broadcast  wake sequence: ring + 320, our parked flag: position region + 256
 *   MPMC       wake sequence: ring + 384, the parked count every consumer shares: ring + 388
 *
 *   consumer                                     producer (the host; for MPMC any participant)
 *   c1  seen = wake sequence         (acquire)   p1  commit                 (release / CAS)
 *   c2  flag = 1 (release) / count += 1          p2  full fence              (StoreLoad)
 *   c3  full fence                   (StoreLoad) p3  load flag(s) / count
 *   c4  poll once more: a message? stop          p4  if raised: wake sequence += 1
 *   c5  FUTEX_WAIT(wake sequence, seen, slice)   p5      FUTEX_WAKE(wake sequence, INT_MAX)
 *   c6  flag = 0 (release) / count -= 1 if > 0
 *
 * Dekker's protocol: each side stores, fences, then loads what the other stored, so either c4
 * sees the commit or p3 sees the mark; the wait is on the value read before the mark was raised,
 * so a wake that lands before the wait makes it return at once (EAGAIN). Whatever the shared words
 * hold (a count left high by a consumer killed asleep, garbage), no sleep outlasts one slice.
 */
#include "sluice_internal.h"

/* The words of this attachment's ring: its wake sequence, and how it marks itself parked. */
typedef struct {
    const _Atomic int32_t *wake;
    _Atomic int32_t *flag;  /* SPSC, broadcast: our own flag; NULL for MPMC */
    _Atomic int32_t *count; /* MPMC: the shared count; NULL otherwise */
} park_words;

static int park_words_of(sluice_channel *ch, park_words *w) {
    w->wake = NULL;
    w->flag = NULL;
    w->count = NULL;
    switch (ch->kind) {
        case SLUICE_KIND_SPSC:
            w->wake = ch->u.spsc.wake;
            w->flag = ch->u.spsc.parked;
            return SLUICE_OK;
        case SLUICE_KIND_BROADCAST_BACKPRESSURE:
        case SLUICE_KIND_BROADCAST_OVERWRITE:
            w->wake = (const _Atomic int32_t *) (const void *) (ch->data + SLI_BC_WAKE_SEQUENCE_OFFSET);
            w->flag = (_Atomic int32_t *) (void *) (ch->pos + SLI_BC_POS_PARKED_OFFSET);
            return SLUICE_OK;
        case SLUICE_KIND_MPMC:
            if (!ch->u.mp.consumes) {
                return sli_fail(&ch->error, SLUICE_ESTATE, "%s: attached as a producer: nothing to wait for", ch->what);
            }
            w->wake = (const _Atomic int32_t *) (const void *) (ch->data + SLI_MPMC_WAKE_SEQUENCE_OFFSET);
            w->count = (_Atomic int32_t *) (void *) (ch->data + SLI_MPMC_PARKED_COUNT_OFFSET);
            return SLUICE_OK;
    }
    return sli_fail(&ch->error, SLUICE_ESTATE, "%s: no ring to wait on", ch->what);
}

static void park_raise(const park_words *w) { /* c2 */
    if (w->flag != NULL) {
        atomic_store_explicit(w->flag, 1, memory_order_release);
    } else {
        /* Never past INT32_MAX (garbage a peer wrote): that high already wakes every producer. */
        int32_t v = atomic_load_explicit(w->count, memory_order_relaxed);
        while (v != INT32_MAX
               && !atomic_compare_exchange_weak_explicit(w->count, &v, v + 1, memory_order_seq_cst, memory_order_relaxed)) {
        }
    }
}

static void park_lower(const park_words *w) { /* c6 */
    if (w->flag != NULL) {
        atomic_store_explicit(w->flag, 0, memory_order_release);
        return;
    }
    /* Never below zero: a count reset by the host (or broken by a peer) under a sleeper stays sane. */
    int32_t v = atomic_load_explicit(w->count, memory_order_relaxed);
    while (v > 0 && !atomic_compare_exchange_weak_explicit(w->count, &v, v - 1, memory_order_seq_cst, memory_order_relaxed)) {
    }
}

int sluice_poll_blocking(sluice_channel *ch, sluice_handler handler, void *ctx, int limit, int timeout_ms) {
    if (!(ch->welcome_flags & SLI_WELCOME_FLAG_WAKE)) {
        return sli_fail(&ch->error, SLUICE_ESTATE, "%s does not wake parked consumers: its host must enable it (spin or back "
                        "off instead)", ch->what);
    }
    park_words w;
    int rc = park_words_of(ch, &w);
    if (rc != SLUICE_OK) {
        return rc;
    }
    int n = sluice_poll(ch, handler, ctx, limit);
    for (int i = 0; n == 0 && i < SLI_PARK_SPINS; i++) {
        sli_spin_pause();
        n = sluice_poll(ch, handler, ctx, limit);
    }
    int64_t deadline = sli_monotonic_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    while (n == 0) {
        if (!sluice_host_alive(ch)) {
            /* its commits came before its close: drain (sluice_poll refuses if detached for cause) */
            n = sluice_poll(ch, handler, ctx, limit);
            if (n < 0) {
                return n;
            }
            return n != 0 ? n : sli_host_gone_error(ch, "; every message it committed was delivered");
        }
        int64_t left = deadline - sli_monotonic_ms();
        if (left <= 0) {
            return 0;
        }
        int32_t seen = atomic_load_explicit(w.wake, memory_order_acquire); /* c1 */
        park_raise(&w);                                                     /* c2 */
        atomic_thread_fence(memory_order_seq_cst); /* c3, StoreLoad: the mark before the ring check (Dekker) */
        n = sluice_poll(ch, handler, ctx, limit);                           /* c4 */
        if (n == 0) {
            int64_t ms = left < SLI_PARK_SLICE_MS ? left : SLI_PARK_SLICE_MS;
            struct timespec ts = {.tv_sec = (time_t) (ms / 1000), .tv_nsec = (long) (ms % 1000) * 1000000L};
            /* c5. Shared (not FUTEX_PRIVATE): the word lives in another process's memfd. EAGAIN: woken already. */
            syscall(SYS_futex, (const void *) w.wake, FUTEX_WAIT, seen, &ts, NULL, 0);
        }
        park_lower(&w);                                                     /* c6 */
        if (n == 0) {
            n = sluice_poll(ch, handler, ctx, limit);
        }
    }
    return n;
}

void sli_mpmc_wake_parked(sluice_channel *ch) {
    uint8_t *r = ch->u.mp.region;
    atomic_thread_fence(memory_order_seq_cst); /* p2: the slot's CAS before the count (Dekker with c2..c4) */
    if (atomic_load_explicit((_Atomic int32_t *) (void *) (r + SLI_MPMC_PARKED_COUNT_OFFSET), memory_order_seq_cst) != 0) {
        _Atomic int32_t *wake = (_Atomic int32_t *) (void *) (r + SLI_MPMC_WAKE_SEQUENCE_OFFSET);
        atomic_fetch_add_explicit(wake, 1, memory_order_seq_cst);               /* p4 */
        syscall(SYS_futex, (void *) wake, FUTEX_WAKE, INT_MAX, NULL, NULL, 0); /* p5 */
    }
}
