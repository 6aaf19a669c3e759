package io.sluice.channel;

import io.sluice.api.ChannelNames;
import io.sluice.api.UntrustedText;
import io.sluice.api.ProtocolException;
import io.sluice.api.RefusalReason;
import io.sluice.api.RingKind;
import io.sluice.api.Role;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

import static io.sluice.channel.HandshakeDescriptor.*;

/**
 * Encodes and decodes the handshake messages of {@link HandshakeDescriptor}. Package-private: the
 * protocol is this package's business; users see {@link ChannelInfo}. Decoding trusts
 * nothing: every length, code and reserved field is checked, and a violation is a
 * {@link ProtocolException} naming the field — the host answers it with a MALFORMED refusal.
 */
final class Handshake {
    private Handshake() {
    }

    /** HELLO: who wants what. */
    record Hello(int version, Role role, String channel) {
    }

    /** WELCOME: the channel descriptor that comes with the data region's fd; {@code kind} null for the host's status region (code 0). */
    record Welcome(RingKind kind, int participantId, long dataRegionSize, long positionRegionSize,
                          int maxMessageLength, int flags, long startPosition) {
    }

    /** REFUSE (before READY) or DETACH (after it): why not, or why no more. {@code text} is the peer's, unescaped. */
    record Refuse(RefusalReason reason, int rawCode, String text) {
    }

    /** The message type of an already length-checked message. */
    static int type(ByteBuffer m) {
        return Short.toUnsignedInt(m.getShort(TYPE_OFFSET));
    }

    private static ByteBuffer allocate(int length, int type) {
        ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(MAGIC_OFFSET, MAGIC);
        b.putShort(VERSION_OFFSET, (short) PROTOCOL_VERSION);
        b.putShort(TYPE_OFFSET, (short) type);
        return b;
    }

    /** @throws IllegalArgumentException if {@code channel} breaks the {@link ChannelNames} rule */
    static byte[] hello(Role role, String channel) {
        return hello(PROTOCOL_VERSION, role.code(), ChannelNames.validate(channel));
    }

    /** A HELLO with any version and role code: for tests of the host's refusals. */
    static byte[] hello(int version, int roleCode, String channel) {
        byte[] name = channel.getBytes(StandardCharsets.UTF_8);
        if (name.length == 0 || name.length > MAX_NAME_BYTES) {
            throw new IllegalArgumentException("channel name must be 1.." + MAX_NAME_BYTES + " bytes: '"
                    + UntrustedText.escape(channel) + "'");
        }
        ByteBuffer b = allocate(HELLO_NAME_OFFSET + name.length, HELLO);
        b.putShort(VERSION_OFFSET, (short) version);
        b.putShort(HELLO_ROLE_OFFSET, (short) roleCode);
        b.putShort(HELLO_NAME_LENGTH_OFFSET, (short) name.length);
        b.putInt(HELLO_FLAGS_OFFSET, 0);
        b.put(HELLO_NAME_OFFSET, name);
        return b.array();
    }

    static byte[] welcome(Welcome w) {
        ByteBuffer b = allocate(WELCOME_LENGTH, WELCOME);
        b.putInt(WELCOME_KIND_OFFSET, w.kind() == null ? HostStatusDescriptor.WELCOME_KIND : w.kind().code());
        b.putInt(WELCOME_PARTICIPANT_OFFSET, w.participantId());
        b.putLong(WELCOME_DATA_SIZE_OFFSET, w.dataRegionSize());
        b.putLong(WELCOME_POSITION_SIZE_OFFSET, w.positionRegionSize());
        b.putInt(WELCOME_MAX_MESSAGE_OFFSET, w.maxMessageLength());
        b.putInt(WELCOME_FLAGS_OFFSET, w.flags());
        b.putLong(WELCOME_START_POSITION_OFFSET, w.startPosition());
        return b.array();
    }

    static byte[] refuse(RefusalReason reason, String text) {
        return reasonMessage(REFUSE, reason, text);
    }

    /** DETACH: the host ends an attachment, saying why. */
    static byte[] detach(RefusalReason reason, String text) {
        return reasonMessage(DETACH, reason, text);
    }

