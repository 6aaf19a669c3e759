/*
 * spsc.c: the consumer of an SPSC ring (docs/layout.md, SPSC). The producer is the host; we read
 * its records in place through a read-only mapping and publish how far we got in our own position
 * region, which the producer reads to know what it may overwrite. A record is ours once its stamp
 * equals its position (acquire), which the producer stores last (release).
 */
#include "sluice_internal.h"

/*
 * The SPSC ring header: the common header, a max message length of capacity / 8 (capped at
 * SLI_SPSC_MAX_MESSAGE_LENGTH_LIMIT), and the record header length and alignment this client reads.
 */
int sli_spsc_validate(sluice_channel *ch, sluice_error *e) {
    struct spsc_state *s = &ch->u.spsc;
    int64_t cap;
    int rc = sli_validate_region_header(ch->data, ch->data_size, SLUICE_KIND_SPSC, SLI_SPSC_HEADER_LENGTH, ch->what, &cap, e);
    if (rc != SLUICE_OK) {
        return rc;
    }
    if (cap < SLI_SPSC_MIN_CAPACITY) {
        return sli_fail(e, SLUICE_ELAYOUT, "%s: capacity %lld is below the minimum %d", ch->what, (long long) cap, SLI_SPSC_MIN_CAPACITY);
    }
    int32_t expected_max = (int32_t) ((cap >> 3) < SLI_SPSC_MAX_MESSAGE_LENGTH_LIMIT ? (cap >> 3) : SLI_SPSC_MAX_MESSAGE_LENGTH_LIMIT);
    int32_t max = (int32_t) sli_rd32(ch->data, SLI_SPSC_MAX_MESSAGE_LENGTH_OFFSET);
    if (max != expected_max) {
        return sli_fail(e, SLUICE_ELAYOUT, "%s: max message length %d, expected %d for capacity %lld", ch->what, max,
                        expected_max, (long long) cap);
    }
    uint32_t rh = sli_rd32(ch->data, SLI_SPSC_RECORD_HEADER_LENGTH_OFFSET);
    if (rh != SLI_SPSC_REC_HEADER_LENGTH) {
        return sli_fail(e, SLUICE_ELAYOUT, "%s: record header length %u, expected %d", ch->what, rh, SLI_SPSC_REC_HEADER_LENGTH);
    }
    uint32_t al = sli_rd32(ch->data, SLI_SPSC_RECORD_ALIGNMENT_OFFSET);
    if (al != SLI_SPSC_REC_ALIGNMENT) {
        return sli_fail(e, SLUICE_ELAYOUT, "%s: record alignment %u, expected %d", ch->what, al, SLI_SPSC_REC_ALIGNMENT);
    }
    s->data = ch->data + SLI_SPSC_HEADER_LENGTH;
    s->capacity = cap;
    s->mask = cap - 1;
    s->max_length = max;
    s->wake = (const _Atomic int32_t *) (const void *) (ch->data + SLI_SPSC_WAKE_SEQUENCE_OFFSET);
    return SLUICE_OK;
}


/*
 * Formats our position region ("SLUICECP") and publishes WELCOME's start position in it, after
 * checking that the ring agrees: the stamp at that position is the position itself (a record
 * waits there) or -1 (nothing was written there yet).
 */
