/*
 * The C process of the native-client tests (fd-passing/src/test/java/io/sluice/channel/Native*Test).
 * Prints one line per milestone on stdout (flushed); the Java test waits for those lines. Exit
 * code 0 on success; 2 usage, 3 attach failed, 4 a message was wrong, 5 the kernel let us write,
 * 6 a ring error.
 *
 *   spsc SOCK CHAN COUNT SEED MAXLEN [prove-sealed] [block] [from FIRST]
 *        consume COUNT test messages (testmsg.h) in order, from message FIRST (0);
 *        "SEALED ..." with prove-sealed; "DONE count checksum"
 *   spsc-hold SOCK CHAN K SEED MAXLEN      consume K, "HELD K", then sleep (to be killed)
 *   bcast SOCK CHAN COUNT SEED MAXLEN newest|oldest [stall-every N]
 *        consume until message COUNT-1: "DONE delivered torn lost laps checksum"
 *   mpmc-consume SOCK CHAN SEED MAXLEN     consume until a STOP (type 1000): "CONSUMED tag:count:checksum ..."
 *   mpmc-produce SOCK CHAN TAG COUNT SEED MAXLEN   "PRODUCED count checksum"
 *   mpmc-claim-die SOCK CHAN               claim a slot, "CLAIMED id", sleep (to be killed)
 *   mpmc-take-die SOCK CHAN                take a message, "TAKEN id", sleep in the handler (to be killed)
 *   refused SOCK CHAN ROLE [TIMEOUT_MS [pause-at POINT FILE]]
 *        attach, expecting a refusal or an error: "REFUSED NAME code fds-before fds-after: text". With
 *        pause-at, the library's test hook (sluice.h, SLUICE_TEST_HOOKS) stops at POINT: "PAUSED POINT fd N",
 *        then waits (up to 60 s) until FILE exists; the test acts on the fd meanwhile, as a hostile host
 *   malformed SOCK                         raw handshakes, one connection each: "CASE name REASON code: text", "END"
 *   chatty SOCK CHAN                       attach, then send a message after READY: "DROPPED" when the host hangs up
 *   echo SOCK PING PONG COUNT              consume the SPSC channel PING and re-send each message, same type and
 *                                          bytes, on the MPMC channel PONG (the responder of a Java -> C -> Java
 *                                          round trip): "ECHOED count"
 *   until-gone SOCK CHAN [block]           attach as consumer: "ATTACHED kind data fd O_RDONLY|O_RDWR"; consume
 *                                          until the host is gone (at most 60 s): "HOSTGONE code refusal R after N
 *                                          messages: <sluice_last_error>" (block: sluice_poll_blocking)
 *   block SOCK CHAN COUNT                  attach as consumer (broadcast: oldest): "ATTACHED kind can-block|no-block";
 *                                          then COUNT times "PARKING i", sluice_poll_blocking (60 s slices of the
 *                                          test's bound) for one message whose first 8 bytes are i, "GOT i"; then a
 *                                          blocking poll of 100 ms on the empty ring: "TIMEOUT n ms" (n its result)
 *   attach-loop SOCK CHAN ROLE N [TIMEOUT_MS]   N attaches, whatever each answers: "TRY i CODE: message" (one that
 *                                          succeeds waits for the host to go, then detaches); at the end
 *                                          "LOOPED N attached A fds BEFORE AFTER" (open fds before the first, after the last)
 *
 * Hostile-peer tools. Each attaches normally first, then attacks the host's regions.
 *
 *   attack-writes SOCK CHAN [newest|oldest]
 *        As an SPSC or broadcast consumer, tries every way to write the data region it holds read-only
 *        (sealed FUTURE_WRITE), one line each: "ATTACK <name> refused <errno name>" or "ATTACK <name> ALLOWED -".
 *        A write that gets through writes the byte 0xA5 at region offset size/2 (rounded down to 8), so the host
 *        can check its pages. Names, in order: mmap-shared-write, mprotect-write (of the library's PROT_READ
 *        mapping), madvise-remove, proc-self-mem-write, write, pwrite, ftruncate-shrink, ftruncate-grow,
 *        fallocate-punch-hole, fallocate-grow, add-seal-SHRINK, add-seal-GROW, add-seal-WRITE,
 *        add-seal-FUTURE_WRITE, add-seal-EXEC, add-seal-SEAL (F_ADD_SEALS on the received fd), fchmod (toggles
 *        "others may read", then restores the mode), reopen-rdwr (open /proc/self/fd/N O_RDWR), reopen-mmap-write,
 *        reopen-pwrite, reopen-add-seal-SEAL (through that re-opened fd; refused with the open's errno if the open
 *        was). Then "ATTACKS-DONE allowed K", detach, exit 0. First line: "ATTACHED kind size S data fd MODE".
 *
 *   lie-position SOCK CHAN [newest|oldest]
 *        As an SPSC or broadcast consumer: "ATTACHED kind position P capacity C", then one command per line on
 *        stdin; every command that publishes stores the value into this consumer's position word (release) and
 *        answers "PUBLISHED V true T" (T: the position really reached). The lie stays until a poll moves on.
 *          set V        publish V (decimal or 0x hex, may be negative)
 *          ahead N      T + N                 behind N     T - N (rewound)
 *          beyond       broadcast: the ring's tail + 8; SPSC (no tail in the ring): T + capacity + 8
 *          unaligned    T + 4                 negative     -8
 *          inside       T + 8 (inside the record at T, if one is there)
 *          restore      T
 *          poll N       consume up to N messages: "POLLED n position T" (or "RING-ERROR ...")
 *          alive        "ALIVE", or "HOSTGONE code refusal R: <sluice_last_error>" (a DETACH's reason and text)
 *          exit         (or end of stdin) detach: "BYE"
 *
 *   mpmc-garbage SOCK CHAN [PARTICIPANT|PRODUCER|CONSUMER]
 *        Attaches to an MPMC channel (participant by default): "ATTACHED id slots N length L", then commands on
 *        stdin, each an atomic exchange answered "WROTE <cmd> offset O: 0xOLD -> 0xNEW":
 *          slot I V     slot I's state word (u64; e.g. 0x5000 = FREE, lap 0, state 5: impossible)
 *          type I V     slot I's type (i32)   length I V   slot I's length (i32)
 *          tail V       the Tail counter (i64, offset 128)   head V   the Head counter (i64, offset 256)
 *          u64 OFF V    8 bytes at region offset OFF (aligned, inside)   u32 OFF V   4 bytes
 *          alive        as above              exit         detach: "BYE"
 *        Values are decimal or 0x hex, may be negative. A command that does not parse: "BAD-COMMAND cmd".
 */
#define _GNU_SOURCE
#include "../sluice.h"
#include "peer.h"
#include "testmsg.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>


/* Idle strategy of the test loops: spin, and yield now and then (the test machine may be busier than its cores). */
static void idle(int n) {
    static unsigned empty;
    if (n == 0 && (++empty & 63) == 0) {
        sched_yield();
    }
}

