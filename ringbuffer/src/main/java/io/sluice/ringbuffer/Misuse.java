package io.sluice.ringbuffer;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * The exceptions every ring throws at a caller who misuses it: one exception type and one message
 * shape per mistake, whatever the ring, so that code written against {@link
 * io.sluice.api.MessageProducer} fails the same way on each. Every message starts with the ring
 * ({@code "spsc ring 'orders': "}, {@code "mpmc ring 'jobs': "}, ...). Cold: the hot paths only
 * test a condition and call here to build the exception.
 *
 * <p>Arguments are checked in one order on every ring: type, length, source range (offer), then
 * the claim state; nothing is claimed or written before all of them passed.
 *
 * <p>Formatting checks its target in one order on every ring ({@link #checkFormatTarget}): size,
 * read-only, alignment, each an {@code IllegalArgumentException}. Attaching first refuses a
 * read-only segment a party must write ({@link #checkWritable}, {@code IllegalArgumentException}),
 * then the layout (size, alignment, magic, version, kind, ...: {@code RingLayoutException} from
 * {@link RegionHeaderDescriptor#validate}).
 */
final class Misuse {
    private Misuse() {
    }

    /** How every message names a ring: {@code "spsc ring 'orders'"}, or {@code "spsc ring"} without a name. */
    static String what(String ringType, String name) {
        return name == null ? ringType + " ring" : ringType + " ring '" + name + "'";
    }

    /** The first of type and length that is wrong, or null if both are fine. */
    static IllegalArgumentException claimArguments(String what, int type, int length, int maxLength) {
        if (type <= 0) {
            return new IllegalArgumentException(what + ": message type " + type + " is not positive");
        }
        if (length < 0 || length > maxLength) {
            return new IllegalArgumentException(what + ": message length " + length + " is outside 0.." + maxLength);
        }
        return null;
    }

    /** For {@code offer}: type or length if wrong (in that order), else the source range. */
    static RuntimeException offerArguments(String what, int type, long sourceOffset, int length, long sourceSize,
                                           int maxLength) {
        IllegalArgumentException e = claimArguments(what, type, length, maxLength);
        if (e != null) {
            return e;
        }
        return new IndexOutOfBoundsException(what + ": source range " + sourceOffset + "+" + length
                + " is outside the " + sourceSize + "-byte source");
    }

    /** Whether {@code [sourceOffset, sourceOffset + length)} lies outside a source of {@code sourceSize} bytes. */
    static boolean outside(long sourceOffset, int length, long sourceSize) {
        return sourceOffset < 0 || length < 0 || sourceOffset > sourceSize - length;
    }

    static IllegalStateException claimStillOpen(String what, long openOffset) {
        return new IllegalStateException(what + ": the claim at offset " + openOffset
                + " is still open; commit or abort it first");
    }

    static IllegalStateException noClaim(String what, String operation, long offset) {
        return new IllegalStateException(what + ": " + operation + "(" + offset + ") without an open claim");
    }

    static IllegalArgumentException notTheClaim(String what, String operation, long offset, long openOffset) {
        return new IllegalArgumentException(what + ": " + operation + "(" + offset
                + ") is not the open claim's offset " + openOffset);
    }

    static IllegalArgumentException pollLimit(String what, int limit) {
        return new IllegalArgumentException(what + ": poll limit " + limit + " is not positive");
    }

    /**
     * Refuses a region {@code format} cannot use: smaller than {@code needed}, read-only, or not
     * 8-byte aligned (in that order).
     *
     * @param what   the ring, e.g. {@code "spsc ring"}
     * @param layout what needs the bytes, e.g. {@code "a ring of capacity 1024"}
     */
    static void checkFormatTarget(MemorySegment region, long needed, String what, String layout) {
        Objects.requireNonNull(region, "region");
        if (region.byteSize() < needed) {
            throw new IllegalArgumentException(what + ": region of " + region.byteSize() + " bytes is smaller than the "
                    + needed + " bytes " + layout + " needs");
        }
        if (region.isReadOnly()) {
            throw new IllegalArgumentException(what + ": region is read-only; format writes it");
        }
        if (region.maxByteAlignment() < Long.BYTES) {
            throw new IllegalArgumentException(what + ": region is not 8-byte aligned (a heap segment must wrap a long[])");
        }
    }

    /**
     * Refuses a read-only segment that a party writes: the ring region for a producer (and an MPMC
     * consumer), a consumer's own position region.
     *
     * @param party  e.g. {@code "the producer"}
     * @param region e.g. {@code "ring region"}
     */
    static void checkWritable(MemorySegment segment, String what, String party, String region) {
        Objects.requireNonNull(segment, region);
        if (segment.isReadOnly()) {
            throw new IllegalArgumentException(what + ": " + party + " needs a writable " + region);
        }
    }
}