int sli_spsc_init_position(sluice_channel *ch, int64_t start, sluice_error *e) {
    struct spsc_state *s = &ch->u.spsc;
    uint8_t *p = ch->pos;
    memset(p, 0, SLI_SPSC_POS_REGION_SIZE);
    sli_wr64(p, SLI_SPSC_POS_MAGIC_OFFSET, SLI_SPSC_POS_MAGIC);
    sli_wr32(p, SLI_SPSC_POS_VERSION_OFFSET, SLUICE_POSITION_LAYOUT_VERSION);
    sli_wr32(p, SLI_SPSC_POS_KIND_OFFSET, SLUICE_KIND_SPSC);
    sli_wr32(p, SLI_SPSC_POS_HEADER_LENGTH_OFFSET, SLI_SPSC_POS_HEADER_LENGTH);
    sli_wr64(p, SLI_SPSC_POS_CAPACITY_OFFSET, (uint64_t) s->capacity);
    s->position = (_Atomic int64_t *) (void *) (p + SLI_SPSC_POS_POSITION_OFFSET);
    s->consumed = (_Atomic int64_t *) (void *) (p + SLI_SPSC_POS_CONSUMED_OFFSET);
    s->parked = (_Atomic int32_t *) (void *) (p + SLI_SPSC_POS_PARKED_OFFSET);
    if (start < 0 || !sli_aligned8(start)) {
        return sli_fail(e, SLUICE_EPROTOCOL, "%s: WELCOME start position %lld is not a non-negative multiple of 8", ch->what,
                        (long long) start);
    }
    if ((start & (SLI_SPSC_LINE_LENGTH - 1)) > SLI_SPSC_LAST_START_IN_LINE) {
        return sli_fail(e, SLUICE_EPROTOCOL, "%s: WELCOME start position %lld lies in the last 16 bytes of a %d-byte line,"
                        " where no record starts", ch->what, (long long) start, SLI_SPSC_LINE_LENGTH);
    }
    atomic_store_explicit(s->position, start, memory_order_release);
    int64_t stamp = sli_load_acquire64(s->data + (start & s->mask));
    if (stamp != start && stamp != SLI_SPSC_INVALID_STAMP) {
        return sli_fail(e, SLUICE_ELAYOUT, "%s: consumer position %lld does not match the ring: the stamp there is %lld",
                        ch->what, (long long) start, (long long) stamp);
    }
    s->head = start;
    return SLUICE_OK;
}

/* ---- polling ------------------------------------------------------------------------------------ */

int sli_spsc_poll(sluice_channel *ch, sluice_handler handler, void *ctx, int limit) {
    struct spsc_state *s = &ch->u.spsc;
    const uint8_t *data = s->data;
    const int64_t mask = s->mask;
    const int64_t capacity = s->capacity;
    const int64_t start = s->head;
    int64_t head = start;
    int count = 0;
    int rc = 0;
    while (count < limit) {
        const int64_t index = head & mask;
        const int64_t stamp = sli_load_acquire64(data + index + SLI_SPSC_REC_STAMP_OFFSET);
        if (stamp != head) {
            if (stamp != SLI_SPSC_INVALID_STAMP) {
                rc = sli_fail_record(ch, head, "stamp %lld, expected %lld or -1", (long long) stamp, (long long) head);
            }
            break;
        }
        const int32_t length = sli_load_relaxed32(data + index + SLI_SPSC_REC_LENGTH_OFFSET);
        const int32_t type = sli_load_relaxed32(data + index + SLI_SPSC_REC_TYPE_OFFSET);
        if (type > 0) {
            if (length < 0 || length > s->max_length) {
                rc = sli_fail_record(ch, head, "length %d outside 0..%d", length, s->max_length);
                break;
            }
        } else if (type == SLI_SPSC_PADDING_TYPE) {
            if (length != capacity - index - SLI_SPSC_REC_HEADER_LENGTH) {
                rc = sli_fail_record(ch, head, "padding length %d does not run to the end of the data area (%lld)", length,
                                  (long long) (capacity - index - SLI_SPSC_REC_HEADER_LENGTH));
                break;
            }
        } else {
            rc = sli_fail_record(ch, head, "unknown type %d", type);
            break;
        }
        const int64_t end = index + sli_align8((int64_t) SLI_SPSC_REC_HEADER_LENGTH + length);
        if (end > capacity) {
            rc = sli_fail_record(ch, head, "length %d runs past the end of the data area (capacity %lld)", length,
                              (long long) capacity);
            break;
        }
        head = sli_spsc_next_record_start(head + (end - index));
        if (type != SLI_SPSC_PADDING_TYPE) {
            count++;
            handler(ctx, type, data + index + SLI_SPSC_REC_HEADER_LENGTH, (uint32_t) length);
        }
    }
    if (head != start) {
        s->head = head;
        atomic_store_explicit(s->position, head, memory_order_release); /* after every read of the records passed */
        s->consumed_count += (uint64_t) count;
        atomic_store_explicit(s->consumed, (int64_t) s->consumed_count, memory_order_relaxed); /* monitors only */
    }
    return rc < 0 ? rc : count;
}
