/*
 * shared_map.c: a reader of the shared map (docs/cache-layout.md). One writer, the owner, updates
 * the map in place through its own mapping; we map it read-only (the memfd is sealed SHRINK|GROW|
 * FUTURE_WRITE: no new writable mapping, no size change) and never write a byte of it.
 *
 * Each slot's control word is a seqlock. The writer stores a slot's data first, then the control
 * word (release), then fences store-store, so that the control word of an update is visible before
 * any data store of the next one. A reader:
 *   c1 = control (acquire: the data the writer stored before c1 is visible to the loads after it);
 *   reads the hash, key length and value length (one relaxed load each: the value checked is the
 *   value used), compares the key, copies the value out;
 *   atomic_thread_fence(acquire), then c2 = control (relaxed): the fence keeps every data load
 *   above before this load, so if any of them saw a store of a later update, c2 sees at least
 *   that update's control word, and differs from c1;
 *   c2 == c1: what was read is one update's whole data; else it is thrown away and read again.
 * The copies of key and value bytes may race with the writer's stores (that is what the re-check
 * is for): they go into our own buffers, and nothing read is used before c2 == c1 says it is whole.
 *
 * The header fields are read once each at open and used from our copy; the owner could rewrite
 * them, but never make a lookup read outside the mapping or probe more than slot-count slots.
 */
#include "sluice_internal.h"

struct sluice_map {
    int fd;
    const uint8_t *region; /* the whole map, read-only */
    size_t size;
    uint32_t slot_count; /* a power of two */
    uint32_t slot_length;
    uint32_t max_key;
    uint32_t max_value;
    uint32_t capacity;
    size_t key_area;   /* align8(max key): the value buffers follow the key bytes */
    size_t value_area; /* align8(max value): each value buffer */
};

/* What one read of a slot under its control word found. */
enum slot_read { SLOT_MATCH, SLOT_OTHER_KEY, SLOT_TORN_LENGTH };

static const char *const WHAT = "shared map";

