/*
 * Sluice perf: what a stamp ring carries one way on this machine, in C, with nothing else around
 * it: the ceiling of the throughput rows for large messages. A producer process copies SIZE-byte
 * messages into a CAPACITY-byte ring of a shared memfd, records laid as in the SPSC ring (16-byte
 * header, stamp release-stored last, "invalid" stored into the next record's stamp first, records
 * never wrap); a consumer process spins on each record's stamp, reads the first 8 payload bytes in
 * place and release-stores its position on a line of its own. The producer reads that position
 * only when its room runs out. Modes differ only in what one side does besides:
 *
 *   stamp     nothing (what the harness's consumers do);
 *   ownahead  the producer, before each record, prefetches for writing (PREFETCHW) the stamp lines
 *             of the two records after the next, so that lines the consumer read a lap ago are
 *             the producer's again before its stores reach them;
 *   backoff[N] the consumer, whenever the record is not there yet, pauses N times (default 32)
 *             before it looks again, so that it does not hold the line the producer is writing;
 *   prefetch  before spinning on a record, it prefetches the stamp lines of the next two records,
 *             as if every message were as long as the last one: the misses of several records
 *             are then in flight together instead of one after the other;
 *   read      it reads the whole payload (8-byte words, summed), as a consumer that uses the
 *             message would.
 *
 *   streambw MODE SIZE CAPACITY WARMUP COUNT SLICE [CPU_A CPU_B]
 *
 * Prints "streambw MODE SIZE: slices <msg/s> ... median <msg/s> <MB/s>" (the consumer's clock, one
 * rate per SLICE messages after WARMUP). Built and run by hand
 * (gcc -O2 -o streambw perf/native/streambw.c); docs/benchmarks.md has the figures.
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

enum { HEADER = 16, LINE = 128 };
enum mode { STAMP, OWNAHEAD, PREFETCH, BACKOFF, READ, MODES };
static const char *const MODE_NAMES[MODES] = { "stamp", "ownahead", "prefetch", "backoff", "read" };
static int backoff = 32; /* pauses per re-check in backoff mode */

struct control {
    _Atomic int64_t position; /* consumer: where it has read up to */
    char pad[LINE - 8];
};

static long capacity;
static unsigned char *data;

static inline _Atomic int64_t *stamp_of(int64_t position) {
    return (_Atomic int64_t *) (void *) (data + (position & (capacity - 1)));
}

/* Where the record after one at `position` starts: records never wrap, a short end is skipped. */
static inline int64_t next_of(int64_t position, long span) {
    int64_t next = position + span;
    int64_t left = capacity - (next & (capacity - 1));
    return left < span ? next + left : next;
}

static void produce(struct control *c, enum mode mode, long size, long span, long total) {
    unsigned char *message = aligned_alloc(64, (size_t) ((size + 63) / 64 * 64));
    if (message == NULL) exit(1);
    memset(message, 0x5a, (size_t) size);
    int64_t p = 0, limit = capacity;
    for (int64_t i = 0; i < total; i++) {
        int64_t next = next_of(p, span);
        while (next + 8 > limit) {
            limit = atomic_load_explicit(&c->position, memory_order_acquire) + capacity;
        }
        unsigned char *rec = data + (p & (capacity - 1));
        if (mode == OWNAHEAD) {
            int64_t n2 = next_of(next, span);
            if (n2 + 8 <= limit) __builtin_prefetch(data + (n2 & (capacity - 1)), 1);
            int64_t n3 = next_of(n2, span);
            if (n3 + 8 <= limit) __builtin_prefetch(data + (n3 & (capacity - 1)), 1);
        }
        memcpy(message, &i, sizeof i);
        atomic_store_explicit(stamp_of(next), -1, memory_order_relaxed);
        int32_t len = (int32_t) size, type = 1;
        memcpy(rec + 8, &len, 4);
        memcpy(rec + 12, &type, 4);
        memcpy(rec + HEADER, message, (size_t) size);
        atomic_store_explicit(stamp_of(p), p, memory_order_release);
        p = next;
    }
}

