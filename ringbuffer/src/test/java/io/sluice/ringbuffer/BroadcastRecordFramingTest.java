package io.sluice.ringbuffer;

import io.sluice.api.MessageProducer;
import io.sluice.api.RingKind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import static io.sluice.ringbuffer.BroadcastTestSupport.TYPE;
import static io.sluice.ringbuffer.BroadcastTestSupport.drain;
import static io.sluice.ringbuffer.BroadcastTestSupport.heapPositionRegion;
import static io.sluice.ringbuffer.BroadcastTestSupport.heapRing;
import static io.sluice.ringbuffer.BroadcastTestSupport.payloadMatches;
import static io.sluice.ringbuffer.BroadcastTestSupport.send;
import static io.sluice.ringbuffer.BroadcastTestSupport.sendAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Records, padding, the implicit gap, abort and claim rules — the same on both kinds. */
class BroadcastRecordFramingTest {

    /** A producer and one consumer that the producer gates on (backpressure) or not (overwrite). */
    record Pair(MemorySegment ring, BroadcastProducer producer, BroadcastConsumer consumer) {
        static Pair of(RingKind kind, long capacity, int max) {
            MemorySegment ring = heapRing(kind, capacity, max);
            BroadcastProducer producer = BroadcastRing.attachProducer(ring, "test");
            BroadcastConsumer consumer;
            if (kind == RingKind.BROADCAST_BACKPRESSURE) {
                consumer = BroadcastRing.attachConsumer(ring, heapPositionRegion(), BroadcastStart.OLDEST, "test");
                consumer.registered(producer.addConsumer(consumer.positionRegion()));
                producer.refreshConsumers();
                assertTrue(consumer.isGated());
            } else {
                consumer = BroadcastRing.attachConsumer(ring, null, BroadcastStart.OLDEST, null);
            }
            return new Pair(ring, producer, consumer);
        }
    }

    @ParameterizedTest
    @EnumSource(value = RingKind.class, names = {"BROADCAST_BACKPRESSURE", "BROADCAST_OVERWRITE"})
    void everyRecordSizeFromZeroToMaxWrapsAroundIntact(RingKind kind) {
        final int max = BroadcastRingDescriptor.maxMessageLengthLimit(1024);
        Pair p = Pair.of(kind, 1024, max);
        int explicitPaddings = 0;
        int implicitGaps = 0;
        long seq = 0;
        for (int round = 0; round < 3; round++) {
            for (int length = 0; length <= max; length++) {
                long before = p.producer.position();
                long at = p.producer.tryClaim(TYPE, length);
                assertTrue(at >= 0, "length " + length + " does not fit");
                assertEquals(0, (at - BroadcastRecordDescriptor.HEADER_LENGTH) % 8, "record start not 8-aligned");
                BroadcastTestSupport.writePayload(p.producer.buffer(), at, seq, length);
                p.producer.commit(at);
                long gap = p.producer.position() - before - BroadcastRecordDescriptor.span(length);
                if (gap >= 16) {
                    explicitPaddings++;
                } else if (gap == 8) {
                    implicitGaps++;
                } else {
                    assertEquals(0, gap);
                }
                int expectedLength = length;
                long expectedSeq = seq;
                int n = p.consumer.poll((type, payload) -> {
                    assertEquals(TYPE, type);
                    assertEquals(expectedLength, payload.byteSize());
                    assertEquals(expectedSeq, p.consumer.sequence());
                    assertTrue(payloadMatches(payload, expectedSeq), "payload of length " + expectedLength);
                }, 10);
                assertEquals(1, n, "length " + length);
                assertEquals(p.producer.position(), p.consumer.position());
                seq++;
            }
        }
        assertTrue(explicitPaddings > 10, "padding records: " + explicitPaddings);
        assertTrue(implicitGaps > 0, "implicit 8-byte gaps: " + implicitGaps);
        assertEquals(0, p.consumer.lapCount());
    }