/* The header (docs/cache-layout.md, "Header"), field by field in offset order, then the region size. */
static int validate_header(sluice_map *m, sluice_error *e) {
    const uint8_t *r = m->region;
    uint64_t magic = sli_rd64(r, SLI_MAP_MAGIC_OFFSET);
    if (magic != SLI_MAP_MAGIC) {
        return sli_fail(e, SLUICE_ELAYOUT, "%s: bad magic 0x%llx, expected 0x%llx (\"SLUICEMP\")", WHAT,
                        (unsigned long long) magic, (unsigned long long) SLI_MAP_MAGIC);
    }
    uint32_t layout = sli_rd32(r, SLI_MAP_LAYOUT_VERSION_OFFSET);
    if (layout != SLI_MAP_LAYOUT_VERSION) {
        return sli_fail(e, SLUICE_ELAYOUT, "%s: layout version %u, this library reads %d", WHAT, layout, SLI_MAP_LAYOUT_VERSION);
    }
    uint32_t header_length = sli_rd32(r, SLI_MAP_HEADER_LENGTH_OFFSET);
    if (header_length != SLI_MAP_HEADER_LENGTH) {
        return sli_fail(e, SLUICE_ELAYOUT, "%s: header length %u, expected %d", WHAT, header_length, SLI_MAP_HEADER_LENGTH);
    }
    uint32_t slots = sli_rd32(r, SLI_MAP_SLOT_COUNT_OFFSET);
    if (slots > SLI_MAP_MAX_SLOT_COUNT || !sli_is_pow2_32(slots)) {
        return sli_fail(e, SLUICE_ELAYOUT, "%s: slot count %u is not a power of two in 1..%u", WHAT, slots,
                        SLI_MAP_MAX_SLOT_COUNT);
    }
    uint32_t slot_length = sli_rd32(r, SLI_MAP_SLOT_LENGTH_OFFSET);
    uint32_t max_key = sli_rd32(r, SLI_MAP_MAX_KEY_LENGTH_OFFSET);
    if (max_key < 1 || max_key > SLI_MAP_MAX_KEY_LENGTH) {
        return sli_fail(e, SLUICE_ELAYOUT, "%s: max key length %u is outside 1..%u", WHAT, max_key, SLI_MAP_MAX_KEY_LENGTH);
    }
    uint32_t max_value = sli_rd32(r, SLI_MAP_MAX_VALUE_LENGTH_OFFSET);
    if (max_value > SLI_MAP_MAX_VALUE_LENGTH) {
        return sli_fail(e, SLUICE_ELAYOUT, "%s: max value length %u is outside 0..%u", WHAT, max_value,
                        SLI_MAP_MAX_VALUE_LENGTH);
    }
    /* Both maxima are bounded: this is at most 32 + 65536 + 2 x 16 MiB, far below 2^32. */
    uint64_t expected_length = SLI_MAP_SLOT_HEADER_LENGTH + (uint64_t) sli_align8(max_key) + 2 * (uint64_t) sli_align8(max_value);
    if (slot_length != expected_length) {
        return sli_fail(e, SLUICE_ELAYOUT, "%s: slot length %u, expected %llu for max key length %u and max value length %u",
                        WHAT, slot_length, (unsigned long long) expected_length, max_key, max_value);
    }
    uint32_t capacity = sli_rd32(r, SLI_MAP_CAPACITY_OFFSET);
    if (capacity < 1 || capacity > slots) {
        return sli_fail(e, SLUICE_ELAYOUT, "%s: capacity %u is outside 1..%u (the slot count)", WHAT, capacity, slots);
    }
    uint32_t reserved = sli_rd32(r, SLI_MAP_RESERVED_U32_OFFSET);
    if (reserved != 0) {
        return sli_fail(e, SLUICE_ELAYOUT, "%s: reserved header bytes at %d are 0x%x, expected zero", WHAT,
                        SLI_MAP_RESERVED_U32_OFFSET, reserved);
    }
    for (size_t off = SLI_MAP_RESERVED_FIELDS_OFFSET; off < SLI_MAP_HEADER_LENGTH; off += 8) {
        uint64_t v = sli_rd64(r, off);
        if (v != 0) {
            return sli_fail(e, SLUICE_ELAYOUT, "%s: reserved header bytes at %zu are 0x%llx, expected zero", WHAT, off,
                            (unsigned long long) v);
        }
    }
    /* At most 2^30 x (2^25 + 2^16 + 32): below 2^56, no overflow. */
    uint64_t expected_size = SLI_MAP_HEADER_LENGTH + (uint64_t) slots * slot_length;
    if (expected_size != m->size) {
        return sli_fail(e, SLUICE_ELAYOUT, "%s: %u slots of %u bytes need a region of %llu bytes, the memfd has %zu", WHAT,
                        slots, slot_length, (unsigned long long) expected_size, m->size);
    }
    m->slot_count = slots;
    m->slot_length = slot_length;
    m->max_key = max_key;
    m->max_value = max_value;
    m->capacity = capacity;
    m->key_area = (size_t) sli_align8(max_key);
    m->value_area = (size_t) sli_align8(max_value);
    return SLUICE_OK;
}

int sluice_map_open(int fd, uint64_t size, sluice_map **out, sluice_error *err) {
    if (out == NULL) {
        sli_close_fd(&fd);
        return sli_fail(err, SLUICE_EARGUMENT, "sluice_map_open: out is NULL");
    }
    *out = NULL;
    if (fd < 0) {
        return sli_fail(err, SLUICE_EARGUMENT, "sluice_map_open: fd %d is not an fd", fd);
    }
    sluice_map *m = calloc(1, sizeof *m);
    if (m == NULL) {
        sli_close_fd(&fd);
        return sli_fail_sys(err, ENOMEM, "allocating a shared map handle");
    }
    m->fd = fd;
    /* SHRINK|GROW make the size final before we read it; FUTURE_WRITE: only the owner's mapping writes. */
    int rc = sli_map_cache_region(fd, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE, size, SLI_MAP_HEADER_LENGTH,
                                  WHAT, &m->region, err);
    if (rc == SLUICE_OK) {
        m->size = (size_t) size;
        rc = validate_header(m, err);
    }
    if (rc != SLUICE_OK) {
        sluice_map_close(m);
        return rc;
    }
    *out = m;
    return SLUICE_OK;
}

static const uint8_t *slot_at(const sluice_map *m, uint32_t index) {
    return m->region + SLI_MAP_HEADER_LENGTH + (size_t) index * m->slot_length;
}

