package io.sluice.cache.nativeclient;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * How these tests hand a shared map to {@code cache_reader}: the snapshot protocol's message shape
 * with the magic "MAPT" (test framing only; a map's owner announces its map however its protocol
 * says): REGION (type 1, 24 bytes, the memfd attached: 0, then the region size) and END (type 2).
 */
final class MapAnnouncement {
    private MapAnnouncement() {
    }

    static final int MAGIC = 0x5450_414D; // the bytes M A P T

    static byte[] region(long size) {
        return ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN).putInt(MAGIC).putShort((short) 1)
                .putShort((short) 1).putLong(0).putLong(size).array();
    }

    static byte[] end() {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(MAGIC).putShort((short) 1)
                .putShort((short) 2).array();
    }
}
