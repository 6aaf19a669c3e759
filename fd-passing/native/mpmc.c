/*
 * mpmc.c: MPMC producer and consumer (docs/layout.md, MPMC). Slots carry a state word (lap,
 * state, participant id) that moves FREE -> CLAIMED -> COMMITTED (or ABORTED) -> CONSUMING -> FREE
 * for the next lap, every step a CAS; Tail and Head move by CAS too, and anyone who sees a slot
 * claimed or taken before its counter moved helps move it. The whole region is mapped read-write:
 * every participant is trusted not to scribble (docs/security.md), but a state word that no honest
 * participant can write is reported as corruption, never followed.
 */
#include "sluice_internal.h"

/*
 * The MPMC ring header: slot length and count (powers of two whose product is the capacity), a
 * max participant id in range, zero reserved fields, and counters no honest ring can have
 * otherwise (head <= tail + 1).
 */
int sli_mpmc_validate(sluice_channel *ch, sluice_error *e) {
    struct mpmc_state *m = &ch->u.mp;
    uint8_t *r = ch->data;
    int64_t cap;
    int rc = sli_validate_region_header(r, ch->data_size, SLUICE_KIND_MPMC, SLI_MPMC_HEADER_LENGTH, ch->what, &cap, e);
    if (rc != SLUICE_OK) {
        return rc;
    }
    uint32_t slot_length = sli_rd32(r, SLI_MPMC_SLOT_LENGTH_OFFSET);
    if (slot_length < SLI_MPMC_MIN_SLOT_LENGTH || slot_length > SLI_MPMC_MAX_SLOT_LENGTH || !sli_is_pow2_32(slot_length)) {
        return sli_fail(e, SLUICE_ELAYOUT, "%s: slot length %u is not a power of two in [%u, %u]", ch->what, slot_length,
                        SLI_MPMC_MIN_SLOT_LENGTH, SLI_MPMC_MAX_SLOT_LENGTH);
    }
    uint32_t slot_count = sli_rd32(r, SLI_MPMC_SLOT_COUNT_OFFSET);
    if (slot_count < SLI_MPMC_MIN_SLOT_COUNT || slot_count > SLI_MPMC_MAX_SLOT_COUNT || !sli_is_pow2_32(slot_count)) {
        return sli_fail(e, SLUICE_ELAYOUT, "%s: slot count %u is not a power of two in [%u, %u]", ch->what, slot_count,
                        SLI_MPMC_MIN_SLOT_COUNT, SLI_MPMC_MAX_SLOT_COUNT);
    }
    if ((int64_t) slot_count * slot_length != cap) {
        return sli_fail(e, SLUICE_ELAYOUT, "%s: capacity %lld is not slot count %u x slot length %u", ch->what,
                        (long long) cap, slot_count, slot_length);
    }
    uint32_t max_pid = sli_rd32(r, SLI_MPMC_MAX_PARTICIPANT_ID_OFFSET);
    if (max_pid < 1 || max_pid > SLI_MPMC_MAX_PARTICIPANT_ID) {
        return sli_fail(e, SLUICE_ELAYOUT, "%s: max participant id %u outside 1..%u", ch->what, max_pid, SLI_MPMC_MAX_PARTICIPANT_ID);
    }
    for (size_t off = SLI_MPMC_RESERVED_FIELDS_OFFSET; off < SLI_LINE; off += 8) {
        uint64_t v = sli_rd64(r, off);
        if (v != 0) {
            return sli_fail(e, SLUICE_ELAYOUT, "%s: reserved header bytes at %zu are 0x%llx, expected zero", ch->what, off,
                            (unsigned long long) v);
        }
    }
    /* Head first: head <= tail + 1 at every instant and tail only grows. */
    int64_t head = sli_load_acquire64(r + SLI_MPMC_HEAD_OFFSET);
    int64_t tail = sli_load_acquire64(r + SLI_MPMC_TAIL_OFFSET);
    if (head < 0 || tail < 0 || head > tail + 1) {
        return sli_fail(e, SLUICE_ELAYOUT, "%s: impossible counters head %lld, tail %lld", ch->what, (long long) head,
                        (long long) tail);
    }
    m->region = r;
    m->slot_count = slot_count;
    m->slot_mask = slot_count - 1;
    m->slot_count_shift = __builtin_ctz(slot_count);
    m->slot_length_shift = __builtin_ctz(slot_length);
    m->max_participant = max_pid;
    m->max_payload = slot_length - SLI_MPMC_SLOT_PAYLOAD_OFFSET;
    m->claimed_slot = -1;
    return SLUICE_OK;
}