/* A control word whose state bits no writer stores: the region is not a map any writer keeps. */
static int corrupt_control(uint32_t index, uint64_t control, sluice_error *e) {
    return sli_fail(e, SLUICE_ECORRUPT, "%s: slot %u: control word 0x%llx has state %llu (0 EMPTY, 1 LIVE, 2 DELETED)",
                    WHAT, index, (unsigned long long) control, (unsigned long long) (control & SLI_MAP_STATE_MASK));
}

/*
 * A length that an unchanged control word says is the writer's whole data, yet above the header's
 * maximum: no writer stores that (an insert writes the key length before it makes the slot LIVE,
 * an update the value length before it flips the buffer).
 */
static int corrupt_length(uint32_t index, const char *field, uint32_t length, uint32_t max, sluice_error *e) {
    return sli_fail(e, SLUICE_ECORRUPT, "%s: slot %u: live entry with %s %u, above the maximum %u", WHAT, index, field,
                    length, max);
}

static int contended(uint32_t index, sluice_error *e) {
    return sli_fail(e, SLUICE_ECONTENDED, "%s: slot %u changed on each of %d retries: the writer updated it faster than "
                    "this reader could read it", WHAT, index, SLUICE_MAP_READ_RETRIES);
}

int sluice_map_get(const sluice_map *m, const void *key, size_t key_length, void *value, size_t capacity,
                   sluice_error *err) {
    if (m == NULL || (key == NULL && key_length > 0) || (value == NULL && capacity > 0)) {
        return sli_fail(err, SLUICE_EARGUMENT, "sluice_map_get: NULL map, key or value");
    }
    if (key_length > m->max_key) {
        return SLUICE_ABSENT; /* the writer stores no key longer than the maximum */
    }
    uint64_t h = sluice_key_hash(key, key_length);
    uint32_t mask = m->slot_count - 1;
    int retries = 0;
    for (uint32_t probe = 0; probe < m->slot_count;) {
        uint32_t index = (uint32_t) (h + probe) & mask;
        const uint8_t *slot = slot_at(m, index);
        uint64_t c1 = (uint64_t) sli_load_acquire64(slot + SLI_MAP_SLOT_CONTROL_OFFSET);
        uint64_t state = c1 & SLI_MAP_STATE_MASK;
        if (state == SLI_MAP_EMPTY) {
            return SLUICE_ABSENT; /* slots never return to EMPTY: no key lies beyond one */
        }
        if (state == SLI_MAP_DELETED) {
            probe++;
            continue;
        }
        if (state != SLI_MAP_LIVE) {
            return corrupt_control(index, c1, err);
        }
        enum slot_read found = SLOT_OTHER_KEY;
        uint32_t length = 0;
        uint32_t max = 0;
        const char *field = NULL;
        if ((uint64_t) sli_rd64(slot, SLI_MAP_SLOT_HASH_OFFSET) == h) {
            uint32_t kl = sli_rd32(slot, SLI_MAP_SLOT_KEY_LENGTH_OFFSET);
            if (kl > m->max_key) {
                found = SLOT_TORN_LENGTH;
                length = kl;
                max = m->max_key;
                field = "key length";
            } else if (kl == key_length && (kl == 0 || memcmp(slot + SLI_MAP_SLOT_KEY_OFFSET, key, kl) == 0)) {
                unsigned active = (c1 & SLI_MAP_ACTIVE_BUFFER_BIT) != 0;
                length = sli_rd32(slot, SLI_MAP_SLOT_VALUE_LENGTH_OFFSET + 4 * active);
                if (length > m->max_value) {
                    found = SLOT_TORN_LENGTH;
                    max = m->max_value;
                    field = "value length";
                } else {
                    found = SLOT_MATCH;
                    if (length <= capacity && length > 0) {
                        memcpy(value, slot + SLI_MAP_SLOT_KEY_OFFSET + m->key_area + active * m->value_area, length);
                    }
                }
            }
        }
        atomic_thread_fence(memory_order_acquire); /* every load above happens before the re-check */
        uint64_t c2 = (uint64_t) sli_load_relaxed64(slot + SLI_MAP_SLOT_CONTROL_OFFSET);
        if (c2 != c1) {
            /* The writer changed the slot while we read it: what we read may mix two updates. */
            if (++retries > SLUICE_MAP_READ_RETRIES) {
                return contended(index, err);
            }
            continue; /* the same slot again */
        }
        switch (found) {
            case SLOT_MATCH:
                if (length > capacity) {
                    return sli_fail(err, SLUICE_EARGUMENT, "%s: the value of this key is %u bytes, the buffer holds %zu",
                                    WHAT, length, capacity);
                }
                return (int) length; /* <= 16 MiB */
            case SLOT_TORN_LENGTH:
                return corrupt_length(index, field, length, max, err);
            case SLOT_OTHER_KEY:
                break;
        }
        probe++;
    }
    return SLUICE_ABSENT;
}