/* ---- consuming test messages ------------------------------------------------------------------ */

typedef struct {
    sluice_channel *ch;
    uint64_t seed;
    uint32_t max_length;
    uint64_t next;      /* SPSC: the next sequence expected */
    uint64_t count;
    uint64_t checksum;
    uint64_t held;      /* spsc-hold: stop after this many */
    /* broadcast */
    uint64_t torn;
    uint64_t stall_every;
    uint64_t handled;
    int64_t last_sequence;
    uint8_t *copy;
} consumer;

static _Noreturn void bad(const char *what, uint64_t seq, uint64_t a, uint64_t b) {
    say("BAD %s at message %" PRIu64 ": %" PRIu64 " vs expected %" PRIu64, what, seq, a, b);
    exit(4);
}

/* Checks a message against the generator; returns its digest. */
static uint64_t verify(const consumer *c, int32_t type, const uint8_t *p, uint32_t length, uint64_t tag, uint64_t seq) {
    uint64_t mix = tm_mix(c->seed, tag, seq);
    if (type != tm_type(mix)) {
        bad("type", seq, (uint64_t) type, (uint64_t) tm_type(mix));
    }
    if (length != tm_length(mix, c->max_length)) {
        bad("length", seq, length, tm_length(mix, c->max_length));
    }
    if (!tm_check(p, mix, tag, seq, length)) {
        bad("payload bytes", seq, 0, 0);
    }
    return tm_digest(type, p, length);
}

static void on_spsc(void *ctx, int32_t type, const void *payload, uint32_t length) {
    consumer *c = ctx;
    uint64_t seq = tm_seq(payload);
    if (seq != c->next) {
        bad("sequence", c->next, seq, c->next);
    }
    c->checksum = tm_step(c->checksum, verify(c, type, payload, length, 0, seq));
    c->next++;
    c->count++;
}

static const char *errno_or_ok(int failed, int err) {
    return failed ? sluice_errno_name(err) : "SUCCEEDED";
}

/* The consumer's proof that the kernel keeps it read-only (F_SEAL_FUTURE_WRITE on the data region). */
static void prove_sealed(sluice_channel *ch) {
    int fd = sluice_data_fd(ch);
    size_t size = sluice_data_size(ch);
    void *w = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    int mmap_failed = w == MAP_FAILED, mmap_errno = errno;
    if (!mmap_failed) {
        munmap(w, size);
    }
    int mprotect_failed = mprotect((void *) sluice_data(ch), size, PROT_READ | PROT_WRITE) != 0;
    int mprotect_errno = errno;
    char byte = 0;
    int write_failed = pwrite(fd, &byte, 1, 0) != 1;
    int write_errno = errno;
    int truncate_failed = ftruncate(fd, (off_t) size * 2) != 0;
    int truncate_errno = errno;
    int shrink_failed = ftruncate(fd, 0) != 0;
    int shrink_errno = errno;
    bool all = mmap_failed && mprotect_failed && write_failed && truncate_failed && shrink_failed;
    say("%s mmap(PROT_WRITE,MAP_SHARED)=%s mprotect(PROT_WRITE)=%s write=%s ftruncate(grow)=%s ftruncate(shrink)=%s",
        all ? "SEALED" : "NOT-SEALED", errno_or_ok(mmap_failed, mmap_errno), errno_or_ok(mprotect_failed, mprotect_errno),
        errno_or_ok(write_failed, write_errno), errno_or_ok(truncate_failed, truncate_errno),
        errno_or_ok(shrink_failed, shrink_errno));
    if (!all) {
        exit(5);
    }
}

static int spsc(int argc, char **argv) {
    if (argc < 7) {
        return 2;
    }
    bool prove = false, block = false;
    uint64_t first = 0;
    for (int i = 7; i < argc; i++) {
        prove |= strcmp(argv[i], "prove-sealed") == 0;
        block |= strcmp(argv[i], "block") == 0;
        if (strcmp(argv[i], "from") == 0 && i + 1 < argc) {
            first = arg_u64(argv[++i]);
        }
    }
    sluice_channel *ch = attach_or_exit(argv[2], argv[3], SLUICE_ROLE_CONSUMER, SLUICE_START_NEWEST);
    consumer c = {.ch = ch, .seed = arg_u64(argv[5]), .max_length = (uint32_t) arg_u64(argv[6]), .checksum = TM_BASIS,
                  .next = first};
    uint64_t count = arg_u64(argv[4]);
    say("ATTACHED %s max %u%s", sluice_channel_kind(ch) == SLUICE_KIND_SPSC ? "SPSC" : "?", sluice_max_message_length(ch),
        sluice_can_block(ch) ? " can-block" : "");
    if (prove) {
        prove_sealed(ch);
    }
    while (c.count < count) {
        int n = block ? sluice_poll_blocking(ch, on_spsc, &c, 256, 1000) : sluice_poll(ch, on_spsc, &c, 256);
        if (n < 0) {
            ring_error_exit(ch, n);
        }
        idle(n);
    }
    say("DONE %" PRIu64 " %016" PRIx64, c.count, c.checksum);
    sluice_detach(ch);
    return 0;
}

static void on_hold(void *ctx, int32_t type, const void *payload, uint32_t length) {
    on_spsc(ctx, type, payload, length);
}

static int spsc_hold(int argc, char **argv) {
    if (argc < 7) {
        return 2;
    }
    sluice_channel *ch = attach_or_exit(argv[2], argv[3], SLUICE_ROLE_CONSUMER, SLUICE_START_NEWEST);
    consumer c = {.ch = ch, .seed = arg_u64(argv[5]), .max_length = (uint32_t) arg_u64(argv[6]), .checksum = TM_BASIS};
    uint64_t k = arg_u64(argv[4]);
    say("ATTACHED");
    while (c.count < k) {
        int n = sluice_poll(ch, on_hold, &c, 1);
        if (n < 0) {
            ring_error_exit(ch, n);
        }
        idle(n);
    }
    say("HELD %" PRIu64, c.count);
    sleep_forever();
}

/* Broadcast: copy, (stall,) then ask whether what we copied was intact — the seqlock. */
static void on_bcast(void *ctx, int32_t type, const void *payload, uint32_t length) {
    consumer *c = ctx;
    c->handled++;
    memcpy(c->copy, payload, length);
    if (c->stall_every > 0 && c->handled % c->stall_every == 0) {
        sleep_ms(3); /* let an overwriting producer lap us, mid-message */
    }
    sluice_bcast_stats st;
    sluice_bcast_stats_get(c->ch, &st);
    c->last_sequence = st.last_sequence;
    int valid = sluice_bcast_still_valid(c->ch);
    if (valid < 0) {
        ring_error_exit(c->ch, valid);
    }
    if (!valid) {
        c->torn++; /* overwritten while we read it: discard */
        return;
    }
    uint64_t seq = tm_seq(c->copy);
    if ((int64_t) seq != st.last_sequence) {
        bad("sequence (payload vs record header)", seq, seq, (uint64_t) st.last_sequence);
    }
    c->checksum = tm_step(c->checksum, verify(c, type, c->copy, length, 0, seq));
    c->count++;
}

