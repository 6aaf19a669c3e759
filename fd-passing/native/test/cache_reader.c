/*
 * cache_reader: the C side of the cache module's native tests (cache/src/test/java/io/sluice/cache/
 * nativeclient/Native*Test): it subscribes to snapshots through the cache protocol
 * (sluice_cache_connect, sluice_cache_next; docs/cache-protocol.md) and reads sealed snapshot
 * tables and shared maps that a JVM built, through sluice_snapshot_* and sluice_map_*. Lines on
 * stdout, flushed; exit 0 on success, 2 usage, 3 a message was not what the test sends, 4 an open
 * or lookup failed.
 *
 *   snapshot SOCK KEYSEED N LOOKUPSEED COUNT
 *        subscribes to snapshot "lookups" (sluice_cache_connect), then COUNT lookups in its first
 *        version of keys drawn from LOOKUPSEED among key(KEYSEED, 0 .. 2N-1) (keys below N are the
 *        table's): "DONE lookups COUNT found F digest D"
 *   subscribe SOCK NAME KEYSEED N LOOKUPSEED COUNT
 *        subscribes to snapshot NAME and, for every version until END, makes the same COUNT lookups
 *        (the lookup state starts at LOOKUPSEED for each version), closing the version before:
 *        "VERSION v lookups COUNT found F digest D", then "ENDED after v fds B A" (fds open before
 *        the connect and after the close)
 *   connect SOCK NAME KIND ROUNDS
 *        ROUNDS subscriptions one after the other (the test's fake host answers each its own way):
 *        connects, then takes versions (10 s each) until one call fails, closing each; one line a
 *        round: "ROUND i CONNECT-CODE NEXT-CODE versions V refusal R fds B A: message" (NEXT-CODE
 *        "-" when the connect failed; the message is the failure's)
 *   map SOCK KEYSEED N LOOKUPSEED COUNT
 *        the lookups of "snapshot" over the one shared map sent (test framing below); then iterates
 *        it: "LIVE entries E digest D"
 *   map-race SOCK KEYSEED N COUNT
 *        COUNT lookups of key(KEYSEED, 0 .. N-1), round robin, while the test's writer updates them;
 *        every value found must carry its key's index and a valid checksum (race_value_ok):
 *        "RACED lookups COUNT found F torn T contended C"
 *   open-snapshots SOCK | open-maps SOCK
 *        opens each region sent until END, expecting refusals: one line per region,
 *        "OPEN i CODE fds-before fds-after: message", then "END". A region that opens (CODE SLUICE_OK)
 *        is probed with lookups of key(0, 0 .. 39) and, a map, a walk: "opened found F absent A
 *        corrupt C other O [walk ok|CODE]"
 *
 * Framing of the modes that receive regions themselves (open-snapshots, and the maps): a snapshot
 * comes as the cache protocol's PUBLISH (32 bytes, kind 1, its fd attached) and a series ends with
 * its END; a shared map as a 24-byte message with the magic "MAPT" (test framing only: version 1,
 * type 1, 0, region size; END: type 2, 8 bytes).
 *
 * The keys and the lookups follow a PRNG both sides implement (splitmix64), so the test's model
 * and this program agree on every key without sending any:
 *   key(seed, i): state = seed + i * 0x632BE59BD9B4E019; 8 bytes of i (little-endian), then
 *                 splitmix64(state) % 25 more, each the next byte of further splitmix64(state) outputs
 *                 (low byte first; a new output every 8 bytes)
 *   lookup j:     i = splitmix64(lookup state) % (2N), the state starting at LOOKUPSEED
 *   digest:       FNV-1a 64 (no finaliser) over, per lookup, 1 byte found (1) or not (0), then, if
 *                 found, the value length (u32 little-endian) and the value bytes
 */
#define _GNU_SOURCE /* MSG_CMSG_CLOEXEC */
#include "../sluice.h"
#include "peer.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define SLCA_MAGIC 0x41434C53u /* "SLCA": the cache protocol */
#define SLCA_PUBLISH 2
#define SLCA_END 4
#define MAPT_MAGIC 0x5450414Du /* "MAPT" */
#define MSG_REGION 1
#define MSG_END 2
#define MAX_KEY 32

