package io.sluice.ringbuffer.jcstress;

import io.sluice.api.BroadcastPolicy;
import io.sluice.api.MessageHandler;
import io.sluice.api.RingKind;
import io.sluice.ringbuffer.BroadcastConsumer;
import io.sluice.ringbuffer.BroadcastProducer;
import io.sluice.ringbuffer.BroadcastRing;
import io.sluice.ringbuffer.BroadcastStart;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * What the broadcast publication races share: one ring of 256 bytes (messages up to 48), its
 * producer and one consumer reading from the oldest record (on a backpressure ring registered and
 * gated before the race), records written and read in the set-up, and the raced record: type
 * {@link #RACED_TYPE}, 24 bytes holding {@link #A}, {@link #B}, {@link #C}.
 */
abstract class BroadcastRace implements MessageHandler {
    static final long A = 0x1111_1111_1111_1111L;
    static final long B = 0x2222_2222_2222_2222L;
    static final long C = 0x3333_3333_3333_3333L;
    static final int RACED_TYPE = 7;

    final BroadcastProducer producer;
    final BroadcastConsumer consumer;

    BroadcastRace(RingKind kind) {
        MemorySegment ring = MemorySegment.ofArray(new long[(int) BroadcastRing.regionSize(256) / 8]);
        BroadcastRing.format(ring, BroadcastPolicy.of(kind), 256, 48);
        producer = BroadcastRing.attachProducer(ring, "jcstress");
        if (kind == RingKind.BROADCAST_BACKPRESSURE) {
            MemorySegment position = MemorySegment.ofArray(new long[48]);
            consumer = BroadcastRing.attachConsumer(ring, position, BroadcastStart.OLDEST, null);
            consumer.registered(producer.addConsumer(position));
            producer.refreshConsumers();
        } else {
            consumer = BroadcastRing.attachConsumer(ring, null, BroadcastStart.OLDEST, null);
        }
    }

    /** Set-up: writes a message of {@code length} bytes with {@code word} in every 8 bytes, and reads it. */
    final void prefill(int length, long word) {
        long at = producer.tryClaim(5, length);
        producer.buffer().asSlice(at, length).elements(ValueLayout.JAVA_LONG_UNALIGNED)
                .forEach(w -> w.set(ValueLayout.JAVA_LONG_UNALIGNED, 0, word));
        producer.commit(at);
        if (consumer.poll((t, p) -> { }, 1) != 1) {
            throw new IllegalStateException("set-up: message " + producer.nextSequence() + " not read");
        }
    }

    /** The producer's side of the race: claims, writes and commits the raced record. */
    final void produce() {
        long at = producer.tryClaim(RACED_TYPE, 24);
        MemorySegment buffer = producer.buffer();
        buffer.set(ValueLayout.JAVA_LONG_UNALIGNED, at, A);
        buffer.set(ValueLayout.JAVA_LONG_UNALIGNED, at + 8, B);
        buffer.set(ValueLayout.JAVA_LONG_UNALIGNED, at + 16, C);
        producer.commit(at);
    }

    /** Whether {@code payload} is the raced record's, every byte of it. */
    static boolean isRacedPayload(MemorySegment payload) {
        return payload.byteSize() == 24
                && payload.get(ValueLayout.JAVA_LONG_UNALIGNED, 0) == A
                && payload.get(ValueLayout.JAVA_LONG_UNALIGNED, 8) == B
                && payload.get(ValueLayout.JAVA_LONG_UNALIGNED, 16) == C;
    }
}
