/*
 * snapshot.c: the reader of a sealed snapshot table (docs/snapshot-layout.md). The owner wrote
 * every byte, then sealed the memfd SHRINK|GROW|WRITE: nobody, the owner included, can change it
 * again. So once the seals are seen, the bytes checked stay the bytes used, no memory ordering is
 * needed, and a value found is handed out in place. The bytes are still distrusted: the owner may
 * be buggy or hostile, so every header field is checked at open, in the order the layout gives,
 * and every offset and length a lookup follows is checked against the heap before it is read.
 */
#include "sluice_internal.h"

struct sluice_snapshot {
    int fd;
    const uint8_t *table; /* the whole region, read-only */
    size_t size;
    uint64_t version;
    uint32_t entry_count;
    uint32_t slot_count; /* a power of two */
    uint32_t max_probe;  /* slots a lookup examines at most, <= slot_count */
    uint64_t heap_offset;
    uint64_t heap_end; /* heap offset + heap length <= size */
    char what[64];     /* "snapshot v7", for messages */
};

uint64_t sluice_key_hash(const void *key, size_t length) {
    const uint8_t *k = key;
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a 64 */
    for (size_t i = 0; i < length; i++) {
        h ^= k[i];
        h *= 0x100000001b3ULL;
    }
    h ^= h >> 33; /* MurmurHash3 fmix64: FNV alone leaves the low bits, the home slot, poorly mixed */
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

/*
 * The header, rules 4 to 9 of docs/snapshot-layout.md, "What a reader checks", in that order.
 * Each field is read once (the region is sealed: nothing can change it, but one read each keeps
 * the rule of every other region) into s. Every sum below stays under 2^63: sizes and offsets are
 * checked against the region size before they are added to anything.
 */
static int validate_header(sluice_snapshot *s, uint64_t expected_version, sluice_error *e) {
    const uint8_t *t = s->table;
    uint64_t size = s->size;
    const char *what = "snapshot";
    uint64_t magic = sli_rd64(t, SLI_SNAP_MAGIC_OFFSET);
    if (magic != SLI_SNAP_MAGIC) {
        return sli_fail(e, SLUICE_ELAYOUT, "%s: bad magic 0x%llx, expected 0x%llx (\"SLUICESN\")", what,
                        (unsigned long long) magic, (unsigned long long) SLI_SNAP_MAGIC);
    }
    uint32_t layout = sli_rd32(t, SLI_SNAP_LAYOUT_VERSION_OFFSET);
    if (layout != SLI_SNAP_LAYOUT_VERSION) {
        return sli_fail(e, SLUICE_ELAYOUT, "%s: layout version %u, this library reads %d", what, layout,
                        SLI_SNAP_LAYOUT_VERSION);
    }
    uint32_t header_length = sli_rd32(t, SLI_SNAP_HEADER_LENGTH_OFFSET);
    if (header_length != SLI_SNAP_HEADER_LENGTH) {
        return sli_fail(e, SLUICE_ELAYOUT, "%s: header length %u, expected %d", what, header_length, SLI_SNAP_HEADER_LENGTH);
    }
    uint64_t version = sli_rd64(t, SLI_SNAP_VERSION_OFFSET);
    if (version < 1 || version > (uint64_t) INT64_MAX) {
        return sli_fail(e, SLUICE_ELAYOUT, "%s: snapshot version %llu is outside 1..%lld", what,
                        (unsigned long long) version, (long long) INT64_MAX);
    }
    if (expected_version != 0 && version != expected_version) {
        return sli_fail(e, SLUICE_ELAYOUT, "%s: header says version %llu, the owner announced %llu", what,
                        (unsigned long long) version, (unsigned long long) expected_version);
    }
    snprintf(s->what, sizeof s->what, "snapshot v%llu", (unsigned long long) version);
    what = s->what;
    uint32_t slots = sli_rd32(t, SLI_SNAP_SLOT_COUNT_OFFSET);
    if (slots > SLI_SNAP_MAX_SLOT_COUNT || !sli_is_pow2_32(slots)) {
        return sli_fail(e, SLUICE_ELAYOUT, "%s: slot count %u is not a power of two in 1..%u", what, slots,
                        SLI_SNAP_MAX_SLOT_COUNT);
    }
    uint32_t entries = sli_rd32(t, SLI_SNAP_ENTRY_COUNT_OFFSET);
    if (entries > slots) {
        return sli_fail(e, SLUICE_ELAYOUT, "%s: entry count %u exceeds the slot count %u", what, entries, slots);
    }
    uint32_t max_probe = sli_rd32(t, SLI_SNAP_MAX_PROBE_OFFSET);
    if (max_probe > slots) {
        return sli_fail(e, SLUICE_ELAYOUT, "%s: max probe length %u exceeds the slot count %u", what, max_probe, slots);
    }
    if ((entries == 0) != (max_probe == 0)) {
        return sli_fail(e, SLUICE_ELAYOUT, "%s: max probe length %u with %u entries (0 exactly when the table is empty)",
                        what, max_probe, entries);
    }
    uint32_t reserved32 = sli_rd32(t, SLI_SNAP_RESERVED_U32_OFFSET);
    uint64_t reserved64 = sli_rd64(t, SLI_SNAP_RESERVED_U64_OFFSET);
    if (reserved32 != 0 || reserved64 != 0) {
        return sli_fail(e, SLUICE_ELAYOUT, "%s: reserved header fields at offsets %d and %d must be 0, found 0x%x and 0x%llx",
                        what, SLI_SNAP_RESERVED_U32_OFFSET, SLI_SNAP_RESERVED_U64_OFFSET, reserved32,
                        (unsigned long long) reserved64);
    }
    uint64_t slots_end = SLI_SNAP_HEADER_LENGTH + (uint64_t) SLI_SNAP_SLOT_LENGTH * slots; /* <= 2^34 + 64 */
    if (slots_end > size) {
        return sli_fail(e, SLUICE_ELAYOUT, "%s: %u slots end at %llu, past the region's %llu bytes", what, slots,
                        (unsigned long long) slots_end, (unsigned long long) size);
    }
    uint64_t heap_offset = sli_rd64(t, SLI_SNAP_HEAP_OFFSET_OFFSET);
    uint64_t heap_length = sli_rd64(t, SLI_SNAP_HEAP_LENGTH_OFFSET);
    if (heap_offset < slots_end || heap_offset > size || heap_offset % SLI_SNAP_ALIGNMENT != 0) {
        return sli_fail(e, SLUICE_ELAYOUT, "%s: heap offset %llu must be %d-aligned, at or after the slots' end %llu and "
                        "within the region's %llu bytes", what, (unsigned long long) heap_offset, SLI_SNAP_ALIGNMENT,
                        (unsigned long long) slots_end, (unsigned long long) size);
    }
    if (heap_length > size - heap_offset) {
        return sli_fail(e, SLUICE_ELAYOUT, "%s: heap of %llu bytes at %llu runs past the region's %llu bytes", what,
                        (unsigned long long) heap_length, (unsigned long long) heap_offset, (unsigned long long) size);
    }
    if ((uint64_t) entries * SLI_SNAP_ENTRY_HEADER_LENGTH > heap_length) {
        return sli_fail(e, SLUICE_ELAYOUT, "%s: %u entries cannot fit a heap of %llu bytes", what, entries,
                        (unsigned long long) heap_length);
    }
    s->version = version;
    s->entry_count = entries;
    s->slot_count = slots;
    s->max_probe = max_probe;
    s->heap_offset = heap_offset;
    s->heap_end = heap_offset + heap_length;
    return SLUICE_OK;
}

int sluice_snapshot_open(int fd, uint64_t size, uint64_t version, sluice_snapshot **out, sluice_error *err) {
    if (out == NULL) {
        sli_close_fd(&fd);
        return sli_fail(err, SLUICE_EARGUMENT, "sluice_snapshot_open: out is NULL");
    }
    *out = NULL;
    if (fd < 0) {
        return sli_fail(err, SLUICE_EARGUMENT, "sluice_snapshot_open: fd %d is not an fd", fd);
    }
    sluice_snapshot *s = calloc(1, sizeof *s);
    if (s == NULL) {
        sli_close_fd(&fd);
        return sli_fail_sys(err, ENOMEM, "allocating a snapshot handle");
    }
    s->fd = fd;
    /* Seals (SHRINK|GROW|WRITE) before size, size before mapping: docs/snapshot-layout.md, checks 1-3. */
    int rc = sli_map_cache_region(fd, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE, size, SLI_SNAP_HEADER_LENGTH,
                                  "snapshot table", &s->table, err);
    if (rc == SLUICE_OK) {
        s->size = (size_t) size;
        rc = validate_header(s, version, err);
    }
    if (rc != SLUICE_OK) {
        sluice_snapshot_close(s);
        return rc;
    }
    *out = s;
    return SLUICE_OK;
}

static int corrupt_slot(const sluice_snapshot *s, uint32_t slot, sluice_error *e, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int corrupt_slot(const sluice_snapshot *s, uint32_t slot, sluice_error *e, const char *fmt, ...) {
    char problem[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(problem, sizeof problem, fmt, ap);
    va_end(ap);
    return sli_fail(e, SLUICE_ECORRUPT, "%s: slot %u: %s", s->what, slot, problem);
}

/*
 * The entry a slot points at, checked wholly inside the heap before any byte of it is used
 * (checks 10 and 11): an 8-aligned header inside the heap, then the key and the value. Every term
 * is below 2^63 (offsets inside the region, lengths below 2^32), so nothing overflows.
 */
static int checked_entry(const sluice_snapshot *s, uint32_t slot, uint64_t entry, uint32_t *key_length,
                         uint64_t *value_at, uint32_t *value_length, sluice_error *e) {
    if (entry < s->heap_offset || entry > s->heap_end - SLI_SNAP_ENTRY_HEADER_LENGTH || entry % SLI_SNAP_ALIGNMENT != 0) {
        return corrupt_slot(s, slot, e, "entry offset %llu is not an %d-aligned entry inside the heap [%llu, %llu)",
                            (unsigned long long) entry, SLI_SNAP_ALIGNMENT, (unsigned long long) s->heap_offset,
                            (unsigned long long) s->heap_end);
    }
    uint32_t kl = sli_rd32(s->table, entry + SLI_SNAP_ENTRY_KEY_LENGTH_OFFSET);
    uint32_t vl = sli_rd32(s->table, entry + SLI_SNAP_ENTRY_VALUE_LENGTH_OFFSET);
    uint64_t at = entry + SLI_SNAP_ENTRY_HEADER_LENGTH + (uint64_t) sli_align8(kl);
    if (at > s->heap_end || vl > s->heap_end - at) {
        return corrupt_slot(s, slot, e, "entry at %llu with key length %u and value length %u runs past the heap's end %llu",
                            (unsigned long long) entry, kl, vl, (unsigned long long) s->heap_end);
    }
    *key_length = kl;
    *value_at = at;
    *value_length = vl;
    return SLUICE_OK;
}

int sluice_snapshot_get(const sluice_snapshot *s, const void *key, size_t key_length, const void **value,
                        size_t *value_length, sluice_error *err) {
    if (s == NULL || (key == NULL && key_length > 0) || value == NULL || value_length == NULL) {
        return sli_fail(err, SLUICE_EARGUMENT, "sluice_snapshot_get: NULL snapshot, key, value or value_length");
    }
    uint64_t h = sluice_key_hash(key, key_length);
    uint32_t mask = s->slot_count - 1;
    uint32_t slot = (uint32_t) h & mask;
    for (uint32_t probe = 0; probe < s->max_probe; probe++) {
        size_t at = SLI_SNAP_HEADER_LENGTH + (size_t) SLI_SNAP_SLOT_LENGTH * slot;
        uint64_t entry = sli_rd64(s->table, at + SLI_SNAP_SLOT_ENTRY_OFFSET);
        if (entry == 0) {
            return SLUICE_ABSENT; /* an empty slot ends every probe through it */
        }
        if (sli_rd64(s->table, at + SLI_SNAP_SLOT_HASH_OFFSET) == h) {
            uint32_t kl = 0, vl = 0;
            uint64_t value_at = 0;
            int rc = checked_entry(s, slot, entry, &kl, &value_at, &vl, err);
            if (rc != SLUICE_OK) {
                return rc;
            }
            const uint8_t *stored = s->table + entry + SLI_SNAP_ENTRY_HEADER_LENGTH;
            if (kl == key_length && (key_length == 0 || memcmp(stored, key, key_length) == 0)) {
                *value = s->table + value_at;
                *value_length = vl;
                return SLUICE_OK;
            }
            /* Equal 64-bit hashes of different keys are so rare that checking costs nothing, and it
               catches a slot whose hash was forged. */
            uint64_t actual = sluice_key_hash(stored, kl);
            if (actual != h) {
                return corrupt_slot(s, slot, err, "holds hash 0x%llx but its key (%u bytes) hashes to 0x%llx",
                                    (unsigned long long) h, kl, (unsigned long long) actual);
            }
        }
        slot = (slot + 1) & mask;
    }
    return SLUICE_ABSENT;
}

uint64_t sluice_snapshot_version(const sluice_snapshot *s) {
    return s->version;
}

uint32_t sluice_snapshot_entry_count(const sluice_snapshot *s) {
    return s->entry_count;
}

size_t sluice_snapshot_size(const sluice_snapshot *s) {
    return s->size;
}

void sluice_snapshot_close(sluice_snapshot *s) {
    if (s == NULL) {
        return;
    }
    if (s->table != NULL) {
        munmap((void *) s->table, s->size);
        s->table = NULL;
    }
    sli_close_fd(&s->fd);
    free(s);
}
