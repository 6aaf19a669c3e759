package io.sluice.cache.map;

import io.sluice.channel.MpmcOptions;

import java.lang.foreign.MemorySegment;

import static io.sluice.cache.map.SharedMapDescriptor.U32;

/**
 * The messages other processes send the owner of a shared map through an MPMC channel, one update
 * per message, the ring's message type saying which. Little-endian, no padding:
 *
 * <pre>
 *  PUT (type 1)                              REMOVE (type 2)
 *  +-----------------+-----------------+     +-----------------+
 *  | Key Length (u32)| Value Length(u32)|    | Key Length (u32)|  0
 *  +-----------------+-----------------+     +-----------------+
 *  | key bytes, then value bytes      ...    | key bytes      ...  8 (PUT), 4 (REMOVE)
 *  +-----------------------------------+     +-----------------+
 * </pre>
 *
 * <p>The owner checks every message before it changes anything ({@link #check}): a known type,
 * lengths within the map's maxima, and a payload exactly as long as the lengths say. A message
 * that fails is rejected whole (counted and logged by {@link SharedMapWriter#applyUpdates}), never
 * applied in part.
 */
public final class SharedMapUpdates {
    private SharedMapUpdates() {
    }

    /** Message type of a put. */
    public static final int PUT = 1;
    /** Message type of a remove. */
    public static final int REMOVE = 2;
    public static final int PUT_HEADER_LENGTH = 8;
    public static final int REMOVE_HEADER_LENGTH = 4;
    static final long KEY_LENGTH_OFFSET = 0;
    static final long VALUE_LENGTH_OFFSET = 4;
    /** Bytes of an MPMC slot that are not message: its slot header. */
    public static final int MPMC_SLOT_OVERHEAD = 16;

    /** The longest update of a map with these maxima: a PUT of the longest key and value. */
    public static long maxMessageLength(long maxKeyLength, long maxValueLength) {
        return PUT_HEADER_LENGTH + maxKeyLength + maxValueLength;
    }

    /**
     * Options for an update channel of {@code slotCount} slots whose messages hold any update of a
     * map made with {@code map}: the slot length is the smallest power of two (at least 32) that
     * holds the longest PUT.
     *
     * @param map       the map's options
     * @param slotCount updates the channel holds at once: a power of two from 2 to 2^30
     * @return the options, for up to {@link MpmcOptions#DEFAULT_MAX_PARTICIPANTS} participants
     * @throws IllegalArgumentException if the ring would be out of the MPMC bounds (at most 2^30 bytes)
     */
    public static MpmcOptions channelOptions(SharedMapOptions map, int slotCount) {
        long need = MPMC_SLOT_OVERHEAD + maxMessageLength(map.maxKeyLength(), map.maxValueLength());
        long slotLength = Math.max(32, Long.highestOneBit(need - 1) << 1);
        if (slotLength > 1 << 30) {
            throw new IllegalArgumentException("an update of up to " + need + " bytes does not fit an MPMC slot");
        }
        return MpmcOptions.of(slotCount, (int) slotLength);
    }

    /** Bytes of a PUT message. */
    public static long putLength(long keyLength, long valueLength) {
        return PUT_HEADER_LENGTH + keyLength + valueLength;
    }

    /** Bytes of a REMOVE message. */
    public static long removeLength(long keyLength) {
        return REMOVE_HEADER_LENGTH + keyLength;
    }

    /** Writes a PUT at {@code at} of {@code target}: {@link #putLength} bytes. */
    public static void encodePut(MemorySegment target, long at, MemorySegment key, MemorySegment value) {
        target.set(U32, at + KEY_LENGTH_OFFSET, (int) key.byteSize());
        target.set(U32, at + VALUE_LENGTH_OFFSET, (int) value.byteSize());
        MemorySegment.copy(key, 0, target, at + PUT_HEADER_LENGTH, key.byteSize());
        MemorySegment.copy(value, 0, target, at + PUT_HEADER_LENGTH + key.byteSize(), value.byteSize());
    }

    /** Writes a REMOVE at {@code at} of {@code target}: {@link #removeLength} bytes. */
    public static void encodeRemove(MemorySegment target, long at, MemorySegment key) {
        target.set(U32, at + KEY_LENGTH_OFFSET, (int) key.byteSize());
        MemorySegment.copy(key, 0, target, at + REMOVE_HEADER_LENGTH, key.byteSize());
    }

    /**
     * What is wrong with a message for a map of these maxima, or null if it may be applied. Reads
     * nothing outside {@code payload}.
     */
    public static String check(int type, MemorySegment payload, long maxKeyLength, long maxValueLength) {
        return check(type, payload, 0, payload.byteSize(), maxKeyLength, maxValueLength);
    }

    /**
     * As {@link #check(int, MemorySegment, long, long)} for the {@code size} bytes of a message at
     * {@code at} in {@code source}: reads nothing outside them.
     */
    public static String check(int type, MemorySegment source, long at, long size, long maxKeyLength,
                               long maxValueLength) {
        if (type == PUT) {
            if (size < PUT_HEADER_LENGTH) {
                return "PUT of " + size + " bytes is shorter than its " + PUT_HEADER_LENGTH + "-byte header";
            }
            long keyLength = keyLength(source, at);
            long valueLength = valueLength(source, at);
            if (keyLength > maxKeyLength) {
                return "PUT key length " + keyLength + " exceeds the map's max key length " + maxKeyLength;
            }
            if (valueLength > maxValueLength) {
                return "PUT value length " + valueLength + " exceeds the map's max value length " + maxValueLength;
            }
            if (size != putLength(keyLength, valueLength)) {
                return "PUT of " + size + " bytes, its lengths (key " + keyLength + ", value " + valueLength + ") say "
                        + putLength(keyLength, valueLength);
            }
            return null;
        }
        if (type == REMOVE) {
            if (size < REMOVE_HEADER_LENGTH) {
                return "REMOVE of " + size + " bytes is shorter than its " + REMOVE_HEADER_LENGTH + "-byte header";
            }
            long keyLength = keyLength(source, at);
            if (keyLength > maxKeyLength) {
                return "REMOVE key length " + keyLength + " exceeds the map's max key length " + maxKeyLength;
            }
            if (size != removeLength(keyLength)) {
                return "REMOVE of " + size + " bytes, its key length " + keyLength + " says " + removeLength(keyLength);
            }
            return null;
        }
        return "unknown update type " + type + " (" + size + " bytes)";
    }

    /** The key length of a PUT or REMOVE (u32). */
    static long keyLength(MemorySegment source, long at) {
        return SharedMapDescriptor.u32(source, at + KEY_LENGTH_OFFSET);
    }

    /** The value length of a PUT (u32). */
    static long valueLength(MemorySegment source, long at) {
        return SharedMapDescriptor.u32(source, at + VALUE_LENGTH_OFFSET);
    }
}
