/*
 * broadcast.c: a consumer of a broadcast ring (docs/layout.md, broadcast), back-pressure or
 * overwrite. Records carry sequence numbers, so laps (records overwritten before we read them)
 * are counted exactly. A record's sequence is also its commit word: a consumer that keeps up
 * spins on the sequence at its cursor, which reads -1 until the record there is committed, and
 * never loads the producer's counters. On an overwrite ring a record may be rewritten while we
 * read it: the producer announces every overwrite in Tail Intent before it writes (a seqlock),
 * and a record read before Tail Intent passed it is intact.
 */
#include "sluice_internal.h"

/* The broadcast ring header: the common header, then record header length and alignment, and a
   max message length that leaves room for two records in the ring. */
int sli_bc_validate(sluice_channel *ch, sluice_error *e) {
    struct bcast_state *b = &ch->u.bc;
    const uint8_t *r = ch->data;
    if (ch->data_size < SLI_BC_HEADER_LENGTH) {
        return sli_fail(e, SLUICE_ELAYOUT, "%s: segment of %zu bytes is smaller than the %d-byte broadcast header", ch->what,
                        ch->data_size, SLI_BC_HEADER_LENGTH);
    }
    int64_t cap;
    int rc = sli_validate_region_header(r, ch->data_size, ch->kind, SLI_BC_HEADER_LENGTH, ch->what, &cap, e);
    if (rc != SLUICE_OK) {
        return rc;
    }
    if (cap < SLI_BC_MIN_CAPACITY || cap > SLI_BC_MAX_CAPACITY) {
        return sli_fail(e, SLUICE_ELAYOUT, "%s: capacity %lld outside [%lld, %lld]", ch->what, (long long) cap,
                        (long long) SLI_BC_MIN_CAPACITY, (long long) SLI_BC_MAX_CAPACITY);
    }
    uint32_t rh = sli_rd32(r, SLI_BC_RECORD_HEADER_LENGTH_OFFSET);
    if (rh != SLI_BC_REC_HEADER_LENGTH) {
        return sli_fail(e, SLUICE_ELAYOUT, "%s: record header length %u, expected %d", ch->what, rh, SLI_BC_REC_HEADER_LENGTH);
    }
    uint32_t al = sli_rd32(r, SLI_BC_RECORD_ALIGNMENT_OFFSET);
    if (al != SLI_BC_REC_ALIGNMENT) {
        return sli_fail(e, SLUICE_ELAYOUT, "%s: record alignment %u, expected %d", ch->what, al, SLI_BC_REC_ALIGNMENT);
    }
    int32_t max = (int32_t) sli_rd32(r, SLI_BC_MAX_MESSAGE_LENGTH_OFFSET);
    int32_t limit = (int32_t) (cap / 2 - 2 * SLI_BC_REC_HEADER_LENGTH);
    if (max < 0 || max > limit) {
        return sli_fail(e, SLUICE_ELAYOUT, "%s: max message length %d outside [0, %d] for capacity %lld", ch->what, max, limit,
                        (long long) cap);
    }
    b->region = r;
    b->overwrite = ch->kind == SLUICE_KIND_BROADCAST_OVERWRITE;
    b->capacity = cap;
    b->mask = cap - 1;
    b->max_length = max;
    b->settled = -1;
    return SLUICE_OK;
}

/* Where the record after one ending at end starts: end, or the next lap if the implicit gap is there. */
static int64_t bc_next_record_start(const struct bcast_state *b, int64_t end) {
    int64_t to_end = b->capacity - (end & b->mask);
    return to_end < SLI_BC_REC_HEADER_LENGTH ? end + to_end : end;
}

/* The Tail Intent of an idle producer whose tail is tail: the end of the next slot's header. */
static int64_t bc_reach(const struct bcast_state *b, int64_t tail) {
    return bc_next_record_start(b, tail) + SLI_BC_REC_HEADER_LENGTH;
}

/* drain's bound when records are read by their commit words, not up to the Tail. */
#define SLI_BC_NO_TAIL INT64_MAX

