/*
 * attach.c: sluice_attach runs the handshake of docs/protocol.md from the attaching side:
 * HELLO; WELCOME with the data region (every field checked, then the fd, then the mapping, then
 * the ring header against WELCOME); for SPSC and broadcast consumers POSITION with our own sealed
 * position region; READY. On any failure everything acquired so far is released, each fd once.
 */
#include "sluice_internal.h"

/* Closes and unmaps everything the attachment holds (each once), then frees it. */
static void release_channel(sluice_channel *ch) {
    sli_close_fd(&ch->sock);
    if (ch->data != NULL) {
        munmap(ch->data, ch->data_size);
        ch->data = NULL;
    }
    sli_close_fd(&ch->data_fd);
    if (ch->pos != NULL) {
        munmap(ch->pos, ch->pos_size);
        ch->pos = NULL;
    }
    free(ch);
}

static const char *ring_word(sluice_kind kind) {
    switch (kind) {
        case SLUICE_KIND_SPSC: return "spsc ring";
        case SLUICE_KIND_MPMC: return "mpmc ring";
        default: return "broadcast ring";
    }
}

/* WELCOME (docs/protocol.md): every field checked, then the fd, then the mapping. */
static int take_welcome(sluice_channel *ch, sli_packet *p, const sluice_attach_options *o, int64_t *start, sluice_error *e) {
    sli_welcome w;
    int rc = sli_decode_welcome(p, &w, e);
    if (rc != SLUICE_OK) {
        return rc;
    }
    uint32_t kind = w.kind;
    uint32_t participant = w.participant;
    uint64_t data_size = w.data_size;
    uint64_t pos_size = w.position_size;
    uint32_t max_message = w.max_message;
    uint32_t flags = w.flags;
    uint64_t start_position = w.start_position;
    if (kind < SLUICE_KIND_SPSC || kind > SLUICE_KIND_MPMC) {
        sli_close_fds(p);
        return sli_fail(e, SLUICE_EPROTOCOL, "WELCOME ring kind %u is unknown", kind);
    }
    unsigned usable = o->role == SLUICE_ROLE_CONSUMER
                          ? SLUICE_KIND_MASK(SLUICE_KIND_SPSC) | SLUICE_KIND_MASK(SLUICE_KIND_BROADCAST_BACKPRESSURE) |
                                SLUICE_KIND_MASK(SLUICE_KIND_BROADCAST_OVERWRITE) | SLUICE_KIND_MASK(SLUICE_KIND_MPMC)
                          : SLUICE_KIND_MASK(SLUICE_KIND_MPMC);
    unsigned wanted = o->kinds != 0 ? (o->kinds & usable) : usable;
    if ((wanted & SLUICE_KIND_MASK(kind)) == 0) {
        sli_close_fds(p);
        return sli_fail(e, SLUICE_EPROTOCOL, "channel '%s' is %s, which this side did not ask for", ch->name, sli_kind_name(kind));
    }
    if (p->nfds != 1) {
        int n = p->nfds;
        sli_close_fds(p);
        return sli_fail(e, SLUICE_EPROTOCOL, "WELCOME carried %d fds, expected 1", n);
    }
    ch->data_fd = p->fds[0]; /* ours now: release_channel closes it on every path */
    p->fds[0] = -1;
    p->nfds = 0;
    ch->kind = (sluice_kind) kind;
    snprintf(ch->what, sizeof ch->what, "%s '%s'", ring_word(ch->kind), ch->name);
    bool mpmc = kind == SLUICE_KIND_MPMC;
    if (data_size == 0 || data_size > SLI_MAX_DATA_REGION_BYTES || data_size > (uint64_t) SIZE_MAX) {
        return sli_fail(e, SLUICE_EPROTOCOL, "WELCOME data region size %llu is out of range: a ring's data area is at most "
                        "%llu bytes (2^30), its region at most %llu (2^30 + 64 KiB); nothing was mapped",
                        (unsigned long long) data_size, (unsigned long long) SLI_REGION_MAX_CAPACITY,
                        (unsigned long long) SLI_MAX_DATA_REGION_BYTES);
    }
    uint64_t expected_pos = mpmc ? 0 : (kind == SLUICE_KIND_SPSC ? SLI_SPSC_POS_REGION_SIZE : SLI_BC_POS_REGION_SIZE);
    if (pos_size != expected_pos) {
        return sli_fail(e, SLUICE_EPROTOCOL, "WELCOME position region size %llu, the %s layout's is %llu",
                        (unsigned long long) pos_size, sli_kind_name(kind), (unsigned long long) expected_pos);
    }
    if (mpmc ? (participant < 1 || participant > SLI_MPMC_MAX_PARTICIPANT_ID) : participant != 0) {
        return sli_fail(e, SLUICE_EPROTOCOL, "WELCOME participant id %u is impossible for %s", participant, sli_kind_name(kind));
    }
    if (max_message > INT32_MAX) {
        return sli_fail(e, SLUICE_EPROTOCOL, "WELCOME max message length %u is out of range", max_message);
    }
    if ((flags & ~SLI_WELCOME_FLAG_WAKE) != 0) {
        return sli_fail(e, SLUICE_EPROTOCOL, "WELCOME flags 0x%x: unknown bits for a %s channel", flags, sli_kind_name(kind));
    }
    if (start_position > (uint64_t) INT64_MAX || (kind != SLUICE_KIND_SPSC && start_position != 0)) {
        return sli_fail(e, SLUICE_EPROTOCOL, "WELCOME start position %llu is impossible for %s",
                        (unsigned long long) start_position, sli_kind_name(kind));
    }
    ch->participant_id = participant;
    ch->max_message_length = max_message;
    ch->welcome_flags = flags;
    ch->pos_size = (size_t) pos_size;
    *start = (int64_t) start_position;

    /* The fd, before mapping: a memfd, sealed as promised, of the promised size. */
    int seals = F_SEAL_SHRINK | F_SEAL_GROW | (mpmc ? 0 : F_SEAL_FUTURE_WRITE);
    rc = sli_verify_memfd(ch->data_fd, seals, data_size, mpmc ? MAP_FOR_WRITING : MAP_FOR_READING, "data region", e);
    if (rc != SLUICE_OK) {
        return rc;
    }
    /* Single-writer rings: read-only (the seal leaves us nothing else; the fd may be O_RDONLY).
       MPMC: every participant writes. */
    void *m = mmap(NULL, (size_t) data_size, mpmc ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, ch->data_fd, 0);
    if (m == MAP_FAILED) {
        return sli_fail_sys(e, errno, "mmap of the data region (%llu bytes, %s)", (unsigned long long) data_size,
                            mpmc ? "PROT_READ|PROT_WRITE" : "PROT_READ");
    }
    ch->data = m;
    ch->data_size = (size_t) data_size;

    /* The ring header names the same kind, fits the size, and agrees with WELCOME. */
    uint32_t ring_max;
    switch (ch->kind) {
        case SLUICE_KIND_SPSC:
            rc = sli_spsc_validate(ch, e);
            ring_max = (uint32_t) ch->u.spsc.max_length;
            break;
        case SLUICE_KIND_MPMC:
            rc = sli_mpmc_validate(ch, e);
            ring_max = ch->u.mp.max_payload;
            if (rc == SLUICE_OK && participant > ch->u.mp.max_participant) {
                return sli_fail(e, SLUICE_EPROTOCOL, "%s: WELCOME participant id %u exceeds the ring's max participant id %u",
                                ch->what, participant, ch->u.mp.max_participant);
            }
            break;
        default:
            rc = sli_bc_validate(ch, e);
            ring_max = (uint32_t) ch->u.bc.max_length;
            break;
    }
    if (rc != SLUICE_OK) {
        return rc;
    }
    if (ring_max != max_message) {
        return sli_fail(e, SLUICE_EPROTOCOL, "%s: WELCOME max message length %u, the ring's is %u", ch->what, max_message, ring_max);
    }
    return SLUICE_OK;
}

