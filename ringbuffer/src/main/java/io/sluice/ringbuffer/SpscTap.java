package io.sluice.ringbuffer;

import io.sluice.api.CorruptRingException;
import io.sluice.api.MessageConsumer;
import io.sluice.api.MessageHandler;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

import static io.sluice.ringbuffer.SpscRecordDescriptor.ALIGNMENT;
import static io.sluice.ringbuffer.SpscRecordDescriptor.HEADER_LENGTH;
import static io.sluice.ringbuffer.SpscRecordDescriptor.LENGTH;
import static io.sluice.ringbuffer.SpscRecordDescriptor.PADDING_TYPE;
import static io.sluice.ringbuffer.SpscRecordDescriptor.STAMP;
import static io.sluice.ringbuffer.SpscRecordDescriptor.TYPE;

/**
 * Reads an SPSC ring's records as they pass, beside its consumer and without its place: the
 * producer never waits for a tap and does not know it is there, so a tap that falls behind loses
 * records (it jumps to the newest and counts what it skipped) instead of holding anyone back.
 * What {@code sluice tail} uses. Get one from {@link SpscRing#attachTap}. One thread at a time.
 *
 * <p>How a tap knows what it read was whole (a seqlock on the Producer Position,
 * {@link SpscRingDescriptor}): it acquire-loads the position {@code P} and reads the records below
 * it. The producer writes at most {@link SpscRingDescriptor#inFlightReach} bytes past the
 * position it last published (a claim in flight, a padding record a commit writes before it
 * publishes the position again, or the invalid stamp a commit stores a line ahead), so the bytes
 * of a record at {@code p} can have been overwritten only once {@code P + reach > p + capacity}. The tap checks that with a position
 * loaded after its reads (a load-load fence between): before it hands a record over (the header)
 * and, through {@link #isStillValid()}, after the handler read the payload. A record that fails is
 * skipped with everything up to the producer's position. A header that passes the check and is
 * still impossible means the ring is corrupt.
 */
public final class SpscTap implements MessageConsumer {
    private static final VarHandle PRODUCER_POSITION =
            RegionHeaderDescriptor.ALIGNED_U64.varHandle().withInvokeExactBehavior();

    private final String what;
    private final MemorySegment header;
    private final MemorySegment data;
    private final long capacity;
    private final long mask;
    private final int maxMessageLength;
    private final long reach;

    private long cursor;
    private long recordPosition = -1;
    private long skips;
    private long skippedBytes;

    SpscTap(String what, MemorySegment header, MemorySegment data) {
        this.what = what;
        this.header = header;
        this.data = data;
        this.capacity = data.byteSize();
        this.mask = capacity - 1;
        this.maxMessageLength = SpscRingDescriptor.maxMessageLength(capacity);
        this.reach = SpscRingDescriptor.inFlightReach(capacity);
        this.cursor = producerPosition();
    }

    private long producerPosition() {
        return (long) PRODUCER_POSITION.getAcquire(header, SpscRingDescriptor.PRODUCER_POSITION_OFFSET);
    }

    /** Whether the record at {@code p} cannot have been overwritten yet, by a position loaded now. */
    private boolean intact(long p) {
        return producerPosition() + reach - capacity <= p;
    }

    /**
     * Hands up to {@code limit} messages committed since the last poll to {@code handler}, each as a
     * read-only slice of the ring, valid until the handler returns; the handler must call
     * {@link #isStillValid()} after reading it and before trusting what it read. Never waits.
     *
     * @return messages handed over; 0 if none is new
     * @throws IllegalArgumentException if {@code limit < 1}
     * @throws CorruptRingException     if an intact record header, or the producer position, is impossible
     */
    @Override
    public int poll(MessageHandler handler, int limit) {
        if (limit < 1) {
            throw Misuse.pollLimit(what, limit);
        }
        long produced = producerPosition();
        if (produced < 0 || (produced & (ALIGNMENT - 1)) != 0) {
            throw new CorruptRingException(what + ": producer position " + produced + " is not a non-negative multiple of "
                    + ALIGNMENT);
        }
        if (produced < cursor) {
            cursor = produced; // a producer attached anew behind us: start over from it
        }
        int delivered = 0;
        while (delivered < limit && cursor < produced) {
            final long index = cursor & mask;
            final long stamp = (long) STAMP.getAcquire(data, index);
            final int length = (int) LENGTH.get(data, index);
            final int type = (int) TYPE.get(data, index);
            VarHandle.loadLoadFence(); // the header loads above before the position load in intact()
            if (!intact(cursor)) {
                produced = skipTo(producerPosition());
                continue;
            }
            final long span = span(index, stamp, length, type);
            final long at = cursor;
            cursor += span;
            if (type != PADDING_TYPE) {
                recordPosition = at;
                delivered++;
                handler.onMessage(type, PayloadSlice.of(data, index + HEADER_LENGTH, length));
            }
        }
        return delivered;
    }

    private long skipTo(long produced) {
        skips++;
        skippedBytes += produced - cursor;
        cursor = produced;
        return produced;
    }

    /** The bytes the intact record at {@link #cursor} spans; throws if its header is impossible. */
    private long span(long index, long stamp, int length, int type) {
        if (stamp != cursor) {
            throw corrupt("stamp " + stamp + " below the producer position");
        }
        if (type > 0 ? length < 0 || length > maxMessageLength
                : type != PADDING_TYPE || length != capacity - index - HEADER_LENGTH) {
            throw corrupt("length " + length + " and type " + type + " are impossible");
        }
        final long end = index + SpscRecordDescriptor.recordLength(length);
        if (end > capacity) {
            throw corrupt("length " + length + " runs past the end of the data area");
        }
        return SpscRecordDescriptor.nextRecordStart(end) - index;
    }

    private CorruptRingException corrupt(String problem) {
        return new CorruptRingException(what + ": record at position " + cursor + " (data offset " + (cursor & mask)
                + "): " + problem);
    }

    /**
     * Whether the message last handed to the handler is still intact: call it after reading the
     * payload. False: the producer may have overwritten it meanwhile; discard what was read.
     *
     * @return true if every byte read of the last message was the committed payload
     * @throws IllegalStateException if no message was handed over yet
     */
    public boolean isStillValid() {
        if (recordPosition < 0) {
            throw new IllegalStateException(what + ": no message delivered yet");
        }
        VarHandle.loadLoadFence(); // the handler's payload loads before the position load
        return intact(recordPosition);
    }

    /** {@return times the tap fell so far behind that it jumped to the producer's position} */
    public long skips() {
        return skips;
    }

    /** {@return bytes of records skipped by those jumps} */
    public long skippedBytes() {
        return skippedBytes;
    }

    /** {@return the position of the next record the tap reads} */
    public long position() {
        return cursor;
    }

    @Override
    public String toString() {
        return what + " tap at " + cursor;
    }
}