/* Returns the record's span (> 0), or a negative code if the (intact) header is impossible. */
static int64_t bc_check_record(sluice_channel *ch, int64_t position, int32_t length, int32_t type, int64_t tail) {
    struct bcast_state *b = &ch->u.bc;
    int64_t to_end = b->capacity - (position & b->mask);
    int64_t span;
    if (type == SLI_BC_PADDING_TYPE) {
        if (length < SLI_BC_REC_HEADER_LENGTH || !sli_aligned8(length) || length > to_end) {
            return sli_fail_record(ch, position, "padding length %d (must be a multiple of 8 in [%d, %lld])", length,
                              SLI_BC_REC_HEADER_LENGTH, (long long) to_end);
        }
        span = length;
    } else if (type > 0) {
        if (length < SLI_BC_REC_HEADER_LENGTH || length - SLI_BC_REC_HEADER_LENGTH > b->max_length) {
            return sli_fail_record(ch, position, "message length %d (header %d plus at most %d)", length, SLI_BC_REC_HEADER_LENGTH,
                              b->max_length);
        }
        span = sli_align8(length);
        if (span > to_end) {
            return sli_fail_record(ch, position, "message of length %d crosses the end of the data area (%lld bytes left)",
                              length, (long long) to_end);
        }
    } else {
        return sli_fail_record(ch, position, "unknown record type %d", type);
    }
    if (position + span > tail) { /* never, with SLI_BC_NO_TAIL: a record read by its commit word */
        return sli_fail_record(ch, position, "record of %lld bytes ends past the tail %lld", (long long) span, (long long) tail);
    }
    return span;
}

/*
 * Chooses where this consumer starts (newest: the latest committed record, or the tail if none;
 * oldest: the head) and anchors the expected sequence on the record there, retrying while the
 * producer overwrites it under us. After SLI_BC_START_ATTEMPTS tries it starts unanchored and
 * anchors on the first record it reads.
 */
int sli_bc_start(sluice_channel *ch, sluice_start policy) {
    struct bcast_state *b = &ch->u.bc;
    const uint8_t *r = b->region;
    int64_t candidate = 0;
    for (int attempt = 0; attempt < SLI_BC_START_ATTEMPTS; attempt++) {
        /* Acquire loads in this order give head <= tail and latest < tail. */
        int64_t head = sli_load_acquire64(r + SLI_BC_HEAD_OFFSET);
        int64_t latest = sli_load_acquire64(r + SLI_BC_LATEST_OFFSET);
        int64_t tail = sli_load_acquire64(r + SLI_BC_TAIL_OFFSET);
        if (head < 0 || head > tail || !sli_aligned8(head) || !sli_aligned8(tail)) {
            return sli_fail(&ch->error, SLUICE_ECORRUPT, "%s: counters head %lld and tail %lld are impossible (negative, "
                            "unaligned or head past tail)", ch->what, (long long) head, (long long) tail);
        }
        if (latest != SLI_BC_NO_MESSAGE && (latest < 0 || latest >= tail || !sli_aligned8(latest))) {
            return sli_fail(&ch->error, SLUICE_ECORRUPT, "%s: latest %lld is not an aligned position before tail %lld",
                            ch->what, (long long) latest, (long long) tail);
        }
        if (policy == SLUICE_START_NEWEST) {
            candidate = latest == SLI_BC_NO_MESSAGE ? tail : (latest > head ? latest : head);
        } else {
            candidate = head;
        }
        if (candidate < tail) {
            const int64_t at = bc_next_record_start(b, candidate); /* the Head may sit in the implicit gap */
            const uint8_t *rec = r + SLI_BC_DATA_OFFSET + (at & b->mask);
            int32_t length = sli_load_relaxed32(rec + SLI_BC_REC_LENGTH_OFFSET);
            int32_t type = sli_load_relaxed32(rec + SLI_BC_REC_TYPE_OFFSET);
            int64_t seq = sli_load_relaxed64(rec + SLI_BC_REC_SEQUENCE_OFFSET);
            atomic_thread_fence(memory_order_acquire); /* the header loads before the intent load */
            if (sli_load_acquire64(r + SLI_BC_TAIL_INTENT_OFFSET) - b->capacity > candidate) {
                sli_spin_pause(); /* overwritten while we read it: choose again */
                continue;
            }
            int64_t span = bc_check_record(ch, at, length, type, tail);
            if (span < 0) {
                return (int) span;
            }
            if (seq < 0) {
                return sli_fail_record(ch, at, "negative sequence %lld", (long long) seq);
            }
            b->cursor = candidate;
            b->expected_sequence = seq;
            b->anchored = true;
            return SLUICE_OK;
        }
        int64_t seq = sli_load_acquire64(r + SLI_BC_NEXT_SEQUENCE_OFFSET);
        int64_t intent = sli_load_acquire64(r + SLI_BC_TAIL_INTENT_OFFSET);
        if (intent == bc_reach(b, tail)) {
            if (seq < 0) {
                return sli_fail(&ch->error, SLUICE_ECORRUPT, "%s: negative next sequence %lld", ch->what, (long long) seq);
            }
            b->cursor = tail;
            b->expected_sequence = seq;
            b->anchored = true;
            return SLUICE_OK;
        }
        if (intent < tail) {
            return sli_fail(&ch->error, SLUICE_ECORRUPT, "%s: tail intent %lld is behind tail %lld", ch->what,
                            (long long) intent, (long long) tail);
        }
        sli_spin_pause(); /* a claim is in flight at the tail; its sequence is not published yet */
    }
    b->cursor = candidate; /* anchor on the first record read */
    b->anchored = false;
    return SLUICE_OK;
}

