/*
 * The C process of ChaosTest (fd-passing/src/test/java/io/sluice/channel/ChaosTest.java): a consumer,
 * producer or participant that the test kills with SIGKILL at a random point. What it delivers and
 * what it commits goes to a journal, a file it maps MAP_SHARED: the journal outlives the process,
 * so the test reads exactly what a killed peer had done. The layout is ChaosJournal.java's:
 *
 *   header, 16 u64: 0 delivered entries   1 published (entries whose position was published: SPSC, broadcast)
 *                   2 committed messages  3 error   4 holding   5 command (the test writes it)
 *                   6 stopped (MPMC: took a STOP)   7 finished producing
 *                   8 attach: 1 in sluice_attach, 2 attached   9..15 reserved
 *   entries, 2 u64 each, from byte 128:
 *        SPSC      (seq, 0)
 *        broadcast (seq | TORN if the seqlock said the copy was overwritten, laps << 40 | lost so far)
 *        MPMC      (tag << 40 | seq, 0)
 *   An entry is written, then the delivered count is stored with release.
 *
 * Commands (header word 5): 1 hold: the next handler call journals its message and never returns
 * (SPSC, broadcast), or the next MPMC claim is never committed; 2 the next MPMC take never returns
 * and is not journaled (the documented loss); 3 stop producing (MPMC).
 *
 *   spsc  JOURNAL SOCK CHAN SEED MAXLEN LIMIT BLOCK              BLOCK 1: sleep in the kernel (futex) while the
 *                                                               ring is empty, 0: spin, yield, sleep 50 us
 *   bcast JOURNAL SOCK CHAN SEED MAXLEN LIMIT newest|oldest STALL_EVERY
 *   mpmc  JOURNAL SOCK CHAN SEED MAXLEN ROLE TAG LIMIT PACE     ROLE 1 consumer, 2 producer, 3 both;
 *                                                               PACE messages per second, 0 unpaced
 * Lines on stdout: "ATTACHED id", "GATED", "HOLDING", "HOSTGONE delivered", "PRODUCED committed",
 * "STOPPED", "BAD ...". Exit: 0 done, 2 usage, 3 attach failed, 4 a message was wrong, 6 ring error,
 * 7 journal unusable or full.
 */
#define _GNU_SOURCE
#include "../sluice.h"
#include "peer.h"
#include "testmsg.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { J_DELIVERED, J_PUBLISHED, J_COMMITTED, J_ERROR, J_HOLDING, J_COMMAND, J_STOPPED, J_FINISHED, J_ATTACH };
#define J_HEADER_WORDS 16
enum { CMD_HOLD = 1, CMD_HOLD_TAKE = 2, CMD_FINISH = 3 };

#define TORN (1ull << 62)
#define MAX_TAGS 4096

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

/* ---- the journal ------------------------------------------------------------------------------ */

typedef struct {
    uint64_t *header;
    uint64_t *entries;
    uint64_t capacity; /* entries */
    uint64_t count;
} journal;

static journal jn;

static void j_set(int field, uint64_t v) {
    __atomic_store_n(&jn.header[field], v, __ATOMIC_RELEASE);
}

static uint64_t j_get(int field) {
    return __atomic_load_n(&jn.header[field], __ATOMIC_ACQUIRE);
}

static void j_open(const char *path) {
    int fd = open(path, O_RDWR | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_size < J_HEADER_WORDS * 8 + 16) {
        say("JOURNAL-FAILED %s: %s", path, sluice_errno_name(errno));
        exit(7);
    }
    void *m = mmap(NULL, (size_t) st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) {
        say("JOURNAL-FAILED mmap %s: %s", path, sluice_errno_name(errno));
        exit(7);
    }
    close(fd);
    jn.header = m;
    jn.entries = (uint64_t *) m + J_HEADER_WORDS;
    jn.capacity = ((uint64_t) st.st_size - J_HEADER_WORDS * 8) / 16;
    jn.count = j_get(J_DELIVERED);
}

static void j_append(uint64_t a, uint64_t b) {
    if (jn.count == jn.capacity) {
        j_set(J_ERROR, 7);
        say("JOURNAL-FULL at %" PRIu64 " entries", jn.count);
        exit(7);
    }
    jn.entries[2 * jn.count] = a;
    jn.entries[2 * jn.count + 1] = b;
    jn.count++;
    j_set(J_DELIVERED, jn.count);
}

