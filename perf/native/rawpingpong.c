/*
 * Sluice perf: the machine's limit, in C. Two processes (fork) bounce a counter through two
 * cache lines of one shared memfd mapping, 128 bytes apart; the parent times each round trip
 * with clock_gettime(CLOCK_MONOTONIC), the clock System.nanoTime() reads.
 *
 *   rawpingpong WARMUP COUNT SLICE OUT.bin [CPU_A CPU_B]
 *
 * Prints one line of round-trip percentiles (ns) and the p50 of each SLICE round trips, and
 * writes the COUNT measured round trips to OUT.bin as little-endian int64 (the launcher
 * records them into an HdrHistogram). Pins the parent to CPU_A and the child to CPU_B
 * (default 0 and 1) where the machine has them. Built by perf/run-latency.sh with gcc -O2.
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

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: %s WARMUP COUNT SLICE OUT.bin [CPU_A CPU_B]\n", argv[0]);
        return 2;
    }
    long warmup = atol(argv[1]), count = atol(argv[2]), slice = atol(argv[3]);
    const char *out = argv[4];
    int cpu_a = argc > 5 ? atoi(argv[5]) : 0, cpu_b = argc > 6 ? atoi(argv[6]) : 1;
    if (count <= 0 || slice <= 0 || warmup < 0) {
        fprintf(stderr, "WARMUP >= 0, COUNT > 0 and SLICE > 0, please\n");
        return 2;
    }

    int fd = memfd_create("sluice-rawpingpong", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, 4096) != 0) { perror("memfd"); return 1; }
    char *region = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (region == MAP_FAILED) { perror("mmap"); return 1; }
    memset(region, 0, 4096); /* pre-touch before fork: both processes inherit the mapped page */
    _Atomic int64_t *ping = (_Atomic int64_t *) region;         /* written by the parent */
    _Atomic int64_t *pong = (_Atomic int64_t *) (region + 128); /* written by the child */
    long total = warmup + count;

    pid_t child = fork();
    if (child < 0) { perror("fork"); return 1; }
    if (child == 0) {
        pin(cpu_b);
        for (int64_t i = 1; i <= total; i++) {
            while (atomic_load_explicit(ping, memory_order_acquire) != i) { }
            atomic_store_explicit(pong, i, memory_order_release);
        }
        _exit(0);
    }
    pin(cpu_a);
    int64_t *rtt = malloc(sizeof(int64_t) * count);
    if (rtt == NULL) { perror("malloc"); return 1; }
    memset(rtt, 0, sizeof(int64_t) * count); /* touch before measuring */
    for (int64_t i = 1; i <= total; i++) {
        int64_t t0 = now_ns();
        atomic_store_explicit(ping, i, memory_order_release);
        while (atomic_load_explicit(pong, memory_order_acquire) != i) { }
        int64_t t1 = now_ns();
        if (i > warmup) rtt[i - warmup - 1] = t1 - t0;
    }
    waitpid(child, NULL, 0);

    FILE *f = fopen(out, "wb");
    if (f == NULL || fwrite(rtt, sizeof(int64_t), count, f) != (size_t) count || fclose(f) != 0) {
        perror(out);
        return 1;
    }

    int64_t *sorted = malloc(sizeof(int64_t) * count);
    printf("slice_p50_ns");
    for (long s = 0; s + slice <= count; s += slice) {
        memcpy(sorted, rtt + s, sizeof(int64_t) * slice);
        qsort(sorted, slice, sizeof(int64_t), by_value);
        printf(" %lld", (long long) at(sorted, slice, 50));
    }
    printf("\n");
    memcpy(sorted, rtt, sizeof(int64_t) * count);
    qsort(sorted, count, sizeof(int64_t), by_value);
    printf("rtt_ns min=%lld p50=%lld p90=%lld p99=%lld p99.9=%lld p99.99=%lld max=%lld n=%ld\n",
           (long long) sorted[0], (long long) at(sorted, count, 50), (long long) at(sorted, count, 90),
           (long long) at(sorted, count, 99), (long long) at(sorted, count, 99.9),
           (long long) at(sorted, count, 99.99), (long long) sorted[count - 1], count);
    return 0;
}
