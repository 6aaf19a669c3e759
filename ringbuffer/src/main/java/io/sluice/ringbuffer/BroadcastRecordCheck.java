package io.sluice.ringbuffer;

import io.sluice.api.CorruptRingException;

import static io.sluice.ringbuffer.BroadcastRecordDescriptor.ALIGNMENT;
import static io.sluice.ringbuffer.BroadcastRecordDescriptor.HEADER_LENGTH;
import static io.sluice.ringbuffer.BroadcastRecordDescriptor.PADDING_TYPE;
import static io.sluice.ringbuffer.BroadcastRecordDescriptor.align;

/**
 * A broadcast consumer's checks of the record headers it reads (framing:
 * {@link BroadcastRecordDescriptor}). Only a header known to be intact is checked — on an
 * overwrite ring the consumer first rules out a lap through the Tail Intent — so a failed check is
 * corruption, never a race. Immutable.
 */
final class BroadcastRecordCheck {
    private final String what;
    private final long capacity;
    private final long mask;
    private final int maxMessageLength;

    BroadcastRecordCheck(String what, long capacity, int maxMessageLength) {
        this.what = what;
        this.capacity = capacity;
        this.mask = capacity - 1;
        this.maxMessageLength = maxMessageLength;
    }

    /**
     * Returns the record's span, or throws if the (intact) header is impossible.
     *
     * @param tail the Tail the record was read up to; {@code Long.MAX_VALUE} for a record read by
     *             its commit word (not checked against the Tail, which the reader did not load)
     */
    long span(long position, int length, int type, long tail) {
        final long toEnd = capacity - (position & mask);
        final long span;
        if (type == PADDING_TYPE) {
            if (length < HEADER_LENGTH || !aligned(length) || length > toEnd) {
                throw corrupt(position, "padding length " + length + " (must be a multiple of " + ALIGNMENT
                        + " in [" + HEADER_LENGTH + ", " + toEnd + "])");
            }
            span = length;
        } else if (type > 0) {
            if (length < HEADER_LENGTH || length - HEADER_LENGTH > maxMessageLength) {
                throw corrupt(position, "message length " + length + " (header " + HEADER_LENGTH
                        + " plus at most " + maxMessageLength + ")");
            }
            span = align(length);
            if (span > toEnd) {
                throw corrupt(position, "message of length " + length + " crosses the end of the data area ("
                        + toEnd + " bytes left)");
            }
        } else {
            throw corrupt(position, "unknown record type " + type);
        }
        if (position + span > tail) {
            throw corrupt(position, "record of " + span + " bytes ends past the tail " + tail);
        }
        return span;
    }

    CorruptRingException corrupt(long position, String problem) {
        return new CorruptRingException(what + ": corrupt record at position " + position + " (offset "
                + (position & mask) + "): " + problem);
    }

    static boolean aligned(long value) {
        return (value & (ALIGNMENT - 1)) == 0;
    }
}
