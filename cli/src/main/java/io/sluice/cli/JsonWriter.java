package io.sluice.cli;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * A minimal JSON writer for the commands' {@code --json} output: objects, arrays, strings,
 * numbers, booleans, null, one value per call, commas placed by the writer.
 *
 * <p>Strings are peer-supplied text (process and region names): every character a JSON parser
 * or a terminal could trip on is escaped: quote, backslash, every control character (U+0000 to
 * U+001F and U+007F to U+009F), the line and paragraph separators U+2028/U+2029 (which break
 * JavaScript that embeds JSON) and a lone surrogate (not valid in UTF-8 output). The output is
 * one line, ASCII for every escaped character.
 */
final class JsonWriter {
    private final StringBuilder out = new StringBuilder();
    /** Per open object or array: whether it already holds a member (the next one needs a comma). */
    private final Deque<Boolean> hasMember = new ArrayDeque<>();
    private boolean afterName;

    JsonWriter beginObject() {
        return open('{');
    }

    JsonWriter endObject() {
        return close('}');
    }

    JsonWriter beginArray() {
        return open('[');
    }

    JsonWriter endArray() {
        return close(']');
    }

    private JsonWriter open(char bracket) {
        beforeValue();
        out.append(bracket);
        hasMember.push(false);
        return this;
    }

    private JsonWriter close(char bracket) {
        hasMember.pop();
        out.append(bracket);
        return this;
    }

    /** The name of the next member of the current object. */
    JsonWriter name(String name) {
        comma();
        quote(name);
        out.append(':');
        afterName = true;
        return this;
    }

    JsonWriter value(String s) {
        beforeValue();
        if (s == null) {
            out.append("null");
        } else {
            quote(s);
        }
        return this;
    }

    JsonWriter value(long n) {
        beforeValue();
        out.append(n);
        return this;
    }

    JsonWriter value(boolean b) {
        beforeValue();
        out.append(b);
        return this;
    }

    JsonWriter nullValue() {
        beforeValue();
        out.append("null");
        return this;
    }

    private void beforeValue() {
        if (afterName) {
            afterName = false;
        } else {
            comma();
        }
    }

    private void comma() {
        if (!hasMember.isEmpty()) {
            if (hasMember.peek()) {
                out.append(',');
            } else {
                hasMember.pop();
                hasMember.push(true);
            }
        }
    }

    private void quote(String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == '\u2028' || c == '\u2029' || isLoneSurrogate(s, i)) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    private static boolean isLoneSurrogate(String s, int i) {
        char c = s.charAt(i);
        if (Character.isHighSurrogate(c)) {
            return i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1));
        }
        if (Character.isLowSurrogate(c)) {
            return i == 0 || !Character.isHighSurrogate(s.charAt(i - 1));
        }
        return false;
    }

    @Override
    public String toString() {
        return out.toString();
    }
}
