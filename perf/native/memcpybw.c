/*
 * Sluice perf: the machine's copy limit, in C. One process, pinned to one CPU, copies a SIZE-byte
 * message from one source buffer into a CAPACITY-byte destination, message after message at the
 * next offset as a ring producer would, wrapping at the end. It is the bound on what any ring can
 * carry from one producer thread: every system's sender makes this copy (and more) per message.
 *
 *   memcpybw SIZE CAPACITY WARMUP COUNT SLICE [CPU]
 *
 * Prints "slice_rate <msg/s> ..." (one rate per SLICE messages, COUNT in all) after WARMUP
 * unmeasured messages, and "bandwidth_mb_s <median>". The destination is a shared memfd mapping
 * like the rings', pre-touched; the clock is CLOCK_MONOTONIC. Built by perf/run-latency.sh with
 * gcc -O2.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "probe.h"

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: %s SIZE CAPACITY WARMUP COUNT SLICE [CPU]\n", argv[0]);
        return 2;
    }
    long size = atol(argv[1]), capacity = atol(argv[2]), warmup = atol(argv[3]);
    long count = atol(argv[4]), slice = atol(argv[5]);
    int cpu = argc > 6 ? atoi(argv[6]) : 0;
    if (size <= 0 || capacity < size || capacity > (1L << 30) || warmup < 0 || count <= 0 || slice <= 0
            || count % slice != 0) {
        fprintf(stderr, "memcpybw: need 0 < SIZE <= CAPACITY <= 2^30, WARMUP >= 0, COUNT a multiple of SLICE > 0\n");
        return 2;
    }
    pin(cpu);
    int fd = memfd_create("sluice-perf-memcpy", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, capacity) != 0) {
        perror("memfd");
        return 1;
    }
    unsigned char *dst = mmap(NULL, (size_t) capacity, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    unsigned char *src = aligned_alloc(64, (size_t) ((size + 63) / 64 * 64));
    if (dst == MAP_FAILED || src == NULL) {
        perror("mmap");
        return 1;
    }
    memset(dst, 0, (size_t) capacity);
    memset(src, 0x5a, (size_t) size);

    /* The offset advances by the message rounded up to 8 bytes, as a ring record would. */
    long step = (size + 7) & ~7L, at = 0;
    for (long i = 0; i < warmup; i++) {
        if (at + size > capacity) at = 0;
        memcpy(dst + at, src, (size_t) size);
        memcpy(src, &i, sizeof i); /* a new value each time, like the senders' sequence */
        at += step;
    }
    long slices = count / slice;
    int64_t *rates = calloc((size_t) slices, sizeof *rates);
    if (rates == NULL) return 1;
    for (long s = 0; s < slices; s++) {
        int64_t start = now_ns();
        for (long i = 0; i < slice; i++) {
            if (at + size > capacity) at = 0;
            memcpy(dst + at, src, (size_t) size);
            memcpy(src, &i, sizeof i);
            at += step;
        }
        rates[s] = (int64_t) (slice * 1e9 / (double) (now_ns() - start));
    }
    printf("slice_rate");
    for (long s = 0; s < slices; s++) printf(" %lld", (long long) rates[s]);
    printf("\n");
    qsort(rates, (size_t) slices, sizeof *rates, by_value);
    printf("bandwidth_mb_s %.0f\n", rates[slices / 2] * (double) size / 1e6);
    volatile unsigned char sink = dst[capacity - 1]; /* keep the copies */
    (void) sink;
    munmap(dst, (size_t) capacity);
    free(rates);
    free(src);
    close(fd);
    return 0;
}
