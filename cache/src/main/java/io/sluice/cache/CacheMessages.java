package io.sluice.cache;

import io.sluice.api.ChannelNames;
import io.sluice.api.ProtocolException;
import io.sluice.api.RefusalReason;
import io.sluice.api.UntrustedText;
import io.sluice.memfd.MemfdRegion;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * The messages of the cache socket ({@code SOCK_SEQPACKET}, one message per packet, integers
 * little-endian), as {@code docs/cache-protocol.md} specifies them:
 *
 * <pre>
 *  every message  0: magic "SLCA" (u32 0x41434C53)  4: protocol version (u16, 1)  6: type (u16)
 *  HELLO    (1)  reader -> host  8: kind (u16)  10: name length N (u16, 1..128)  12: name, UTF-8   12 + N bytes, no fd
 *  PUBLISH  (2)  host -> reader  8: kind (u16)  10: reserved (u16, 0)  12: reserved (u32, 0)
 *                                16: version (u64, 1..2^63-1)  24: region size (u64)              32 bytes, exactly 1 fd
 *  REFUSED  (3)  host -> reader  8: reason code (u16)  10: text length T (u16, 0..1024)  12: text   12 + T bytes, no fd
 *  END      (4)  host -> reader  (nothing more)                                                    8 bytes, no fd
 * </pre>
 *
 * Each decoder here takes a message whose header {@link #type} accepted, and checks every field
 * it reads before returning it: the peer is never trusted.
 */
public final class CacheMessages {
    private CacheMessages() {
    }

    /** The bytes {@code S L C A} as a little-endian u32. */
    public static final int MAGIC = 0x4143_4C53;
    public static final int PROTOCOL_VERSION = 1;

    public static final short HELLO = 1;
    public static final short PUBLISH = 2;
    public static final short REFUSED = 3;
    public static final short END = 4;

    /** Kind of a published region: a sealed snapshot table ({@code docs/snapshot-layout.md}). */
    public static final int KIND_SNAPSHOT = 1;
    /** Kind of a published region: a shared map, published once, as version 1. */
    public static final int KIND_SHARED_MAP = 2;

    public static final int HEADER_LENGTH = 8;
    public static final int HELLO_FIXED_LENGTH = 12;
    public static final int PUBLISH_LENGTH = 32;
    public static final int REFUSED_FIXED_LENGTH = 12;
    /** Longest REFUSED text, in bytes. */
    public static final int MAX_TEXT_LENGTH = 1024;
    /** Longest message of the protocol: a REFUSED with the longest text. */
    public static final int MAX_LENGTH = REFUSED_FIXED_LENGTH + MAX_TEXT_LENGTH;
    /** Longest HELLO: a name of {@link ChannelNames#MAX_LENGTH} characters (printable ASCII: one byte each). */
    public static final int MAX_HELLO_LENGTH = HELLO_FIXED_LENGTH + ChannelNames.MAX_LENGTH;

    /** A HELLO: the reader wants region {@code name}, of kind {@code kind}. */
    public record Hello(int kind, String name) {
    }

    /** A PUBLISH: version {@code version} of a region of kind {@code kind} and {@code regionSize} bytes is in the fd sent with it. */
    public record Publish(int kind, long version, long regionSize) {
    }

    /** A REFUSED: the host's reason ({@code null} for a code this version does not know) and its text, escaped. */
    public record Refused(RefusalReason reason, int code, String text) {
    }

    // ---- encoding ----

    public static byte[] hello(int kind, String name) {
        ChannelNames.validate(name);
        byte[] utf8 = name.getBytes(StandardCharsets.UTF_8);
        return header(HELLO_FIXED_LENGTH + utf8.length, HELLO).putShort((short) kind).putShort((short) utf8.length)
                .put(utf8).array();
    }

    public static byte[] publish(int kind, long version, long regionSize) {
        return header(PUBLISH_LENGTH, PUBLISH).putShort((short) kind).putShort((short) 0).putInt(0)
                .putLong(version).putLong(regionSize).array();
    }

    /** A REFUSED; a text longer than {@link #MAX_TEXT_LENGTH} UTF-8 bytes is cut (at a character boundary). */
    public static byte[] refused(RefusalReason reason, String text) {
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        int n = utf8.length;
        if (n > MAX_TEXT_LENGTH) {
            n = MAX_TEXT_LENGTH;
            while (n > 0 && (utf8[n] & 0xC0) == 0x80) {
                n--; // do not cut a character in two
            }
        }
        return header(REFUSED_FIXED_LENGTH + n, REFUSED).putShort((short) reason.code()).putShort((short) n)
                .put(utf8, 0, n).array();
    }

    public static byte[] end() {
        return header(HEADER_LENGTH, END).array();
    }

    private static ByteBuffer header(int length, short type) {
        return ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN)
                .putInt(MAGIC).putShort((short) PROTOCOL_VERSION).putShort(type);
    }

    // ---- decoding ----

    /**
     * The protocol version of a message at least {@link #HEADER_LENGTH} bytes long with the right
     * magic: a host reads it before anything else, to answer another version with
     * {@code REFUSED(VERSION_MISMATCH)} rather than {@code MALFORMED}.
     *
     * @throws ProtocolException if the message is shorter than a header or has another magic
     */
    public static int protocolVersion(ByteBuffer message) {
        ByteBuffer m = message.slice().order(ByteOrder.LITTLE_ENDIAN);
        if (m.remaining() < HEADER_LENGTH) {
            throw new ProtocolException("cache message of " + m.remaining() + " bytes is shorter than its "
                    + HEADER_LENGTH + "-byte header");
        }
        int magic = m.getInt(0);
        if (magic != MAGIC) {
            throw new ProtocolException("cache message: bad magic 0x" + Integer.toHexString(magic)
                    + ", expected 0x" + Integer.toHexString(MAGIC) + " (\"SLCA\")");
        }
        return Short.toUnsignedInt(m.getShort(4));
    }

    /**
     * Checks the common header and the length and fd count the type requires; returns the type.
     *
     * @param fds how many fds arrived with the message
     * @throws ProtocolException naming what is wrong
     */
    public static short type(ByteBuffer message, int fds) {
        int version = protocolVersion(message);
        if (version != PROTOCOL_VERSION) {
            throw new ProtocolException("cache message: protocol version " + version + ", expected " + PROTOCOL_VERSION);
        }
        ByteBuffer m = message.slice().order(ByteOrder.LITTLE_ENDIAN);
        int length = m.remaining();
        short type = m.getShort(6);
        int expectedFds = type == PUBLISH ? 1 : 0;
        boolean lengthOk = switch (type) {
            case HELLO -> length >= HELLO_FIXED_LENGTH + 1 && length <= MAX_HELLO_LENGTH;
            case PUBLISH -> length == PUBLISH_LENGTH;
            case REFUSED -> length >= REFUSED_FIXED_LENGTH && length <= MAX_LENGTH;
            case END -> length == HEADER_LENGTH;
            default -> throw new ProtocolException("cache message: unknown type " + Short.toUnsignedInt(type));
        };
        if (!lengthOk) {
            throw new ProtocolException("cache message " + typeName(type) + ": " + length + " bytes is not a valid length");
        }
        if (fds != expectedFds) {
            throw new ProtocolException("cache message " + typeName(type) + " carried " + fds + " fds, expected " + expectedFds);
        }
        return type;
    }

    /** Decodes a HELLO: a known kind, a name length that is the rest of the message, a valid UTF-8 name. */
    public static Hello decodeHello(ByteBuffer message) {
        ByteBuffer m = message.slice().order(ByteOrder.LITTLE_ENDIAN);
        int kind = checkedKind("HELLO", Short.toUnsignedInt(m.getShort(8)));
        int nameLength = Short.toUnsignedInt(m.getShort(10));
        if (nameLength != m.remaining() - HELLO_FIXED_LENGTH) {
            throw new ProtocolException("HELLO: name length " + nameLength + " but " + (m.remaining() - HELLO_FIXED_LENGTH)
                    + " bytes follow the fixed part");
        }
        String name = utf8("HELLO name", m.position(HELLO_FIXED_LENGTH));
        String problem = ChannelNames.problem(name, ChannelNames.MAX_LENGTH);
        if (problem != null) {
            throw new ProtocolException("HELLO: region " + problem); // problem() escapes the name
        }
        return new Hello(kind, name);
    }

    /**
     * Decodes a PUBLISH: a known kind, zero reserved fields, a version in 1..2^63-1 and a region
     * size in 1..{@link MemfdRegion#MAX_SIZE} (what the version's kind needs at least is its
     * reader's to check).
     */
    public static Publish decodePublish(ByteBuffer message) {
        ByteBuffer m = message.slice().order(ByteOrder.LITTLE_ENDIAN);
        int kind = checkedKind("PUBLISH", Short.toUnsignedInt(m.getShort(8)));
        int reserved16 = Short.toUnsignedInt(m.getShort(10));
        int reserved32 = m.getInt(12);
        if (reserved16 != 0 || reserved32 != 0) {
            throw new ProtocolException("PUBLISH: reserved fields at offsets 10 and 12 must be 0, found 0x"
                    + Integer.toHexString(reserved16) + " and 0x" + Integer.toHexString(reserved32));
        }
        long version = m.getLong(16);
        long size = m.getLong(24);
        if (version < 1) { // a u64 of 2^63 or more reads negative: refused too
            throw new ProtocolException("PUBLISH: version " + Long.toUnsignedString(version) + " is outside 1.." + Long.MAX_VALUE);
        }
        if (size < 1 || size > MemfdRegion.MAX_SIZE) {
            throw new ProtocolException("PUBLISH: region size " + Long.toUnsignedString(size) + " is outside 1.."
                    + MemfdRegion.MAX_SIZE);
        }
        return new Publish(kind, version, size);
    }

    /** Decodes a REFUSED: the text length is the rest of the message; the text comes back escaped. */
    public static Refused decodeRefused(ByteBuffer message) {
        ByteBuffer m = message.slice().order(ByteOrder.LITTLE_ENDIAN);
        int code = Short.toUnsignedInt(m.getShort(8));
        int textLength = Short.toUnsignedInt(m.getShort(10));
        if (textLength != m.remaining() - REFUSED_FIXED_LENGTH) {
            throw new ProtocolException("REFUSED: text length " + textLength + " but " + (m.remaining() - REFUSED_FIXED_LENGTH)
                    + " bytes follow the fixed part");
        }
        byte[] text = new byte[textLength];
        m.get(REFUSED_FIXED_LENGTH, text);
        // Lenient on purpose: a refusal is worth showing even if its text is not valid UTF-8.
        return new Refused(RefusalReason.fromCode(code), code, UntrustedText.escape(new String(text, StandardCharsets.UTF_8)));
    }

    private static int checkedKind(String message, int kind) {
        if (kind != KIND_SNAPSHOT && kind != KIND_SHARED_MAP) {
            throw new ProtocolException(message + ": unknown region kind " + kind + " (1 snapshot, 2 shared map)");
        }
        return kind;
    }

    private static String utf8(String what, ByteBuffer bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(bytes).toString();
        } catch (CharacterCodingException e) {
            throw new ProtocolException(what + " is not valid UTF-8");
        }
    }

    /** The name of a message type, for messages. */
    public static String typeName(int type) {
        return switch (type) {
            case HELLO -> "HELLO";
            case PUBLISH -> "PUBLISH";
            case REFUSED -> "REFUSED";
            case END -> "END";
            default -> "type " + type;
        };
    }

    /** The name of a region kind, for messages. */
    public static String kindName(int kind) {
        return switch (kind) {
            case KIND_SNAPSHOT -> "snapshot";
            case KIND_SHARED_MAP -> "shared map";
            default -> "kind " + kind;
        };
    }
}