static int bcast(int argc, char **argv) {
    if (argc < 8) {
        return 2;
    }
    sluice_start start = strcmp(argv[7], "oldest") == 0 ? SLUICE_START_OLDEST : SLUICE_START_NEWEST;
    sluice_channel *ch = attach_or_exit(argv[2], argv[3], SLUICE_ROLE_CONSUMER, start);
    consumer c = {.ch = ch, .seed = arg_u64(argv[5]), .max_length = (uint32_t) arg_u64(argv[6]), .checksum = TM_BASIS,
                  .last_sequence = -1};
    if (argc >= 10 && strcmp(argv[8], "stall-every") == 0) {
        c.stall_every = arg_u64(argv[9]);
    }
    c.copy = malloc(sluice_max_message_length(ch) + 8);
    uint64_t count = arg_u64(argv[4]);
    say("ATTACHED %s max %u", sluice_channel_kind(ch) == SLUICE_KIND_BROADCAST_OVERWRITE ? "OVERWRITE" : "BACKPRESSURE",
        sluice_max_message_length(ch));
    bool gated_said = false;
    long empty_polls = 0;
    while (c.last_sequence < (int64_t) count - 1) {
        int n = sluice_poll(ch, on_bcast, &c, 64);
        if (n < 0) {
            ring_error_exit(ch, n);
        }
        idle(n);
        if (!gated_said) {
            sluice_bcast_stats st;
            sluice_bcast_stats_get(ch, &st);
            if (st.gated) {
                say("GATED");
                gated_said = true;
            }
        }
        if (n == 0 && ++empty_polls % 100000 == 0 && !sluice_host_alive(ch)) {
            if (sluice_poll(ch, on_bcast, &c, 64) == 0) {
                say("HOSTGONE at sequence %" PRId64, c.last_sequence);
                break;
            }
        }
    }
    sluice_bcast_stats st;
    sluice_bcast_stats_get(ch, &st);
    say("DONE %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %016" PRIx64, c.handled, c.torn, st.lost_messages, st.laps,
        c.checksum);
    free(c.copy);
    sluice_detach(ch);
    return 0;
}

/* ---- MPMC ------------------------------------------------------------------------------------- */

#define MAX_TAGS 16

typedef struct {
    consumer base;
    bool stop;
    uint64_t count[MAX_TAGS];
    uint64_t checksum[MAX_TAGS];
    int64_t last[MAX_TAGS];
} mpmc_consumer;

static void on_mpmc(void *ctx, int32_t type, const void *payload, uint32_t length) {
    mpmc_consumer *c = ctx;
    if (type == STOP_TYPE) {
        c->stop = true;
        return;
    }
    uint64_t seq = tm_seq(payload);
    uint64_t tag = tm_tag(payload);
    if (tag >= MAX_TAGS) {
        bad("tag", seq, tag, MAX_TAGS);
    }
    if ((int64_t) seq <= c->last[tag]) {
        bad("per-producer order", seq, seq, (uint64_t) c->last[tag] + 1);
    }
    c->last[tag] = (int64_t) seq;
    c->checksum[tag] = tm_step(c->checksum[tag], verify(&c->base, type, payload, length, tag, seq));
    c->count[tag]++;
}

static int mpmc_consume(int argc, char **argv) {
    if (argc < 6) {
        return 2;
    }
    sluice_channel *ch = attach_or_exit(argv[2], argv[3], SLUICE_ROLE_CONSUMER, SLUICE_START_NEWEST);
    mpmc_consumer c;
    memset(&c, 0, sizeof c);
    c.base.seed = arg_u64(argv[4]);
    c.base.max_length = (uint32_t) arg_u64(argv[5]);
    for (int i = 0; i < MAX_TAGS; i++) {
        c.checksum[i] = TM_BASIS;
        c.last[i] = -1;
    }
    say("ATTACHED %u", sluice_participant_id(ch));
    while (!c.stop) {
        int n = sluice_poll(ch, on_mpmc, &c, 1); /* one at a time: stop right at STOP */
        if (n < 0) {
            ring_error_exit(ch, n);
        }
        idle(n);
    }
    char line[1024] = "CONSUMED";
    for (int t = 0; t < MAX_TAGS; t++) {
        if (c.count[t] > 0) {
            size_t used = strlen(line);
            snprintf(line + used, sizeof line - used, " %d:%" PRIu64 ":%016" PRIx64, t, c.count[t], c.checksum[t]);
        }
    }
    say("%s", line);
    sluice_detach(ch);
    return 0;
}

static int mpmc_produce(int argc, char **argv) {
    if (argc < 8) {
        return 2;
    }
    sluice_channel *ch = attach_or_exit(argv[2], argv[3], SLUICE_ROLE_PRODUCER, SLUICE_START_NEWEST);
    uint64_t tag = arg_u64(argv[4]), count = arg_u64(argv[5]), seed = arg_u64(argv[6]);
    uint32_t max_length = (uint32_t) arg_u64(argv[7]);
    say("ATTACHED %u", sluice_participant_id(ch));
    uint64_t checksum = TM_BASIS;
    for (uint64_t seq = 0; seq < count; seq++) {
        uint64_t mix = tm_mix(seed, tag, seq);
        uint32_t length = tm_length(mix, max_length);
        void *at;
        int rc;
        while ((rc = sluice_mpmc_try_claim(ch, tm_type(mix), length, &at)) == SLUICE_FULL) {
            idle(0);
            if ((seq & 0xFF) == 0 && !sluice_host_alive(ch)) {
                say("HOSTGONE at %" PRIu64, seq);
                exit(6);
            }
        }
        if (rc != SLUICE_OK) {
            ring_error_exit(ch, rc);
        }
        tm_fill(at, mix, tag, seq, length); /* in place: zero copy */
        checksum = tm_step(checksum, tm_digest(tm_type(mix), at, length));
        rc = sluice_mpmc_commit(ch);
        if (rc != SLUICE_OK) {
            ring_error_exit(ch, rc);
        }
    }
    say("PRODUCED %" PRIu64 " %016" PRIx64, count, checksum);
    sluice_detach(ch);
    return 0;
}

static int mpmc_claim_die(char **argv) {
    sluice_channel *ch = attach_or_exit(argv[2], argv[3], SLUICE_ROLE_PRODUCER, SLUICE_START_NEWEST);
    void *at;
    int rc = sluice_mpmc_try_claim(ch, 1, 16, &at);
    say(rc == SLUICE_OK ? "CLAIMED %u" : "NOT-CLAIMED %u", sluice_participant_id(ch));
    sleep_forever(); /* never commits: killed with the claim open */
}

static void on_take_and_die(void *ctx, int32_t type, const void *payload, uint32_t length) {
    (void) type;
    (void) payload;
    (void) length;
    say("TAKEN %u", sluice_participant_id(ctx));
    sleep_forever(); /* killed while holding the slot */
}

