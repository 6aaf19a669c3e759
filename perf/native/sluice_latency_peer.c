/*
 * Sluice perf: the C client (fd-passing/native) as one side of a run of the latency
 * harness, for the sluice-java-c row (this is B, echoing) and the sluice-c-java row (this is A,
 * timing). The other side is a JVM running io.sluice.perf.latency.PeerMain that hosts the two
 * channels (SluiceMixedRows): this process attaches to SPSC_CHANNEL as its consumer (the host
 * sends on it) and to MPMC_CHANNEL as a producer (the host consumes it). A C client cannot be
 * an SPSC producer (that producer is always its host), hence the MPMC channel back.
 *
 *   sluice_latency_peer A|B CONTROL SOCKET SPSC_CHANNEL MPMC_CHANNEL key=value...
 *
 * The key=value arguments are the run spec as RunSpec.toArgs() writes it (ping-pong only). The
 * launcher (LatencyMain) starts it pinned with taskset to the CPU of its side, A 0 and B 1.
 *
 * Protocol: the same as PeerMain's, step for step, on the same 4 KiB control file (Control.java:
 * little-endian longs; bracket ping at 0, pong at 128, A's phase at 256, B's at 384, the settle
 * decision at 768), so that the JVM on the other side cannot tell it from a JVM peer:
 *   sync 1 (meet); sync 2 (A has opened; B opens after it; here opening is nothing, the JVM is
 *   the host); sync 3; attach (retrying for 30 s) and pre-touch, PeerMain's awaitReady; sync 4;
 *   settle (raw ping-pong in batches of 10,000 until A says stop); raw bracket before; sync 5;
 *   warm-up batches; sync 6; measured slices; sync 7; raw bracket after; sync 8; detach; write
 *   <output>-A.properties or -B.
 * The bracket round-trip number runs on from the settle batches through both brackets, on both
 * sides alike, as Control's does.
 *
 * Messages are the harness's: messageSize bytes, the first 8 a little-endian long (the ping's
 * sequence number), then the payload the sender writes every time (Payload.of's pattern); the
 * echo sends the value it received with the payload written again, as Loops.echo does. Every
 * wait of the measured loops and of the brackets is a bare busy spin, as in Loops and Control:
 * no pause instruction, no yield, no sleep. A times each round trip with
 * clock_gettime(CLOCK_MONOTONIC), the clock System.nanoTime() reads.
 *
 * Output: A writes every measured round trip and both brackets' round trips as little-endian
 * int64 files (<output>-A-measured.bin, -bracketPre.bin, -bracketPost.bin, as rawpingpong.c
 * does; the launcher records them into HdrHistograms and deletes them) and names them in its
 * properties (histogram.measured.bin, ...), with slices.p50 (nearest rank per slice). B writes
 * role=B. On any failure the side writes error=... and exits 1.
 *
 * Bounds: sync points and the settle decision give up after 120 s (Control's default), attaching
 * after 30 s; the measured and bracket loops spin unbounded, as PeerMain's do, and a peer that
 * died there is killed by the launcher's run timeout.
 *
 * Built by perf/run-latency.sh: gcc -O2 -Wall -Wextra -I fd-passing/native with every .c file of fd-passing/native.
 */
#define _GNU_SOURCE
#include "sluice.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "probe.h"

#define CONTROL_SIZE 4096
#define PING 0
#define PONG 128
#define PHASE_A 256
#define PHASE_B 384
#define SETTLE 768
#define SETTLE_BATCH 10000
#define BRACKET_BATCH 10000
#define SYNC_TIMEOUT_NS (120LL * 1000000000LL)
#define ATTACH_TIMEOUT_NS (30LL * 1000000000LL)
#define EMPTY INT64_MIN /* Endpoint.EMPTY */
#define MESSAGE_TYPE 1  /* what the JVM sides send */