static _Noreturn void bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static _Noreturn void bad(const char *fmt, ...) {
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    j_set(J_ERROR, 4);
    say("BAD %s", text);
    exit(4);
}

/* Holds inside a handler until killed. */
static _Noreturn void hold(void) {
    j_set(J_HOLDING, 1);
    say("HOLDING");
    sleep_forever();
}

/* ---- attaching, idling ------------------------------------------------------------------------ */

static sluice_channel *attach(const char *sock, const char *chan, sluice_role role, sluice_start start) {
    j_set(J_ATTACH, 1);
    sluice_channel *ch = attach_or_exit(sock, chan, role, start);
    j_set(J_ATTACH, 2);
    return ch;
}

static _Noreturn void ring_error(sluice_channel *ch, int rc) {
    j_set(J_ERROR, 6);
    ring_error_exit(ch, rc);
}

/* After n rounds without work: spin, then yield, then sleep 50 us at a time (two cores, many busy processes). */
static void idle(unsigned n) {
    if (n < 100) {
        return;
    }
    if (n < 1000) {
        sched_yield();
    } else {
        struct timespec ts = {.tv_sec = 0, .tv_nsec = 50000};
        nanosleep(&ts, NULL);
    }
}

/* Whether the host is gone; a system call, so only every 256 idle rounds. */
static bool host_gone(sluice_channel *ch, unsigned idle_rounds) {
    return (idle_rounds & 255) == 0 && !sluice_host_alive(ch);
}

/* Checks a test message against the generator (testmsg.h). */
static void verify(uint64_t seed, uint32_t max_length, int32_t type, const uint8_t *p, uint32_t length, uint64_t tag,
                   uint64_t seq) {
    uint64_t mix = tm_mix(seed, tag, seq);
    if (type != tm_type(mix) || length != tm_length(mix, max_length) || !tm_check(p, mix, tag, seq, length)) {
        bad("message %" PRIu64 " of producer %" PRIu64 ": type %d length %u differ from the generator's (type %d, "
            "length %u) or its bytes do", seq, tag, type, length, tm_type(mix), tm_length(mix, max_length));
    }
}

/* ---- SPSC consumer ------------------------------------------------------------------------------ */

typedef struct {
    uint64_t seed;
    uint32_t max_length;
    bool started;
    uint64_t next;
} spsc_consumer;

static void on_spsc(void *ctx, int32_t type, const void *payload, uint32_t length) {
    spsc_consumer *c = ctx;
    uint64_t seq = tm_seq(payload);
    if (c->started && seq != c->next) {
        bad("sequence: message %" PRIu64 " where %" PRIu64 " was due", seq, c->next);
    }
    verify(c->seed, c->max_length, type, payload, length, 0, seq);
    c->started = true;
    c->next = seq + 1;
    j_append(seq, 0);
    if (j_get(J_COMMAND) == CMD_HOLD) {
        hold(); /* mid-batch: this message and the batch's earlier ones are read, the position not published */
    }
}

static int spsc(char **argv) {
    spsc_consumer c = {.seed = arg_u64(argv[5]), .max_length = (uint32_t) arg_u64(argv[6])};
    int limit = (int) arg_u64(argv[7]);
    bool block = arg_u64(argv[8]) != 0;
    sluice_channel *ch = attach(argv[3], argv[4], SLUICE_ROLE_CONSUMER, SLUICE_START_NEWEST);
    say("ATTACHED");
    unsigned idle_rounds = 0;
    for (;;) {
        int n = block ? sluice_poll_blocking(ch, on_spsc, &c, limit, 50) : sluice_poll(ch, on_spsc, &c, limit);
        if (n == SLUICE_EHOSTGONE) { /* blocking: the host is gone and everything it committed was delivered */
            say("HOSTGONE %" PRIu64, jn.count);
            sluice_detach(ch);
            return 0;
        }
        if (n < 0) {
            ring_error(ch, n);
        }
        if (n > 0) {
            j_set(J_PUBLISHED, jn.count); /* poll returned: the batch's position is published */
            idle_rounds = 0;
            continue;
        }
        if (host_gone(ch, ++idle_rounds)) {
            /* Everything the host committed before its end is visible now: drain it. */
            while ((n = sluice_poll(ch, on_spsc, &c, limit)) > 0) {
                j_set(J_PUBLISHED, jn.count);
            }
            if (n < 0) {
                ring_error(ch, n);
            }
            say("HOSTGONE %" PRIu64, jn.count);
            sluice_detach(ch);
            return 0;
        }
        idle(idle_rounds);
    }
}