    private static byte[] reasonMessage(int type, RefusalReason reason, String text) {
        byte[] t = text.getBytes(StandardCharsets.UTF_8);
        int n = Math.min(t.length, MAX_TEXT_BYTES);
        while (n > 0 && n < t.length && (t[n] & 0xC0) == 0x80) {
            n--; // never cut a UTF-8 sequence in two: the text must stay valid UTF-8
        }
        ByteBuffer b = allocate(REFUSE_TEXT_OFFSET + n, type);
        b.putShort(REFUSE_REASON_OFFSET, (short) reason.code());
        b.putShort(REFUSE_TEXT_LENGTH_OFFSET, (short) n);
        b.put(REFUSE_TEXT_OFFSET, t, 0, n);
        return b.array();
    }

    static byte[] position(long positionRegionSize) {
        ByteBuffer b = allocate(POSITION_LENGTH, POSITION);
        b.putLong(POSITION_SIZE_OFFSET, positionRegionSize);
        return b.array();
    }

    static byte[] ready(long registration) {
        ByteBuffer b = allocate(READY_LENGTH, READY);
        b.putLong(READY_REGISTRATION_OFFSET, registration);
        return b.array();
    }

    /**
     * Checks the common header: long enough, magic. The version is returned, not checked, so that
     * the host can answer a version mismatch with the right refusal.
     */
    static ByteBuffer checkHeader(ByteBuffer m, String from) {
        if (m.remaining() < HEADER_LENGTH) {
            throw new ProtocolException(from + ": message of " + m.remaining() + " bytes is shorter than the "
                    + HEADER_LENGTH + "-byte header");
        }
        int magic = m.getInt(MAGIC_OFFSET);
        if (magic != MAGIC) {
            throw new ProtocolException(from + ": bad magic 0x" + Integer.toHexString(magic)
                    + ", expected 0x" + Integer.toHexString(MAGIC) + " (\"SLCP\")");
        }
        return m;
    }

    private static int version(ByteBuffer m) {
        return Short.toUnsignedInt(m.getShort(VERSION_OFFSET));
    }

    private static void expect(ByteBuffer m, int type, String what, String from) {
        int t = type(m);
        if (t != type) {
            throw new ProtocolException(from + ": expected " + what + " (type " + type + "), got message type " + t);
        }
    }

    private static void checkVersion(ByteBuffer m, String from) {
        int v = version(m);
        if (v != PROTOCOL_VERSION) {
            throw new ProtocolException(from + ": protocol version " + v + ", this side speaks " + PROTOCOL_VERSION);
        }
    }

    /** Decodes a HELLO. The version is reported, not enforced (see {@link #checkHeader}). */
    static Hello decodeHello(ByteBuffer m, String from) {
        checkHeader(m, from);
        expect(m, HELLO, "HELLO", from);
        if (m.remaining() < HELLO_NAME_OFFSET) {
            throw new ProtocolException(from + ": HELLO of " + m.remaining() + " bytes is shorter than its "
                    + HELLO_NAME_OFFSET + "-byte fixed part");
        }
        int version = version(m);
        int roleCode = Short.toUnsignedInt(m.getShort(HELLO_ROLE_OFFSET));
        int nameLength = Short.toUnsignedInt(m.getShort(HELLO_NAME_LENGTH_OFFSET));
        int flags = m.getInt(HELLO_FLAGS_OFFSET);
        if (version == PROTOCOL_VERSION) { // fields of other versions are not ours to judge
            if (flags != 0) {
                throw new ProtocolException(from + ": HELLO flags 0x" + Integer.toHexString(flags) + " are reserved and must be 0");
            }
            if (nameLength == 0 || nameLength > MAX_NAME_BYTES) {
                throw new ProtocolException(from + ": HELLO channel name length " + nameLength + " is not in 1.." + MAX_NAME_BYTES);
            }
            if (m.remaining() != HELLO_NAME_OFFSET + nameLength) {
                throw new ProtocolException(from + ": HELLO is " + m.remaining() + " bytes, its name length says "
                        + (HELLO_NAME_OFFSET + nameLength));
            }
        }
        Role role = Role.fromCode(roleCode);
        if (role == null && version == PROTOCOL_VERSION) {
            throw new ProtocolException(from + ": HELLO role code " + roleCode + " is unknown (1 consumer, 2 producer, 3 participant)");
        }
        String name = "";
        if (version == PROTOCOL_VERSION) {
            byte[] raw = new byte[nameLength];
            m.get(HELLO_NAME_OFFSET, raw);
            name = new String(raw, StandardCharsets.ISO_8859_1); // each byte one char: the rule is ASCII
            String problem = ChannelNames.problem(name, MAX_NAME_BYTES);
            if (problem != null) {
                throw new ProtocolException(from + ": HELLO channel " + problem);
            }
        }
        return new Hello(version, role, name);
    }

