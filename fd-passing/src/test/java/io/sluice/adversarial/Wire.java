package io.sluice.adversarial;

import io.sluice.api.RefusalReason;
import io.sluice.api.RingKind;
import io.sluice.api.Role;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * The handshake's bytes as {@code docs/protocol.md} documents them, written out again on the
 * attacker's side: these tests speak the wire format, so they hold their own copy of it and do
 * not borrow the host's encoder (a mistake shared by both would prove nothing). Every message is
 * one packet, integers little-endian: an 8-byte header (magic "SLCP", version, type), then the
 * type's body. Decoders check what the document promises and fail with
 * {@link IllegalArgumentException} naming what is wrong.
 */
final class Wire {
    private Wire() {
    }

    static final int MAGIC = 0x5043_4C53; // "SLCP" as a little-endian u32
    static final int VERSION = 1;

    static final int HELLO = 1;
    static final int WELCOME = 2;
    static final int REFUSE = 3;
    static final int POSITION = 4;
    static final int READY = 5;
    static final int DETACH = 6;

    static final int HEADER_LENGTH = 8;
    static final int WELCOME_LENGTH = 48;
    static final int POSITION_LENGTH = 16;
    static final int READY_LENGTH = 16;
    static final int MAX_TEXT_BYTES = 1024;
    /** Longest handshake message: REFUSE with the longest text. */
    static final int MAX_MESSAGE_BYTES = 12 + MAX_TEXT_BYTES;

    /** WELCOME's fields (offsets 8 to 47). */
    record Welcome(RingKind kind, int participantId, long dataRegionSize, long positionRegionSize,
                   int maxMessageLength, int flags, long startPosition) {
    }

    /** REFUSE's or DETACH's fields; {@code reason} is null for a code the document does not list. */
    record Refuse(RefusalReason reason, int rawCode, String text) {
    }

    private static ByteBuffer message(int type, int length) {
        ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, MAGIC).putShort(4, (short) VERSION).putShort(6, (short) type);
        return b;
    }

    /** HELLO: role (u16 at 8), name length (u16 at 10), flags (u32 at 12, zero), name from 16. */
    static byte[] hello(Role role, String channel) {
        byte[] name = channel.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = message(HELLO, 16 + name.length);
        b.putShort(8, (short) role.code()).putShort(10, (short) name.length).putInt(12, 0).put(16, name);
        return b.array();
    }

    /** WELCOME, as a host (or a forger of one) sends it. */
    static byte[] welcome(Welcome w) {
        ByteBuffer b = message(WELCOME, WELCOME_LENGTH);
        b.putInt(8, w.kind().code()).putInt(12, w.participantId()).putLong(16, w.dataRegionSize())
                .putLong(24, w.positionRegionSize()).putInt(32, w.maxMessageLength()).putInt(36, w.flags())
                .putLong(40, w.startPosition());
        return b.array();
    }

    static byte[] refuse(RefusalReason reason, String text) {
        return reasonMessage(REFUSE, reason, text);
    }

    static byte[] detach(RefusalReason reason, String text) {
        return reasonMessage(DETACH, reason, text);
    }

    /** REFUSE and DETACH: reason code (u16 at 8), text length (u16 at 10), UTF-8 text from 12. */
    private static byte[] reasonMessage(int type, RefusalReason reason, String text) {
        byte[] t = text.getBytes(StandardCharsets.UTF_8);
        if (t.length > MAX_TEXT_BYTES) {
            throw new IllegalArgumentException("text of " + t.length + " bytes is longer than " + MAX_TEXT_BYTES);
        }
        ByteBuffer b = message(type, 12 + t.length);
        b.putShort(8, (short) reason.code()).putShort(10, (short) t.length).put(12, t);
        return b.array();
    }

    /** POSITION: the position region's size (u64 at 8). */
    static byte[] position(long positionRegionSize) {
        return message(POSITION, POSITION_LENGTH).putLong(8, positionRegionSize).array();
    }

    /** READY: the registration (u64 at 8). */
    static byte[] ready(long registration) {
        return message(READY, READY_LENGTH).putLong(8, registration).array();
    }

    /** The message type (u16 at 6) of a message of at least the header's length. */
    static int type(ByteBuffer m) {
        return Short.toUnsignedInt(m.getShort(6));
    }

    private static void expect(ByteBuffer m, int type, int length, String name) {
        if (m.remaining() < HEADER_LENGTH || m.getInt(0) != MAGIC || Short.toUnsignedInt(m.getShort(4)) != VERSION) {
            throw new IllegalArgumentException(name + ": no protocol header (magic, version 1)");
        }
        if (type(m) != type) {
            throw new IllegalArgumentException("expected " + name + " (type " + type + "), got type " + type(m));
        }
        if (length >= 0 && m.remaining() != length) {
            throw new IllegalArgumentException(name + " is " + m.remaining() + " bytes, the document says " + length);
        }
    }

    static Welcome decodeWelcome(ByteBuffer m) {
        expect(m, WELCOME, WELCOME_LENGTH, "WELCOME");
        RingKind kind = RingKind.fromCode(m.getInt(8));
        if (kind == null) {
            throw new IllegalArgumentException("WELCOME ring kind " + m.getInt(8) + " is not documented");
        }
        return new Welcome(kind, m.getInt(12), m.getLong(16), m.getLong(24), m.getInt(32), m.getInt(36), m.getLong(40));
    }

    static Refuse decodeRefuse(ByteBuffer m) {
        return decodeReason(m, REFUSE, "REFUSE");
    }

    static Refuse decodeDetach(ByteBuffer m) {
        return decodeReason(m, DETACH, "DETACH");
    }

    /** Checks the text length against the message and that the text is valid UTF-8. */
    private static Refuse decodeReason(ByteBuffer m, int type, String name) {
        expect(m, type, -1, name);
        if (m.remaining() < 12) {
            throw new IllegalArgumentException(name + " of " + m.remaining() + " bytes is truncated");
        }
        int code = Short.toUnsignedInt(m.getShort(8));
        int n = Short.toUnsignedInt(m.getShort(10));
        if (n > MAX_TEXT_BYTES || m.remaining() != 12 + n) {
            throw new IllegalArgumentException(name + " text length " + n + " does not match its " + m.remaining() + " bytes");
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(m.slice(12, n)).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(name + " text is not valid UTF-8");
        }
        return new Refuse(RefusalReason.fromCode(code), code, text);
    }

    static long decodeReady(ByteBuffer m) {
        expect(m, READY, READY_LENGTH, "READY");
        return m.getLong(8);
    }
}