/* ---- state words ---------------------------------------------------------------------------------- */

static inline uint64_t m_lap_bits(const struct mpmc_state *m, int64_t position) {
    return ((uint64_t) position >> m->slot_count_shift) << SLI_MPMC_LAP_SHIFT; /* drops the top 16 bits: mod 2^48 */
}

static inline int m_state(uint64_t word) {
    return (int) ((word & SLI_MPMC_STATE_MASK) >> SLI_MPMC_STATE_SHIFT);
}

static inline uint32_t m_participant(uint64_t word) {
    return (uint32_t) (word & SLI_MPMC_PARTICIPANT_MASK);
}

/* Signed 48-bit lap difference: 0 when the slot serves position, -1 one lap earlier, ... */
static inline int64_t m_lap_difference(const struct mpmc_state *m, uint64_t word, int64_t position) {
    uint64_t d = ((word >> SLI_MPMC_LAP_SHIFT) - ((uint64_t) position >> m->slot_count_shift)) << SLI_MPMC_LAP_SHIFT;
    return (int64_t) d >> SLI_MPMC_LAP_SHIFT; /* arithmetic shift (gcc, clang: implementation-defined, documented) */
}

static bool m_well_formed(const struct mpmc_state *m, uint64_t word) {
    int state = m_state(word);
    uint32_t participant = m_participant(word);
    if (state == SLI_MPMC_FREE) {
        return participant == 0;
    }
    return state <= SLI_MPMC_CONSUMING && participant >= 1 && participant <= m->max_participant;
}

static const char *m_state_name(int state) {
    switch (state) {
        case SLI_MPMC_FREE: return "FREE";
        case SLI_MPMC_CLAIMED: return "CLAIMED";
        case SLI_MPMC_COMMITTED: return "COMMITTED";
        case SLI_MPMC_ABORTED: return "ABORTED";
        case SLI_MPMC_CONSUMING: return "CONSUMING";
        default: return "impossible state";
    }
}

static int m_corrupt(sluice_channel *ch, const char *counter, int64_t position, uint64_t word, const char *why) {
    const struct mpmc_state *m = &ch->u.mp;
    return sli_fail(&ch->error, SLUICE_ECORRUPT, "%s: %s position %lld, slot %llu holds 0x%llx (lap %llu, %s (%d), participant "
                    "%u): %s", ch->what, counter, (long long) position, (unsigned long long) ((uint64_t) position & m->slot_mask),
                    (unsigned long long) word, (unsigned long long) (word >> SLI_MPMC_LAP_SHIFT), m_state_name(m_state(word)),
                    m_state(word), m_participant(word), why);
}

static inline size_t m_slot(const struct mpmc_state *m, int64_t position) {
    return SLI_MPMC_HEADER_LENGTH + ((size_t) ((uint64_t) position & m->slot_mask) << m->slot_length_shift);
}

