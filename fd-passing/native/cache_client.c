/*
 * cache_client.c: the reader's side of the cache protocol (docs/cache-protocol.md). A C process
 * subscribes to a region a JVM serves (io.sluice.cache.CacheHost) by name: HELLO, then the host's
 * PUBLISH messages, each with the region's fd, until END. The host is not trusted: every message is
 * checked in the order the protocol's "What a reader checks" gives (header, then the exact length
 * and fd count of its type, then its fields) before its fd is given to the open function, which
 * checks the fd itself (memfd, seals, then size) before it maps it. Every fd that arrives is either
 * taken by an open function (which closes it on failure) or closed here, exactly once.
 */
#include "sluice_internal.h"

_Static_assert(SLUICE_CACHE_SNAPSHOT == SLI_CACHE_KIND_SNAPSHOT && SLUICE_CACHE_MAP == SLI_CACHE_KIND_MAP,
               "sluice_cache_kind is the protocol's kind code");
_Static_assert(SLI_CACHE_REFUSED_TEXT_OFFSET + SLI_CACHE_MAX_TEXT_BYTES <= SLI_MAX_MESSAGE_BYTES,
               "a packet buffer holds the longest cache message");

enum { CACHE_OPEN, CACHE_ENDED, CACHE_FAILED };

struct sluice_cache {
    int sock;                    /* -1 once the subscription ended */
    sluice_cache_kind kind;
    int state;                   /* CACHE_OPEN until END or a failure */
    uint64_t last_version;       /* the last PUBLISH accepted, 0 before the first */
    bool first_pending;          /* the first version, opened by connect, not handed out yet */
    sluice_cache_version first;
    sluice_error ended;          /* CACHE_ENDED, CACHE_FAILED: what every later call returns */
    char name[SLI_MAX_NAME_BYTES + 1];
    char what[SLI_MAX_NAME_BYTES + 32]; /* "snapshot 'refdata'", for messages */
    sli_packet packet;           /* the message being read; its fds are closed or taken before any return */
};

static const char *kind_word(uint32_t kind) {
    return kind == SLI_CACHE_KIND_SNAPSHOT ? "snapshot" : kind == SLI_CACHE_KIND_MAP ? "shared map" : "region";
}

static const char *type_name(unsigned type) {
    switch (type) {
        case SLI_CACHE_MSG_HELLO: return "HELLO";
        case SLI_CACHE_MSG_PUBLISH: return "PUBLISH";
        case SLI_CACHE_MSG_REFUSED: return "REFUSED";
        case SLI_CACHE_MSG_END: return "END";
        default: return "an unknown type";
    }
}

static void close_version(sluice_cache_version *v) {
    sluice_snapshot_close(v->snapshot);
    sluice_map_close(v->map);
    v->snapshot = NULL;
    v->map = NULL;
}

/* The subscription stops for good: the connection closes, and e (its cause) is what later calls return. */
static int stop(sluice_cache *c, int state, const sluice_error *e) {
    sli_close_fds(&c->packet);
    sli_close_fd(&c->sock);
    c->state = state;
    c->ended = *e;
    return e->code;
}

/* A REFUSED (first message only): its reason and escaped text; a malformed one is a protocol error. */
static int take_refused(sluice_cache *c, sluice_error *e) {
    sli_packet *p = &c->packet;
    if (p->nfds != 0) {
        return sli_fail(e, SLUICE_EPROTOCOL, "%s: the host's REFUSED carried %d fds, expected none", c->what, p->nfds);
    }
    if (p->len < SLI_CACHE_REFUSED_TEXT_OFFSET) {
        return sli_fail(e, SLUICE_EPROTOCOL, "%s: the host's REFUSED of %zu bytes is shorter than its %d-byte fixed part",
                        c->what, p->len, SLI_CACHE_REFUSED_TEXT_OFFSET);
    }
    size_t n = sli_get16(p->buf, SLI_CACHE_REFUSED_TEXT_LENGTH_OFFSET);
    if (n > SLI_CACHE_MAX_TEXT_BYTES || p->len != SLI_CACHE_REFUSED_TEXT_OFFSET + n) {
        return sli_fail(e, SLUICE_EPROTOCOL, "%s: the host's REFUSED text length %zu does not match the message (%zu bytes)",
                        c->what, n, p->len);
    }
    unsigned reason = sli_get16(p->buf, SLI_CACHE_REFUSED_REASON_OFFSET);
    char text[SLI_ESCAPED_TEXT];
    sli_escape_untrusted(p->buf + SLI_CACHE_REFUSED_TEXT_OFFSET, n, text, sizeof text);
    sli_fail(e, SLUICE_EREFUSED, "%s refused by the host (%s): %s", c->what, sluice_refusal_name((int) reason), text);
    e->refusal = (int) reason;
    return SLUICE_EREFUSED;
}