/* ---- broadcast consumer ------------------------------------------------------------------------- */

typedef struct {
    sluice_channel *ch;
    uint64_t seed;
    uint32_t max_length;
    uint64_t stall_every;
    uint64_t handled;
    uint8_t *copy;
} bcast_consumer;

/* Copy, (stall,) then ask whether the copy was intact: the seqlock. */
static void on_bcast(void *ctx, int32_t type, const void *payload, uint32_t length) {
    bcast_consumer *c = ctx;
    c->handled++;
    memcpy(c->copy, payload, length);
    if (c->stall_every > 0 && c->handled % c->stall_every == 0) {
        sleep_ms(2); /* a load pattern, not a wait: lets the overwriting producer lap us mid-message */
    }
    sluice_bcast_stats st;
    sluice_bcast_stats_get(c->ch, &st);
    int valid = sluice_bcast_still_valid(c->ch);
    if (valid < 0) {
        ring_error(c->ch, valid);
    }
    uint64_t seq = (uint64_t) st.last_sequence;
    if (valid) {
        uint64_t in_payload;
        memcpy(&in_payload, c->copy, 8);
        if (in_payload != seq) {
            bad("message %" PRIu64 " carries sequence %" PRIu64 " in its payload", seq, in_payload);
        }
        verify(c->seed, c->max_length, type, c->copy, length, 0, seq);
    }
    j_append(seq | (valid ? 0 : TORN), st.laps << 40 | st.lost_messages);
    if (j_get(J_COMMAND) == CMD_HOLD) {
        hold(); /* never publishes its position again: a back-pressured producer waits for us */
    }
}

static int bcast(char **argv) {
    sluice_start start = strcmp(argv[8], "oldest") == 0 ? SLUICE_START_OLDEST : SLUICE_START_NEWEST;
    sluice_channel *ch = attach(argv[3], argv[4], SLUICE_ROLE_CONSUMER, start);
    bcast_consumer c = {.ch = ch, .seed = arg_u64(argv[5]), .max_length = (uint32_t) arg_u64(argv[6]),
                        .stall_every = arg_u64(argv[9])};
    int limit = (int) arg_u64(argv[7]);
    c.copy = malloc(sluice_max_message_length(ch) + 8);
    say("ATTACHED");
    bool gated = false;
    unsigned idle_rounds = 0;
    for (;;) {
        int n = sluice_poll(ch, on_bcast, &c, limit);
        if (n < 0) {
            ring_error(ch, n);
        }
        if (!gated) {
            sluice_bcast_stats st;
            sluice_bcast_stats_get(ch, &st);
            if (st.gated) {
                say("GATED");
                gated = true;
            }
        }
        if (n > 0) {
            j_set(J_PUBLISHED, jn.count); /* poll returned: its position is published */
            idle_rounds = 0;
            continue;
        }
        if (host_gone(ch, ++idle_rounds)) {
            while ((n = sluice_poll(ch, on_bcast, &c, limit)) > 0) {
            }
            if (n < 0) {
                ring_error(ch, n);
            }
            say("HOSTGONE %" PRIu64, jn.count);
            free(c.copy);
            sluice_detach(ch);
            return 0;
        }
        idle(idle_rounds);
    }
}

/* ---- MPMC producer, consumer, participant ------------------------------------------------------- */

typedef struct {
    uint64_t seed;
    uint32_t max_length;
    bool stop;
    int64_t last[MAX_TAGS];
} mpmc_consumer;

static void on_mpmc(void *ctx, int32_t type, const void *payload, uint32_t length) {
    mpmc_consumer *c = ctx;
    if (type == STOP_TYPE) {
        c->stop = true;
        return;
    }
    if (j_get(J_COMMAND) == CMD_HOLD_TAKE) {
        hold(); /* killed while holding the taken slot, before journaling: the documented loss */
    }
    uint64_t seq = tm_seq(payload);
    uint64_t tag = tm_tag(payload);
    if (tag >= MAX_TAGS) {
        bad("tag %" PRIu64 " (message %" PRIu64 ")", tag, seq);
    }
    if ((int64_t) seq <= c->last[tag]) {
        bad("per-producer order: message %" PRIu64 " of producer %" PRIu64 " after %" PRId64, seq, tag, c->last[tag]);
    }
    verify(c->seed, c->max_length, type, payload, length, tag, seq);
    c->last[tag] = (int64_t) seq;
    j_append(tag << 40 | seq, 0);
}