int sluice_mpmc_try_claim(sluice_channel *ch, int32_t type, uint32_t length, void **payload) {
    if (ch->kind != SLUICE_KIND_MPMC || !ch->u.mp.produces) {
        return sli_fail(&ch->error, SLUICE_ESTATE, "%s: attached as %s, not as an MPMC producer", ch->what,
                        ch->role == SLUICE_ROLE_CONSUMER ? "consumer" : "producer of another kind");
    }
    struct mpmc_state *m = &ch->u.mp;
    if (type <= 0) {
        return sli_fail(&ch->error, SLUICE_EARGUMENT, "%s: message type must be positive, was %d", ch->what, type);
    }
    if (length > m->max_payload) {
        return sli_fail(&ch->error, SLUICE_EARGUMENT, "%s: message length %u outside 0..%u", ch->what, length, m->max_payload);
    }
    if (m->claimed_slot >= 0) {
        return sli_fail(&ch->error, SLUICE_ESTATE, "%s: a claim of position %lld is pending; commit or abort it first", ch->what,
                        (long long) m->claimed_position);
    }
    uint8_t *r = m->region;
    const uint64_t id = ch->participant_id;
    for (;;) {
        const int64_t tail = sli_load_acquire64(r + SLI_MPMC_TAIL_OFFSET);
        if (tail < 0) {
            return sli_fail(&ch->error, SLUICE_ECORRUPT, "%s: tail %lld is negative", ch->what, (long long) tail);
        }
        const size_t slot = m_slot(m, tail);
        const uint64_t word = (uint64_t) sli_load_acquire64(r + slot);
        const uint64_t free_word = m_lap_bits(m, tail); /* FREE at tail's lap, nobody */
        if (word == free_word) {
            const uint64_t claimed = free_word | ((uint64_t) SLI_MPMC_CLAIMED << SLI_MPMC_STATE_SHIFT) | id;
            if (sli_cas64(r + slot, word, claimed)) {
                /* Ours, attributed to us in the same step. Move the tail on; a failure means someone helped. */
                sli_cas64(r + SLI_MPMC_TAIL_OFFSET, (uint64_t) tail, (uint64_t) tail + 1);
                /* Plain stores: published with the payload by the commit CAS (release). */
                sli_wr32(r, slot + SLI_MPMC_SLOT_TYPE_OFFSET, (uint32_t) type);
                sli_wr32(r, slot + SLI_MPMC_SLOT_MESSAGE_LENGTH_OFFSET, length);
                m->claimed_slot = (int64_t) slot;
                m->claimed_word = claimed;
                m->claimed_position = tail;
                *payload = r + slot + SLI_MPMC_SLOT_PAYLOAD_OFFSET;
                return SLUICE_OK;
            }
            continue; /* another producer claimed this position first */
        }
        if (!m_well_formed(m, word)) {
            return m_corrupt(ch, "tail", tail, word, "malformed state word");
        }
        const int64_t laps = m_lap_difference(m, word, tail);
        const int state = m_state(word);
        if (laps == 0 || (laps == 1 && state == SLI_MPMC_FREE)) {
            /* Claimed (or even consumed and freed) but the tail still points at it: help. */
            sli_cas64(r + SLI_MPMC_TAIL_OFFSET, (uint64_t) tail, (uint64_t) tail + 1);
            continue;
        }
        if (laps > 0) {
            if (sli_load_acquire64(r + SLI_MPMC_TAIL_OFFSET) == tail) {
                return m_corrupt(ch, "tail", tail, word, "ahead of a tail that never reached it");
            }
            continue; /* our read of the tail was stale */
        }
        if (laps == -1 && state != SLI_MPMC_FREE) {
            return SLUICE_FULL; /* still holds the previous lap's claim or message */
        }
        return m_corrupt(ch, "tail", tail, word, laps == -1 ? "FREE for the previous lap although the tail has passed "
                         "that position" : "laps behind the tail");
    }
}

