/*
 * Sluice perf: does the shape of the echoing side's spin loop change the machine's round trip?
 * The raw C ping-pong of rawpingpong.c, with the child's wait loop written in assembly in one of
 * a few shapes, the shapes interleaved within each round so that a change of the machine's level
 * between rounds moves every shape alike:
 *
 *   plain     load the ping line, compare, branch back (what gcc makes of rawpingpong.c's loop)
 *   jvm-poll  before each re-check, the two dependent loads of a HotSpot safepoint poll
 *             (load the thread's polling-page address, then test a word of that page): the loop
 *             C2 emits for a spin on a constant address
 *   imul3     before each re-check, three dependent multiplies (a delay of similar length, no load)
 *   pause     before each re-check, PAUSE (what Thread.onSpinWait() emits on x86)
 *   loads4    the jvm-poll pair plus four independent loads of private lines
 *
 *   spinshape ROUNDS COUNT [CPU_A CPU_B]
 *
 * Prints, for each shape, the p50 of each round (ns) and the median of those. The parent (the
 * timing side, CPU_A) always spins plainly. x86-64 only; build with gcc -O2.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "probe.h"

#if !defined(__x86_64__)
int main(void) {
    fprintf(stderr, "spinshape: x86-64 only\n");
    return 2;
}
#else

enum { PLAIN, JVM_POLL, IMUL3, PAUSE, LOADS4, SHAPES };
static const char *const NAMES[SHAPES] = {"plain", "jvm-poll", "imul3", "pause", "loads4"};

/* A private page standing in for the JVM's polling page, and the word that points at it
 * (the JVM keeps that pointer in its thread structure). */
static volatile int64_t polling_page[512] __attribute__((aligned(4096)));
static volatile int64_t *volatile polling_word[8] __attribute__((aligned(64)));

/* The loop: jump to the check; on a miss run the shape's body, then check again. */
#define WAIT(BODY)                                                      \
    __asm__ volatile("jmp 2f\n\t"                                       \
                     ".p2align 5\n"                                     \
                     "1:\n\t" BODY "2:\n\t"                             \
                     "mov (%0), %%rcx\n\t"                              \
                     "cmp %1, %%rcx\n\t"                                \
                     "jne 1b\n\t"                                       \
                     :                                                  \
                     : "r"(ping), "r"(i), "r"(polling_word)             \
                     : "memory", "cc", "rcx", "rdx")

static void echo(int shape, volatile int64_t *ping, volatile int64_t *pong, long total) {
    for (int64_t i = 1; i <= total; i++) {
        switch (shape) {
        case PLAIN: WAIT(""); break;
        case JVM_POLL: WAIT("mov (%2), %%rdx\n\ttest %%eax, (%%rdx)\n\t"); break;
        case IMUL3: WAIT("imul %%rdx, %%rdx\n\timul %%rdx, %%rdx\n\timul %%rdx, %%rdx\n\t"); break;
        case PAUSE: WAIT("pause\n\t"); break;
        default:
            WAIT("mov (%2), %%rdx\n\ttest %%eax, (%%rdx)\n\t"
                 "mov 8(%2), %%rdx\n\tmov 16(%2), %%rdx\n\tmov 24(%2), %%rdx\n\tmov 32(%2), %%rdx\n\t");
            break;
        }
        *pong = i;
    }
}

/* One run of COUNT measured round trips (after COUNT/4 unmeasured) against a child spinning in
 * SHAPE; returns the p50. */
static int64_t run(int shape, char *region, long count, int cpu_a, int cpu_b, int64_t *rtt) {
    volatile int64_t *ping = (volatile int64_t *) region;         /* written by the parent */
    volatile int64_t *pong = (volatile int64_t *) (region + 128); /* written by the child */
    *ping = 0;
    *pong = 0;
    long warmup = count / 4, total = warmup + count;
    pid_t child = fork();
    if (child < 0) { perror("fork"); exit(1); }
    if (child == 0) {
        pin(cpu_b);
        echo(shape, ping, pong, total);
        _exit(0);
    }
    pin(cpu_a);
    for (int64_t i = 1; i <= total; i++) {
        int64_t t0 = now_ns();
        __atomic_store_n(ping, i, __ATOMIC_RELEASE);
        while (__atomic_load_n(pong, __ATOMIC_ACQUIRE) != i) { }
        if (i > warmup) rtt[i - warmup - 1] = now_ns() - t0;
    }
    waitpid(child, NULL, 0);
    qsort(rtt, count, sizeof(int64_t), by_value);
    return rtt[count / 2];
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s ROUNDS COUNT [CPU_A CPU_B]\n", argv[0]);
        return 2;
    }
    long rounds = atol(argv[1]), count = atol(argv[2]);
    int cpu_a = argc > 3 ? atoi(argv[3]) : 0, cpu_b = argc > 4 ? atoi(argv[4]) : 1;
    if (rounds < 1 || rounds > 1000 || count < 1000 || count > 100000000) {
        fprintf(stderr, "1 <= ROUNDS <= 1000 and 1000 <= COUNT <= 100000000, please\n");
        return 2;
    }
    polling_word[0] = polling_page;
    for (int k = 1; k < 8; k++) polling_word[k] = polling_page + 8 * k;

    int fd = memfd_create("sluice-spinshape", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, 4096) != 0) { perror("memfd"); return 1; }
    char *region = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (region == MAP_FAILED) { perror("mmap"); return 1; }
    memset(region, 0, 4096);
    int64_t *rtt = calloc((size_t) count, sizeof(int64_t));
    int64_t *p50 = calloc((size_t) (rounds * SHAPES), sizeof(int64_t));
    if (rtt == NULL || p50 == NULL) { perror("calloc"); return 1; }

    for (long r = 0; r < rounds; r++) {
        for (int s = 0; s < SHAPES; s++) {
            p50[s * rounds + r] = run(s, region, count, cpu_a, cpu_b, rtt);
        }
    }
    printf("round-trip p50 (ns) of each round, %ld rounds of %ld, shapes interleaved; median\n", rounds, count);
    for (int s = 0; s < SHAPES; s++) {
        printf("%-9s", NAMES[s]);
        for (long r = 0; r < rounds; r++) printf(" %5lld", (long long) p50[s * rounds + r]);
        memcpy(rtt, p50 + s * rounds, sizeof(int64_t) * rounds);
        qsort(rtt, rounds, sizeof(int64_t), by_value);
        printf("  | %lld\n", (long long) rtt[rounds / 2]);
    }
    return 0;
}
#endif