static uint64_t splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* key(seed, i) into k (MAX_KEY bytes); returns its length, 8..32. */
static size_t make_key(uint64_t seed, uint64_t i, uint8_t *k) {
    uint64_t state = seed + i * 0x632BE59BD9B4E019ULL;
    size_t extra = (size_t) (splitmix64(&state) % 25);
    for (int b = 0; b < 8; b++) {
        k[b] = (uint8_t) (i >> (8 * b));
    }
    uint64_t r = 0;
    for (size_t j = 0; j < extra; j++) {
        if (j % 8 == 0) {
            r = splitmix64(&state);
        }
        k[8 + j] = (uint8_t) (r >> (8 * (j % 8)));
    }
    return 8 + extra;
}

static uint64_t fnv(uint64_t h, const void *bytes, size_t n) {
    const uint8_t *b = bytes;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static uint64_t digest_lookup(uint64_t h, bool found, const void *value, uint32_t length) {
    uint8_t flag = found ? 1 : 0;
    h = fnv(h, &flag, 1);
    if (found) {
        uint8_t le[4] = {(uint8_t) length, (uint8_t) (length >> 8), (uint8_t) (length >> 16), (uint8_t) (length >> 24)};
        h = fnv(h, le, 4);
        h = fnv(h, value, length);
    }
    return h;
}

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

static int connect_to(const char *path) {
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

static uint64_t get_le(const uint8_t *b, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) {
        v = (v << 8) | b[i];
    }
    return v;
}

/* One announced region: *fd (or -1) and its two u64 fields. Returns MSG_REGION or MSG_END; exits 3 on anything else. */
static int receive(int sock, uint32_t magic, int *fd, uint64_t *first, uint64_t *size) {
    uint8_t buf[64];
    union {
        char buf[CMSG_SPACE(4 * sizeof(int))];
        struct cmsghdr align;
    } control;
    struct iovec iov = {.iov_base = buf, .iov_len = sizeof buf};
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = control.buf;
    m.msg_controllen = sizeof control.buf;
    ssize_t n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
    if (n < 0) {
        say("RECEIVE-FAILED %s", sluice_errno_name(errno));
        exit(3);
    }
    int fds[4];
    int nfds = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c != NULL; c = CMSG_NXTHDR(&m, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (size_t i = 0; i < k && nfds < 4; i++) {
                memcpy(&fds[nfds++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
            }
        }
    }
    int type = n >= 8 ? (int) get_le(buf + 6, 2) : -1;
    bool whole = n >= 8 && get_le(buf, 4) == magic && get_le(buf + 4, 2) == 1 && (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) == 0;
    if (magic == SLCA_MAGIC) { /* PUBLISH: 8 kind (1), 10 and 12 reserved, 16 version, 24 size */
        if (whole && type == SLCA_PUBLISH && n == 32 && nfds == 1 && get_le(buf + 8, 2) == 1) {
            *fd = fds[0];
            *first = get_le(buf + 16, 8);
            *size = get_le(buf + 24, 8);
            return MSG_REGION;
        }
        if (whole && type == SLCA_END && n == 8 && nfds == 0) {
            return MSG_END;
        }
    } else {
        if (whole && type == MSG_REGION && n == 24 && nfds == 1) {
            *fd = fds[0];
            *first = get_le(buf + 8, 8);
            *size = get_le(buf + 16, 8);
            return MSG_REGION;
        }
        if (whole && n == 8 && type == MSG_END && nfds == 0) {
            return MSG_END;
        }
    }
    say("BAD-MESSAGE %zd bytes type %d fds %d", n, type, nfds);
    exit(3);
}

/* The first version of snapshot "lookups", through the cache protocol; exits 4 if it fails. */
static sluice_snapshot *open_snapshot(const char *path) {
    sluice_error err;
    sluice_cache *c;
    sluice_cache_version v;
    if (sluice_cache_connect(path, "lookups", SLUICE_CACHE_SNAPSHOT, 30000, &c, &err) != SLUICE_OK
        || sluice_cache_next(c, 0, &v, &err) != SLUICE_OK) {
        say("OPEN-FAILED %s: %s", sluice_code_name(err.code), err.message);
        exit(4);
    }
    sluice_cache_close(c); /* the version handed out stays open */
    return v.snapshot;
}

static sluice_map *open_map(const char *path) {
    int sock = connect_to(path);
    int fd;
    uint64_t unused, size;
    if (receive(sock, MAPT_MAGIC, &fd, &unused, &size) != MSG_REGION) {
        say("BAD-MESSAGE END before any map");
        exit(3);
    }
    close(sock);
    sluice_error err;
    sluice_map *m;
    if (sluice_map_open(fd, size, &m, &err) != SLUICE_OK) {
        say("OPEN-FAILED %s: %s", sluice_code_name(err.code), err.message);
        exit(4);
    }
    return m;
}

/* COUNT lookups drawn from LOOKUPSEED: *found and *digest, or exits 4 on a lookup failure. */
static void lookups(const sluice_snapshot *s, uint64_t key_seed, uint64_t n, uint64_t state, uint64_t count,
                    uint64_t *found_out, uint64_t *digest_out) {
    uint64_t digest = 0xcbf29ce484222325ULL, found = 0;
    uint8_t key[MAX_KEY];
    for (uint64_t j = 0; j < count; j++) {
        size_t kl = make_key(key_seed, splitmix64(&state) % (2 * n), key);
        const void *value = NULL;
        size_t vl = 0;
        sluice_error err;
        int rc = sluice_snapshot_get(s, key, kl, &value, &vl, &err);
        if (rc != SLUICE_OK && rc != SLUICE_ABSENT) {
            say("LOOKUP-FAILED %s: %s", sluice_code_name(rc), err.message);
            exit(4);
        }
        found += rc == SLUICE_OK;
        digest = digest_lookup(digest, rc == SLUICE_OK, value, (uint32_t) vl);
    }
    *found_out = found;
    *digest_out = digest;
}

static int snapshot_lookups(char **argv) {
    sluice_snapshot *s = open_snapshot(argv[2]);
    uint64_t key_seed = arg_u64(argv[3]), n = arg_u64(argv[4]), state = arg_u64(argv[5]), count = arg_u64(argv[6]);
    uint64_t found, digest;
    lookups(s, key_seed, n, state, count, &found, &digest);
    say("DONE lookups %" PRIu64 " found %" PRIu64 " digest %" PRIu64, count, found, digest);
    sluice_snapshot_close(s);
    return 0;
}

static int subscribe(char **argv) {
    const char *name = argv[3];
    uint64_t key_seed = arg_u64(argv[4]), n = arg_u64(argv[5]), lookup_seed = arg_u64(argv[6]), count = arg_u64(argv[7]);
    int before = count_fds();
    sluice_error err;
    sluice_cache *c;
    if (sluice_cache_connect(argv[2], name, SLUICE_CACHE_SNAPSHOT, 30000, &c, &err) != SLUICE_OK) {
        say("CONNECT-FAILED %s: %s", sluice_code_name(err.code), err.message);
        return 4;
    }
    sluice_snapshot *current = NULL;
    int rc;
    for (;;) {
        sluice_cache_version v;
        rc = sluice_cache_next(c, 60000, &v, &err);
        if (rc != SLUICE_OK) {
            break;
        }
        sluice_snapshot_close(current); /* the reader's switch: the new version in, the old one closed */
        current = v.snapshot;
        uint64_t found, digest;
        lookups(current, key_seed, n, lookup_seed, count, &found, &digest);
        say("VERSION %" PRIu64 " lookups %" PRIu64 " found %" PRIu64 " digest %" PRIu64, v.version, count, found, digest);
    }
    uint64_t last = sluice_cache_last_version(c);
    sluice_snapshot_close(current);
    sluice_cache_close(c);
    if (rc != SLUICE_EENDED) {
        say("NEXT-FAILED %s: %s", sluice_code_name(rc), err.message);
        return 4;
    }
    say("ENDED after %" PRIu64 " fds %d %d", last, before, count_fds());
    return 0;
}

static int connect_rounds(char **argv) {
    int kind = (int) arg_u64(argv[4]);
    uint64_t rounds = arg_u64(argv[5]);
    for (uint64_t i = 0; i < rounds; i++) {
        int before = count_fds();
        sluice_error err;
        memset(&err, 0, sizeof err);
        sluice_cache *c = NULL;
        int versions = 0;
        int rc = sluice_cache_connect(argv[2], argv[3], (sluice_cache_kind) kind, 10000, &c, &err);
        int next = SLUICE_OK;
        if (rc == SLUICE_OK) {
            for (;;) {
                sluice_cache_version v;
                next = sluice_cache_next(c, 10000, &v, &err);
                if (next != SLUICE_OK) {
                    break;
                }
                versions++;
                sluice_snapshot_close(v.snapshot);
                sluice_map_close(v.map);
            }
            sluice_cache_close(c);
        }
        say("ROUND %" PRIu64 " %s %s versions %d refusal %d fds %d %d: %s", i, sluice_code_name(rc),
            rc == SLUICE_OK ? sluice_code_name(next) : "-", versions, err.refusal, before, count_fds(), err.message);
    }
    return 0;
}

struct walk {
    uint64_t entries;
    uint64_t digest; /* the sum of each entry's fnv(key, value): independent of the slot order */
};

static bool walk_entry(void *ctx, const void *key, uint32_t key_length, const void *value, uint32_t value_length) {
    struct walk *w = ctx;
    w->entries++;
    w->digest += digest_lookup(fnv(0xcbf29ce484222325ULL, key, key_length), true, value, value_length);
    return true;
}

static bool walk_all(void *ctx, const void *key, uint32_t key_length, const void *value, uint32_t value_length) {
    (void) ctx;
    (void) key;
    (void) key_length;
    (void) value;
    (void) value_length;
    return true;
}

static int map_lookups(char **argv) {
    sluice_map *m = open_map(argv[2]);
    uint64_t key_seed = arg_u64(argv[3]), n = arg_u64(argv[4]), state = arg_u64(argv[5]), count = arg_u64(argv[6]);
    uint64_t digest = 0xcbf29ce484222325ULL, found = 0;
    uint8_t key[MAX_KEY];
    size_t capacity = sluice_map_max_value_length(m);
    uint8_t *value = malloc(capacity > 0 ? capacity : 1);
    sluice_error err;
    for (uint64_t j = 0; j < count; j++) {
        size_t kl = make_key(key_seed, splitmix64(&state) % (2 * n), key);
        int rc = sluice_map_get(m, key, kl, value, capacity, &err);
        if (rc < 0 && rc != SLUICE_ABSENT) {
            say("LOOKUP-FAILED %s: %s", sluice_code_name(rc), err.message);
            return 4;
        }
        found += rc >= 0;
        digest = digest_lookup(digest, rc >= 0, value, rc >= 0 ? (uint32_t) rc : 0);
    }
    say("DONE lookups %" PRIu64 " found %" PRIu64 " digest %" PRIu64, count, found, digest);
    struct walk w = {0, 0};
    int64_t visited = sluice_map_for_each(m, walk_entry, &w, &err);
    if (visited < 0) {
        say("WALK-FAILED %s: %s", sluice_code_name((int) visited), err.message);
        return 4;
    }
    say("LIVE entries %" PRIu64 " digest %" PRIu64, w.entries, w.digest);
    free(value);
    sluice_map_close(m);
    return 0;
}

/*
 * A value the race test's writer stores for key i (NativeMapRaceTest): u64 i, u64 update number,
 * filler bytes (byte j of the value is (uint8_t) (update + j)), then the u64 sluice_key_hash of
 * everything before it. A value mixed from two updates fails the checksum or the filler.
 */
static bool race_value_ok(uint64_t i, const uint8_t *v, int length) {
    if (length < 24) {
        return false;
    }
    size_t body = (size_t) length - 8;
    if (get_le(v, 8) != i || get_le(v + body, 8) != sluice_key_hash(v, body)) {
        return false;
    }
    uint64_t update = get_le(v + 8, 8);
    for (size_t j = 16; j < body; j++) {
        if (v[j] != (uint8_t) (update + j)) {
            return false;
        }
    }
    return true;
}

static int map_race(char **argv) {
    sluice_map *m = open_map(argv[2]);
    uint64_t key_seed = arg_u64(argv[3]), n = arg_u64(argv[4]), count = arg_u64(argv[5]);
    uint64_t found = 0, torn = 0, contended = 0;
    uint8_t key[MAX_KEY];
    size_t capacity = sluice_map_max_value_length(m);
    uint8_t *value = malloc(capacity > 0 ? capacity : 1);
    say("RACING");
    for (uint64_t j = 0; j < count; j++) {
        uint64_t i = j % n;
        size_t kl = make_key(key_seed, i, key);
        sluice_error err;
        int rc = sluice_map_get(m, key, kl, value, capacity, &err);
        if (rc == SLUICE_ECONTENDED) {
            contended++;
        } else if (rc >= 0) {
            found++;
            if (!race_value_ok(i, value, rc)) {
                if (torn++ == 0) {
                    say("TORN key %" PRIu64 " length %d", i, rc);
                }
            }
        } else if (rc != SLUICE_ABSENT) {
            say("LOOKUP-FAILED %s: %s", sluice_code_name(rc), err.message);
            return 4;
        }
    }
    say("RACED lookups %" PRIu64 " found %" PRIu64 " torn %" PRIu64 " contended %" PRIu64, count, found, torn, contended);
    free(value);
    sluice_map_close(m);
    return 0;
}

/* After a refused-or-not open: lookups of key(0, 0 .. KEYS-1), counted by answer. */
#define PROBE_KEYS 40

static void probe_snapshot(const sluice_snapshot *s, char *out, size_t cap) {
    int found = 0, absent = 0, corrupt = 0, other = 0;
    uint8_t key[MAX_KEY];
    for (uint64_t i = 0; i < PROBE_KEYS; i++) {
        size_t kl = make_key(0, i, key);
        const void *value;
        size_t vl;
        int rc = sluice_snapshot_get(s, key, kl, &value, &vl, NULL);
        found += rc == SLUICE_OK;
        absent += rc == SLUICE_ABSENT;
        corrupt += rc == SLUICE_ECORRUPT;
        other += rc != SLUICE_OK && rc != SLUICE_ABSENT && rc != SLUICE_ECORRUPT;
    }
    snprintf(out, cap, "opened found %d absent %d corrupt %d other %d", found, absent, corrupt, other);
}

static void probe_map(const sluice_map *m, char *out, size_t cap) {
    int found = 0, absent = 0, corrupt = 0, other = 0;
    uint8_t key[MAX_KEY];
    size_t vcap = sluice_map_max_value_length(m);
    uint8_t *value = malloc(vcap > 0 ? vcap : 1);
    for (uint64_t i = 0; i < PROBE_KEYS; i++) {
        size_t kl = make_key(0, i, key);
        int rc = sluice_map_get(m, key, kl, value, vcap, NULL);
        found += rc >= 0;
        absent += rc == SLUICE_ABSENT;
        corrupt += rc == SLUICE_ECORRUPT;
        other += rc < 0 && rc != SLUICE_ABSENT && rc != SLUICE_ECORRUPT;
    }
    int64_t walked = sluice_map_for_each(m, walk_all, NULL, NULL);
    free(value);
    snprintf(out, cap, "opened found %d absent %d corrupt %d other %d walk %s", found, absent, corrupt, other,
             walked >= 0 ? "ok" : sluice_code_name((int) walked));
}

static int open_series(const char *path, bool maps) {
    int sock = connect_to(path);
    for (int i = 0;; i++) {
        int before = count_fds();
        int fd;
        uint64_t first, size;
        if (receive(sock, maps ? MAPT_MAGIC : SLCA_MAGIC, &fd, &first, &size) == MSG_END) {
            break;
        }
        sluice_error err = {0};
        char probed[200] = "";
        int rc;
        if (maps) {
            sluice_map *m = NULL;
            rc = sluice_map_open(fd, size, &m, &err);
            if (rc == SLUICE_OK) {
                probe_map(m, probed, sizeof probed);
            }
            sluice_map_close(m);
        } else {
            sluice_snapshot *s = NULL;
            rc = sluice_snapshot_open(fd, size, first, &s, &err);
            if (rc == SLUICE_OK) {
                probe_snapshot(s, probed, sizeof probed);
            }
            sluice_snapshot_close(s);
        }
        say("OPEN %d %s %d %d: %s", i, sluice_code_name(rc), before, count_fds(), rc == SLUICE_OK ? probed : err.message);
    }
    say("END");
    close(sock);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 7 && strcmp(argv[1], "snapshot") == 0) {
        return snapshot_lookups(argv);
    }
    if (argc == 8 && strcmp(argv[1], "subscribe") == 0) {
        return subscribe(argv);
    }
    if (argc == 6 && strcmp(argv[1], "connect") == 0) {
        return connect_rounds(argv);
    }
    if (argc == 7 && strcmp(argv[1], "map") == 0) {
        return map_lookups(argv);
    }
    if (argc == 6 && strcmp(argv[1], "map-race") == 0) {
        return map_race(argv);
    }
    if (argc == 3 && strcmp(argv[1], "open-snapshots") == 0) {
        return open_series(argv[2], false);
    }
    if (argc == 3 && strcmp(argv[1], "open-maps") == 0) {
        return open_series(argv[2], true);
    }
    fprintf(stderr, "usage: see the top of cache_reader.c\n");
    return 2;
}