/*
 * A PUBLISH whose header, length and fd count were checked: its fields, then its fd, given to the
 * open function of the kind (which takes it: closed on failure). On success *v holds the version.
 */
static int take_publish(sluice_cache *c, sluice_cache_version *v, sluice_error *e) {
    sli_packet *p = &c->packet;
    unsigned kind = sli_get16(p->buf, SLI_CACHE_PUBLISH_KIND_OFFSET);
    unsigned reserved16 = sli_get16(p->buf, SLI_CACHE_PUBLISH_RESERVED_U16_OFFSET);
    uint32_t reserved32 = sli_get32(p->buf, SLI_CACHE_PUBLISH_RESERVED_U32_OFFSET);
    uint64_t version = sli_get64(p->buf, SLI_CACHE_PUBLISH_VERSION_OFFSET);
    uint64_t size = sli_get64(p->buf, SLI_CACHE_PUBLISH_SIZE_OFFSET);
    if (kind != (unsigned) c->kind) {
        return sli_fail(e, SLUICE_EPROTOCOL, "%s: PUBLISH of a %s (kind %u), a %s was asked for", c->what, kind_word(kind),
                        kind, kind_word(c->kind));
    }
    if (reserved16 != 0 || reserved32 != 0) {
        return sli_fail(e, SLUICE_EPROTOCOL, "%s: PUBLISH reserved fields at offsets %d and %d must be 0, found 0x%x and 0x%x",
                        c->what, SLI_CACHE_PUBLISH_RESERVED_U16_OFFSET, SLI_CACHE_PUBLISH_RESERVED_U32_OFFSET, reserved16,
                        reserved32);
    }
    if (version < 1 || version > (uint64_t) INT64_MAX) {
        return sli_fail(e, SLUICE_EPROTOCOL, "%s: PUBLISH of version %llu, outside 1..%lld", c->what,
                        (unsigned long long) version, (long long) INT64_MAX);
    }
    if (version <= c->last_version) {
        return sli_fail(e, SLUICE_EPROTOCOL, "%s: PUBLISH of version %llu after version %llu (versions strictly increase)",
                        c->what, (unsigned long long) version, (unsigned long long) c->last_version);
    }
    if (c->kind == SLUICE_CACHE_MAP && version != 1) {
        return sli_fail(e, SLUICE_EPROTOCOL, "%s: PUBLISH of version %llu (a shared map is published once, as version 1)",
                        c->what, (unsigned long long) version);
    }
    if (size < 1 || size > (uint64_t) SLI_CACHE_MAX_REGION_BYTES) {
        return sli_fail(e, SLUICE_EPROTOCOL, "%s: PUBLISH of a region of %llu bytes, outside 1..%lld", c->what,
                        (unsigned long long) size, (long long) SLI_CACHE_MAX_REGION_BYTES);
    }
    int fd = p->fds[0]; /* the open function owns it from here, on every path */
    p->fds[0] = -1;
    p->nfds = 0;
    memset(v, 0, sizeof *v);
    int rc = c->kind == SLUICE_CACHE_SNAPSHOT ? sluice_snapshot_open(fd, size, version, &v->snapshot, e)
                                              : sluice_map_open(fd, size, &v->map, e);
    if (rc != SLUICE_OK) {
        char why[sizeof e->message];
        memcpy(why, e->message, sizeof why);
        int sys_errno = e->sys_errno; /* kept: an ESYSCALL (mmap) says which errno */
        sli_fail(e, rc, "%s: version %llu refused: %s", c->what, (unsigned long long) version, why);
        e->sys_errno = sys_errno;
        return rc;
    }
    v->version = version;
    c->last_version = version;
    return SLUICE_OK;
}

/*
 * Receives and checks one message within timeout_ms: a version (SLUICE_OK, *v), END
 * (SLUICE_EENDED), REFUSED (only as the first message: SLUICE_EREFUSED), or an error. Every fd of
 * the message is closed or taken before it returns; the caller stops the subscription on anything
 * but SLUICE_OK and SLUICE_ETIMEOUT.
 */
