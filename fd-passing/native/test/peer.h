/*
 * What the C test peers (sluice_peer.c, chaos_peer.c) share: their line protocol on stdout, their
 * command-line numbers, their sleeps, and attaching or failing with the exit codes both document
 * (3 attach failed, 6 ring error). Static inline so that a peer that uses only part of it still
 * builds with -Werror.
 */
#ifndef SLUICE_TEST_PEER_H
#define SLUICE_TEST_PEER_H

#include "../sluice.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* The message type that tells a test consumer to stop (the Java tests send it last). */
#define STOP_TYPE 1000

/* One line on stdout, flushed at once: the Java test reads the lines as they come. */
static inline void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static inline void say(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

static inline void sleep_ms(long ms) {
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Parks the peer until the test kills it. */
static inline _Noreturn void sleep_forever(void) {
    for (;;) {
        pause();
    }
}

/* A number from the command line: decimal, or hex with 0x. */
static inline uint64_t arg_u64(const char *s) {
    return strtoull(s, NULL, 0);
}

/* Attaches, or says ATTACH-FAILED and exits 3. */
static inline sluice_channel *attach_or_exit(const char *sock, const char *chan, sluice_role role, sluice_start start) {
    sluice_attach_options o = {.socket_path = sock, .channel = chan, .role = role, .start = start};
    sluice_error err;
    sluice_channel *ch;
    if (sluice_attach(&o, &ch, &err) != SLUICE_OK) {
        say("ATTACH-FAILED %s: %s", sluice_code_name(err.code), err.message);
        exit(3);
    }
    return ch;
}

/* Says RING-ERROR with the channel's last error and exits 6. */
static inline _Noreturn void ring_error_exit(sluice_channel *ch, int rc) {
    say("RING-ERROR %s: %s", sluice_code_name(rc), sluice_last_error(ch)->message);
    exit(6);
}

#endif
