/*
 * protocol.c: the messages of the attach handshake (docs/protocol.md), to and from bytes.
 *
 * Encoders write a whole message into a caller's buffer. Decoders check what a message must be
 * (length, fd count, header) before they read a field, and read each field once into the
 * caller's struct: the bytes came from the host and nothing in them is believed unchecked. What
 * the fields mean for this attachment (kind wanted, sizes in range) is attach.c's to judge.
 */
#include "sluice_internal.h"

/* The 8-byte header every message starts with. */
void sli_put_header(uint8_t *b, int type) {
    sli_put32(b, SLI_PROTO_MAGIC_OFFSET, SLI_PROTO_MAGIC);
    sli_put16(b, SLI_PROTO_VERSION_OFFSET, SLUICE_PROTOCOL_VERSION);
    sli_put16(b, SLI_PROTO_TYPE_OFFSET, (uint16_t) type);
}

/* HELLO into b (room for SLI_HELLO_NAME_OFFSET + SLI_MAX_NAME_BYTES): role, the name checked by
   the caller (1..128 bytes); returns the message's length. */
size_t sli_encode_hello(uint8_t *b, sluice_role role, const char *name, size_t name_length) {
    sli_put_header(b, SLI_MSG_HELLO);
    sli_put16(b, SLI_HELLO_ROLE_OFFSET, (uint16_t) role);
    sli_put16(b, SLI_HELLO_NAME_LENGTH_OFFSET, (uint16_t) name_length);
    sli_put32(b, SLI_HELLO_FLAGS_OFFSET, 0);
    memcpy(b + SLI_HELLO_NAME_OFFSET, name, name_length);
    return SLI_HELLO_NAME_OFFSET + name_length;
}

/* POSITION into b (SLI_POSITION_LENGTH bytes): the size of the position region sent with it. */
void sli_encode_position(uint8_t *b, uint64_t region_size) {
    sli_put_header(b, SLI_MSG_POSITION);
    sli_put64(b, SLI_POSITION_SIZE_OFFSET, region_size);
}

/* WELCOME's fields into *w, if it is exactly SLI_WELCOME_LENGTH bytes; else its fds are closed
   and it is a protocol error. The fd count is checked by the caller, once it knows the kind. */
int sli_decode_welcome(sli_packet *p, sli_welcome *w, sluice_error *e) {
    if (p->len != SLI_WELCOME_LENGTH) {
        sli_close_fds(p);
        return sli_fail(e, SLUICE_EPROTOCOL, "WELCOME is %zu bytes, expected %d", p->len, SLI_WELCOME_LENGTH);
    }
    w->kind = sli_get32(p->buf, SLI_WELCOME_KIND_OFFSET);
    w->participant = sli_get32(p->buf, SLI_WELCOME_PARTICIPANT_OFFSET);
    w->data_size = sli_get64(p->buf, SLI_WELCOME_DATA_SIZE_OFFSET);
    w->position_size = sli_get64(p->buf, SLI_WELCOME_POSITION_SIZE_OFFSET);
    w->max_message = sli_get32(p->buf, SLI_WELCOME_MAX_MESSAGE_OFFSET);
    w->flags = sli_get32(p->buf, SLI_WELCOME_FLAGS_OFFSET);
    w->start_position = sli_get64(p->buf, SLI_WELCOME_START_POSITION_OFFSET);
    return SLUICE_OK;
}

/* READY's registration into *registration, if it is exactly SLI_READY_LENGTH bytes without fds;
   else its fds are closed and it is a protocol error. */
int sli_decode_ready(sli_packet *p, int64_t *registration, sluice_error *e) {
    if (p->len != SLI_READY_LENGTH || p->nfds != 0) {
        int nfds = p->nfds; /* counted before sli_close_fds forgets them */
        sli_close_fds(p);
        return sli_fail(e, SLUICE_EPROTOCOL, "READY is %zu bytes with %d fds, expected %d bytes and none", p->len, nfds,
                        SLI_READY_LENGTH);
    }
    *registration = (int64_t) sli_get64(p->buf, SLI_READY_REGISTRATION_OFFSET);
    return SLUICE_OK;
}

/*
 * The body REFUSE and DETACH share: reason code, text length, text. *reason and text (escaped,
 * see sli_escape_untrusted) on success; a protocol error if it is malformed (what names the message).
 * The text is the host's and untrusted: it is never printed unescaped, and text that is not UTF-8
 * is shown byte by byte rather than refused.
 */
