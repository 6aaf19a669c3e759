/*
 * Sluice perf: what a ring's hand-off costs on this machine, in C, with nothing else around it.
 * Two processes (fork) bounce SIZE-byte messages through two 64 KiB rings of one shared memfd,
 * records laid end to end (16-byte header, 8-byte aligned) as in Sluice's rings, the receiver
 * reading the first 8 payload bytes in place and storing its position on a line of its own after
 * each message. Only the way a receiver learns that a record is there differs:
 *
 *   stamp  it spins on the record's own header word, which the sender release-stores last (after
 *          storing "invalid" into the next record's word): one line changes hands per message,
 *          the way the SPSC ring works;
 *   tail   the sender writes the header plainly and release-stores a tail counter on a separate
 *          line; the receiver spins on the tail, then reads the record: two lines per message,
 *          the way the broadcast ring works today;
 *   touch  as tail, but every spin also loads the record's first word (and drops it), so that
 *          when both lines change the two misses are in flight together instead of one after
 *          the other.
 *
 *   handoff MODE SIZE WARMUP COUNT [CPU_A CPU_B]
 *
 * Prints "handoff MODE SIZE: p50=... p90=... p99=... p99.9=... (ns round trip)". Built and run by
 * hand (gcc -O2 -o handoff perf/native/handoff.c); docs/benchmarks.md has the figures.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "probe.h"

enum { RING = 64 * 1024, HEADER = 16, LINE = 128 };

/* One direction: its control lines, then its data. */
struct way {
    _Atomic int64_t tail;        /* tail mode: end of the last committed record (sender) */
    char pad1[LINE - 8];
    _Atomic int64_t position;    /* receiver: where it has read up to */
    char pad2[LINE - 8];
    unsigned char data[RING];
};

struct end {
    struct way *out, *in;
    int tail_mode;               /* 0 stamp, 1 tail, 2 touch */
    long size, span;
    int64_t out_at, in_at;       /* positions (bytes since start) */
    unsigned char *message;
};

static inline _Atomic int64_t *stamp_of(struct way *w, int64_t position) {
    return (_Atomic int64_t *) (w->data + (position % RING));
}

/* Where the record after one at `position` starts: records never wrap, a short end is skipped. */
static inline int64_t next_of(int64_t position, long span) {
    int64_t next = position + span;
    int64_t left = RING - next % RING;
    return left < span ? next + left : next;
}

static void send(struct end *e, int64_t value) {
    int64_t p = e->out_at, next = next_of(p, e->span);
    unsigned char *rec = e->out->data + p % RING;
    memcpy(e->message, &value, sizeof value);
    memcpy(rec + HEADER, e->message, (size_t) e->size);
    int32_t len = (int32_t) e->size, type = 1;
    memcpy(rec + 8, &len, 4);
    memcpy(rec + 12, &type, 4);
    if (e->tail_mode) {
        atomic_store_explicit(stamp_of(e->out, p), p, memory_order_relaxed);
        atomic_store_explicit(&e->out->tail, next, memory_order_release);
    } else {
        atomic_store_explicit(stamp_of(e->out, next), -1, memory_order_relaxed);
        atomic_store_explicit(stamp_of(e->out, p), p, memory_order_release);
    }
    e->out_at = next;
}

static int64_t receive(struct end *e) {
    int64_t p = e->in_at;
    if (e->tail_mode == 2) {
        _Atomic int64_t *stamp = stamp_of(e->in, p);
        int64_t seen = 0;
        while (atomic_load_explicit(&e->in->tail, memory_order_acquire) <= p) {
            seen += atomic_load_explicit(stamp, memory_order_relaxed);
        }
        __asm__ volatile("" : : "r"(seen));
        if (atomic_load_explicit(stamp, memory_order_relaxed) != p) abort();
    } else if (e->tail_mode) {
        while (atomic_load_explicit(&e->in->tail, memory_order_acquire) <= p) { }
        if (atomic_load_explicit(stamp_of(e->in, p), memory_order_relaxed) != p) abort();
    } else {
        while (atomic_load_explicit(stamp_of(e->in, p), memory_order_acquire) != p) { }
    }
    int64_t value;
    memcpy(&value, e->in->data + p % RING + HEADER, sizeof value);
    e->in_at = next_of(p, e->span);
    atomic_store_explicit(&e->in->position, e->in_at, memory_order_release);
    return value;
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: %s stamp|tail|touch SIZE WARMUP COUNT [CPU_A CPU_B]\n", argv[0]);
        return 2;
    }
    int tail_mode = strcmp(argv[1], "tail") == 0 ? 1 : strcmp(argv[1], "touch") == 0 ? 2 : 0;
    long size = atol(argv[2]), warmup = atol(argv[3]), count = atol(argv[4]);
    int cpu_a = argc > 5 ? atoi(argv[5]) : 0, cpu_b = argc > 6 ? atoi(argv[6]) : 1;
    if ((!tail_mode && strcmp(argv[1], "stamp") != 0) || size < 8 || size > RING / 4 || warmup < 0 || count <= 0) {
        fprintf(stderr, "handoff: MODE stamp, tail or touch, 8 <= SIZE <= %d, WARMUP >= 0, COUNT > 0\n", RING / 4);
        return 2;
    }
    size_t bytes = 2 * sizeof(struct way);
    int fd = memfd_create("sluice-handoff", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, (off_t) bytes) != 0) { perror("memfd"); return 1; }
    struct way *ways = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (ways == MAP_FAILED) { perror("mmap"); return 1; }
    memset(ways, 0, bytes);
    /* Every stamp word starts "invalid": position 0's record is not there yet. */
    atomic_store(stamp_of(&ways[0], 0), -1);
    atomic_store(stamp_of(&ways[1], 0), -1);
    long span = (HEADER + size + 7) & ~7L;
    long total = warmup + count;
    unsigned char *message = aligned_alloc(64, (size_t) ((size + 63) / 64 * 64));
    if (message == NULL) return 1;
    memset(message, 0x5a, (size_t) size);

    pid_t child = fork();
    if (child < 0) { perror("fork"); return 1; }
    if (child == 0) {
        pin(cpu_b);
        struct end b = { &ways[1], &ways[0], tail_mode, size, span, 0, 0, message };
        for (long i = 1; i <= total; i++) send(&b, receive(&b));
        _exit(0);
    }
    pin(cpu_a);
    struct end a = { &ways[0], &ways[1], tail_mode, size, span, 0, 0, message };
    int64_t *rtt = calloc((size_t) count, sizeof *rtt);
    if (rtt == NULL) return 1;
    for (long i = 1; i <= total; i++) {
        int64_t t0 = now_ns();
        send(&a, i);
        if (receive(&a) != i) abort();
        if (i > warmup) rtt[i - warmup - 1] = now_ns() - t0;
    }
    waitpid(child, NULL, 0);
    qsort(rtt, (size_t) count, sizeof *rtt, by_value);
    printf("handoff %s %ld: p50=%lld p90=%lld p99=%lld p99.9=%lld (ns round trip, %ld round trips)\n", argv[1], size,
           (long long) at(rtt, count, 50), (long long) at(rtt, count, 90), (long long) at(rtt, count, 99),
           (long long) at(rtt, count, 99.9), count);
    return 0;
}
