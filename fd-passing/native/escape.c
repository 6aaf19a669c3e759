/*
 * escape.c: bytes we did not choose (a host's REFUSE or DETACH text, a memfd name, an fd's
 * /proc target, a channel name we refuse) turned into text that is safe to print on one line:
 * a hostile host must not be able to move a terminal's cursor, hide text or forge log lines
 * through our error messages.
 */
#include "sluice_internal.h"

/*
 * Strict UTF-8 (no overlongs, no surrogates, at most U+10FFFF), what the host's decoder accepts: the
 * length of the sequence at s[0] and its code point, or 0 if s does not start with one.
 */
static size_t utf8_sequence(const uint8_t *s, size_t n, uint32_t *cp_out) {
    uint8_t c = s[0];
    size_t k;
    uint32_t cp;
    if (c < 0x80) {
        *cp_out = c;
        return 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
        k = 1;
        cp = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
        k = 2;
        cp = c & 0x0Fu;
    } else if (c >= 0xF0 && c <= 0xF4) {
        k = 3;
        cp = c & 0x07u;
    } else {
        return 0;
    }
    if (n <= k) { /* needs k continuation bytes */
        return 0;
    }
    for (size_t j = 1; j <= k; j++) {
        if ((s[j] & 0xC0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (s[j] & 0x3Fu);
    }
    if ((k == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (k == 3 && (cp < 0x10000 || cp > 0x10FFFF))) {
        return 0;
    }
    *cp_out = cp;
    return k + 1;
}

/* Code points that print as nothing, move the cursor or reorder text: C1 controls, invisible and
   bidirectional formatting characters, line and paragraph separators, tags, non-characters. */
static bool invisible_code_point(uint32_t cp) {
    return cp < 0xA0 || cp == 0xAD || cp == 0x061C || cp == 0x180E || (cp >= 0x200B && cp <= 0x200F) ||
           (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2060 && cp <= 0x206F) || cp == 0xFEFF ||
           (cp >= 0xFFF9 && cp <= 0xFFFB) || cp == 0xFFFE || cp == 0xFFFF || (cp >= 0xE0000 && cp <= 0xE007F);
}

/*
 * Copies untrusted bytes (a host's REFUSE or DETACH text, a memfd name, a path) into out as text
 * that is safe to print on one line. Printable ASCII and printable UTF-8 stay as they are; a
 * backslash is doubled; newline, carriage return and tab become backslash-n, -r, -t; any other
 * control byte, DEL, and every byte that is not part of valid UTF-8 becomes backslash-x and two hex
 * digits (ESC: \x1b); invisible or reordering code points become backslash-u and four hex digits
 * (backslash-U and eight above U+FFFF). What does not fit in cap bytes is cut on an escape
 * boundary and marked "...".
 */
void sli_escape_untrusted(const uint8_t *s, size_t n, char *out, size_t cap) {
    size_t used = 0;
    size_t i = 0;
    while (i < n) {
        char piece[16];
        size_t len;
        const char *from = piece;
        uint32_t cp;
        size_t k = utf8_sequence(s + i, n - i, &cp);
        uint8_t c = s[i];
        if (k == 0) {
            len = (size_t) snprintf(piece, sizeof piece, "\\x%02x", c);
            k = 1;
        } else if (c == '\\') {
            len = (size_t) snprintf(piece, sizeof piece, "\\\\");
        } else if (c == '\n' || c == '\r' || c == '\t') {
            len = (size_t) snprintf(piece, sizeof piece, "\\%c", c == '\n' ? 'n' : c == '\r' ? 'r' : 't');
        } else if (k == 1 && (c < 0x20 || c == 0x7F)) {
            len = (size_t) snprintf(piece, sizeof piece, "\\x%02x", c);
        } else if (k > 1 && invisible_code_point(cp)) {
            len = (size_t) snprintf(piece, sizeof piece, cp > 0xFFFF ? "\\U%08x" : "\\u%04x", (unsigned) cp);
        } else {
            from = (const char *) s + i; /* printable: the bytes themselves */
            len = k;
        }
        if (used + len + (i + k == n ? 1 : 4) > cap) { /* room for the terminator, and "..." unless this is the end */
            if (cap >= 4) {
                memcpy(out + used, "...", 3);
                used += 3;
            }
            break;
        }
        memcpy(out + used, from, len);
        used += len;
        i += k;
    }
    if (cap > 0) {
        out[used < cap ? used : cap - 1] = '\0';
    }
}