static int receive(sluice_cache *c, int timeout_ms, bool first, sluice_cache_version *v, sluice_error *e) {
    sli_packet *p = &c->packet;
    int rc = sli_recv_packet(c->sock, p, timeout_ms, first ? "first PUBLISH" : "next PUBLISH", e);
    if (rc != SLUICE_OK) { /* fds already closed */
        if (rc == SLUICE_EHOSTGONE || rc == SLUICE_ETIMEOUT) {
            char why[sizeof e->message];
            memcpy(why, e->message, sizeof why);
            sli_fail(e, rc, "%s: %s", c->what, why);
        }
        return rc;
    }
    if (p->len < SLI_CACHE_HEADER_LENGTH) {
        rc = sli_fail(e, SLUICE_EPROTOCOL, "%s: the host's message of %zu bytes is shorter than the %d-byte header", c->what,
                      p->len, SLI_CACHE_HEADER_LENGTH);
    } else if (sli_get32(p->buf, 0) != SLI_CACHE_MAGIC) {
        rc = sli_fail(e, SLUICE_EPROTOCOL, "%s: the host's message has bad magic 0x%x, expected 0x%x (\"SLCA\")", c->what,
                      sli_get32(p->buf, 0), SLI_CACHE_MAGIC);
    } else {
        unsigned version = sli_get16(p->buf, 4);
        unsigned type = sli_get16(p->buf, 6);
        if (type == SLI_CACHE_MSG_REFUSED && first) {
            rc = take_refused(c, e); /* whatever its version: a VERSION_MISMATCH refusal must get through */
        } else if (version != SLI_CACHE_PROTOCOL_VERSION) {
            rc = sli_fail(e, SLUICE_EPROTOCOL, "%s: the host speaks cache protocol version %u, this client %d", c->what,
                          version, SLI_CACHE_PROTOCOL_VERSION);
        } else if (type == SLI_CACHE_MSG_PUBLISH) {
            if (p->len != SLI_CACHE_PUBLISH_LENGTH || p->nfds != 1) {
                rc = sli_fail(e, SLUICE_EPROTOCOL, "%s: PUBLISH of %zu bytes with %d fds, expected exactly %d bytes and 1 fd",
                              c->what, p->len, p->nfds, SLI_CACHE_PUBLISH_LENGTH);
            } else {
                rc = take_publish(c, v, e);
            }
        } else if (type == SLI_CACHE_MSG_END) {
            if (p->len != SLI_CACHE_HEADER_LENGTH || p->nfds != 0) {
                rc = sli_fail(e, SLUICE_EPROTOCOL, "%s: END of %zu bytes with %d fds, expected exactly %d bytes and none",
                              c->what, p->len, p->nfds, SLI_CACHE_HEADER_LENGTH);
            } else {
                rc = sli_fail(e, SLUICE_EENDED, "%s: the host ended it (END) after version %llu", c->what,
                              (unsigned long long) c->last_version);
            }
        } else {
            rc = sli_fail(e, SLUICE_EPROTOCOL, "%s: the host sent %s (type %u)%s", c->what, type_name(type), type,
                          first ? " where PUBLISH, REFUSED or END was due" : " where PUBLISH or END was due");
        }
    }
    sli_close_fds(p); /* whatever PUBLISH did not hand to an open function */
    return rc;
}