static int mpmc_take_die(char **argv) {
    sluice_channel *ch = attach_or_exit(argv[2], argv[3], SLUICE_ROLE_CONSUMER, SLUICE_START_NEWEST);
    say("ATTACHED %u", sluice_participant_id(ch));
    for (;;) {
        int n = sluice_poll(ch, on_take_and_die, ch, 1);
        if (n < 0) {
            ring_error_exit(ch, n);
        }
    }
}

/* ---- refusals ---------------------------------------------------------------------------------- */

static int count_fds(void) {
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    if (d == NULL) {
        return -1;
    }
    while (readdir(d) != NULL) {
        n++;
    }
    closedir(d);
    return n - 3; /* ".", "..", and the directory's own fd */
}

static sluice_role role_arg(const char *s) {
    return strcmp(s, "PRODUCER") == 0      ? SLUICE_ROLE_PRODUCER
           : strcmp(s, "PARTICIPANT") == 0 ? SLUICE_ROLE_PARTICIPANT
                                           : SLUICE_ROLE_CONSUMER;
}

/* pause-at: the library's test hook stops at this point until this file exists (the test, as the
   host, acts on the fd meanwhile). */
static const char *pause_point;
static const char *pause_file;

static void pause_hook(const char *point, int fd) {
    if (pause_point == NULL || strcmp(point, pause_point) != 0) {
        return;
    }
    say("PAUSED %s fd %d", point, fd);
    for (int i = 0; i < 60000 && access(pause_file, F_OK) != 0; i++) {
        sleep_ms(1);
    }
    if (access(pause_file, F_OK) != 0) {
        say("PAUSE-TIMEOUT %s", point);
    }
}

static int refused(int argc, char **argv) {
    sluice_role role = role_arg(argv[4]);
    sluice_attach_options o = {.socket_path = argv[2], .channel = argv[3], .role = role,
                               .timeout_ms = argc > 5 ? atoi(argv[5]) : 0};
    if (argc > 8 && strcmp(argv[6], "pause-at") == 0) {
        pause_point = argv[7];
        pause_file = argv[8];
        sluice_test_hook = pause_hook;
    }
    sluice_error err;
    sluice_channel *ch;
    int before = count_fds();
    int rc = sluice_attach(&o, &ch, &err);
    int after = count_fds();
    if (rc == SLUICE_OK) {
        say("ATTACHED (not refused)");
        sluice_detach(ch);
        return 0;
    }
    say("REFUSED %s %d %d %d: %s", rc == SLUICE_EREFUSED ? sluice_refusal_name(err.refusal) : sluice_code_name(rc),
        err.refusal, before, after, err.message);
    return 0;
}

/* Raw handshakes: what a broken or hostile peer sends. */

static int raw_connect(const char *path) {
    int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
    if (s < 0 || connect(s, (struct sockaddr *) &a, sizeof a) != 0) {
        say("CONNECT-FAILED %s", sluice_errno_name(errno));
        exit(3);
    }
    return s;
}

static void raw_send(int s, const void *buf, size_t len, const int *fds, int nfds) {
    union {
        char buf[CMSG_SPACE(4 * sizeof(int))];
        struct cmsghdr align;
    } control;
    struct iovec iov = {.iov_base = (void *) buf, .iov_len = len};
    struct msghdr m;
    memset(&m, 0, sizeof m);
    memset(&control, 0, sizeof control);
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    if (nfds > 0) {
        m.msg_control = control.buf;
        m.msg_controllen = CMSG_SPACE((size_t) nfds * sizeof(int));
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN((size_t) nfds * sizeof(int));
        memcpy(CMSG_DATA(c), fds, (size_t) nfds * sizeof(int));
    }
    if (sendmsg(s, &m, MSG_NOSIGNAL) < 0) {
        say("SEND-FAILED %s", sluice_errno_name(errno));
    }
}

/* Receives one message within 10 s; returns its length (0: closed), fds closed (counted in *nfds). */
static ssize_t raw_recv(int s, uint8_t *buf, size_t cap, int *nfds) {
    struct pollfd p = {.fd = s, .events = POLLIN};
    *nfds = 0;
    if (poll(&p, 1, 10000) <= 0) {
        return -1;
    }
    union {
        char buf[CMSG_SPACE(253 * sizeof(int))];
        struct cmsghdr align;
    } control;
    struct iovec iov = {.iov_base = buf, .iov_len = cap};
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = control.buf;
    m.msg_controllen = sizeof control.buf;
    ssize_t n = recvmsg(s, &m, MSG_CMSG_CLOEXEC);
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); n >= 0 && c != NULL; c = CMSG_NXTHDR(&m, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (size_t i = 0; i < k; i++) {
                int fd;
                memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
                close(fd);
                (*nfds)++;
            }
        }
    }
    return n;
}

static size_t put_header(uint8_t *b, uint32_t magic, uint16_t version, uint16_t type) {
    memcpy(b, &magic, 4);
    memcpy(b + 4, &version, 2);
    memcpy(b + 6, &type, 2);
    return 8;
}

static size_t hello(uint8_t *b, uint16_t version, uint16_t role, const char *name, size_t name_length, uint32_t flags) {
    put_header(b, 0x50434C53u, version, 1);
    uint16_t n = (uint16_t) name_length;
    memcpy(b + 8, &role, 2);
    memcpy(b + 10, &n, 2);
    memcpy(b + 12, &flags, 4);
    memcpy(b + 16, name, name_length);
    return 16 + name_length;
}

/* Prints the host's answer to the last message of a case: REFUSE, or that it hung up. */
static void answer(int s, const char *name) {
    uint8_t buf[2048];
    int nfds;
    ssize_t n = raw_recv(s, buf, sizeof buf, &nfds);
    if (n < 0) {
        say("CASE %s NO-ANSWER", name);
    } else if (n == 0) {
        say("CASE %s CLOSED", name);
    } else if (n >= 12 && buf[6] == 3) {
        uint16_t code, len;
        memcpy(&code, buf + 8, 2);
        memcpy(&len, buf + 10, 2);
        int shown = (int) (len <= n - 12 ? len : n - 12);
        say("CASE %s %s %u fds %d: %.*s", name, sluice_refusal_name(code), code, nfds, shown, (const char *) buf + 12);
    } else {
        say("CASE %s OTHER type %u, %zd bytes, %d fds", name, n >= 8 ? buf[6] : 0, n, nfds);
    }
}

static void simple_case(const char *path, const char *name, const uint8_t *msg, size_t len, const int *fds, int nfds) {
    int s = raw_connect(path);
    if (msg != NULL) {
        raw_send(s, msg, len, fds, nfds);
    }
    answer(s, name);
    close(s);
}