    @Test
    void paddingAtTheWrapCarriesTheNextSequenceAndIsSkipped() {
        Pair p = Pair.of(RingKind.BROADCAST_OVERWRITE, 256, 96);
        sendAll(p.producer, 5, 32);         // 5 x 48 bytes: tail 240, 16 bytes left
        assertEquals(240, p.producer.position());
        assertEquals(List.of(0L, 1L, 2L, 3L, 4L), drain(p.consumer));
        sendAll(p.producer, 1, 48);         // 64 bytes do not fit: padding [240, 256), record at 256
        assertEquals(256 + 64, p.producer.position());
        long padding = BroadcastRingDescriptor.DATA_OFFSET + 240;
        assertEquals(16, p.ring.get(ValueLayout.JAVA_INT, padding));
        assertEquals(BroadcastRecordDescriptor.PADDING_TYPE, p.ring.get(ValueLayout.JAVA_INT, padding + 4));
        assertEquals(5L, p.ring.get(ValueLayout.JAVA_LONG, padding + 8));
        assertEquals(List.of(5L), drain(p.consumer));
        assertEquals(0, p.consumer.lapCount());
    }

    @Test
    void eightBytesLeftAtTheWrapAreAnImplicitGap() {
        Pair p = Pair.of(RingKind.BROADCAST_OVERWRITE, 256, 96);
        sendAll(p.producer, 5, 24);         // 5 x 40 = 200
        assertEquals(List.of(0L, 1L, 2L, 3L, 4L), drain(p.consumer));
        sendAll(p.producer, 1, 32);         // + 48 = 248: 8 bytes left, no room for a header
        assertEquals(248, p.producer.position());
        // The claim marked the header of the next lap's first record (at 256 + 8): record 0 was
        // read before, or this would be a lap.
        assertEquals(BroadcastRecordDescriptor.NOT_COMMITTED, p.ring.get(ValueLayout.JAVA_LONG,
                BroadcastRingDescriptor.DATA_OFFSET + BroadcastRecordDescriptor.SEQUENCE_OFFSET));
        assertEquals(List.of(5L), drain(p.consumer));
        sendAll(p.producer, 1, 0);          // 16 bytes: skips the gap, starts at 256
        assertEquals(256 + 16, p.producer.position());
        assertEquals(List.of(6L), drain(p.consumer));
        assertEquals(272, p.consumer.position());
    }

    @ParameterizedTest
    @EnumSource(value = RingKind.class, names = {"BROADCAST_BACKPRESSURE", "BROADCAST_OVERWRITE"})
    void abortedClaimIsSkippedAndItsSequenceReused(RingKind kind) {
        Pair p = Pair.of(kind, 256, 96);
        sendAll(p.producer, 1, 10);
        long at = p.producer.tryClaim(TYPE, 40);
        p.producer.buffer().asSlice(at, 40).fill((byte) 0x55);
        p.producer.abort(at);
        assertEquals(1, p.producer.nextSequence());
        sendAll(p.producer, 1, 20);
        assertEquals(List.of(0L, 1L), drain(p.consumer));

        // An aborted claim that had wrapped leaves its padding and becomes padding itself.
        while (p.producer.position() % 256 < 200) {
            sendAll(p.producer, 1, 8);
            drain(p.consumer);
        }
        long wrapping = p.producer.tryClaim(TYPE, 96);
        assertTrue(p.producer.buffer().byteSize() > wrapping);
        p.producer.abort(wrapping);
        sendAll(p.producer, 1, 8);
        List<Long> seqs = drain(p.consumer);
        assertEquals(p.producer.nextSequence() - 1, seqs.getLast());
        for (int i = 1; i < seqs.size(); i++) {
            assertEquals(seqs.get(i - 1) + 1, seqs.get(i));
        }
    }