static int m_finish(sluice_channel *ch, int state, const char *action) {
    if (ch->kind != SLUICE_KIND_MPMC) {
        return sli_fail(&ch->error, SLUICE_ESTATE, "%s: not an MPMC channel", ch->what);
    }
    struct mpmc_state *m = &ch->u.mp;
    if (m->claimed_slot < 0) {
        return sli_fail(&ch->error, SLUICE_ESTATE, "%s: %s but no claim is pending", ch->what, action);
    }
    const size_t slot = (size_t) m->claimed_slot;
    const uint64_t claimed = m->claimed_word;
    m->claimed_slot = -1;
    /* A CAS, not a release store: if the host recovered this claim the word is no longer ours. */
    const uint64_t next = (claimed & ~SLI_MPMC_STATE_MASK) | ((uint64_t) state << SLI_MPMC_STATE_SHIFT);
    if (!sli_cas64(m->region + slot, claimed, next)) {
        uint64_t now = (uint64_t) sli_load_acquire64(m->region + slot);
        return sli_fail(&ch->error, SLUICE_ESLOTLOST, "%s: participant %u cannot %s its claim of slot %llu at position %lld: "
                        "the host recovered it (the slot now holds 0x%llx, %s)", ch->what, ch->participant_id, action,
                        (unsigned long long) ((uint64_t) m->claimed_position & m->slot_mask), (long long) m->claimed_position,
                        (unsigned long long) now, m_state_name(m_state(now)));
    }
    if (ch->welcome_flags & SLI_WELCOME_FLAG_WAKE) {
        sli_mpmc_wake_parked(ch); /* a commit delivers, an abort lets consumers skip the slot: both can end a sleep */
    }
    return SLUICE_OK;
}

int sluice_mpmc_commit(sluice_channel *ch) {
    return m_finish(ch, SLI_MPMC_COMMITTED, "commit");
}

int sluice_mpmc_abort(sluice_channel *ch) {
    return m_finish(ch, SLI_MPMC_ABORTED, "abort");
}

int sluice_mpmc_offer(sluice_channel *ch, int32_t type, const void *message, uint32_t length) {
    void *at;
    int rc = sluice_mpmc_try_claim(ch, type, length, &at);
    if (rc != SLUICE_OK) {
        return rc;
    }
    if (length > 0) {
        memcpy(at, message, length);
    }
    return sluice_mpmc_commit(ch);
}

/* FREE for the next lap: the slot goes back to producers; the CAS's release orders our reads first. */
static int m_release(sluice_channel *ch, int64_t head, size_t slot, uint64_t taken) {
    struct mpmc_state *m = &ch->u.mp;
    const uint64_t free_word = m_lap_bits(m, head + (int64_t) m->slot_count);
    if (!sli_cas64(m->region + slot, taken, free_word)) {
        uint64_t now = (uint64_t) sli_load_acquire64(m->region + slot);
        return sli_fail(&ch->error, SLUICE_ESLOTLOST, "%s: participant %u cannot release slot %llu at position %lld: the host "
                        "recovered it while the handler ran (the slot now holds 0x%llx, %s)", ch->what, ch->participant_id,
                        (unsigned long long) ((uint64_t) head & m->slot_mask), (long long) head, (unsigned long long) now,
                        m_state_name(m_state(now)));
    }
    return SLUICE_OK;
}

/* 1: look again; 0: nothing published at head; < 0: corrupt. */
static int m_on_slot_not_committed(sluice_channel *ch, int64_t head, size_t slot, uint64_t word) {
    struct mpmc_state *m = &ch->u.mp;
    uint8_t *r = m->region;
    if (!m_well_formed(m, word)) {
        return m_corrupt(ch, "head", head, word, "malformed state word");
    }
    const int64_t laps = m_lap_difference(m, word, head);
    const int state = m_state(word);
    if (laps == 0) {
        switch (state) {
            case SLI_MPMC_ABORTED:
                /* Skip: free it for the next lap first, then move the head. */
                if (sli_cas64(r + slot, word, m_lap_bits(m, head + (int64_t) m->slot_count))) {
                    sli_cas64(r + SLI_MPMC_HEAD_OFFSET, (uint64_t) head, (uint64_t) head + 1);
                }
                return 1;
            case SLI_MPMC_CONSUMING:
                sli_cas64(r + SLI_MPMC_HEAD_OFFSET, (uint64_t) head, (uint64_t) head + 1); /* taken, head not moved yet: help */
                return 1;
            case SLI_MPMC_COMMITTED:
                return 1; /* the fast path takes it; look again */
            default:
                return 0; /* FREE: not claimed yet; CLAIMED: not committed yet */
        }
    }
    if (laps == 1) {
        sli_cas64(r + SLI_MPMC_HEAD_OFFSET, (uint64_t) head, (uint64_t) head + 1); /* done, head not moved yet: help */
        return 1;
    }
    if (laps > 1) {
        if (sli_load_acquire64(r + SLI_MPMC_HEAD_OFFSET) == head) {
            return m_corrupt(ch, "head", head, word, "laps ahead of a head that never reached it");
        }
        return 1;
    }
    if (laps == -1 && state == SLI_MPMC_CONSUMING) {
        return 0; /* the previous lap's consumer is still reading */
    }
    return m_corrupt(ch, "head", head, word, laps == -1 ? "previous lap although the head has passed that position"
                     : "laps behind the head");
}