/* Formats our position region ("SLUICEBP") and publishes the chosen start in it. */
void sli_bc_init_position(sluice_channel *ch) {
    struct bcast_state *b = &ch->u.bc;
    uint8_t *p = ch->pos;
    memset(p, 0, SLI_BC_POS_REGION_SIZE);
    sli_wr64(p, SLI_BC_POS_MAGIC_OFFSET, SLI_BC_POS_MAGIC);
    sli_wr32(p, SLI_BC_POS_VERSION_OFFSET, SLUICE_POSITION_LAYOUT_VERSION);
    sli_wr32(p, SLI_BC_POS_REGION_LENGTH_OFFSET, SLI_BC_POS_REGION_SIZE);
    b->position = (_Atomic int64_t *) (void *) (p + SLI_BC_POS_POSITION_OFFSET);
    b->counts = (_Atomic int64_t *) (void *) (p + SLI_BC_POS_DELIVERED_OFFSET);
    atomic_store_explicit(b->position, b->cursor, memory_order_release);
    b->published = b->cursor;
}

/* ---- polling ------------------------------------------------------------------------------------ */

static bool bc_try_gate(struct bcast_state *b) {
    if (b->registration <= 0 || sli_load_acquire64(b->region + SLI_BC_GATED_REGISTRATION_OFFSET) < b->registration) {
        return false;
    }
    b->gated = true;
    return true;
}

/*
 * The record at cursor was found overwritten. Head is acquire-loaded after the Tail Intent that
 * showed the lap, and the producer release-stores Head before Tail Intent: Head > cursor.
 */
static int64_t bc_resync(sluice_channel *ch, int64_t cursor) {
    struct bcast_state *b = &ch->u.bc;
    int64_t head = sli_load_acquire64(b->region + SLI_BC_HEAD_OFFSET);
    if (head <= cursor || !sli_aligned8(head)) {
        return sli_fail(&ch->error, SLUICE_ECORRUPT, "%s: lapped at position %lld but the head %lld is not an aligned "
                        "position past it", ch->what, (long long) cursor, (long long) head);
    }
    if (b->anchored && !b->lap_pending) {
        b->lap_pending = true;
        b->lap_from = cursor;
    }
    return head;
}

/* bc_resync for the poll loop: moves *cursor to the head and reloads *tail; SLUICE_OK or the error. */
static int bc_resync_poll(sluice_channel *ch, int64_t *cursor, int64_t *tail) {
    int64_t next = bc_resync(ch, *cursor);
    if (next < 0) {
        return (int) next;
    }
    *cursor = next;
    *tail = sli_load_acquire64(ch->u.bc.region + SLI_BC_TAIL_OFFSET);
    return SLUICE_OK;
}

static int bc_check_sequence(sluice_channel *ch, int64_t position, int64_t seq) {
    struct bcast_state *b = &ch->u.bc;
    if (seq == b->expected_sequence && !b->lap_pending) {
        return SLUICE_OK;
    }
    if (!b->anchored) {
        if (seq < 0) {
            return sli_fail_record(ch, position, "negative sequence %lld", (long long) seq);
        }
        b->anchored = true;
        b->expected_sequence = seq;
        return SLUICE_OK;
    }
    if (!b->lap_pending) {
        return sli_fail_record(ch, position, "sequence %lld, expected %lld", (long long) seq, (long long) b->expected_sequence);
    }
    int64_t lost = seq - b->expected_sequence;
    if (lost < 0) {
        return sli_fail_record(ch, position, "sequence %lld after a lap is behind the expected %lld", (long long) seq,
                          (long long) b->expected_sequence);
    }
    b->lap_pending = false;
    b->laps++;
    b->lost_messages += (uint64_t) lost;
    b->lost_bytes += (uint64_t) (position - b->lap_from);
    b->expected_sequence = seq;
    /* For monitors: laps and losses change only here, so they are stored here, before the
       position store that ends this poll; the per-poll path stores the two counts that move. */
    if (b->counts != NULL) {
        atomic_store_explicit(&b->counts[2], (int64_t) b->laps, memory_order_relaxed);
        atomic_store_explicit(&b->counts[3], (int64_t) b->lost_messages, memory_order_relaxed);
    }
    return SLUICE_OK;
}