/* The run spec (RunSpec's keys); ring capacity, rate and work folder are the host's business. */
typedef struct {
    const char *system;
    const char *scenario;
    const char *output;
    long message_size;
    long warmup_batches;
    long batch_size;
    long slices;
    long slice_size;
    long settle_millis;
    long bracket_warmup;
    long bracket_count;
} run_spec;

/* One side's view of the two channels: the Endpoint of the JVM sides, in C. */
typedef struct {
    sluice_channel *down; /* SPSC, host to us: we consume */
    sluice_channel *up;   /* MPMC, us to host: we produce */
    uint8_t *payload;     /* message_size - 8 bytes */
    uint32_t size;
    int64_t received;
} endpoint;

static const char *side = "?";
static const char *output_base; /* set once the spec is parsed: where failures are reported */
static bool initiator;
static _Atomic int64_t *ping_word, *pong_word, *phase_mine, *phase_theirs, *settle_word;
static int64_t bracket_sequence;

/* Thread.onSpinWait(): only in the waits PeerMain spins politely in (sync points, settle decision). */
static inline void spin_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* A value for a .properties file: one line, Latin-1-safe, backslashes escaped. */
static void put_value(FILE *f, const char *v) {
    for (; *v; v++) {
        unsigned char c = (unsigned char) *v;
        if (c == '\\') {
            fputs("\\\\", f);
        } else if (c < 0x20 || c > 0x7e) {
            fputc(' ', f);
        } else {
            fputc(c, f);
        }
    }
    fputc('\n', f);
}

static FILE *open_properties(void) {
    char path[4096];
    snprintf(path, sizeof path, "%s-%s.properties", output_base, side);
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "%s: cannot write %s: %s\n", side, path, strerror(errno));
        return NULL;
    }
    fprintf(f, "# sluice_latency_peer %s\nrole=%s\npid=%ld\n", side, side, (long) getpid());
    return f;
}

