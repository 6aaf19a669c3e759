package io.sluice.ringbuffer.jcstress;

import io.sluice.ringbuffer.MpmcProducer;
import io.sluice.ringbuffer.MpmcRing;
import io.sluice.ringbuffer.MpmcRingDescriptor;
import io.sluice.ringbuffer.MpmcSlotDescriptor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Small rings for the MPMC jcstress tests, through the public API only. */
final class MpmcJcstressRings {
    private MpmcJcstressRings() {
    }

    static final int SLOT_LENGTH = 128;
    /** Payload offset of slot 0 and slot 1. */
    static final long SLOT_0_PAYLOAD = MpmcRingDescriptor.HEADER_LENGTH + MpmcSlotDescriptor.PAYLOAD_OFFSET;
    static final long SLOT_1_PAYLOAD = SLOT_0_PAYLOAD + SLOT_LENGTH;

    /** A fresh two-slot ring on the heap, participants 1..8. */
    static MemorySegment twoSlots() {
        MemorySegment region = MemorySegment.ofArray(new long[(int) (MpmcRing.regionSize(2, SLOT_LENGTH) / 8)]);
        MpmcRing.format(region, 2, SLOT_LENGTH, 8);
        return region;
    }

    /** The state word of the slot whose payload is at {@code payloadOffset} (call from an arbiter). */
    static long wordOfPayload(MemorySegment region, long payloadOffset) {
        return region.get(ValueLayout.JAVA_LONG, payloadOffset - MpmcSlotDescriptor.PAYLOAD_OFFSET);
    }

    static long head(MemorySegment region) {
        return region.get(ValueLayout.JAVA_LONG, MpmcRingDescriptor.HEAD_POSITION_OFFSET);
    }

    /** Commits one 8-byte message holding {@code value}. */
    static void send(MpmcProducer producer, long value) {
        long at = producer.tryClaim(1, 8);
        if (at < 0) {
            throw new IllegalStateException("ring full");
        }
        producer.buffer().set(ValueLayout.JAVA_LONG_UNALIGNED, at, value);
        producer.commit(at);
    }
}