int64_t sluice_map_for_each(const sluice_map *m, sluice_map_visitor visit, void *ctx, sluice_error *err) {
    if (m == NULL || visit == NULL) {
        return sli_fail(err, SLUICE_EARGUMENT, "sluice_map_for_each: NULL map or visitor");
    }
    uint8_t *key = malloc(m->key_area);
    uint8_t *value = malloc(m->value_area > 0 ? m->value_area : 1);
    if (key == NULL || value == NULL) {
        free(key);
        free(value);
        return sli_fail_sys(err, ENOMEM, "allocating %zu + %zu bytes to copy a shared map's entries", m->key_area,
                            m->value_area);
    }
    int64_t visited = 0;
    int64_t rc = 0;
    bool stop = false;
    for (uint32_t index = 0; index < m->slot_count && rc == 0 && !stop; index++) {
        const uint8_t *slot = slot_at(m, index);
        for (int retries = 0;; retries++) {
            uint64_t c1 = (uint64_t) sli_load_acquire64(slot + SLI_MAP_SLOT_CONTROL_OFFSET);
            uint64_t state = c1 & SLI_MAP_STATE_MASK;
            if (state == SLI_MAP_EMPTY || state == SLI_MAP_DELETED) {
                break;
            }
            if (state != SLI_MAP_LIVE) {
                rc = corrupt_control(index, c1, err);
                break;
            }
            unsigned active = (c1 & SLI_MAP_ACTIVE_BUFFER_BIT) != 0;
            uint32_t kl = sli_rd32(slot, SLI_MAP_SLOT_KEY_LENGTH_OFFSET);
            uint32_t vl = sli_rd32(slot, SLI_MAP_SLOT_VALUE_LENGTH_OFFSET + 4 * active);
            if (kl <= m->max_key && kl > 0) {
                memcpy(key, slot + SLI_MAP_SLOT_KEY_OFFSET, kl);
            }
            if (vl <= m->max_value && vl > 0) {
                memcpy(value, slot + SLI_MAP_SLOT_KEY_OFFSET + m->key_area + active * m->value_area, vl);
            }
            atomic_thread_fence(memory_order_acquire); /* the copies happen before the re-check */
            uint64_t c2 = (uint64_t) sli_load_relaxed64(slot + SLI_MAP_SLOT_CONTROL_OFFSET);
            if (c2 != c1) {
                if (retries >= SLUICE_MAP_READ_RETRIES) {
                    rc = contended(index, err);
                    break;
                }
                continue;
            }
            if (kl > m->max_key) {
                rc = corrupt_length(index, "key length", kl, m->max_key, err);
            } else if (vl > m->max_value) {
                rc = corrupt_length(index, "value length", vl, m->max_value, err);
            } else {
                visited++;
                stop = !visit(ctx, key, kl, value, vl);
            }
            break;
        }
    }
    free(key);
    free(value);
    return rc != 0 ? rc : visited;
}

uint32_t sluice_map_slot_count(const sluice_map *m) {
    return m->slot_count;
}

uint32_t sluice_map_capacity(const sluice_map *m) {
    return m->capacity;
}

uint32_t sluice_map_max_key_length(const sluice_map *m) {
    return m->max_key;
}

uint32_t sluice_map_max_value_length(const sluice_map *m) {
    return m->max_value;
}

/* The owner's counts: opaque words it updates with plain stores; one relaxed load, no ordering. */
uint64_t sluice_map_live_entries(const sluice_map *m) {
    return (uint64_t) sli_load_relaxed64(m->region + SLI_MAP_LIVE_ENTRIES_OFFSET);
}

uint64_t sluice_map_updates_applied(const sluice_map *m) {
    return (uint64_t) sli_load_relaxed64(m->region + SLI_MAP_UPDATES_OFFSET);
}

void sluice_map_close(sluice_map *m) {
    if (m == NULL) {
        return;
    }
    if (m->region != NULL) {
        munmap((void *) m->region, m->size);
        m->region = NULL;
    }
    sli_close_fd(&m->fd);
    free(m);
}
