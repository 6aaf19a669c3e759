#include "sluice_internal.h"

void sli_put_header(uint8_t *b, int type) {
    sli_put32(b, 0, P_MAGIC);
    sli_put16(b, 4, SLUICE_PROTOCOL_VERSION);
    sli_put16(b, 6, (uint16_t) type);
}

/*
 * The body REFUSE and DETACH share: reason code, text length, text. *reason and text (escaped,
 * see escape_untrusted) on success; a protocol error if it is malformed (what names the message).
 * The text is the host's and untrusted: it is never printed unescaped, and text that is not UTF-8
 * is shown byte by byte rather than refused.
 */
int sli_decode_reason_body(const sli_packet *p, const char *what, unsigned *reason, char *text, size_t cap,
                              sluice_error *e) {
    if (p->nfds != 0) {
        return sli_fail(e, SLUICE_EPROTOCOL, "the host's %s carried %d fds, expected none", what, p->nfds);
    }
    if (p->len < P_REFUSE_TEXT_OFFSET) {
        return sli_fail(e, SLUICE_EPROTOCOL, "the host's %s of %zu bytes is truncated", what, p->len);
    }
    size_t n = sli_get16(p->buf, 10);
    if (n > P_MAX_TEXT || p->len != P_REFUSE_TEXT_OFFSET + n) {
        return sli_fail(e, SLUICE_EPROTOCOL, "the host's %s text length %zu does not match the message (%zu bytes)", what, n,
                    p->len);
    }
    *reason = sli_get16(p->buf, 8);
    sli_escape_untrusted(p->buf + P_REFUSE_TEXT_OFFSET, n, text, cap);
    return SLUICE_OK;
}

/* Decodes a REFUSE into e (reason and escaped text) — or a protocol error if it is malformed. */
static int decode_refuse(const sli_packet *p, const char *what, const char *channel, sluice_error *e) {
    unsigned reason;
    char text[P_ESCAPED_TEXT];
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
int sli_expect_message(sluice_channel *ch, sli_packet *p, int expected, const char *name, int timeout_ms, sluice_error *e) {
    int rc = sli_recv_packet(ch->sock, p, timeout_ms, name, e);
    if (rc != SLUICE_OK) {
        return rc;
    }
    if (p->len < P_HEADER_LENGTH) {
        sli_close_fds(p);
        return sli_fail(e, SLUICE_EPROTOCOL, "the host's message of %zu bytes is shorter than the %d-byte header", p->len,
                    P_HEADER_LENGTH);
    }
    uint32_t magic = sli_get32(p->buf, 0);
    if (magic != P_MAGIC) {
        sli_close_fds(p);
        return sli_fail(e, SLUICE_EPROTOCOL, "the host's message has bad magic 0x%x, expected 0x%x (\"SLCP\")", magic, P_MAGIC);
    }
    unsigned type = sli_get16(p->buf, 6);
    if (type == P_REFUSE) { /* read whatever its version: a VERSION_MISMATCH refusal must get through */
        rc = decode_refuse(p, "REFUSE", ch->name, e);
        sli_close_fds(p);
        return rc;
    }
    unsigned version = sli_get16(p->buf, 4);
    if (version != SLUICE_PROTOCOL_VERSION) {
        sli_close_fds(p);
        return sli_fail(e, SLUICE_EPROTOCOL, "the host speaks protocol version %u, this client %d", version,
                    SLUICE_PROTOCOL_VERSION);
    }
    if (type == P_DETACH && expected == P_READY) {
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