/*
 * Delivers records from b->cursor: up to tail, or, with SLI_BC_NO_TAIL, as long as each record's
 * Sequence (the commit word) holds the number expected next.
 */
static int bc_drain(sluice_channel *ch, sluice_handler handler, void *ctx, int limit, int64_t tail) {
    struct bcast_state *b = &ch->u.bc;
    const uint8_t *r = b->region;
    bool stamped = tail == SLI_BC_NO_TAIL;
    int64_t cursor = b->cursor;
    int delivered = 0;
    int resyncs = 0;
    int rc = 0;
    if (!b->overwrite && !stamped) {
        /* Gated, nothing overwrites us; after a change of the consumer set, catch a lap from before
           we were gated, or from after we were removed. */
        int64_t intent = sli_load_acquire64(r + SLI_BC_TAIL_INTENT_OFFSET);
        if (intent < tail) {
            rc = sli_fail(&ch->error, SLUICE_ECORRUPT, "%s: tail intent %lld is behind tail %lld", ch->what,
                          (long long) intent, (long long) tail);
            goto out;
        }
        if (intent - b->capacity > cursor) {
            rc = bc_resync_poll(ch, &cursor, &tail);
            if (rc != SLUICE_OK) {
                goto out;
            }
            resyncs++;
        }
    }
    while (delivered < limit && cursor < tail) {
        /* Past the implicit gap, if the cursor is in it; the cursor moves there only once the
           record there is known to be committed (a published position never passes the tail). */
        const int64_t start = bc_next_record_start(b, cursor);
        if (start >= tail) {
            cursor = start; /* the tail itself is past the gap: nothing more to read */
            break;
        }
        const uint8_t *rec = r + SLI_BC_DATA_OFFSET + (start & b->mask);
        /* Acquire: the commit word first, the rest of the header and the payload after it. */
        const int64_t seq = sli_load_acquire64(rec + SLI_BC_REC_SEQUENCE_OFFSET);
        if (stamped && (!b->anchored || b->lap_pending || seq != b->expected_sequence)) {
            if (!b->overwrite || seq == SLI_BC_NOT_COMMITTED) {
                break; /* not committed yet (back-pressure: anything else is the next poll's, against the Tail) */
            }
            /* Another number on an overwrite ring: a lap under way (or corruption); the Tail and
               the seqlock check below sort it out. */
            tail = sli_load_acquire64(r + SLI_BC_TAIL_OFFSET);
            stamped = false;
            continue;
        }
        cursor = start;
        const int32_t length = sli_load_relaxed32(rec + SLI_BC_REC_LENGTH_OFFSET);
        const int32_t type = sli_load_relaxed32(rec + SLI_BC_REC_TYPE_OFFSET);
        if (b->overwrite) {
            /* Seqlock check: the header loads above before the intent load below. */
            atomic_thread_fence(memory_order_acquire);
            if (sli_load_acquire64(r + SLI_BC_TAIL_INTENT_OFFSET) - b->capacity > cursor) {
                if (++resyncs > limit) {
                    break; /* bounded work per poll even against a producer that laps us forever */
                }
                rc = bc_resync_poll(ch, &cursor, &tail);
                if (rc != SLUICE_OK) {
                    goto out;
                }
                stamped = false; /* from the Head on, read up to the Tail */
                continue;
            }
        }
        const int64_t span = bc_check_record(ch, cursor, length, type, tail);
        if (span < 0) {
            rc = (int) span;
            goto out;
        }
        rc = bc_check_sequence(ch, cursor, seq);
        if (rc < 0) {
            goto out;
        }
        if (type == SLI_BC_PADDING_TYPE) {
            cursor += span;
            continue;
        }
        b->record_position = cursor;
        b->sequence = seq;
        b->expected_sequence = seq + 1;
        cursor += span;
        b->cursor = cursor;
        delivered++;
        handler(ctx, type, rec + SLI_BC_REC_HEADER_LENGTH, (uint32_t) (length - SLI_BC_REC_HEADER_LENGTH));
    }
out:
    b->cursor = cursor;
    if (cursor != b->published) {
        /* Release: the handler's reads of everything before cursor happen-before the producer's
           acquire load that lets it overwrite them. */
        atomic_store_explicit(b->position, cursor, memory_order_release);
        b->published = cursor;
        /* For monitors only, after the position: the two counts every delivery moves (laps and
           losses are stored when they change, in the lap accounting). */
        b->delivered += (uint64_t) delivered;
        atomic_store_explicit(&b->counts[0], (int64_t) b->delivered, memory_order_relaxed);
        atomic_store_explicit(&b->counts[1], b->anchored ? b->expected_sequence : -1, memory_order_relaxed);
    }
    return rc < 0 ? rc : delivered;
}