/* A memfd of `size` bytes with `seals`, holding a broadcast or SPSC position region header, or not. */
static int position_memfd(size_t size, int seals, bool formatted, uint64_t position) {
    int fd = memfd_create("sluice:test.position", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0 || ftruncate(fd, (off_t) size) != 0) {
        say("MEMFD-FAILED %s", sluice_errno_name(errno));
        exit(3);
    }
    if (formatted && size >= 384) {
        uint8_t h[384];
        memset(h, 0, sizeof h);
        uint64_t magic = 0x5043454349554C53ull; /* SLUICECP */
        uint32_t v = 1, kind = 1, hl = 128;
        uint64_t cap = 4096;
        memcpy(h, &magic, 8);
        memcpy(h + 8, &v, 4);
        memcpy(h + 12, &kind, 4);
        memcpy(h + 16, &hl, 4);
        memcpy(h + 24, &cap, 8);
        memcpy(h + 128, &position, 8);
        if (pwrite(fd, h, sizeof h, 0) != (ssize_t) sizeof h) {
            say("PWRITE-FAILED %s", sluice_errno_name(errno));
        }
    }
    if (seals != 0 && fcntl(fd, F_ADD_SEALS, seals) != 0) {
        say("SEAL-FAILED %s", sluice_errno_name(errno));
    }
    return fd;
}

/* HELLO as consumer of `channel` (an SPSC of capacity 4096), then the given POSITION. */
static void position_case(const char *path, const char *name, uint64_t size_field, int fd, int nfds_to_send) {
    char channel[64];
    snprintf(channel, sizeof channel, "pos-%s", name);
    int s = raw_connect(path);
    uint8_t msg[256];
    raw_send(s, msg, hello(msg, 1, 1, channel, strlen(channel), 0), NULL, 0);
    int nfds;
    ssize_t n = raw_recv(s, msg, sizeof msg, &nfds);
    if (n != 48 || msg[6] != 2 || nfds != 1) {
        say("CASE %s NO-WELCOME (%zd bytes, type %u, %d fds)", name, n, n >= 8 ? msg[6] : 0, nfds);
        close(s);
        return;
    }
    if (size_field != UINT64_MAX) { /* UINT64_MAX: send nothing at all (the host times out) */
        put_header(msg, 0x50434C53u, 1, 4);
        memcpy(msg + 8, &size_field, 8);
        int fds[2] = {fd, fd};
        raw_send(s, msg, 16, fds, nfds_to_send);
    }
    answer(s, name);
    close(s);
}

/* One position case with a fresh memfd that is wrong in one way (size, seals, format or start). */
static void bad_memfd_case(const char *path, const char *name, size_t size, int seals, bool formatted, uint64_t position) {
    int fd = position_memfd(size, seals, formatted, position);
    position_case(path, name, 384, fd, 1);
    close(fd);
}

static int malformed(char **argv) {
    const char *path = argv[2];
    uint8_t m[2048];
    size_t n;

    n = hello(m, 1, 1, "orders", 6, 0);
    m[0] ^= 0x55;
    simple_case(path, "bad-magic", m, n, NULL, 0);
    simple_case(path, "short-header", m, 5, NULL, 0);
    n = hello(m, 1, 1, "orders", 6, 0);
    simple_case(path, "truncated-hello", m, 12, NULL, 0);
    n = hello(m, 1, 9, "orders", 6, 0);
    simple_case(path, "unknown-role", m, n, NULL, 0);
    n = hello(m, 1, 0, "orders", 6, 0);
    simple_case(path, "role-zero", m, n, NULL, 0);
    n = hello(m, 1, 1, "", 0, 0);
    simple_case(path, "empty-name", m, n, NULL, 0);
    char longname[200];
    memset(longname, 'x', sizeof longname);
    n = hello(m, 1, 1, longname, 129, 0);
    simple_case(path, "name-too-long", m, n, NULL, 0);
    n = hello(m, 1, 1, "orders", 6, 0);
    uint16_t lie = 500;
    memcpy(m + 10, &lie, 2);
    simple_case(path, "name-length-mismatch", m, n, NULL, 0);
    n = hello(m, 1, 1, "orders", 6, 0x80);
    simple_case(path, "reserved-flags", m, n, NULL, 0);
    n = hello(m, 1, 1, "\xff\xfe", 2, 0);
    simple_case(path, "name-not-utf8", m, n, NULL, 0);
    n = put_header(m, 0x50434C53u, 1, 5);
    memset(m + 8, 0, 8);
    simple_case(path, "ready-instead-of-hello", m, 16, NULL, 0);
    n = hello(m, 1, 1, "orders", 6, 0);
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
        return 3;
    }
    simple_case(path, "hello-with-fd", m, n, pipe_fds, 1);
    n = hello(m, 2, 1, "orders", 6, 0);
    simple_case(path, "version-2", m, n, NULL, 0);
    n = hello(m, 1, 1, "nope", 4, 0);
    simple_case(path, "unknown-channel", m, n, NULL, 0);
    n = hello(m, 1, 2, "orders", 6, 0);
    simple_case(path, "producer-on-spsc", m, n, NULL, 0);
    simple_case(path, "silent", NULL, 0, NULL, 0);

    int sealed = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE;
    position_case(path, "pipe", 384, pipe_fds[0], 1);
    bad_memfd_case(path, "unsealed", 384, 0, true, 0);
    bad_memfd_case(path, "no-future-write", 384, F_SEAL_SHRINK | F_SEAL_GROW, true, 0);
    bad_memfd_case(path, "too-small", 128, sealed, false, 0);
    bad_memfd_case(path, "not-formatted", 384, sealed, false, 0);
    bad_memfd_case(path, "wrong-start", 384, sealed, true, 4096);
    int fd = position_memfd(384, sealed, true, 0);
    position_case(path, "size-field-lies", 4096, fd, 1);
    position_case(path, "no-fd", 384, fd, 0);
    position_case(path, "two-fds", 384, fd, 2);
    position_case(path, "silent-after-welcome", UINT64_MAX, fd, 0);
    close(fd);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    say("END");
    return 0;
}

static int chatty(char **argv) {
    sluice_channel *ch = attach_or_exit(argv[2], argv[3], SLUICE_ROLE_CONSUMER, SLUICE_START_NEWEST);
    say("ATTACHED");
    uint8_t m[16];
    put_header(m, 0x50434C53u, 1, 4);
    memset(m + 8, 0, 8);
    raw_send(sluice_socket_fd(ch), m, sizeof m, NULL, 0);
    for (int i = 0; i < 10000 && sluice_host_alive(ch); i++) {
        sleep_ms(1);
    }
    say(sluice_host_alive(ch) ? "STILL-CONNECTED" : "DROPPED");
    sluice_detach(ch);
    return 0;
}

typedef struct {
    sluice_channel *pong;
    uint64_t echoed;
} echo_state;

static void on_ping(void *ctx, int32_t type, const void *payload, uint32_t length) {
    echo_state *e = ctx;
    int rc;
    while ((rc = sluice_mpmc_offer(e->pong, type, payload, length)) == SLUICE_FULL) {
        idle(0);
    }
    if (rc != SLUICE_OK) {
        ring_error_exit(e->pong, rc);
    }
    e->echoed++;
}