/* Reports the failure where the launcher looks (error=... in the properties) and exits. */
static _Noreturn void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static _Noreturn void fail(const char *fmt, ...) {
    char message[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s failed: %s\n", side, message);
    if (output_base != NULL) {
        FILE *f = open_properties();
        if (f != NULL) {
            fputs("error=", f);
            put_value(f, message);
            fclose(f);
        }
    }
    exit(1);
}

/* ---- the control file (Control.java) ------------------------------------------------------------ */

static void map_control(const char *path) {
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        fail("control file %s: %s", path, strerror(errno));
    }
    uint8_t *c = mmap(NULL, CONTROL_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (c == MAP_FAILED) {
        fail("control file %s: mmap: %s", path, strerror(errno));
    }
    atomic_fetch_add((_Atomic int64_t *) (c + 3 * 8), 0); /* pre-touch: a write fault now, none later */
    ping_word = (_Atomic int64_t *) (c + PING);
    pong_word = (_Atomic int64_t *) (c + PONG);
    phase_mine = (_Atomic int64_t *) (c + (initiator ? PHASE_A : PHASE_B));
    phase_theirs = (_Atomic int64_t *) (c + (initiator ? PHASE_B : PHASE_A));
    settle_word = (_Atomic int64_t *) (c + SETTLE);
}

/* Control.sync: publish that we reached `phase`, wait until the other side has too. */
static void sync_point(int64_t phase) {
    atomic_store_explicit(phase_mine, phase, memory_order_release);
    int64_t deadline = now_ns() + SYNC_TIMEOUT_NS;
    unsigned spins = 0;
    while (atomic_load_explicit(phase_theirs, memory_order_acquire) < phase) {
        spin_pause();
        if (++spins == 1u << 16) {
            spins = 0;
            if (now_ns() > deadline) {
                fail("the other peer did not reach sync point %" PRId64 " within %lld s", phase, SYNC_TIMEOUT_NS / 1000000000LL);
            }
        }
    }
}

/* Control.bracketInitiateBatch: n raw round trips, each recorded into rtt[i] unless rtt is NULL. */
static void bracket_initiate_batch(long n, int64_t *rtt) {
    int64_t s = bracket_sequence;
    for (long i = 0; i < n; i++) {
        s++;
        int64_t t0 = now_ns();
        atomic_store_explicit(ping_word, s, memory_order_release);
        while (atomic_load_explicit(pong_word, memory_order_acquire) != s) {
            /* spin: this is the machine's limit, nothing between the two loads */
        }
        int64_t t1 = now_ns();
        if (rtt != NULL) {
            rtt[i] = t1 - t0;
        }
    }
    bracket_sequence = s;
}

static void bracket_respond_batch(long n) {
    int64_t s = bracket_sequence;
    for (long i = 0; i < n; i++) {
        s++;
        while (atomic_load_explicit(ping_word, memory_order_acquire) != s) {
            /* spin */
        }
        atomic_store_explicit(pong_word, s, memory_order_release);
    }
    bracket_sequence = s;
}

/* Control.settleInitiate: raw ping-pong for `millis`, whole batches; the settle word says go on (+n) or stop (-n). */
static void settle_initiate(long millis) {
    int64_t end = now_ns() + (int64_t) millis * 1000000L;
    for (int64_t batch = 1;; batch++) {
        bracket_initiate_batch(SETTLE_BATCH, NULL);
        bool more = now_ns() < end;
        atomic_store_explicit(settle_word, more ? batch : -batch, memory_order_release);
        if (!more) {
            return;
        }
    }
}

static void settle_respond(void) {
    for (int64_t batch = 1;; batch++) {
        bracket_respond_batch(SETTLE_BATCH);
        int64_t deadline = now_ns() + SYNC_TIMEOUT_NS;
        unsigned spins = 0;
        int64_t decision;
        while (llabs(decision = atomic_load_explicit(settle_word, memory_order_acquire)) != batch) {
            spin_pause();
            if (++spins == 1u << 16) {
                spins = 0;
                if (now_ns() > deadline) {
                    fail("no settle decision for batch %" PRId64 " within %lld s", batch, SYNC_TIMEOUT_NS / 1000000000LL);
                }
            }
        }
        if (decision < 0) {
            return;
        }
    }
}

/* Control.bracketInitiate / bracketRespond: `warmup` uncounted round trips, then `count` into rtt. */
static void bracket(const run_spec *s, int64_t *rtt) {
    if (initiator) {
        for (long done = 0; done < s->bracket_warmup; done += BRACKET_BATCH) {
            long n = s->bracket_warmup - done < BRACKET_BATCH ? s->bracket_warmup - done : BRACKET_BATCH;
            bracket_initiate_batch(n, NULL);
        }
        for (long done = 0; done < s->bracket_count; done += BRACKET_BATCH) {
            long n = s->bracket_count - done < BRACKET_BATCH ? s->bracket_count - done : BRACKET_BATCH;
            bracket_initiate_batch(n, rtt + done);
        }
    } else {
        long total = s->bracket_warmup + s->bracket_count;
        for (long done = 0; done < total; done += BRACKET_BATCH) {
            bracket_respond_batch(total - done < BRACKET_BATCH ? total - done : BRACKET_BATCH);
        }
    }
}

/* ---- the channels (the Endpoint of SluiceAttacherEndpoint, in C) --------------------------------- */

static sluice_channel *attach(const char *socket, const char *channel, sluice_role role, sluice_kind kind, int64_t deadline) {
    for (;;) {
        sluice_attach_options o = {.socket_path = socket, .channel = channel, .role = role, .kinds = SLUICE_KIND_MASK(kind)};
        sluice_error err;
        sluice_channel *ch;
        if (sluice_attach(&o, &ch, &err) == SLUICE_OK) {
            return ch;
        }
        if (now_ns() > deadline) {
            fail("cannot attach to '%s' on %s: %s: %s", channel, socket, sluice_code_name(err.code), err.message);
        }
        struct timespec ms = {.tv_sec = 0, .tv_nsec = 1000000L}; /* not measured: the host's socket may not be there yet */
        nanosleep(&ms, NULL);
    }
}

static _Noreturn void ring_failed(sluice_channel *ch, int rc, const char *what) {
    fail("%s: %s: %s", what, sluice_code_name(rc), sluice_last_error(ch)->message);
}

/* PeerMain's awaitReady: attach to both channels, then pre-touch every page of both mappings. */
static void attach_both(endpoint *e, const char *socket, const char *spsc, const char *mpmc) {
    int64_t deadline = now_ns() + ATTACH_TIMEOUT_NS;
    e->down = attach(socket, spsc, SLUICE_ROLE_CONSUMER, SLUICE_KIND_SPSC, deadline);
    e->up = attach(socket, mpmc, SLUICE_ROLE_PRODUCER, SLUICE_KIND_MPMC, deadline);
    if (sluice_max_message_length(e->up) < e->size) {
        fail("'%s' takes messages of up to %u bytes, not %u", mpmc, sluice_max_message_length(e->up), e->size);
    }
    const volatile uint8_t *in = sluice_data(e->down); /* read-only: a read fault */
    uint64_t sum = 0;
    for (size_t at = 0; at < sluice_data_size(e->down); at += 4096) {
        sum += in[at];
    }
    (void) sum;
    uint8_t *out = (uint8_t *) sluice_data(e->up); /* mapped read-write; the host maps it too: add zero */
    for (size_t at = 0; at < sluice_data_size(e->up); at += 4096) {
        atomic_fetch_add((_Atomic int64_t *) (out + at), 0);
    }
}

static void on_message(void *ctx, int32_t type, const void *payload, uint32_t length) {
    (void) type;
    (void) length;
    endpoint *e = ctx;
    memcpy(&e->received, payload, 8); /* the value, read in place; little-endian hosts only (sluice.h) */
}

/* Endpoint.poll: the next message's value, or EMPTY at once. */
static inline int64_t ep_poll(endpoint *e) {
    e->received = EMPTY;
    int n = sluice_poll(e->down, on_message, e, 1);
    if (n < 0) {
        ring_failed(e->down, n, "poll");
    }
    return e->received;
}

/* Endpoint.send: claim a slot (spin while full), write the value and the payload in place, commit. */
static inline void ep_send(endpoint *e, int64_t value) {
    void *at;
    int rc;
    while ((rc = sluice_mpmc_try_claim(e->up, MESSAGE_TYPE, e->size, &at)) == SLUICE_FULL) {
        /* full: spin */
    }
    if (rc != SLUICE_OK) {
        ring_failed(e->up, rc, "claim");
    }
    memcpy(at, &value, 8);
    memcpy((uint8_t *) at + 8, e->payload, e->size - 8);
    rc = sluice_mpmc_commit(e->up);
    if (rc != SLUICE_OK) {
        ring_failed(e->up, rc, "commit");
    }
}

/* Loops.ping: n round trips numbered from `first`, each recorded into rtt[i] unless rtt is NULL. */
static void ping(endpoint *e, long n, int64_t first, int64_t *rtt) {
    for (long i = 0; i < n; i++) {
        int64_t seq = first + i;
        int64_t t0 = now_ns();
        ep_send(e, seq);
        int64_t v;
        while ((v = ep_poll(e)) == EMPTY) {
            /* spin */
        }
        int64_t t1 = now_ns();
        if (v != seq) {
            fail("ping %" PRId64 " came back as %" PRId64, seq, v);
        }
        if (rtt != NULL) {
            rtt[i] = t1 - t0;
        }
    }
}

/* Loops.echo: n messages back as they came. */
static void echo(endpoint *e, long n) {
    for (long i = 0; i < n; i++) {
        int64_t v;
        while ((v = ep_poll(e)) == EMPTY) {
            /* spin */
        }
        ep_send(e, v);
    }
}

/* ---- results ------------------------------------------------------------------------------------- */

static int64_t *new_values(long n) {
    int64_t *v = calloc((size_t) (n > 0 ? n : 1), sizeof(int64_t));
    if (v == NULL) {
        fail("cannot allocate %ld values", n);
    }
    memset(v, 0, sizeof(int64_t) * (size_t) n); /* touched now, not while measuring */
    return v;
}

/* Writes n values as little-endian int64 to <output>-A-<name>.bin, and names the file in the properties. */
static void write_values(FILE *props, const char *name, const int64_t *values, long n) {
    char path[4096];
    snprintf(path, sizeof path, "%s-%s-%s.bin", output_base, side, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(values, sizeof(int64_t), (size_t) n, f) != (size_t) n || fclose(f) != 0) {
        fail("cannot write %s: %s", path, strerror(errno));
    }
    fprintf(props, "histogram.%s.bin=", name);
    put_value(props, path);
}

/* ---- the run (PeerMain.measure, ping-pong) ------------------------------------------------------- */

static long number(const char *key, const char *v) {
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || n < 0) {
        fail("argument %s=%s is not a count", key, v);
    }
    return n;
}