int sli_decode_reason_body(const sli_packet *p, const char *what, unsigned *reason, char *text, size_t cap,
                           sluice_error *e) {
    if (p->nfds != 0) {
        return sli_fail(e, SLUICE_EPROTOCOL, "the host's %s carried %d fds, expected none", what, p->nfds);
    }
    if (p->len < SLI_REFUSE_TEXT_OFFSET) {
        return sli_fail(e, SLUICE_EPROTOCOL, "the host's %s of %zu bytes is truncated", what, p->len);
    }
    size_t n = sli_get16(p->buf, SLI_REFUSE_TEXT_LENGTH_OFFSET);
    if (n > SLI_MAX_TEXT_BYTES || p->len != SLI_REFUSE_TEXT_OFFSET + n) {
        return sli_fail(e, SLUICE_EPROTOCOL, "the host's %s text length %zu does not match the message (%zu bytes)", what, n,
                        p->len);
    }
    *reason = sli_get16(p->buf, SLI_REFUSE_REASON_OFFSET);
    sli_escape_untrusted(p->buf + SLI_REFUSE_TEXT_OFFSET, n, text, cap);
    return SLUICE_OK;
}

/* Decodes a REFUSE into e (reason and escaped text) — or a protocol error if it is malformed. */
static int decode_refuse(const sli_packet *p, const char *what, const char *channel, sluice_error *e) {
    unsigned reason;
    char text[SLI_ESCAPED_TEXT];
    int rc = sli_decode_reason_body(p, what, &reason, text, sizeof text, e);
    if (rc != SLUICE_OK) {
        return rc;
    }
    sli_fail(e, SLUICE_EREFUSED, "attaching to '%s' refused (%s): %s", channel, sluice_refusal_name((int) reason), text);
    if (e != NULL) {
        e->refusal = (int) reason;
    }
    return SLUICE_EREFUSED;
}

/*
 * Receives the host's next message, which must be `expected` (or a REFUSE, or a DETACH in READY's place): checks length, magic,
 * version, type. Either of those is turned into SLUICE_EREFUSED with the host's reason and text.
 */
int sli_expect_message(sluice_channel *ch, sli_packet *p, int expected, const char *name, int timeout_ms,
                       sluice_error *e) {
    int rc = sli_recv_packet(ch->sock, p, timeout_ms, name, e);
    if (rc != SLUICE_OK) {
        return rc;
    }
    if (p->len < SLI_PROTO_HEADER_LENGTH) {
        sli_close_fds(p);
        return sli_fail(e, SLUICE_EPROTOCOL, "the host's message of %zu bytes is shorter than the %d-byte header", p->len,
                        SLI_PROTO_HEADER_LENGTH);
    }
    uint32_t magic = sli_get32(p->buf, SLI_PROTO_MAGIC_OFFSET);
    if (magic != SLI_PROTO_MAGIC) {
        sli_close_fds(p);
        return sli_fail(e, SLUICE_EPROTOCOL, "the host's message has bad magic 0x%x, expected 0x%x (\"SLCP\")", magic, SLI_PROTO_MAGIC);
    }
    unsigned type = sli_get16(p->buf, SLI_PROTO_TYPE_OFFSET);
    if (type == SLI_MSG_REFUSE) { /* read whatever its version: a VERSION_MISMATCH refusal must get through */
        rc = decode_refuse(p, "REFUSE", ch->name, e);
        sli_close_fds(p);
        return rc;
    }
    unsigned version = sli_get16(p->buf, SLI_PROTO_VERSION_OFFSET);
    if (version != SLUICE_PROTOCOL_VERSION) {
        sli_close_fds(p);
        return sli_fail(e, SLUICE_EPROTOCOL, "the host speaks protocol version %u, this client %d", version,
                        SLUICE_PROTOCOL_VERSION);
    }
    if (type == SLI_MSG_DETACH && expected == SLI_MSG_READY) {
        /* The host had joined us and ended it before READY went out (the channel closed
           meanwhile): to this side a refusal, with the host's reason. */
        rc = decode_refuse(p, "DETACH", ch->name, e);
        sli_close_fds(p);
        return rc;
    }
    if (type != (unsigned) expected) {
        sli_close_fds(p);
        return sli_fail(e, SLUICE_EPROTOCOL, "expected %s (type %d) from the host, got message type %u", name, expected, type);
    }
    return SLUICE_OK;
}

/*
 * A message after READY: SLUICE_OK and the reason and escaped text if it is a well-formed DETACH
 * (header, no fds, consistent text length), else SLUICE_EPROTOCOL (no message is written: the
 * caller ignores what is not a DETACH, as the protocol asks).
 */
int sli_decode_detach(const sli_packet *p, unsigned *reason, char *text, size_t cap) {
    if (p->len < SLI_PROTO_HEADER_LENGTH || sli_get32(p->buf, SLI_PROTO_MAGIC_OFFSET) != SLI_PROTO_MAGIC ||
        sli_get16(p->buf, SLI_PROTO_VERSION_OFFSET) != SLUICE_PROTOCOL_VERSION ||
        sli_get16(p->buf, SLI_PROTO_TYPE_OFFSET) != SLI_MSG_DETACH) {
        return SLUICE_EPROTOCOL;
    }
    return sli_decode_reason_body(p, "DETACH", reason, text, cap, NULL);
}
