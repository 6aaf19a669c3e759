package io.sluice.ringbuffer;

import io.sluice.api.CorruptRingException;
import io.sluice.api.MessageConsumer;
import io.sluice.api.MessageHandler;

import java.lang.foreign.MemorySegment;

import static io.sluice.ringbuffer.SpscConsumerPositionDescriptor.POSITION;
import static io.sluice.ringbuffer.SpscConsumerPositionDescriptor.MESSAGES_CONSUMED_OFFSET;
import static io.sluice.ringbuffer.SpscConsumerPositionDescriptor.POSITION_OFFSET;
import static io.sluice.ringbuffer.SpscRecordDescriptor.HEADER_LENGTH;
import static io.sluice.ringbuffer.SpscRecordDescriptor.INVALID_STAMP;
import static io.sluice.ringbuffer.SpscRecordDescriptor.LENGTH;
import static io.sluice.ringbuffer.SpscRecordDescriptor.PADDING_TYPE;
import static io.sluice.ringbuffer.SpscRecordDescriptor.STAMP;
import static io.sluice.ringbuffer.SpscRecordDescriptor.TYPE;

/**
 * The one consumer of an SPSC ring. It reads the data area through a read-only view and writes
 * only its own position region. Not thread-safe: one thread at a time. Get one from
 * {@link SpscRing#attachConsumer}.
 *
 * <p>Per record: acquire-load the stamp at the consumer's position; if it is not that position
 * the record is not committed yet (the stamp is {@link SpscRecordDescriptor#INVALID_STAMP}) and the
 * poll ends; otherwise read length and type (plain), validate them, and hand the handler a
 * read-only slice of the payload. The position is release-stored once per poll, after the last
 * handler returned, so the producer reuses the space only when the consumer is done with it.
 *
 * <p>Steady state allocates nothing (the slice does not escape a handler the JIT inlines) and
 * makes no system call.
 */
public final class SpscConsumer implements MessageConsumer {
    private final String name;
    // The data area, read-only. Final, one per instance.
    private final MemorySegment data;
    // This consumer's own position region, writable; the producer reads it.
    private final MemorySegment position;
    private final long capacity;
    private final long mask;
    private final int maxMessageLength;

    private long head; // position of the next record to read; equals the published position between polls
    private long consumed; // messages handed to the handler; published after the position (monitors only)

    SpscConsumer(String name, MemorySegment data, MemorySegment position, long head) {
        this.name = name;
        this.data = data;
        this.position = position;
        this.capacity = data.byteSize();
        this.mask = capacity - 1;
        this.maxMessageLength = SpscRingDescriptor.maxMessageLength(capacity);
        this.head = head;
    }

    /**
     * {@inheritDoc}
     *
     * <p>Padding records are skipped and not counted. A message is consumed once handed to the
     * handler: if the handler throws, the exception propagates, that message and the ones before
     * it are consumed, and the next poll continues after it.
     *
     * @throws IllegalArgumentException if {@code limit < 1}
     * @throws CorruptRingException     if a stamp, length or type read from the ring is impossible;
     *                                  the position stays before the bad record
     */
    @Override
    public int poll(MessageHandler handler, int limit) {
        if (limit < 1) {
            throw Misuse.pollLimit(name, limit);
        }
        // The empty check, kept small enough for the JIT to inline into every caller's spin loop;
        // the records are read by drain. The split is what keeps the hot path allocation-free: a
        // spinning consumer calls poll thousands of times per message, so inside one method the
        // JIT profiles the message branch as rare, declines to inline the handler and asSlice
        // there ("low call site frequency"), and every message then allocates its slice (seen in
        // most cross-process ping-pong runs: 40 bytes a message). drain is entered only with a
        // message waiting, so within it handler and slice are always hot, inline, and the slice
        // is scalar-replaced.
        final long head = this.head;
        final long stamp = (long) STAMP.getAcquire(data, head & mask);
        if (stamp != head) {
            if (stamp != INVALID_STAMP) {
                throw corruptStamp(head, stamp);
            }
            return 0;
        }
        return drain(handler, limit);
    }

    /** Reads up to {@code limit} records from {@link #head}, the first of which is committed. */
    private int drain(MessageHandler handler, int limit) {
        final MemorySegment data = this.data;
        final long mask = this.mask;
        final long start = this.head;
        long head = start;
        int count = 0;
        try {
            while (count < limit) {
                final long index = head & mask;
                final long stamp = (long) STAMP.getAcquire(data, index);
                if (stamp != head) {
                    if (stamp != INVALID_STAMP) {
                        throw corruptStamp(head, stamp);
                    }
                    break;
                }
                final int length = (int) LENGTH.get(data, index);
                final int type = (int) TYPE.get(data, index);
                if (type > 0) {
                    if (length < 0 || length > maxMessageLength) {
                        throw corrupt(head, "length " + length + " outside 0.." + maxMessageLength);
                    }
                } else if (type == PADDING_TYPE) {
                    if (length != capacity - index - HEADER_LENGTH) {
                        throw corrupt(head, "padding length " + length + " does not run to the end of the data area ("
                                + (capacity - index - HEADER_LENGTH) + ")");
                    }
                } else {
                    throw corrupt(head, "unknown type " + type);
                }
                final long end = index + SpscRecordDescriptor.recordLength(length);
                if (end > capacity) {
                    throw corrupt(head, "length " + length + " runs past the end of the data area (capacity "
                            + capacity + ")");
                }
                head = SpscRecordDescriptor.nextRecordStart(head + (end - index));
                if (type != PADDING_TYPE) {
                    count++;
                    handler.onMessage(type, PayloadSlice.of(data, index + HEADER_LENGTH, length));
                }
            }
        } finally {
            if (head != start) {
                this.head = head;
                POSITION.setRelease(position, POSITION_OFFSET, head); // after every read of the records passed
                consumed += count;
                POSITION.setOpaque(position, MESSAGES_CONSUMED_OFFSET, consumed);
            }
        }
        return count;
    }

    /**
     * The read-only segment every payload this consumer hands to a handler is a slice of, for
     * code that keeps a reference across messages without keeping the slice (a buffer view
     * re-pointed per message keeps this segment and a payload's offset in it, the difference of
     * their addresses).
     * Keeping the payload slice itself in a field makes the JIT allocate it, 40 bytes a message;
     * an offset into this segment costs nothing.
     *
     * @return a read-only segment over the ring this consumer reads; valid as long as the ring is
     */
    public MemorySegment buffer() {
        return data.asReadOnly();
    }

    /** {@return bytes in the data area} */
    public long capacity() {
        return capacity;
    }

    /** {@return the longest message the ring carries} */
    public int maxMessageLength() {
        return maxMessageLength;
    }

    /** {@return messages handed to the handler since this consumer was attached} */
    public long messagesConsumed() {
        return consumed;
    }

    /** {@return the position of the next record this consumer reads (also the one it has published)} */
    public long position() {
        return head;
    }

    private CorruptRingException corruptStamp(long at, long stamp) {
        return corrupt(at, "stamp " + stamp + ", expected " + at + " or " + INVALID_STAMP);
    }

    private CorruptRingException corrupt(long at, String what) {
        return new CorruptRingException(name + ": record at position " + at + " (data offset " + (at & mask)
                + "): " + what);
    }

    @Override
    public String toString() {
        return "SpscConsumer[" + name + ", capacity " + capacity + ", position " + head + "]";
    }
}