static void parse_spec(int argc, char **argv, run_spec *s) {
    for (int i = 0; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (eq == NULL || eq == argv[i]) {
            fail("expected key=value, got '%s'", argv[i]);
        }
        *eq = '\0';
        const char *k = argv[i], *v = eq + 1;
        if (strcmp(k, "system") == 0) s->system = v;
        else if (strcmp(k, "scenario") == 0) s->scenario = v;
        else if (strcmp(k, "output") == 0) s->output = v;
        else if (strcmp(k, "messageSize") == 0) s->message_size = number(k, v);
        else if (strcmp(k, "warmupBatches") == 0) s->warmup_batches = number(k, v);
        else if (strcmp(k, "batchSize") == 0) s->batch_size = number(k, v);
        else if (strcmp(k, "slices") == 0) s->slices = number(k, v);
        else if (strcmp(k, "sliceSize") == 0) s->slice_size = number(k, v);
        else if (strcmp(k, "settleMillis") == 0) s->settle_millis = number(k, v);
        else if (strcmp(k, "bracketWarmup") == 0) s->bracket_warmup = number(k, v);
        else if (strcmp(k, "bracketCount") == 0) s->bracket_count = number(k, v);
        else if (strcmp(k, "rate") != 0 && strcmp(k, "ringCapacity") != 0 && strcmp(k, "workDir") != 0) {
            fail("unknown argument %s=%s", k, v);
        }
    }
    if (s->output == NULL || s->scenario == NULL || s->system == NULL) {
        fail("system=, scenario= and output= are required");
    }
    output_base = s->output;
    if (strcmp(s->scenario, "pingpong") != 0) {
        fail("%s: scenario %s: the native peer runs ping-pong only", s->system, s->scenario);
    }
    if (s->message_size < 8 || s->batch_size <= 0 || s->slice_size <= 0 || s->slice_size % s->batch_size != 0
            || s->slices <= 0 || s->bracket_count <= 0) {
        fail("messageSize >= 8, slices > 0, bracketCount > 0 and sliceSize a positive multiple of batchSize, please "
             "(got %ld, %ld, %ld, %ld, %ld)", s->message_size, s->slices, s->bracket_count, s->slice_size, s->batch_size);
    }
}