static int echo(char **argv) {
    sluice_channel *ping = attach_or_exit(argv[2], argv[3], SLUICE_ROLE_CONSUMER, SLUICE_START_NEWEST);
    echo_state e = {.pong = attach_or_exit(argv[2], argv[4], SLUICE_ROLE_PRODUCER, SLUICE_START_NEWEST)};
    uint64_t count = arg_u64(argv[5]);
    say("ATTACHED");
    while (e.echoed < count) {
        int n = sluice_poll(ping, on_ping, &e, 16);
        if (n < 0) {
            ring_error_exit(ping, n);
        }
    }
    say("ECHOED %" PRIu64, e.echoed);
    sluice_detach(e.pong);
    sluice_detach(ping);
    return 0;
}

/* ---- hostile hosts, seen from the client: DETACH, fd hygiene ------------------------------------ */

static const char *access_mode_name(int fd) {
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0) {
        return "F_GETFL-failed";
    }
    switch (fl & O_ACCMODE) {
        case O_RDONLY: return "O_RDONLY";
        case O_WRONLY: return "O_WRONLY";
        default: return "O_RDWR";
    }
}

static void count_message(void *ctx, int32_t type, const void *payload, uint32_t length) {
    (void) type;
    (void) payload;
    (void) length;
    (*(uint64_t *) ctx)++;
}

/* Attached until the host is gone (bounded: 60 s): what sluice_last_error says then. */
static void await_host_gone(sluice_channel *ch, bool block, uint64_t *count) {
    for (int i = 0; i < 60000; i++) {
        int n = block ? sluice_poll_blocking(ch, count_message, count, 64, 1) : sluice_poll(ch, count_message, count, 64);
        if (n == SLUICE_EHOSTGONE || (n == 0 && !block && !sluice_host_alive(ch) &&
                                      sluice_poll(ch, count_message, count, 64) == 0)) {
            const sluice_error *e = sluice_last_error(ch);
            say("HOSTGONE %s refusal %d after %" PRIu64 " messages: %s", sluice_code_name(e->code), e->refusal, *count,
                e->message);
            return;
        }
        if (n < 0) {
            ring_error_exit(ch, n);
        }
        if (n == 0 && !block) {
            sleep_ms(1);
        }
    }
    say("STILL-ATTACHED");
}

static int64_t peer_monotonic_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct block_check {
    int64_t expected;
    int64_t got;
    bool wrong;
};

static void on_block_message(void *ctx, int32_t type, const void *payload, uint32_t length) {
    (void) type;
    struct block_check *c = ctx;
    int64_t seq = -1;
    if (length >= 8) {
        memcpy(&seq, payload, 8);
    }
    c->got = seq;
    c->wrong |= seq != c->expected;
}

/* Sleeps in sluice_poll_blocking for each message the Java producer sends, then times out once. */
static int block_consume(int argc, char **argv) {
    (void) argc;
    sluice_channel *ch = attach_or_exit(argv[2], argv[3], SLUICE_ROLE_CONSUMER, SLUICE_START_OLDEST);
    say("ATTACHED %d %s", (int) sluice_channel_kind(ch), sluice_can_block(ch) ? "can-block" : "no-block");
    long count = atol(argv[4]);
    for (long i = 0; i < count; i++) {
        struct block_check c = {.expected = i, .got = -1};
        say("PARKING %ld", i);
        int n;
        while ((n = sluice_poll_blocking(ch, on_block_message, &c, 1, 60000)) == 0) {
        }
        if (n < 0) {
            ring_error_exit(ch, n);
        }
        if (c.wrong) {
            say("WRONG expected %ld got %" PRId64, i, c.got);
            sluice_detach(ch);
            return 4;
        }
        say("GOT %ld", i);
    }
    struct block_check none = {.expected = -1, .got = -1};
    int64_t start = peer_monotonic_ms();
    int n = sluice_poll_blocking(ch, on_block_message, &none, 1, 100);
    say("TIMEOUT %d %" PRId64 " ms", n, peer_monotonic_ms() - start);
    sluice_detach(ch);
    return 0;
}

static int until_gone(int argc, char **argv) {
    bool block = argc > 4 && strcmp(argv[4], "block") == 0;
    sluice_channel *ch = attach_or_exit(argv[2], argv[3], SLUICE_ROLE_CONSUMER, SLUICE_START_NEWEST);
    say("ATTACHED %d data fd %s", (int) sluice_channel_kind(ch), access_mode_name(sluice_data_fd(ch)));
    uint64_t count = 0;
    await_host_gone(ch, block, &count);
    sluice_detach(ch);
    return 0;
}

/* N attaches in a row, whatever each answers; the fds open before the first and after the last. */
static int attach_loop(int argc, char **argv) {
    sluice_attach_options o = {.socket_path = argv[2], .channel = argv[3], .role = role_arg(argv[4]),
                               .timeout_ms = argc > 6 ? atoi(argv[6]) : 2000};
    long n = atol(argv[5]);
    int before = count_fds();
    long attached = 0;
    for (long i = 0; i < n; i++) {
        sluice_error err;
        sluice_channel *ch;
        int rc = sluice_attach(&o, &ch, &err);
        if (rc == SLUICE_OK) {
            attached++;
            uint64_t count = 0;
            say("TRY %ld ATTACHED", i);
            await_host_gone(ch, false, &count);
            sluice_detach(ch);
        } else {
            say("TRY %ld %s: %s", i, sluice_code_name(rc), err.message);
        }
    }
    say("LOOPED %ld attached %ld fds %d %d", n, attached, before, count_fds());
    return 0;
}

/* ---- attack: every way to write a sealed, read-only data region (SPSC, broadcast consumers) ------- */

static int attacks_allowed;

static void attack(const char *name, bool failed, int err) {
    say("ATTACK %s %s %s", name, failed ? "refused" : "ALLOWED", failed ? sluice_errno_name(err) : "-");
    if (!failed) {
        attacks_allowed++;
    }
}

#define ATTACK_BYTE 0xA5

