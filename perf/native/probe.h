/*
 * Sluice perf: what every C probe here needs, written once: the clock System.nanoTime() reads,
 * sorting and nearest-rank percentiles of int64 samples, and pinning to a CPU. Include it after
 * defining _GNU_SOURCE (for sched_setaffinity).
 */
#ifndef SLUICE_PERF_PROBE_H
#define SLUICE_PERF_PROBE_H

#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

/* CLOCK_MONOTONIC in ns: the clock System.nanoTime() reads on Linux. */
static inline int64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t) t.tv_sec * 1000000000L + t.tv_nsec;
}

/* qsort comparator for int64_t. */
static inline int by_value(const void *a, const void *b) {
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of a sorted array of n > 0 samples. */
static inline int64_t at(const int64_t *sorted, long n, double percentile) {
    long rank = (long) ((percentile / 100.0) * n + 0.999999);
    if (rank < 1) rank = 1;
    if (rank > n) rank = n;
    return sorted[rank - 1];
}

/* Pins the calling process to cpu where the machine has it; otherwise leaves it where it is. */
static inline void pin(int cpu) {
    if (cpu < 0 || cpu >= sysconf(_SC_NPROCESSORS_ONLN)) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) perror("sched_setaffinity");
}

#endif