int sli_mpmc_poll(sluice_channel *ch, sluice_handler handler, void *ctx, int limit) {
    struct mpmc_state *m = &ch->u.mp;
    if (!m->consumes) {
        return sli_fail(&ch->error, SLUICE_ESTATE, "%s: attached as producer, not as a consumer", ch->what);
    }
    uint8_t *r = m->region;
    const uint64_t id = ch->participant_id;
    int count = 0;
    while (count < limit) {
        const int64_t head = sli_load_acquire64(r + SLI_MPMC_HEAD_OFFSET);
        if (head < 0) {
            return sli_fail(&ch->error, SLUICE_ECORRUPT, "%s: head %lld is negative", ch->what, (long long) head);
        }
        const size_t slot = m_slot(m, head);
        const uint64_t word = (uint64_t) sli_load_acquire64(r + slot);
        const uint64_t lap = m_lap_bits(m, head);
        if ((word & ~SLI_MPMC_PARTICIPANT_MASK) == (lap | ((uint64_t) SLI_MPMC_COMMITTED << SLI_MPMC_STATE_SHIFT))) {
            uint32_t producer = m_participant(word);
            if (producer == 0 || producer > m->max_participant) {
                return m_corrupt(ch, "head", head, word, "malformed state word");
            }
            const uint64_t taken = lap | ((uint64_t) SLI_MPMC_CONSUMING << SLI_MPMC_STATE_SHIFT) | id;
            if (sli_cas64(r + slot, word, taken)) {
                /* Ours. Move the head on before the handler runs, so others go on taking. */
                sli_cas64(r + SLI_MPMC_HEAD_OFFSET, (uint64_t) head, (uint64_t) head + 1);
                /* Plain reads: the take CAS acquired the producer's commit, which released them. */
                const int32_t type = sli_load_relaxed32(r + slot + SLI_MPMC_SLOT_TYPE_OFFSET);
                const int32_t length = sli_load_relaxed32(r + slot + SLI_MPMC_SLOT_MESSAGE_LENGTH_OFFSET);
                if (type <= 0 || length < 0 || (uint32_t) length > m->max_payload) {
                    int rc = m_release(ch, head, slot, taken); /* drop it, so the ring flows for the others */
                    if (rc != SLUICE_OK) {
                        return rc;
                    }
                    return sli_fail(&ch->error, SLUICE_ECORRUPT, "%s: committed message at position %lld (slot %llu) has type "
                                    "%d and length %d (max %u); dropped", ch->what, (long long) head,
                                    (unsigned long long) ((uint64_t) head & m->slot_mask), type, length, m->max_payload);
                }
                handler(ctx, type, r + slot + SLI_MPMC_SLOT_PAYLOAD_OFFSET, (uint32_t) length);
                int rc = m_release(ch, head, slot, taken);
                if (rc != SLUICE_OK) {
                    return rc;
                }
                count++;
            }
            continue; /* taken, or lost the race for it: look at the head again */
        }
        int again = m_on_slot_not_committed(ch, head, slot, word);
        if (again < 0) {
            return again;
        }
        if (again == 0) {
            break;
        }
    }
    return count;
}