int main(int argc, char **argv) {
    if (argc < 7 || (strcmp(argv[1], "A") != 0 && strcmp(argv[1], "B") != 0)) {
        fprintf(stderr, "usage: %s A|B CONTROL SOCKET SPSC_CHANNEL MPMC_CHANNEL key=value...\n", argv[0]);
        return 2;
    }
    side = argv[1];
    initiator = strcmp(side, "A") == 0;
    const char *control = argv[2], *socket = argv[3], *spsc = argv[4], *mpmc = argv[5];
    run_spec s = {0};
    parse_spec(argc - 6, argv + 6, &s);
    map_control(control);

    endpoint e = {.size = (uint32_t) s.message_size, .received = EMPTY};
    e.payload = malloc((size_t) s.message_size - 8 + 1);
    if (e.payload == NULL) {
        fail("cannot allocate the payload");
    }
    for (long i = 0; i < s.message_size - 8; i++) {
        e.payload[i] = (uint8_t) (i * 31 + 7); /* Payload.of */
    }
    long measured_count = s.slices * s.slice_size;
    int64_t *measured = initiator ? new_values(measured_count) : NULL;
    int64_t *pre = initiator ? new_values(s.bracket_count) : NULL;
    int64_t *post = initiator ? new_values(s.bracket_count) : NULL;

    int64_t phase = 0;
    sync_point(++phase); /* meet */
    sync_point(++phase); /* A opened (the host, if it is A); B opens after this */
    sync_point(++phase); /* both opened: the host's socket is there */
    attach_both(&e, socket, spsc, mpmc);
    sync_point(++phase); /* both ready */

    if (initiator) {
        settle_initiate(s.settle_millis);
    } else {
        settle_respond();
    }
    bracket(&s, pre);
    sync_point(++phase);

    long batch = s.batch_size;
    if (initiator) {
        int64_t seq = 1;
        for (long b = 0; b < s.warmup_batches; b++, seq += batch) {
            ping(&e, batch, seq, NULL);
        }
        sync_point(++phase);
        for (long done = 0; done < measured_count; done += batch, seq += batch) {
            ping(&e, batch, seq, measured + done);
        }
    } else {
        for (long b = 0; b < s.warmup_batches; b++) {
            echo(&e, batch);
        }
        sync_point(++phase);
        for (long done = 0; done < measured_count; done += batch) {
            echo(&e, batch);
        }
    }
    sync_point(++phase);

    bracket(&s, post);
    sync_point(++phase);
    sluice_detach(e.up);
    sluice_detach(e.down);

    FILE *props = open_properties();
    if (props == NULL) {
        return 1;
    }
    if (initiator) {
        write_values(props, "measured", measured, measured_count);
        write_values(props, "bracketPre", pre, s.bracket_count);
        write_values(props, "bracketPost", post, s.bracket_count);
        int64_t *sorted = new_values(measured_count);
        fputs("slices.p50=", props);
        printf("slice_p50_ns");
        for (long k = 0; k < s.slices; k++) {
            memcpy(sorted, measured + k * s.slice_size, sizeof(int64_t) * (size_t) s.slice_size);
            qsort(sorted, (size_t) s.slice_size, sizeof(int64_t), by_value);
            int64_t p50 = at(sorted, s.slice_size, 50);
            fprintf(props, "%s%" PRId64, k == 0 ? "" : ",", p50);
            printf(" %" PRId64, p50);
        }
        fputc('\n', props);
        memcpy(sorted, measured, sizeof(int64_t) * (size_t) measured_count);
        qsort(sorted, (size_t) measured_count, sizeof(int64_t), by_value);
        printf("\nrtt_ns min=%" PRId64 " p50=%" PRId64 " p99=%" PRId64 " p99.9=%" PRId64 " max=%" PRId64 " n=%ld\n", sorted[0],
               at(sorted, measured_count, 50), at(sorted, measured_count, 99),
               at(sorted, measured_count, 99.9), sorted[measured_count - 1], measured_count);
        free(sorted);
    }
    if (fclose(props) != 0) {
        fprintf(stderr, "%s: cannot write its properties: %s\n", side, strerror(errno));
        return 1;
    }
    return 0;
}
