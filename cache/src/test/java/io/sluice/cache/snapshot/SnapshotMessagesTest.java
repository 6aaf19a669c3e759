package io.sluice.cache.snapshot;

import io.sluice.api.ProtocolException;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The snapshot socket messages: encoded as documented, and anything else refused by name. */
class SnapshotMessagesTest {

    private static ByteBuffer le(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }

    @Test
    void publishCarriesVersionAndSizeAtTheDocumentedOffsets() {
        byte[] m = SnapshotMessages.publish(7, 1_244_352);
        assertEquals(24, m.length);
        ByteBuffer b = le(m);
        assertEquals(0x5041_4E53, b.getInt(0));
        assertEquals('S', m[0]);
        assertEquals('P', m[3]);
        assertEquals(1, b.getShort(4));
        assertEquals(SnapshotMessages.PUBLISH, b.getShort(6));
        assertEquals(7, b.getLong(8));
        assertEquals(1_244_352, b.getLong(16));
        assertEquals(SnapshotMessages.PUBLISH, SnapshotMessages.type(b, 1));
        assertEquals(new SnapshotMessages.Publish(7, 1_244_352), SnapshotMessages.decodePublish(b));
    }

    @Test
    void endAndReportRoundTrip() {
        assertEquals(SnapshotMessages.END, SnapshotMessages.type(le(SnapshotMessages.end()), 0));
        byte[] report = SnapshotMessages.report("reader=1 lookups=42");
        assertEquals(SnapshotMessages.REPORT, SnapshotMessages.type(le(report), 0));
        assertEquals("reader=1 lookups=42", SnapshotMessages.decodeReport(le(report)));
    }

    private static void assertRefused(byte[] message, int fds, String part) {
        ProtocolException e = assertThrows(ProtocolException.class, () -> {
            SnapshotMessages.type(le(message), fds);
            SnapshotMessages.decodePublish(le(message));
        });
        assertTrue(e.getMessage().contains(part), "message '" + e.getMessage() + "' should contain '" + part + "'");
    }

    @Test
    void malformedMessagesAreRefusedByName() {
        byte[] good = SnapshotMessages.publish(3, 4096);
        assertRefused(new byte[5], 0, "shorter than its 8-byte header");
        byte[] badMagic = good.clone();
        badMagic[0] = 'X';
        assertRefused(badMagic, 1, "bad magic");
        byte[] badVersion = good.clone();
        badVersion[4] = 2;
        assertRefused(badVersion, 1, "protocol version 2");
        byte[] badType = good.clone();
        badType[6] = 9;
        assertRefused(badType, 1, "unknown type 9");
        assertRefused(java.util.Arrays.copyOf(good, 23), 1, "23 bytes is not a valid length");
        assertRefused(good, 0, "carried 0 fds, expected 1");
        assertRefused(good, 2, "carried 2 fds, expected 1");
        assertRefused(SnapshotMessages.publish(0, 4096), 1, "snapshot version 0");
        assertRefused(SnapshotMessages.publish(-1, 4096), 1, "snapshot version 18446744073709551615");
        assertRefused(SnapshotMessages.publish(1, 63), 1, "region size 63");
        assertRefused(SnapshotMessages.publish(1, -1), 1, "region size 18446744073709551615");
        assertThrows(ProtocolException.class, () -> SnapshotMessages.type(le(SnapshotMessages.end()), 1));
    }
}