int sluice_attach(const sluice_attach_options *o, sluice_channel **out, sluice_error *err) {
    sluice_error scratch;
    sluice_error *e = err != NULL ? err : &scratch;
    memset(e, 0, sizeof *e);
    if (out == NULL || o == NULL || o->socket_path == NULL || o->channel == NULL) {
        return sli_fail(e, SLUICE_EARGUMENT, "sluice_attach: options, socket path, channel and out are required");
    }
    *out = NULL;
    size_t name_length = strlen(o->channel);
    if (name_length == 0 || name_length > SLI_MAX_NAME_BYTES) {
        return sli_fail(e, SLUICE_EARGUMENT, "channel name must be 1..%d bytes, was %zu", SLI_MAX_NAME_BYTES, name_length);
    }
    for (size_t i = 0; i < name_length; i++) {
        uint8_t c = (uint8_t) o->channel[i];
        if (c < 0x21 || c > 0x7E || c == '/') {
            char shown[SLI_MAX_NAME_BYTES * 4 + 4];
            sli_escape_untrusted((const uint8_t *) o->channel, name_length, shown, sizeof shown);
            return sli_fail(e, SLUICE_EARGUMENT, "channel name \"%s\" has byte 0x%02x at %zu: a name is printable ASCII "
                            "(0x21..0x7E) without spaces or '/'", shown, c, i);
        }
    }
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    if (strlen(o->socket_path) >= sizeof addr.sun_path) {
        return sli_fail(e, SLUICE_EARGUMENT, "socket path '%s' is longer than the %zu bytes of sun_path", o->socket_path,
                        sizeof addr.sun_path - 1);
    }
    if (o->role < SLUICE_ROLE_CONSUMER || o->role > SLUICE_ROLE_PARTICIPANT) {
        return sli_fail(e, SLUICE_EARGUMENT, "role %d is not a role (1 consumer, 2 producer, 3 participant)", (int) o->role);
    }
    strcpy(addr.sun_path, o->socket_path);
    int timeout = o->timeout_ms > 0 ? o->timeout_ms : SLI_DEFAULT_TIMEOUT_MS;

    sluice_channel *ch = calloc(1, sizeof *ch);
    if (ch == NULL) {
        return sli_fail_sys(e, ENOMEM, "calloc");
    }
    ch->sock = -1;
    ch->data_fd = -1;
    ch->role = o->role;
    memcpy(ch->name, o->channel, name_length + 1);
    snprintf(ch->what, sizeof ch->what, "channel '%s'", ch->name);

    int pos_fd = -1;
    int rc;
    sli_packet *p = malloc(sizeof *p);
    if (p == NULL) {
        free(ch);
        return sli_fail_sys(e, ENOMEM, "malloc");
    }
    p->nfds = 0;
    ch->sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (ch->sock < 0) {
        rc = sli_fail_sys(e, errno, "socket(AF_UNIX, SOCK_SEQPACKET)");
        goto failed;
    }
    if (connect(ch->sock, (struct sockaddr *) &addr, sizeof addr) != 0) {
        rc = sli_fail_sys(e, errno, "connect %s", o->socket_path);
        goto failed;
    }

    /* HELLO */
    uint8_t hello[SLI_HELLO_NAME_OFFSET + SLI_MAX_NAME_BYTES];
    size_t hello_length = sli_encode_hello(hello, o->role, o->channel, name_length);
    rc = sli_send_packet(ch->sock, hello, hello_length, -1, "HELLO", e);
    if (rc != SLUICE_OK) {
        goto failed;
    }

    /* WELCOME + data fd */
    int64_t start = 0;
    rc = sli_expect_message(ch, p, SLI_MSG_WELCOME, "WELCOME", timeout, e);
    if (rc == SLUICE_OK) {
        rc = take_welcome(ch, p, o, &start, e);
    }
    if (rc != SLUICE_OK) {
        goto failed;
    }

    /* POSITION + our position region (SPSC and broadcast consumers) */
    if (ch->pos_size > 0) {
        rc = sli_create_position_region(ch, &pos_fd, e);
        if (rc != SLUICE_OK) {
            goto failed;
        }
        if (ch->kind == SLUICE_KIND_SPSC) {
            rc = sli_spsc_init_position(ch, start, e);
        } else {
            rc = sli_bc_start(ch, o->start);
            if (rc != SLUICE_OK) {
                *e = ch->error;
            } else {
                sli_bc_init_position(ch);
            }
        }
        if (rc == SLUICE_OK) {
            rc = sli_seal_position_region(pos_fd, e);
        }
        if (rc != SLUICE_OK) {
            goto failed;
        }
        uint8_t position[SLI_POSITION_LENGTH];
        sli_encode_position(position, ch->pos_size);
        rc = sli_send_packet(ch->sock, position, sizeof position, pos_fd, "POSITION", e);
        if (rc != SLUICE_OK) {
            goto failed;
        }
        sli_close_fd(&pos_fd); /* the host holds its own; our mapping stays */
    }

    /* READY */
    rc = sli_expect_message(ch, p, SLI_MSG_READY, "READY", timeout, e);
    if (rc != SLUICE_OK) {
        goto failed;
    }
    int64_t registration;
    rc = sli_decode_ready(p, &registration, e);
    if (rc != SLUICE_OK) {
        goto failed;
    }
    if (ch->kind == SLUICE_KIND_BROADCAST_BACKPRESSURE ? registration <= 0 : registration != 0) {
        rc = sli_fail(e, SLUICE_EPROTOCOL, "%s: READY registration %lld is impossible for %s", ch->what, (long long) registration,
                      sli_kind_name(ch->kind));
        goto failed;
    }
    ch->registration = registration;
    if (ch->kind == SLUICE_KIND_BROADCAST_BACKPRESSURE || ch->kind == SLUICE_KIND_BROADCAST_OVERWRITE) {
        ch->u.bc.registration = registration;
        ch->u.bc.gated = ch->u.bc.overwrite; /* an overwrite producer reads no positions */
        ch->u.bc.record_position = -1;
        ch->u.bc.sequence = -1;
    }
    if (ch->kind == SLUICE_KIND_MPMC) {
        ch->u.mp.produces = ch->role != SLUICE_ROLE_CONSUMER;
        ch->u.mp.consumes = ch->role != SLUICE_ROLE_PRODUCER;
    }
    free(p);
    *out = ch;
    return SLUICE_OK;

failed:
    sli_close_fd(&pos_fd);
    sli_close_fds(p);
    free(p);
    release_channel(ch);
    e->code = rc;
    return rc;
}

void sluice_detach(sluice_channel *ch) {
    if (ch != NULL) {
        release_channel(ch);
    }
}
