package io.sluice.cache.snapshot;

import io.sluice.api.ProtocolException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The messages of the snapshot socket ({@code SOCK_SEQPACKET}, one message per packet, integers
 * little-endian), as specified in {@code docs/snapshot-layout.md}:
 *
 * <pre>
 *  every message   0: magic "SNAP" (u32 0x50414E53)   4: protocol version (u16, 1)   6: type (u16)
 *  PUBLISH (1)     8: snapshot version (u64)   16: region size (u64)     24 bytes, exactly 1 fd (the sealed memfd)
 *  END     (2)     (nothing more)                                          8 bytes, no fd
 *  REPORT  (3)     8: UTF-8 text, the rest of the packet                   8..1024 bytes, no fd
 * </pre>
 *
 * The owner sends PUBLISH for every version to every reader, versions strictly increasing, and
 * END when it will publish no more; a reader answers END with one REPORT and closes.
 */
public final class SnapshotMessages {
    private SnapshotMessages() {
    }

    /** The bytes {@code S N A P} as a little-endian u32. */
    public static final int MAGIC = 0x5041_4E53;
    public static final short PROTOCOL_VERSION = 1;
    public static final short PUBLISH = 1;
    public static final short END = 2;
    public static final short REPORT = 3;

    public static final int HEADER_LENGTH = 8;
    public static final int PUBLISH_LENGTH = 24;
    /** Longest message: a REPORT with 1016 bytes of text. */
    public static final int MAX_LENGTH = 1024;

    /** A PUBLISH message: version {@code version} of the table is in the memfd sent with it. */
    public record Publish(long version, long regionSize) {
    }

    public static byte[] publish(long version, long regionSize) {
        return header(PUBLISH_LENGTH, PUBLISH).putLong(version).putLong(regionSize).array();
    }

    public static byte[] end() {
        return header(HEADER_LENGTH, END).array();
    }

    public static byte[] report(String text) {
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        if (HEADER_LENGTH + utf8.length > MAX_LENGTH) {
            throw new IllegalArgumentException("report of " + utf8.length + " bytes exceeds " + (MAX_LENGTH - HEADER_LENGTH));
        }
        return header(HEADER_LENGTH + utf8.length, REPORT).put(utf8).array();
    }

    private static ByteBuffer header(int length, short type) {
        return ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN)
                .putInt(MAGIC).putShort(PROTOCOL_VERSION).putShort(type);
    }

    /**
     * Checks the common header and the length and fd count the type requires; returns the type.
     *
     * @param fds how many fds arrived with the message
     * @throws ProtocolException naming what is wrong
     */
    public static short type(ByteBuffer message, int fds) {
        ByteBuffer m = message.slice().order(ByteOrder.LITTLE_ENDIAN);
        int length = m.remaining();
        if (length < HEADER_LENGTH) {
            throw new ProtocolException("snapshot message of " + length + " bytes is shorter than its " + HEADER_LENGTH + "-byte header");
        }
        int magic = m.getInt(0);
        if (magic != MAGIC) {
            throw new ProtocolException("snapshot message: bad magic 0x" + Integer.toHexString(magic)
                    + ", expected 0x" + Integer.toHexString(MAGIC) + " (\"SNAP\")");
        }
        int version = Short.toUnsignedInt(m.getShort(4));
        if (version != PROTOCOL_VERSION) {
            throw new ProtocolException("snapshot message: protocol version " + version + ", expected " + PROTOCOL_VERSION);
        }
        short type = m.getShort(6);
        int expectedFds;
        boolean lengthOk;
        switch (type) {
            case PUBLISH -> {
                expectedFds = 1;
                lengthOk = length == PUBLISH_LENGTH;
            }
            case END -> {
                expectedFds = 0;
                lengthOk = length == HEADER_LENGTH;
            }
            case REPORT -> {
                expectedFds = 0;
                lengthOk = length <= MAX_LENGTH;
            }
            default -> throw new ProtocolException("snapshot message: unknown type " + Short.toUnsignedInt(type));
        }
        if (!lengthOk) {
            throw new ProtocolException("snapshot message type " + type + ": " + length + " bytes is not a valid length");
        }
        if (fds != expectedFds) {
            throw new ProtocolException("snapshot message type " + type + " carried " + fds + " fds, expected " + expectedFds);
        }
        return type;
    }

    /** Decodes a PUBLISH whose header {@link #type} accepted. */
    public static Publish decodePublish(ByteBuffer message) {
        ByteBuffer m = message.slice().order(ByteOrder.LITTLE_ENDIAN);
        long version = m.getLong(8);
        long size = m.getLong(16);
        if (version < 1) {
            throw new ProtocolException("PUBLISH: snapshot version " + Long.toUnsignedString(version) + " is outside 1.." + Long.MAX_VALUE);
        }
        if (size < SnapshotDescriptor.HEADER_LENGTH) {
            throw new ProtocolException("PUBLISH: region size " + Long.toUnsignedString(size)
                    + " is smaller than a snapshot header (" + SnapshotDescriptor.HEADER_LENGTH + " bytes)");
        }
        return new Publish(version, size);
    }

    /** Decodes the text of a REPORT whose header {@link #type} accepted. */
    public static String decodeReport(ByteBuffer message) {
        ByteBuffer m = message.slice();
        m.position(HEADER_LENGTH);
        return StandardCharsets.UTF_8.decode(m).toString();
    }
}