/* Whether message seq is due at pace per second; after a stop, no burst: at most 256 behind the schedule. */
static bool due(uint64_t seq, uint64_t pace, uint64_t *started) {
    uint64_t now = now_ns();
    uint64_t due_count = pace * (now - *started) / 1000000000ull;
    if (due_count > seq + 256) {
        *started = now - (seq + 256) * 1000000000ull / pace;
    }
    return seq < due_count;
}

static int mpmc(char **argv) {
    uint64_t seed = arg_u64(argv[5]);
    uint32_t max_length = (uint32_t) arg_u64(argv[6]);
    sluice_role role = (sluice_role) arg_u64(argv[7]);
    uint64_t tag = arg_u64(argv[8]);
    int limit = (int) arg_u64(argv[9]);
    uint64_t pace = arg_u64(argv[10]);
    bool producing = role != SLUICE_ROLE_CONSUMER, consuming = role != SLUICE_ROLE_PRODUCER;
    sluice_channel *ch = attach(argv[3], argv[4], role, SLUICE_START_NEWEST);
    static mpmc_consumer c;
    c.seed = seed;
    c.max_length = max_length;
    for (int i = 0; i < MAX_TAGS; i++) {
        c.last[i] = -1;
    }
    say("ATTACHED %u", sluice_participant_id(ch));
    uint64_t seq = 0, started = now_ns();
    unsigned idle_rounds = 0;
    for (;;) {
        bool worked = false;
        if (producing) {
            uint64_t command = j_get(J_COMMAND);
            if (command == CMD_FINISH) {
                producing = false;
                j_set(J_FINISHED, 1);
                say("PRODUCED %" PRIu64, seq);
                if (!consuming) {
                    sluice_detach(ch);
                    return 0;
                }
            } else if (pace == 0 || due(seq, pace, &started)) {
                uint64_t mix = tm_mix(seed, tag, seq);
                uint32_t length = tm_length(mix, max_length);
                void *at;
                int rc = sluice_mpmc_try_claim(ch, tm_type(mix), length, &at);
                if (rc == SLUICE_OK) {
                    if (command == CMD_HOLD) {
                        j_set(J_HOLDING, seq + 1);
                        say("HOLDING");
                        sleep_forever(); /* killed with the claim open */
                    }
                    tm_fill(at, mix, tag, seq, length);
                    rc = sluice_mpmc_commit(ch);
                    if (rc != SLUICE_OK) {
                        ring_error(ch, rc);
                    }
                    seq++;
                    j_set(J_COMMITTED, seq);
                    worked = true;
                } else if (rc != SLUICE_FULL) {
                    ring_error(ch, rc);
                }
            }
        }
        if (consuming) {
            int n = sluice_poll(ch, on_mpmc, &c, limit);
            if (n < 0) {
                ring_error(ch, n);
            }
            worked |= n > 0;
            if (c.stop) {
                j_set(J_STOPPED, 1);
                say("STOPPED %" PRIu64, jn.count);
                sluice_detach(ch);
                return 0;
            }
        }
        if (worked) {
            idle_rounds = 0;
        } else {
            if (host_gone(ch, ++idle_rounds)) {
                say("HOSTGONE %" PRIu64, jn.count);
                sluice_detach(ch);
                return 0;
            }
            idle(idle_rounds);
        }
    }
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: see the comment at the top of chaos_peer.c\n");
        return 2;
    }
    const char *mode = argv[1];
    if (strcmp(mode, "spsc") == 0 && argc == 9) {
        j_open(argv[2]);
        return spsc(argv);
    }
    if (strcmp(mode, "bcast") == 0 && argc == 10) {
        j_open(argv[2]);
        return bcast(argv);
    }
    if (strcmp(mode, "mpmc") == 0 && argc == 11) {
        j_open(argv[2]);
        return mpmc(argv);
    }
    fprintf(stderr, "bad arguments for mode '%s'\n", mode);
    return 2;
}
