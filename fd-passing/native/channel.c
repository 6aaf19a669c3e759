/*
 * channel.c: an attachment after READY. Whether the host is still there (and why it left: its
 * DETACH), polling dispatched to the ring's consumer, and the accessors of sluice.h. The test
 * hooks of SLUICE_TEST_HOOKS builds live here too.
 */
#include "sluice_internal.h"

const sluice_error *sluice_last_error(const sluice_channel *ch) {
    return &ch->error;
}

static const char *role_word(sluice_role role) {
    switch (role) {
        case SLUICE_ROLE_PRODUCER: return "producer";
        case SLUICE_ROLE_PARTICIPANT: return "participant";
        default: return "consumer";
    }
}

/* Why the host is gone, into ch->error: the reason and text of its DETACH, if it sent one. */
int sli_host_gone_error(sluice_channel *ch, const char *after) {
    int rc;
    if (ch->detach_reason != 0) {
        rc = sli_fail(&ch->error, SLUICE_EHOSTGONE, "%s: host detached this %s: %s: %s%s", ch->what, role_word(ch->role),
                      sluice_refusal_name(ch->detach_reason), ch->detach_text, after);
        ch->error.refusal = ch->detach_reason;
    } else {
        rc = sli_fail(&ch->error, SLUICE_EHOSTGONE, "%s: the host is gone (it closed the connection)%s", ch->what, after);
    }
    return rc;
}

/*
 * A message after READY. A DETACH (docs/protocol.md; the host closes right after it) is recorded
 * — the first one: its reason and escaped text explain the end of stream that follows. Anything
 * else is ignored, as the protocol asks, and so is a DETACH that does not parse (wrong length,
 * fds, reason 0). The caller closes the packet's fds.
 */
static void take_after_ready(sluice_channel *ch, const sli_packet *p) {
    if (ch->detach_reason != 0) {
        return;
    }
    unsigned reason;
    char text[SLI_ESCAPED_TEXT];
    if (sli_decode_detach(p, &reason, text, sizeof text) != SLUICE_OK || reason == 0) {
        return;
    }
    ch->detach_reason = (int) reason;
    memcpy(ch->detach_text, text, sizeof text);
}

int sluice_host_alive(sluice_channel *ch) {
    if (ch->host_gone) {
        return 0;
    }
    /* Bounded: a host that floods us with messages cannot keep us here. */
    for (int i = 0; i < SLI_MAX_STRAY_MESSAGES; i++) {
        struct pollfd pfd = {.fd = ch->sock, .events = POLLIN};
        int r = poll(&pfd, 1, 0);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            return 1; /* nothing to read: still connected (a poll error says nothing about the host) */
        }
        if (!(pfd.revents & POLLIN)) { /* hung up or failed, with nothing left to read */
            ch->host_gone = true;
            sli_host_gone_error(ch, "");
            return 0;
        }
        /* Readable: a message (the host's DETACH is read before the hang-up that follows it) or the
           end of stream. A stray message is dropped with its fds: the protocol says to
           ignore it, so it does not end the attachment. */
        sli_packet p;
        int rc = sli_recv_packet(ch->sock, &p, 0, "nothing (after READY)", NULL);
        if (rc == SLUICE_OK) {
            take_after_ready(ch, &p);
        }
        sli_close_fds(&p);
        if (rc == SLUICE_EHOSTGONE || rc == SLUICE_ESYSCALL) {
            ch->host_gone = true;
            sli_host_gone_error(ch, "");
            return 0;
        }
    }
    return 1;
}

/* ---- dispatch ---------------------------------------------------------------------------------- */

/*
 * Detached for cause (the host refused our position, found the ring corrupt, or found us stuck):
 * the producer no longer waits for us, or the ring cannot be trusted, so what is still in it is
 * not read.
 */
static bool detached_for_cause(const sluice_channel *ch) {
    return ch->host_gone && (ch->detach_reason == SLUICE_REFUSED_BAD_POSITION ||
                             ch->detach_reason == SLUICE_REFUSED_CHANNEL_CORRUPT ||
                             ch->detach_reason == SLUICE_REFUSED_STUCK);
}

int sluice_poll(sluice_channel *ch, sluice_handler handler, void *ctx, int limit) {
    if (handler == NULL || limit < 1) {
        return sli_fail(&ch->error, SLUICE_EARGUMENT, "%s: poll needs a handler and a positive limit (was %d)", ch->what, limit);
    }
    if (detached_for_cause(ch)) {
        return sli_host_gone_error(ch, "");
    }
    switch (ch->kind) {
        case SLUICE_KIND_SPSC: return sli_spsc_poll(ch, handler, ctx, limit);
        case SLUICE_KIND_MPMC: return sli_mpmc_poll(ch, handler, ctx, limit);
        default: return sli_bc_poll(ch, handler, ctx, limit);
    }
}

/* ---- describing -------------------------------------------------------------------------------- */

sluice_kind sluice_channel_kind(const sluice_channel *ch) {
    return ch->kind;
}

uint32_t sluice_max_message_length(const sluice_channel *ch) {
    return ch->max_message_length;
}

uint32_t sluice_participant_id(const sluice_channel *ch) {
    return ch->participant_id;
}

bool sluice_can_block(const sluice_channel *ch) {
    return (ch->welcome_flags & SLI_WELCOME_FLAG_WAKE) != 0;
}

int sluice_socket_fd(const sluice_channel *ch) {
    return ch->sock;
}

int sluice_data_fd(const sluice_channel *ch) {
    return ch->data_fd;
}

const void *sluice_data(const sluice_channel *ch) {
    return ch->data;
}

size_t sluice_data_size(const sluice_channel *ch) {
    return ch->data_size;
}

/* ---- test builds only ---------------------------------------------------------------------- */

#ifdef SLUICE_TEST_HOOKS
void (*sluice_test_hook)(const char *point, int fd) = NULL;

_Atomic int64_t *sluice_test_position_word(sluice_channel *ch) {
    switch (ch->kind) {
        case SLUICE_KIND_SPSC: return ch->u.spsc.position;
        case SLUICE_KIND_BROADCAST_BACKPRESSURE:
        case SLUICE_KIND_BROADCAST_OVERWRITE: return ch->u.bc.position;
        default: return NULL;
    }
}

int64_t sluice_test_true_position(const sluice_channel *ch) {
    switch (ch->kind) {
        case SLUICE_KIND_SPSC: return ch->u.spsc.head;
        case SLUICE_KIND_BROADCAST_BACKPRESSURE:
        case SLUICE_KIND_BROADCAST_OVERWRITE: return ch->u.bc.published;
        default: return -1;
    }
}
#endif