    @Test
    void claimArgumentsAndOrderAreChecked() {
        Pair p = Pair.of(RingKind.BROADCAST_OVERWRITE, 1024, 100);
        MessageProducer producer = p.producer;
        assertThrows(IllegalArgumentException.class, () -> producer.tryClaim(0, 1));
        assertThrows(IllegalArgumentException.class, () -> producer.tryClaim(-1, 1));
        assertThrows(IllegalArgumentException.class, () -> producer.tryClaim(1, -1));
        assertThrows(IllegalArgumentException.class, () -> producer.tryClaim(1, 101));
        assertThrows(IllegalStateException.class, () -> producer.commit(16));
        assertThrows(IllegalStateException.class, () -> producer.abort(16));
        long at = producer.tryClaim(1, 100);
        assertThrows(IllegalStateException.class, () -> producer.tryClaim(1, 1));
        assertThrows(IllegalArgumentException.class, () -> producer.commit(at + 8), "not the open claim's offset");
        producer.commit(at);
        assertThrows(IllegalStateException.class, () -> producer.commit(at));
        MemorySegment source = MemorySegment.ofArray(new byte[10]);
        assertThrows(IndexOutOfBoundsException.class, () -> producer.offer(1, source, 5, 10));
        assertThrows(IllegalArgumentException.class, () -> producer.offer(1, source, 0, 101));
        assertEquals(100, producer.maxMessageLength());
    }

    @Test
    void offerCopiesTheSourceBytes() {
        Pair p = Pair.of(RingKind.BROADCAST_OVERWRITE, 1024, 100);
        byte[] bytes = new byte[37];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) (i * 7);
        }
        assertTrue(p.producer.offer(3, MemorySegment.ofArray(bytes), 0, 37));
        List<byte[]> got = new ArrayList<>();
        assertEquals(1, p.consumer.poll((type, payload) -> {
            assertEquals(3, type);
            got.add(payload.toArray(ValueLayout.JAVA_BYTE));
        }, 5));
        assertArrayEquals(bytes, got.getFirst());
    }

    @ParameterizedTest
    @EnumSource(value = RingKind.class, names = {"BROADCAST_BACKPRESSURE", "BROADCAST_OVERWRITE"})
    void consumersReadThroughReadOnlyViewsAndNeverWriteTheRing(RingKind kind) {
        Pair p = Pair.of(kind, 1024, 100);
        sendAll(p.producer, 20, 20);
        byte[] before = p.ring.toArray(ValueLayout.JAVA_BYTE);
        // A second consumer given only a read-only mapping works the same.
        BroadcastConsumer readOnly = kind == RingKind.BROADCAST_OVERWRITE
                ? BroadcastRing.attachConsumer(p.ring.asReadOnly(), null, BroadcastStart.OLDEST, null)
                : null;
        List<Throwable> failures = new ArrayList<>();
        p.consumer.poll((type, payload) -> {
            assertTrue(payload.isReadOnly());
            try {
                payload.set(ValueLayout.JAVA_BYTE, 0, (byte) 1);
            } catch (IllegalArgumentException expected) {
                return;
            }
            failures.add(new AssertionError("payload slice is writable"));
        }, 100);
        if (readOnly != null) {
            assertFalse(drain(readOnly).isEmpty());
        }
        assertTrue(failures.isEmpty());
        assertArrayEquals(before, p.ring.toArray(ValueLayout.JAVA_BYTE), "a consumer wrote the ring");
    }

    @Test
    void aProducerReattachedToAUsedRingContinuesItsStream() {
        Pair p = Pair.of(RingKind.BROADCAST_OVERWRITE, 1024, 100);
        sendAll(p.producer, 50, 33);
        BroadcastProducer again = BroadcastRing.attachProducer(p.ring, "test");
        assertEquals(p.producer.position(), again.position());
        assertEquals(50, again.nextSequence());
        sendAll(again, 50, 20);
        List<Long> seqs = drain(p.consumer);
        assertEquals(99L, seqs.getLast());
    }

    @Test
    void handlerExceptionLeavesTheMessageConsumed() {
        Pair p = Pair.of(RingKind.BROADCAST_OVERWRITE, 1024, 100);
        sendAll(p.producer, 3, 8);
        assertThrows(IllegalStateException.class, () -> p.consumer.poll((t, b) -> {
            throw new IllegalStateException("handler");
        }, 10));
        assertEquals(List.of(1L, 2L), drain(p.consumer));
    }
}