    /** Decodes the host's answer to HELLO: a WELCOME, or throws for a REFUSE (see {@link #decodeRefuse}). */
    static Welcome decodeWelcome(ByteBuffer m, String from) {
        checkFixedLength(m, WELCOME, "WELCOME", WELCOME_LENGTH, from);
        int kindCode = m.getInt(WELCOME_KIND_OFFSET);
        RingKind kind = RingKind.fromCode(kindCode);
        if (kind == null && kindCode != HostStatusDescriptor.WELCOME_KIND) {
            throw new ProtocolException(from + ": WELCOME ring kind " + kindCode + " is unknown");
        }
        long dataSize = m.getLong(WELCOME_DATA_SIZE_OFFSET);
        long positionSize = m.getLong(WELCOME_POSITION_SIZE_OFFSET);
        int maxMessage = m.getInt(WELCOME_MAX_MESSAGE_OFFSET);
        if (dataSize <= 0 || dataSize > MAX_DATA_REGION_BYTES || positionSize < 0 || maxMessage < 0) {
            throw new ProtocolException(from + ": WELCOME sizes out of range: data " + dataSize + ", position "
                    + positionSize + ", max message " + maxMessage);
        }
        long start = m.getLong(WELCOME_START_POSITION_OFFSET);
        if (start < 0) {
            throw new ProtocolException(from + ": WELCOME start position " + start + " is negative");
        }
        return new Welcome(kind, m.getInt(WELCOME_PARTICIPANT_OFFSET), dataSize, positionSize, maxMessage,
                m.getInt(WELCOME_FLAGS_OFFSET), start);
    }

    static Refuse decodeRefuse(ByteBuffer m, String from) {
        return decodeReason(m, REFUSE, "REFUSE", from);
    }

    /** Decodes a DETACH (same body as REFUSE). */
    static Refuse decodeDetach(ByteBuffer m, String from) {
        return decodeReason(m, DETACH, "DETACH", from);
    }

    private static Refuse decodeReason(ByteBuffer m, int type, String name, String from) {
        checkHeader(m, from);
        expect(m, type, name, from);
        if (m.remaining() < REFUSE_TEXT_OFFSET) {
            throw new ProtocolException(from + ": " + name + " of " + m.remaining() + " bytes is truncated");
        }
        int code = Short.toUnsignedInt(m.getShort(REFUSE_REASON_OFFSET));
        int n = Short.toUnsignedInt(m.getShort(REFUSE_TEXT_LENGTH_OFFSET));
        if (n > MAX_TEXT_BYTES || m.remaining() != REFUSE_TEXT_OFFSET + n) {
            throw new ProtocolException(from + ": " + name + " text length " + n + " does not match the message");
        }
        RefusalReason reason = RefusalReason.fromCode(code);
        return new Refuse(reason, code, utf8(m, REFUSE_TEXT_OFFSET, n, "refusal text", from));
    }

    static long decodePosition(ByteBuffer m, String from) {
        checkFixedLength(m, POSITION, "POSITION", POSITION_LENGTH, from);
        return m.getLong(POSITION_SIZE_OFFSET);
    }

    /** Decodes READY; returns the registration number (broadcast back-pressure consumers; else 0). */
    static long decodeReady(ByteBuffer m, String from) {
        checkFixedLength(m, READY, "READY", READY_LENGTH, from);
        return m.getLong(READY_REGISTRATION_OFFSET);
    }

    /** Checks the header and version of a message whose type has a fixed length, and that length. */
    private static void checkFixedLength(ByteBuffer m, int type, String name, int length, String from) {
        checkHeader(m, from);
        checkVersion(m, from);
        expect(m, type, name, from);
        if (m.remaining() != length) {
            throw new ProtocolException(from + ": " + name + " is " + m.remaining() + " bytes, expected " + length);
        }
    }

    private static String utf8(ByteBuffer m, int offset, int length, String what, String from) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(m.slice(offset, length))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new ProtocolException(from + ": " + what + " is not valid UTF-8");
        }
    }
}
