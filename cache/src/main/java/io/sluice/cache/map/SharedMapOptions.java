package io.sluice.cache.map;

import io.sluice.memfd.MemfdRegion;

/**
 * How {@link SharedMapWriter#create} makes a shared map. Immutable; every value is checked when the
 * options are made (and again by each wither), before anything is allocated:
 *
 * <pre>{@code
 * SharedMapWriter prices = SharedMapWriter.create("prices", SharedMapOptions.of(10_000, 16, 64));
 * }</pre>
 *
 * <p>The slot count is the smallest power of two at least {@code capacity x 4 / 3} (so the table
 * is never more than 3/4 full), and each slot holds a key and two value buffers of the maximum
 * lengths (see {@link SharedMapDescriptor}): the region takes
 * {@code 128 + slotCount x (32 + align8(maxKeyLength) + 2 x align8(maxValueLength))} bytes, all
 * of it at once.
 *
 * @param capacity       most live entries at once: 1 to {@link #MAX_CAPACITY}
 * @param maxKeyLength   longest key in bytes: 1 to {@link SharedMapDescriptor#MAX_KEY_LENGTH} (64 KiB)
 * @param maxValueLength longest value in bytes: 0 to {@link SharedMapDescriptor#MAX_VALUE_LENGTH} (16 MiB)
 * @param maxRegionSize  the largest region these options may make: 1 to {@link MemfdRegion#MAX_SIZE};
 *                       {@link #DEFAULT_MAX_REGION_SIZE} (1 GiB) unless set
 */
public record SharedMapOptions(int capacity, int maxKeyLength, int maxValueLength, long maxRegionSize) {
    /** Largest capacity: 3/4 of the largest slot count, 2^30. */
    public static final int MAX_CAPACITY = SharedMapDescriptor.MAX_SLOT_COUNT / 4 * 3;
    /** {@code maxRegionSize} unless set: 1 GiB. */
    public static final long DEFAULT_MAX_REGION_SIZE = 1L << 30;

    /**
     * Checks every value against its bound, then the region size against {@code maxRegionSize}.
     *
     * @throws IllegalArgumentException naming the field, its value and its bounds
     */
    public SharedMapOptions {
        if (capacity < 1 || capacity > MAX_CAPACITY) {
            throw new IllegalArgumentException("SharedMapOptions.capacity " + capacity + " is outside 1.." + MAX_CAPACITY);
        }
        if (maxKeyLength < 1 || maxKeyLength > SharedMapDescriptor.MAX_KEY_LENGTH) {
            throw new IllegalArgumentException("SharedMapOptions.maxKeyLength " + maxKeyLength + " is outside 1.."
                    + SharedMapDescriptor.MAX_KEY_LENGTH);
        }
        if (maxValueLength < 0 || maxValueLength > SharedMapDescriptor.MAX_VALUE_LENGTH) {
            throw new IllegalArgumentException("SharedMapOptions.maxValueLength " + maxValueLength + " is outside 0.."
                    + SharedMapDescriptor.MAX_VALUE_LENGTH);
        }
        if (maxRegionSize < 1 || maxRegionSize > MemfdRegion.MAX_SIZE) {
            throw new IllegalArgumentException("SharedMapOptions.maxRegionSize " + maxRegionSize + " is outside 1.."
                    + MemfdRegion.MAX_SIZE);
        }
        // slotCount <= 2^30 and slotLength < 2^26: the product cannot overflow.
        long size = SharedMapDescriptor.regionSize(SharedMapDescriptor.slotCountFor(capacity),
                SharedMapDescriptor.slotLength(maxKeyLength, maxValueLength));
        if (size > maxRegionSize) {
            throw new IllegalArgumentException("SharedMapOptions: capacity " + capacity + " with keys up to " + maxKeyLength
                    + " and values up to " + maxValueLength + " bytes needs a region of " + size
                    + " bytes, more than the max region size " + maxRegionSize);
        }
    }

    /**
     * A map of at most {@code capacity} live entries, keys up to {@code maxKeyLength} and values up
     * to {@code maxValueLength} bytes, in at most {@link #DEFAULT_MAX_REGION_SIZE} bytes.
     *
     * @param capacity       most live entries, 1 to {@link #MAX_CAPACITY}
     * @param maxKeyLength   longest key, 1 to 64 KiB
     * @param maxValueLength longest value, 0 to 16 MiB
     * @return the options
     * @throws IllegalArgumentException if a value is out of bounds or the region would exceed 1 GiB
     */
    public static SharedMapOptions of(int capacity, int maxKeyLength, int maxValueLength) {
        return new SharedMapOptions(capacity, maxKeyLength, maxValueLength, DEFAULT_MAX_REGION_SIZE);
    }

    /**
     * The same options with another bound on the region size.
     *
     * @param bytes 1 to {@link MemfdRegion#MAX_SIZE}
     * @return new options; these are unchanged
     * @throws IllegalArgumentException if out of bounds or smaller than the region these options need
     */
    public SharedMapOptions maxRegionSize(long bytes) {
        return new SharedMapOptions(capacity, maxKeyLength, maxValueLength, bytes);
    }

    /** Slots in the table: the smallest power of two at least {@code capacity x 4 / 3}. */
    public int slotCount() {
        return (int) SharedMapDescriptor.slotCountFor(capacity);
    }

    /** Bytes per slot. */
    public int slotLength() {
        return (int) SharedMapDescriptor.slotLength(maxKeyLength, maxValueLength);
    }

    /** Bytes of the region. */
    public long regionSize() {
        return SharedMapDescriptor.regionSize(slotCount(), slotLength());
    }
}