static int attack_writes(int argc, char **argv) {
    sluice_start start = argc > 4 && strcmp(argv[4], "oldest") == 0 ? SLUICE_START_OLDEST : SLUICE_START_NEWEST;
    sluice_channel *ch = attach_or_exit(argv[2], argv[3], SLUICE_ROLE_CONSUMER, start);
    const int fd = sluice_data_fd(ch);
    const size_t size = sluice_data_size(ch);
    uint8_t *const mapping = (uint8_t *) (uintptr_t) sluice_data(ch); /* PROT_READ: the attacks try to change that */
    const long page = sysconf(_SC_PAGESIZE);
    const off_t off = (off_t) (size / 2) & ~(off_t) 7;             /* inside the data area */
    const off_t page_off = (off_t) (size / 2) & ~(off_t) (page - 1);
    const uint8_t byte = ATTACK_BYTE;
    int ok;
    say("ATTACHED %d size %zu data fd %s", (int) sluice_channel_kind(ch), size, access_mode_name(fd));

    void *w = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    attack("mmap-shared-write", w == MAP_FAILED, errno);
    if (w != MAP_FAILED) {
        ((volatile uint8_t *) w)[off] = byte;
        munmap(w, size);
    }

    ok = mprotect(mapping, size, PROT_READ | PROT_WRITE) == 0;
    attack("mprotect-write", !ok, errno);
    if (ok) {
        ((volatile uint8_t *) mapping)[off] = byte;
        mprotect(mapping, size, PROT_READ);
    }

    ok = madvise(mapping + page_off, (size_t) page, MADV_REMOVE) == 0; /* would punch a hole: zeroes */
    attack("madvise-remove", !ok, errno);

    int mem = open("/proc/self/mem", O_RDWR | O_CLOEXEC); /* FOLL_FORCE writes: not through a shared mapping */
    if (mem < 0) {
        attack("proc-self-mem-write", true, errno);
    } else {
        ok = pwrite(mem, &byte, 1, (off_t) (uintptr_t) (mapping + off)) == 1;
        attack("proc-self-mem-write", !ok, errno);
        close(mem);
    }

    ok = lseek(fd, off, SEEK_SET) == off && write(fd, &byte, 1) == 1;
    attack("write", !ok, errno);
    ok = pwrite(fd, &byte, 1, off) == 1;
    attack("pwrite", !ok, errno);
    ok = ftruncate(fd, (off_t) size > page ? (off_t) size - page : 0) == 0;
    attack("ftruncate-shrink", !ok, errno);
    ok = ftruncate(fd, (off_t) size * 2) == 0;
    attack("ftruncate-grow", !ok, errno);
    ok = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, page_off, page) == 0;
    attack("fallocate-punch-hole", !ok, errno);
    ok = fallocate(fd, 0, (off_t) size, page) == 0;
    attack("fallocate-grow", !ok, errno);

    static const struct {
        int bit;
        const char *name;
    } seals[] = {{F_SEAL_SHRINK, "add-seal-SHRINK"}, {F_SEAL_GROW, "add-seal-GROW"}, {F_SEAL_WRITE, "add-seal-WRITE"},
                 {F_SEAL_FUTURE_WRITE, "add-seal-FUTURE_WRITE"}, {0x0020 /* F_SEAL_EXEC */, "add-seal-EXEC"},
                 {F_SEAL_SEAL, "add-seal-SEAL"}};
    for (size_t i = 0; i < sizeof seals / sizeof seals[0]; i++) {
        ok = fcntl(fd, F_ADD_SEALS, seals[i].bit) == 0;
        attack(seals[i].name, !ok, errno);
    }

    struct stat st;
    if (fstat(fd, &st) != 0) {
        attack("fchmod", true, errno);
    } else {
        ok = fchmod(fd, (st.st_mode & 07777) ^ 0004) == 0; /* toggles "others may read"; put back below */
        attack("fchmod", !ok, errno);
        if (ok) {
            fchmod(fd, st.st_mode & 07777);
        }
    }

    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    int rw = open(path, O_RDWR | O_CLOEXEC);
    int open_errno = errno;
    attack("reopen-rdwr", rw < 0, open_errno);
    if (rw < 0) { /* nothing to try through it: refused by the open */
        attack("reopen-mmap-write", true, open_errno);
        attack("reopen-pwrite", true, open_errno);
        attack("reopen-add-seal-SEAL", true, open_errno);
    } else {
        w = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, rw, 0);
        attack("reopen-mmap-write", w == MAP_FAILED, errno);
        if (w != MAP_FAILED) {
            ((volatile uint8_t *) w)[off] = byte;
            munmap(w, size);
        }
        ok = pwrite(rw, &byte, 1, off) == 1;
        attack("reopen-pwrite", !ok, errno);
        ok = fcntl(rw, F_ADD_SEALS, F_SEAL_SEAL) == 0;
        attack("reopen-add-seal-SEAL", !ok, errno);
        close(rw);
    }
    say("ATTACKS-DONE allowed %d", attacks_allowed);
    sluice_detach(ch);
    return 0;
}

/* ---- commands on stdin (lie-position, mpmc-garbage) ---------------------------------------------- */

static bool parse_i64(const char *s, int64_t *v) {
    if (s == NULL) {
        return false;
    }
    char *end;
    errno = 0;
    *v = s[0] == '-' ? (int64_t) strtoll(s, &end, 0) : (int64_t) strtoull(s, &end, 0);
    return errno == 0 && end != s && (*end == '\0' || *end == '\n');
}

static void say_alive(sluice_channel *ch) {
    if (sluice_host_alive(ch)) {
        say("ALIVE");
    } else {
        const sluice_error *e = sluice_last_error(ch);
        say("HOSTGONE %s refusal %d: %s", sluice_code_name(e->code), e->refusal, e->message);
    }
}

/* A consumer that publishes positions it never reached (docs: the command list at the top). */
static int lie_position(int argc, char **argv) {
    sluice_start start = argc > 4 && strcmp(argv[4], "oldest") == 0 ? SLUICE_START_OLDEST : SLUICE_START_NEWEST;
    sluice_channel *ch = attach_or_exit(argv[2], argv[3], SLUICE_ROLE_CONSUMER, start);
    _Atomic int64_t *word = sluice_test_position_word(ch);
    if (word == NULL) {
        say("NOT-A-POSITION-CONSUMER kind %d", (int) sluice_channel_kind(ch));
        sluice_detach(ch);
        return 4;
    }
    const uint8_t *region = sluice_data(ch);
    const sluice_kind kind = sluice_channel_kind(ch);
    int64_t capacity;
    memcpy(&capacity, region + 24, 8);
    say("ATTACHED %d position %" PRId64 " capacity %" PRId64, (int) kind, sluice_test_true_position(ch), capacity);
    char line[256];
    while (fgets(line, sizeof line, stdin) != NULL) {
        char *cmd = strtok(line, " \n");
        char *arg = strtok(NULL, " \n");
        if (cmd == NULL) {
            continue;
        }
        int64_t truth = sluice_test_true_position(ch);
        int64_t v = 0, n = 0;
        bool publish = true;
        if (strcmp(cmd, "set") == 0 && parse_i64(arg, &n)) {
            v = n;
        } else if (strcmp(cmd, "ahead") == 0 && parse_i64(arg, &n)) {
            v = truth + n;
        } else if (strcmp(cmd, "behind") == 0 && parse_i64(arg, &n)) {
            v = truth - n;
        } else if (strcmp(cmd, "beyond") == 0) {
            /* broadcast: past the ring's tail; SPSC (no tail in the ring): a whole capacity past us,
               which no producer can have reached */
            int64_t tail = kind == SLUICE_KIND_SPSC ? truth + capacity
                                                    : atomic_load_explicit((const _Atomic int64_t *) (const void *) (region + 136),
                                                                           memory_order_acquire);
            v = tail + 8;
        } else if (strcmp(cmd, "unaligned") == 0) {
            v = truth + 4;
        } else if (strcmp(cmd, "negative") == 0) {
            v = -8;
        } else if (strcmp(cmd, "inside") == 0) {
            v = truth + 8; /* inside the record at our position, if there is one */
        } else if (strcmp(cmd, "restore") == 0) {
            v = truth;
        } else if (strcmp(cmd, "poll") == 0 && parse_i64(arg, &n) && n > 0) {
            publish = false;
            uint64_t count = 0;
            int got = sluice_poll(ch, count_message, &count, (int) n);
            if (got < 0) {
                say("RING-ERROR %s: %s", sluice_code_name(got), sluice_last_error(ch)->message);
            } else {
                say("POLLED %d position %" PRId64, got, sluice_test_true_position(ch));
            }
        } else if (strcmp(cmd, "alive") == 0) {
            publish = false;
            say_alive(ch);
        } else if (strcmp(cmd, "exit") == 0) {
            break;
        } else {
            publish = false;
            say("BAD-COMMAND %s", cmd);
        }
        if (publish) {
            atomic_store_explicit(word, v, memory_order_release);
            say("PUBLISHED %" PRId64 " true %" PRId64, v, truth);
        }
    }
    say("BYE");
    sluice_detach(ch);
    return 0;
}

