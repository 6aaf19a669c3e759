package io.sluice.api;

import java.nio.charset.StandardCharsets;

/**
 * Text that came from another process (a channel name in a HELLO, a refusal text, a memfd name)
 * made safe to print: a peer must not be able to forge a line in a log or move a terminal's cursor.
 * Printable ASCII passes through; a backslash becomes {@code \\}; {@code \n}, {@code \r}, {@code \t}
 * become those two-character escapes; every other control character, DEL and non-ASCII character
 * becomes {@code \xHH} (per UTF-16 unit below 0x100) or {@code \\uHHHH}. The result is ASCII, and
 * long input is cut with a note saying how long it was.
 */
public final class UntrustedText {
    /** Longest escaped rendering; the rest is replaced by a note. */
    public static final int MAX_ESCAPED_LENGTH = 512;

    private UntrustedText() {
    }

    /**
     * {@code text} escaped for logs and messages; {@code "null"} for null.
     *
     * @param text text from a peer or a region, may be null
     * @return printable ASCII, escaped as the class describes, cut after about
     *         {@link #MAX_ESCAPED_LENGTH} characters
     */
    public static String escape(String text) {
        if (text == null) {
            return "null";
        }
        StringBuilder sb = new StringBuilder(Math.min(text.length() + 8, MAX_ESCAPED_LENGTH + 40));
        for (int i = 0; i < text.length(); i++) {
            if (sb.length() >= MAX_ESCAPED_LENGTH) {
                sb.append("...(").append(text.length()).append(" characters)");
                break;
            }
            char c = text.charAt(i);
            switch (c) {
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c >= 0x20 && c < 0x7f) {
                        sb.append(c);
                    } else if (c < 0x100) {
                        sb.append(String.format("\\x%02x", (int) c));
                    } else {
                        sb.append(String.format("\\u%04x", (int) c));
                    }
                }
            }
        }
        return sb.toString();
    }

    /**
     * Raw bytes (possibly not UTF-8) escaped byte by byte: printable ASCII as is, the rest as {@code \xHH}.
     *
     * @param bytes raw bytes from a peer or a region
     * @return their escaped form, as {@link #escape(String)}
     */
    public static String escape(byte[] bytes) {
        return escape(new String(bytes, StandardCharsets.ISO_8859_1));
    }
}