int sluice_cache_connect(const char *socket_path, const char *name, sluice_cache_kind kind, int timeout_ms,
                         sluice_cache **out, sluice_error *err) {
    sluice_error scratch;
    sluice_error *e = err != NULL ? err : &scratch;
    memset(e, 0, sizeof *e);
    if (out == NULL || socket_path == NULL || name == NULL) {
        return sli_fail(e, SLUICE_EARGUMENT, "sluice_cache_connect: socket path, name and out are required");
    }
    *out = NULL;
    if (kind != SLUICE_CACHE_SNAPSHOT && kind != SLUICE_CACHE_MAP) {
        return sli_fail(e, SLUICE_EARGUMENT, "sluice_cache_connect: kind %d is not a cache kind (1 snapshot, 2 shared map)",
                        (int) kind);
    }
    if (timeout_ms < 0) {
        return sli_fail(e, SLUICE_EARGUMENT, "sluice_cache_connect: timeout %d ms is negative", timeout_ms);
    }
    size_t name_length = strlen(name);
    if (name_length == 0 || name_length > SLI_MAX_NAME_BYTES) {
        return sli_fail(e, SLUICE_EARGUMENT, "cache region name must be 1..%d bytes, was %zu", SLI_MAX_NAME_BYTES, name_length);
    }
    for (size_t i = 0; i < name_length; i++) {
        uint8_t b = (uint8_t) name[i];
        if (b < 0x21 || b > 0x7E || b == '/') {
            char shown[SLI_MAX_NAME_BYTES * 4 + 4];
            sli_escape_untrusted((const uint8_t *) name, name_length, shown, sizeof shown);
            return sli_fail(e, SLUICE_EARGUMENT, "cache region name \"%s\" has byte 0x%02x at %zu: a name is printable "
                            "ASCII (0x21..0x7E) without spaces or '/'", shown, b, i);
        }
    }
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    if (strlen(socket_path) >= sizeof addr.sun_path) {
        return sli_fail(e, SLUICE_EARGUMENT, "socket path '%s' is longer than the %zu bytes of sun_path", socket_path,
                        sizeof addr.sun_path - 1);
    }
    strcpy(addr.sun_path, socket_path);

    sluice_cache *c = calloc(1, sizeof *c);
    if (c == NULL) {
        return sli_fail_sys(e, ENOMEM, "allocating a cache subscription");
    }
    c->kind = kind;
    c->state = CACHE_OPEN;
    memcpy(c->name, name, name_length + 1);
    snprintf(c->what, sizeof c->what, "%s '%s'", kind_word(kind), c->name);
    int rc;
    c->sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (c->sock < 0) {
        rc = sli_fail_sys(e, errno, "socket(AF_UNIX, SOCK_SEQPACKET)");
        goto failed;
    }
    if (connect(c->sock, (struct sockaddr *) &addr, sizeof addr) != 0) {
        rc = sli_fail_sys(e, errno, "connect %s (cache host)", socket_path);
        goto failed;
    }
    uint8_t hello[SLI_CACHE_HELLO_NAME_OFFSET + SLI_MAX_NAME_BYTES];
    sli_put32(hello, 0, SLI_CACHE_MAGIC);
    sli_put16(hello, 4, SLI_CACHE_PROTOCOL_VERSION);
    sli_put16(hello, 6, SLI_CACHE_MSG_HELLO);
    sli_put16(hello, SLI_CACHE_HELLO_KIND_OFFSET, (uint16_t) kind);
    sli_put16(hello, SLI_CACHE_HELLO_NAME_LENGTH_OFFSET, (uint16_t) name_length);
    memcpy(hello + SLI_CACHE_HELLO_NAME_OFFSET, name, name_length);
    rc = sli_send_packet(c->sock, hello, SLI_CACHE_HELLO_NAME_OFFSET + name_length, -1, "HELLO", e);
    /* A host that refused at once (a connection cap) and closed has its REFUSED in our queue: it
       says more than EPIPE, so a failed send goes on to read it. */
    if (rc != SLUICE_OK && rc != SLUICE_EHOSTGONE) {
        goto failed;
    }
    rc = receive(c, timeout_ms > 0 ? timeout_ms : SLI_DEFAULT_TIMEOUT_MS, true, &c->first, e);
    if (rc != SLUICE_OK) {
        goto failed;
    }
    c->first_pending = true;
    *out = c;
    return SLUICE_OK;

failed:
    sli_close_fds(&c->packet);
    sli_close_fd(&c->sock);
    free(c);
    return rc;
}

int sluice_cache_next(sluice_cache *c, int timeout_ms, sluice_cache_version *v, sluice_error *err) {
    sluice_error scratch;
    sluice_error *e = err != NULL ? err : &scratch;
    memset(e, 0, sizeof *e);
    if (c == NULL || v == NULL) {
        return sli_fail(e, SLUICE_EARGUMENT, "sluice_cache_next: cache and v are required");
    }
    memset(v, 0, sizeof *v);
    if (timeout_ms < 0) {
        return sli_fail(e, SLUICE_EARGUMENT, "sluice_cache_next: timeout %d ms is negative", timeout_ms);
    }
    if (c->first_pending) {
        *v = c->first;
        memset(&c->first, 0, sizeof c->first);
        c->first_pending = false;
        return SLUICE_OK;
    }
    if (c->state != CACHE_OPEN) {
        *e = c->ended;
        return e->code;
    }
    int rc = receive(c, timeout_ms, false, v, e);
    if (rc == SLUICE_OK || rc == SLUICE_ETIMEOUT) {
        return rc;
    }
    return stop(c, rc == SLUICE_EENDED ? CACHE_ENDED : CACHE_FAILED, e);
}

uint64_t sluice_cache_last_version(const sluice_cache *c) {
    return c->last_version;
}

int sluice_cache_socket_fd(const sluice_cache *c) {
    return c->sock;
}

void sluice_cache_close(sluice_cache *c) {
    if (c == NULL) {
        return;
    }
    if (c->first_pending) {
        close_version(&c->first);
    }
    sli_close_fds(&c->packet);
    sli_close_fd(&c->sock);
    free(c);
}