/* An MPMC participant that writes garbage into the ring's control words (docs: the top of the file). */
static int mpmc_garbage(int argc, char **argv) {
    sluice_channel *ch = attach_or_exit(argv[2], argv[3], argc > 4 ? role_arg(argv[4]) : SLUICE_ROLE_PARTICIPANT,
                                SLUICE_START_NEWEST);
    if (sluice_channel_kind(ch) != SLUICE_KIND_MPMC) {
        say("NOT-MPMC kind %d", (int) sluice_channel_kind(ch));
        sluice_detach(ch);
        return 4;
    }
    uint8_t *region = (uint8_t *) (uintptr_t) sluice_data(ch); /* MPMC: mapped read-write */
    const size_t size = sluice_data_size(ch);
    uint32_t slot_length, slot_count;
    memcpy(&slot_length, region + 20, 4);
    memcpy(&slot_count, region + 32, 4);
    say("ATTACHED %u slots %u length %u", sluice_participant_id(ch), slot_count, slot_length);
    char line[256];
    while (fgets(line, sizeof line, stdin) != NULL) {
        char *cmd = strtok(line, " \n");
        char *a1 = strtok(NULL, " \n");
        char *a2 = strtok(NULL, " \n");
        if (cmd == NULL) {
            continue;
        }
        int64_t x = 0, v = 0;
        size_t at = 0;
        int width = 8;
        bool ok = true;
        if ((strcmp(cmd, "slot") == 0 || strcmp(cmd, "type") == 0 || strcmp(cmd, "length") == 0) && parse_i64(a1, &x) &&
            parse_i64(a2, &v) && x >= 0 && (uint64_t) x < slot_count) {
            at = 512 + (size_t) x * slot_length + (cmd[0] == 's' ? 0 : cmd[0] == 't' ? 8 : 12);
            width = cmd[0] == 's' ? 8 : 4;
        } else if ((strcmp(cmd, "tail") == 0 || strcmp(cmd, "head") == 0) && parse_i64(a1, &v)) {
            at = cmd[0] == 't' ? 128 : 256;
        } else if ((strcmp(cmd, "u64") == 0 || strcmp(cmd, "u32") == 0) && parse_i64(a1, &x) && parse_i64(a2, &v) &&
                   x >= 0 && (uint64_t) x + (cmd[1] == '6' ? 8 : 4) <= size && x % (cmd[1] == '6' ? 8 : 4) == 0) {
            at = (size_t) x;
            width = cmd[1] == '6' ? 8 : 4;
        } else if (strcmp(cmd, "alive") == 0) {
            say_alive(ch);
            continue;
        } else if (strcmp(cmd, "exit") == 0) {
            break;
        } else {
            ok = false;
        }
        if (!ok) {
            say("BAD-COMMAND %s", cmd);
            continue;
        }
        uint64_t old;
        if (width == 8) {
            _Atomic int64_t *p = (_Atomic int64_t *) (void *) (region + at);
            old = (uint64_t) atomic_exchange_explicit(p, v, memory_order_acq_rel);
        } else {
            _Atomic int32_t *p = (_Atomic int32_t *) (void *) (region + at);
            old = (uint32_t) atomic_exchange_explicit(p, (int32_t) v, memory_order_acq_rel);
        }
        say("WROTE %s offset %zu: 0x%" PRIx64 " -> 0x%" PRIx64, cmd, at, old,
            width == 8 ? (uint64_t) v : (uint64_t) (uint32_t) v);
    }
    say("BYE");
    sluice_detach(ch);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: see the comment at the top of sluice_peer.c\n");
        return 2;
    }
    const char *mode = argv[1];
    int rc = 2;
    if (strcmp(mode, "spsc") == 0) {
        rc = spsc(argc, argv);
    } else if (strcmp(mode, "spsc-hold") == 0) {
        rc = spsc_hold(argc, argv);
    } else if (strcmp(mode, "bcast") == 0) {
        rc = bcast(argc, argv);
    } else if (strcmp(mode, "mpmc-consume") == 0) {
        rc = mpmc_consume(argc, argv);
    } else if (strcmp(mode, "mpmc-produce") == 0) {
        rc = mpmc_produce(argc, argv);
    } else if (strcmp(mode, "mpmc-claim-die") == 0 && argc >= 4) {
        rc = mpmc_claim_die(argv);
    } else if (strcmp(mode, "mpmc-take-die") == 0 && argc >= 4) {
        rc = mpmc_take_die(argv);
    } else if (strcmp(mode, "refused") == 0 && argc >= 5) {
        rc = refused(argc, argv);
    } else if (strcmp(mode, "malformed") == 0) {
        rc = malformed(argv);
    } else if (strcmp(mode, "echo") == 0 && argc >= 6) {
        rc = echo(argv);
    } else if (strcmp(mode, "chatty") == 0 && argc >= 4) {
        rc = chatty(argv);
    } else if (strcmp(mode, "block") == 0 && argc >= 5) {
        rc = block_consume(argc, argv);
    } else if (strcmp(mode, "until-gone") == 0 && argc >= 4) {
        rc = until_gone(argc, argv);
    } else if (strcmp(mode, "attach-loop") == 0 && argc >= 6) {
        rc = attach_loop(argc, argv);
    } else if (strcmp(mode, "attack-writes") == 0 && argc >= 4) {
        rc = attack_writes(argc, argv);
    } else if (strcmp(mode, "lie-position") == 0 && argc >= 4) {
        rc = lie_position(argc, argv);
    } else if (strcmp(mode, "mpmc-garbage") == 0 && argc >= 4) {
        rc = mpmc_garbage(argc, argv);
    }
    if (rc == 2) {
        fprintf(stderr, "bad arguments for mode '%s'\n", mode);
    }
    return rc;
}