static void consume(struct control *c, enum mode mode, long size, long span, long warmup, long count, long slice) {
    long slices = count / slice;
    int64_t *rates = calloc((size_t) slices, sizeof(int64_t));
    if (rates == NULL) exit(1);
    int64_t p = 0, sum = 0, started = 0, mark = warmup; /* mark: the next slice starts at that message */
    for (int64_t i = 0; i < warmup + count; i++) {
        if (i == mark) {
            int64_t t = now_ns();
            if (i > warmup) rates[(i - warmup) / slice - 1] = (int64_t) (slice * 1e9 / (double) (t - started));
            started = t;
            mark += slice;
        }
        if (mode == PREFETCH) {
            int64_t n1 = next_of(p, span), n2 = next_of(n1, span);
            __builtin_prefetch(data + (n1 & (capacity - 1)));
            __builtin_prefetch(data + (n2 & (capacity - 1)));
        }
        if (mode == BACKOFF) {
            while (atomic_load_explicit(stamp_of(p), memory_order_acquire) != p) {
                for (int k = 0; k < backoff; k++) __builtin_ia32_pause();
            }
        } else {
            while (atomic_load_explicit(stamp_of(p), memory_order_acquire) != p) { }
        }
        const unsigned char *payload = data + (p & (capacity - 1)) + HEADER;
        int64_t value;
        memcpy(&value, payload, sizeof value);
        if (value != i) abort();
        if (mode == READ) {
            for (long at = 8; at + 8 <= size; at += 8) {
                int64_t w;
                memcpy(&w, payload + at, sizeof w);
                sum += w;
            }
        }
        p = next_of(p, span);
        atomic_store_explicit(&c->position, p, memory_order_release);
    }
    rates[slices - 1] = (int64_t) (slice * 1e9 / (double) (now_ns() - started));
    __asm__ volatile("" : : "r"(sum));
    printf("streambw %s %ld: slices", MODE_NAMES[mode], size);
    for (long s = 0; s < slices; s++) printf(" %lld", (long long) rates[s]);
    qsort(rates, (size_t) slices, sizeof(int64_t), by_value);
    int64_t median = at(rates, slices, 50.0);
    printf(" median %lld msg/s %.0f MB/s\n", (long long) median, median * (double) size / 1e6);
}

int main(int argc, char **argv) {
    if (argc < 7) {
        fprintf(stderr, "usage: %s stamp|ownahead|prefetch|backoff[N]|read SIZE CAPACITY WARMUP COUNT SLICE [CPU_A CPU_B]\n",
                argv[0]);
        return 2;
    }
    enum mode mode = MODES;
    for (int m = 0; m < MODES; m++) {
        size_t n = strlen(MODE_NAMES[m]);
        if (strncmp(argv[1], MODE_NAMES[m], n) == 0 && (argv[1][n] == 0 || m == BACKOFF)) mode = (enum mode) m;
    }
    if (mode == BACKOFF && argv[1][7] != 0) backoff = atoi(argv[1] + 7);
    long size = atol(argv[2]), warmup = atol(argv[4]), count = atol(argv[5]), slice = atol(argv[6]);
    capacity = atol(argv[3]);
    int cpu_a = argc > 7 ? atoi(argv[7]) : 0, cpu_b = argc > 8 ? atoi(argv[8]) : 1;
    long span = (HEADER + size + 7) & ~7L;
    if (mode == MODES || backoff < 0 || size < 8 || capacity < 64 || capacity > (1L << 30)
            || (capacity & (capacity - 1)) != 0 || span > capacity / 4 || warmup < 0 || slice <= 0 || count < slice
            || count % slice != 0) {
        fprintf(stderr, "streambw: MODE stamp, ownahead, prefetch, backoff[N] or read; 8 <= SIZE, CAPACITY a power of two in 64..2^30 holding"
                        " four records; WARMUP >= 0; COUNT a multiple of SLICE > 0\n");
        return 2;
    }
    size_t bytes = sizeof(struct control) + (size_t) capacity;
    int fd = memfd_create("sluice-streambw", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, (off_t) bytes) != 0) { perror("memfd"); return 1; }
    unsigned char *region = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (region == MAP_FAILED) { perror("mmap"); return 1; }
    memset(region, 0, bytes);
    struct control *c = (struct control *) (void *) region;
    data = region + sizeof(struct control);
    atomic_store(stamp_of(0), -1); /* position 0's record is not there yet */

    pid_t child = fork();
    if (child < 0) { perror("fork"); return 1; }
    if (child == 0) {
        pin(cpu_b);
        consume(c, mode, size, span, warmup, count, slice);
        return 0;
    }
    pin(cpu_a);
    produce(c, mode, size, span, warmup + count);
    int status;
    waitpid(child, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