int sli_bc_poll(sluice_channel *ch, sluice_handler handler, void *ctx, int limit) {
    struct bcast_state *b = &ch->u.bc;
    const uint8_t *r = b->region;
    if (!b->gated && !bc_try_gate(b)) {
        return 0;
    }
    /* The fast path: the record at the cursor is committed when its Sequence holds the number we
       expect (every slot after a committed record holds SLI_BC_NOT_COMMITTED until its own
       commit); it reads only the record's line. Back-pressure: valid while the consumer set is
       the one we last checked under (the Gated Registration has not moved). */
    if (b->anchored && !b->lap_pending) {
        const int64_t seq = sli_load_acquire64(r + SLI_BC_DATA_OFFSET + (bc_next_record_start(b, b->cursor) & b->mask)
                                               + SLI_BC_REC_SEQUENCE_OFFSET);
        const bool settled = b->overwrite
                             || sli_load_acquire64(r + SLI_BC_GATED_REGISTRATION_OFFSET) == b->settled;
        if (seq == b->expected_sequence && settled) {
            return bc_drain(ch, handler, ctx, limit, SLI_BC_NO_TAIL);
        }
        if (seq == SLI_BC_NOT_COMMITTED && settled && !b->overwrite) {
            return 0;
        }
    }
    /* Anything else (not anchored yet, a lap, a change of the consumer set, corruption, or an
       overwrite ring with nothing new) is sorted out against the Tail. */
    const int64_t gated_registration = b->overwrite ? 0 : sli_load_acquire64(r + SLI_BC_GATED_REGISTRATION_OFFSET);
    const int64_t tail = sli_load_acquire64(r + SLI_BC_TAIL_OFFSET);
    if (b->cursor >= tail) {
        b->settled = gated_registration;
        return 0;
    }
    const int rc = bc_drain(ch, handler, ctx, limit, tail);
    if (rc >= 0) {
        b->settled = gated_registration;
    }
    return rc;
}

int sluice_bcast_still_valid(sluice_channel *ch) {
    if (ch->kind != SLUICE_KIND_BROADCAST_BACKPRESSURE && ch->kind != SLUICE_KIND_BROADCAST_OVERWRITE) {
        return sli_fail(&ch->error, SLUICE_ESTATE, "%s: not a broadcast channel", ch->what);
    }
    struct bcast_state *b = &ch->u.bc;
    if (b->record_position < 0) {
        return sli_fail(&ch->error, SLUICE_ESTATE, "%s: no message delivered yet", ch->what);
    }
    atomic_thread_fence(memory_order_acquire); /* the handler's loads of the payload before the intent load */
    return sli_load_acquire64(b->region + SLI_BC_TAIL_INTENT_OFFSET) - b->capacity <= b->record_position ? 1 : 0;
}

int sluice_bcast_stats_get(sluice_channel *ch, sluice_bcast_stats *stats) {
    if (ch->kind != SLUICE_KIND_BROADCAST_BACKPRESSURE && ch->kind != SLUICE_KIND_BROADCAST_OVERWRITE) {
        return sli_fail(&ch->error, SLUICE_ESTATE, "%s: not a broadcast channel", ch->what);
    }
    struct bcast_state *b = &ch->u.bc;
    stats->laps = b->laps;
    stats->lost_messages = b->lost_messages;
    stats->lost_bytes = b->lost_bytes;
    stats->last_sequence = b->sequence;
    stats->position = b->cursor;
    stats->gated = b->gated || bc_try_gate(b);
    return SLUICE_OK;
}
