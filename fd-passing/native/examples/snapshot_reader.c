/*
 * snapshot_reader: the C reader of the snapshot demo (examples/.../snapshot/SnapshotDemo.java).
 * It subscribes to the instrument reference table a JVM serves with io.sluice.cache.CacheHost
 * (the cache protocol, docs/cache-protocol.md), looks symbols up in place in each version it is
 * sent, checks every answer against the demo's data (recomputed here: ReferenceData.java), switches
 * to each new version, and stops when the owner ends the table (END).
 *
 *     snapshot_reader SOCKET NAME LABEL LOOKUPS
 *
 * Lines on stdout, the same as the demo's Java readers print (the owner reads them):
 *     SAW reader=LABEL version=V instruments=N lookups=L hits=H mismatches=M
 *     DONE reader=LABEL pid=P versions=1,2 lookups=L mismatches=M
 *     FAILED reader=LABEL error=...
 * Exit 0 if every answer matched and the table ended normally.
 */
#include "../sluice.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The demo's data (ReferenceData.java): version v lists 10,000 + 250 (v - 1) instruments. */
#define INITIAL_INSTRUMENTS 10000
#define LISTED_PER_VERSION 250
#define SYMBOL_LENGTH 6
#define SYMBOL_SPACE (26 * 26 * 26 * 26)
#define KEY_SPACE (INITIAL_INSTRUMENTS + 2000) /* symbols looked up: some are not (yet) listed */
#define VALUE_FIXED_LENGTH 32
#define MAX_VALUE_LENGTH (VALUE_FIXED_LENGTH + SYMBOL_LENGTH + 1 + 20)

static const char VENUES[] = "NLPT";
static const uint32_t LOT_SIZES[] = {1, 10, 100, 1000, 25};
static const uint32_t TICK_SIZES[] = {100, 500, 1000, 5000, 10000, 50};
static const char *const DESCRIPTIONS[] = {"Ordinary Shares", "Common Stock", "ADR", "Exchange Traded Fund",
                                           "Preference Shares", "Class A Common Stock", "Unit"};

static uint32_t instrument_count(uint64_t version) {
    return INITIAL_INSTRUMENTS + LISTED_PER_VERSION * (uint32_t) (version - 1);
}

static void symbol(uint32_t index, uint8_t *s) {
    uint64_t p = ((uint64_t) index * 7919 + 12345) % SYMBOL_SPACE; /* a bijection: symbols never repeat */
    for (int i = 3; i >= 0; i--) {
        s[i] = (uint8_t) ('A' + p % 26);
        p /= 26;
    }
    s[4] = '.';
    s[5] = (uint8_t) VENUES[index & 3];
}

static void put32(uint8_t *b, uint32_t v) {
    for (int i = 0; i < 4; i++) {
        b[i] = (uint8_t) (v >> (8 * i));
    }
}

static void put64(uint8_t *b, uint64_t v) {
    for (int i = 0; i < 8; i++) {
        b[i] = (uint8_t) (v >> (8 * i));
    }
}

/* The value instrument `index` has in `version` (ReferenceData.valueInto); returns its length. */
static size_t expected_value(uint64_t version, uint32_t index, uint8_t *v) {
    const char *description = DESCRIPTIONS[index % (sizeof DESCRIPTIONS / sizeof DESCRIPTIONS[0])];
    size_t dl = strlen(description);
    uint32_t name_length = (uint32_t) (SYMBOL_LENGTH + 1 + dl);
    put64(v, version);
    put32(v + 8, index);
    put32(v + 12, LOT_SIZES[(index >> 2) % 5]);
    put64(v + 16, (uint64_t) (1000000 + (int64_t) index * 7919 % 5000000 + 25 * (int64_t) version));
    put32(v + 24, TICK_SIZES[index % 6]);
    put32(v + 28, name_length);
    symbol(index, v + VALUE_FIXED_LENGTH);
    v[VALUE_FIXED_LENGTH + SYMBOL_LENGTH] = ' ';
    memcpy(v + VALUE_FIXED_LENGTH + SYMBOL_LENGTH + 1, description, dl);
    return VALUE_FIXED_LENGTH + name_length;
}

static uint64_t next_random(uint64_t *state) { /* splitmix64 */
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

struct tally {
    uint64_t lookups, hits, mismatches;
};

/* `count` lookups of random symbols in place, each answer checked; a lookup error counts as a mismatch. */
static void look_up(const sluice_snapshot *s, uint64_t count, uint64_t *state, struct tally *t, struct tally *version_t) {
    uint64_t version = sluice_snapshot_version(s);
    uint32_t listed = instrument_count(version);
    uint8_t key[SYMBOL_LENGTH];
    uint8_t expected[MAX_VALUE_LENGTH];
    for (uint64_t i = 0; i < count; i++) {
        uint32_t index = (uint32_t) (next_random(state) % KEY_SPACE);
        symbol(index, key);
        const void *value;
        size_t length;
        int rc = sluice_snapshot_get(s, key, sizeof key, &value, &length, NULL); /* no copy, no system call */
        bool ok;
        if (index < listed) {
            size_t n = expected_value(version, index, expected);
            ok = rc == SLUICE_OK && length == n && memcmp(value, expected, n) == 0;
            version_t->hits += rc == SLUICE_OK;
        } else {
            ok = rc == SLUICE_ABSENT;
        }
        version_t->mismatches += !ok;
        version_t->lookups++;
    }
    t->lookups += version_t->lookups;
    t->hits += version_t->hits;
    t->mismatches += version_t->mismatches;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: snapshot_reader SOCKET NAME LABEL LOOKUPS\n");
        return 2;
    }
    const char *label = argv[3];
    uint64_t per_version = strtoull(argv[4], NULL, 10);
    sluice_error err;
    sluice_cache *cache;
    if (sluice_cache_connect(argv[1], argv[2], SLUICE_CACHE_SNAPSHOT, 30000, &cache, &err) != SLUICE_OK) {
        printf("FAILED reader=%s error=%s\n", label, err.message);
        return 1;
    }
    struct tally total = {0, 0, 0};
    uint64_t state = 0xC0FFEE;
    char versions[256] = "";
    sluice_snapshot *current = NULL;
    int rc;
    for (;;) {
        sluice_cache_version v;
        rc = sluice_cache_next(cache, 30000, &v, &err); /* the first at once, then each new one as it comes */
        if (rc != SLUICE_OK) {
            break;
        }
        sluice_snapshot_close(current); /* switch: nothing looks the old version up any more */
        current = v.snapshot;
        struct tally t = {0, 0, 0};
        look_up(current, per_version, &state, &total, &t);
        size_t used = strlen(versions);
        snprintf(versions + used, sizeof versions - used, "%s%" PRIu64, used ? "," : "", v.version);
        printf("SAW reader=%s version=%" PRIu64 " instruments=%u lookups=%" PRIu64 " hits=%" PRIu64 " mismatches=%" PRIu64 "\n",
               label, v.version, sluice_snapshot_entry_count(current), t.lookups, t.hits, t.mismatches);
        fflush(stdout);
    }
    sluice_snapshot_close(current);
    sluice_cache_close(cache);
    if (rc != SLUICE_EENDED) { /* anything but the owner's END: a failure, said with its cause */
        printf("FAILED reader=%s error=%s: %s\n", label, sluice_code_name(rc), err.message);
        return 1;
    }
    printf("DONE reader=%s pid=%ld versions=%s lookups=%" PRIu64 " mismatches=%" PRIu64 "\n", label, (long) getpid(),
           versions, total.lookups, total.mismatches);
    return total.mismatches == 0 ? 0 : 1;
}
