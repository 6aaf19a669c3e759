package io.sluice.ringbuffer;

import io.sluice.api.MessageProducer;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import static io.sluice.ringbuffer.MpmcTestRings.heapRing;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MpmcRingTest {
    private static final int SLOT_LENGTH = 64;
    private static final int MAX_PAYLOAD = SLOT_LENGTH - MpmcSlotDescriptor.HEADER_LENGTH;

    private record Received(int type, byte[] payload) {
    }

    private static List<Received> drain(MpmcConsumer consumer) {
        List<Received> out = new ArrayList<>();
        consumer.poll((type, payload) -> out.add(new Received(type, payload.toArray(ValueLayout.JAVA_BYTE))), Integer.MAX_VALUE);
        return out;
    }

    private static void send(MpmcProducer producer, int type, long value) {
        long at = producer.tryClaim(type, 8);
        assertTrue(at >= 0, "claim refused");
        producer.buffer().set(ValueLayout.JAVA_LONG_UNALIGNED, at, value);
        producer.commit(at);
    }

    private static long valueOf(Received r) {
        return MemorySegment.ofArray(r.payload()).get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
    }

    @Test
    void emptyRingPollsNothing() {
        MemorySegment ring = heapRing(4, SLOT_LENGTH, 8);
        MpmcConsumer consumer = MpmcRing.attachConsumer(ring, 2, null);
        assertEquals(0, consumer.poll((t, p) -> { throw new AssertionError("called"); }, 10));
    }

    @Test
    void committedMessageArrivesWithItsTypeLengthAndPayload() {
        MemorySegment ring = heapRing(4, SLOT_LENGTH, 8);
        MpmcProducer producer = MpmcRing.attachProducer(ring, 1, null);
        MpmcConsumer consumer = MpmcRing.attachConsumer(ring, 2, null);
        send(producer, 7, 0x1122334455667788L);
        List<Received> got = drain(consumer);
        assertEquals(1, got.size());
        assertEquals(7, got.get(0).type());
        assertEquals(8, got.get(0).payload().length);
        assertEquals(0x1122334455667788L, valueOf(got.get(0)));
    }

    @Test
    void handlerGetsAReadOnlySliceOfTheSlotItself() {
        MemorySegment ring = heapRing(4, SLOT_LENGTH, 8);
        MpmcProducer producer = MpmcRing.attachProducer(ring, 1, null);
        MpmcConsumer consumer = MpmcRing.attachConsumer(ring, 2, null);
        long at = producer.tryClaim(3, 5);
        producer.commit(at);
        consumer.poll((type, payload) -> {
            assertTrue(payload.isReadOnly());
            assertEquals(5, payload.byteSize());
            assertEquals(at, payload.address() - ring.address(), "the slice starts at the claim offset");
            assertThrows(IllegalArgumentException.class, () -> payload.set(ValueLayout.JAVA_BYTE, 0, (byte) 1));
        }, 1);
    }

    @Test
    void fullRingRefusesClaimsUntilAMessageIsConsumed() {
        MemorySegment ring = heapRing(4, SLOT_LENGTH, 8);
        MpmcProducer producer = MpmcRing.attachProducer(ring, 1, null);
        MpmcConsumer consumer = MpmcRing.attachConsumer(ring, 2, null);
        for (int i = 0; i < 4; i++) {
            send(producer, 1, i);
        }
        assertEquals(MessageProducer.INSUFFICIENT_CAPACITY, producer.tryClaim(1, 8));
        assertEquals(MessageProducer.INSUFFICIENT_CAPACITY, producer.tryClaim(1, 0));
        assertEquals(1, consumer.poll((t, p) -> { }, 1));
        send(producer, 1, 4);
        assertEquals(MessageProducer.INSUFFICIENT_CAPACITY, producer.tryClaim(1, 8));
        List<Received> rest = drain(consumer);
        assertEquals(List.of(1L, 2L, 3L, 4L), rest.stream().map(MpmcRingTest::valueOf).toList());
    }

    @Test
    void wrapAroundKeepsOrderOverManyLaps() {
        MemorySegment ring = heapRing(4, SLOT_LENGTH, 8);
        MpmcProducer producer = MpmcRing.attachProducer(ring, 1, null);
        MpmcConsumer consumer = MpmcRing.attachConsumer(ring, 2, null);
        long next = 0;
        long expected = 0;
        for (int round = 0; round < 100; round++) {
            int batch = 1 + round % 4;
            for (int i = 0; i < batch; i++) {
                send(producer, 1, next++);
            }
            for (Received r : drain(consumer)) {
                assertEquals(expected++, valueOf(r));
            }
        }
        assertEquals(next, expected);
        assertEquals(next, MpmcTestRings.tail(ring));
        assertEquals(next, MpmcTestRings.head(ring));
    }

    @Test
    void everyLengthFromZeroToTheMaximumRoundTripsAcrossTheWrap() {
        MemorySegment ring = heapRing(4, SLOT_LENGTH, 8);
        MpmcProducer producer = MpmcRing.attachProducer(ring, 1, null);
        MpmcConsumer consumer = MpmcRing.attachConsumer(ring, 2, null);
        assertEquals(MAX_PAYLOAD, producer.maxMessageLength());
        for (int pass = 0; pass < 3; pass++) { // 49 lengths on 4 slots: every length in every slot
            for (int length = 0; length <= MAX_PAYLOAD; length++) {
                byte[] bytes = new byte[length];
                for (int i = 0; i < length; i++) {
                    bytes[i] = (byte) (length * 31 + i + pass);
                }
                assertTrue(producer.offer(length + 1, MemorySegment.ofArray(bytes), 0, length));
                List<Received> got = drain(consumer);
                assertEquals(1, got.size());
                assertEquals(length + 1, got.get(0).type());
                assertArrayEquals(bytes, got.get(0).payload());
            }
        }
    }

    @Test
    void oversizeNegativeLengthsAndNonPositiveTypesAreRefused() {
        MemorySegment ring = heapRing(4, SLOT_LENGTH, 8);
        MpmcProducer producer = MpmcRing.attachProducer(ring, 1, null);
        assertThrows(IllegalArgumentException.class, () -> producer.tryClaim(1, MAX_PAYLOAD + 1));
        assertThrows(IllegalArgumentException.class, () -> producer.tryClaim(1, -1));
        assertThrows(IllegalArgumentException.class, () -> producer.tryClaim(0, 8));
        assertThrows(IllegalArgumentException.class, () -> producer.tryClaim(-5, 8));
        assertThrows(IllegalArgumentException.class,
                () -> producer.offer(1, MemorySegment.ofArray(new byte[MAX_PAYLOAD + 1]), 0, MAX_PAYLOAD + 1));
        assertThrows(IndexOutOfBoundsException.class, () -> producer.offer(1, MemorySegment.ofArray(new byte[4]), 2, 4));
        assertEquals(0, MpmcTestRings.tail(ring), "nothing claimed");
        long at = producer.tryClaim(1, MAX_PAYLOAD);
        assertTrue(at >= 0);
    }

    @Test
    void abortedClaimIsSkippedByConsumersAndNeverDelivered() {
        MemorySegment ring = heapRing(4, SLOT_LENGTH, 8);
        MpmcProducer producer = MpmcRing.attachProducer(ring, 1, null);
        MpmcConsumer consumer = MpmcRing.attachConsumer(ring, 2, null);
        long at = producer.tryClaim(9, 8);
        producer.abort(at);
        send(producer, 1, 42);
        List<Received> got = drain(consumer);
        assertEquals(1, got.size());
        assertEquals(42, valueOf(got.get(0)));
        assertEquals(2, MpmcTestRings.head(ring));
    }

    @Test
    void abortedSlotsStayOccupiedUntilAConsumerSkipsThem() {
        MemorySegment ring = heapRing(2, SLOT_LENGTH, 8);
        MpmcProducer producer = MpmcRing.attachProducer(ring, 1, null);
        MpmcConsumer consumer = MpmcRing.attachConsumer(ring, 2, null);
        producer.abort(producer.tryClaim(1, 0));
        producer.abort(producer.tryClaim(1, 0));
        assertEquals(MessageProducer.INSUFFICIENT_CAPACITY, producer.tryClaim(1, 0));
        assertEquals(0, consumer.poll((t, p) -> { throw new AssertionError("aborted message delivered"); }, 10));
        assertEquals(2, MpmcTestRings.head(ring), "both skipped");
        send(producer, 1, 1);
        send(producer, 1, 2);
        assertEquals(List.of(1L, 2L), drain(consumer).stream().map(MpmcRingTest::valueOf).toList());
    }

    @Test
    void uncommittedClaimHoldsBackLaterMessagesUntilItIsCommitted() {
        MemorySegment ring = heapRing(4, SLOT_LENGTH, 8);
        MpmcProducer first = MpmcRing.attachProducer(ring, 1, null);
        MpmcProducer second = MpmcRing.attachProducer(ring, 2, null);
        MpmcConsumer consumer = MpmcRing.attachConsumer(ring, 3, null);
        long at = first.tryClaim(1, 8);
        send(second, 2, 20);
        send(second, 2, 21);
        assertEquals(0, consumer.poll((t, p) -> { }, 10), "consumers cannot pass a claimed slot");
        first.buffer().set(ValueLayout.JAVA_LONG_UNALIGNED, at, 10);
        first.commit(at);
        List<Received> got = drain(consumer);
        assertEquals(List.of(10L, 20L, 21L), got.stream().map(MpmcRingTest::valueOf).toList());
        assertEquals(List.of(1, 2, 2), got.stream().map(Received::type).toList());
    }

    @Test
    void claimProtocolMisuseIsRefused() {
        MemorySegment ring = heapRing(4, SLOT_LENGTH, 8);
        MpmcProducer producer = MpmcRing.attachProducer(ring, 1, null);
        assertThrows(IllegalStateException.class, () -> producer.commit(MpmcRingDescriptor.HEADER_LENGTH + 16));
        assertThrows(IllegalStateException.class, () -> producer.abort(MpmcRingDescriptor.HEADER_LENGTH + 16));
        long at = producer.tryClaim(1, 8);
        assertThrows(IllegalStateException.class, () -> producer.tryClaim(1, 8), "one claim at a time");
        assertThrows(IllegalArgumentException.class, () -> producer.commit(at + SLOT_LENGTH), "not the open claim's offset");
        producer.commit(at);
        assertThrows(IllegalStateException.class, () -> producer.commit(at), "committed twice");
    }

    @Test
    void offerCopiesAndReportsAFullRing() {
        MemorySegment ring = heapRing(2, SLOT_LENGTH, 8);
        MpmcProducer producer = MpmcRing.attachProducer(ring, 1, null);
        MpmcConsumer consumer = MpmcRing.attachConsumer(ring, 2, null);
        MemorySegment src = MemorySegment.ofArray(new byte[] {1, 2, 3, 4, 5});
        assertTrue(producer.offer(4, src, 1, 3));
        assertTrue(producer.offer(4, src, 0, 5));
        assertEquals(false, producer.offer(4, src, 0, 5));
        List<Received> got = drain(consumer);
        assertArrayEquals(new byte[] {2, 3, 4}, got.get(0).payload());
        assertArrayEquals(new byte[] {1, 2, 3, 4, 5}, got.get(1).payload());
    }

    @Test
    void pollHandsAtMostLimitMessages() {
        MemorySegment ring = heapRing(8, SLOT_LENGTH, 8);
        MpmcProducer producer = MpmcRing.attachProducer(ring, 1, null);
        MpmcConsumer consumer = MpmcRing.attachConsumer(ring, 2, null);
        for (int i = 0; i < 5; i++) {
            send(producer, 1, i);
        }
        assertThrows(IllegalArgumentException.class, () -> consumer.poll((t, p) -> { }, 0), "a limit below 1 is misuse");
        assertEquals(2, consumer.poll((t, p) -> { }, 2));
        assertEquals(3, consumer.poll((t, p) -> { }, 10));
    }

    @Test
    void aThrowingHandlerStillReleasesTheSlot() {
        MemorySegment ring = heapRing(2, SLOT_LENGTH, 8);
        MpmcProducer producer = MpmcRing.attachProducer(ring, 1, null);
        MpmcConsumer consumer = MpmcRing.attachConsumer(ring, 2, null);
        send(producer, 1, 1);
        send(producer, 1, 2);
        IllegalStateException thrown = assertThrows(IllegalStateException.class,
                () -> consumer.poll((t, p) -> { throw new IllegalStateException("handler failed"); }, 1));
        assertEquals("handler failed", thrown.getMessage());
        send(producer, 1, 3); // the slot came back
        assertEquals(List.of(2L, 3L), drain(consumer).stream().map(MpmcRingTest::valueOf).toList());
    }

    @Test
    void twoConsumersShareTheMessagesEachExactlyOnce() {
        MemorySegment ring = heapRing(8, SLOT_LENGTH, 8);
        MpmcProducer producer = MpmcRing.attachProducer(ring, 1, null);
        MpmcConsumer a = MpmcRing.attachConsumer(ring, 2, null);
        MpmcConsumer b = MpmcRing.attachConsumer(ring, 3, null);
        List<Long> seen = new ArrayList<>();
        for (long i = 0; i < 100; i++) {
            send(producer, 1, i);
            MpmcConsumer c = (i % 3 == 0) ? a : b;
            c.poll((t, p) -> seen.add(p.get(ValueLayout.JAVA_LONG_UNALIGNED, 0)), 1);
        }
        assertEquals(100, seen.size());
        for (int i = 0; i < 100; i++) {
            assertEquals(i, seen.get(i));
        }
    }

    @Test
    void participantIdsOutsideOneToMaxAreRefused() {
        MemorySegment ring = heapRing(4, SLOT_LENGTH, 8);
        assertThrows(IllegalArgumentException.class, () -> MpmcRing.attachProducer(ring, 0, null));
        assertThrows(IllegalArgumentException.class, () -> MpmcRing.attachProducer(ring, 9, null));
        assertThrows(IllegalArgumentException.class, () -> MpmcRing.attachConsumer(ring, 0, null));
        assertThrows(IllegalArgumentException.class, () -> MpmcRing.attachConsumer(ring, -1, null));
        assertEquals(8, MpmcRing.attachConsumer(ring, 8, null).participantId());
    }

    @Test
    void slotWordsNameTheOwnerAtEveryStep() {
        MemorySegment ring = heapRing(4, SLOT_LENGTH, 8);
        MpmcProducer producer = MpmcRing.attachProducer(ring, 5, null);
        MpmcConsumer consumer = MpmcRing.attachConsumer(ring, 6, null);
        int shift = MpmcTestRings.shift(ring);
        long at = producer.tryClaim(1, 0);
        assertEquals(MpmcSlotDescriptor.word(0, shift, MpmcSlotDescriptor.CLAIMED, 5), MpmcTestRings.word(ring, 0));
        assertEquals(1, MpmcTestRings.tail(ring), "the claimant moved the tail");
        producer.commit(at);
        assertEquals(MpmcSlotDescriptor.word(0, shift, MpmcSlotDescriptor.COMMITTED, 5), MpmcTestRings.word(ring, 0));
        consumer.poll((t, p) -> {
            assertEquals(MpmcSlotDescriptor.word(0, shift, MpmcSlotDescriptor.CONSUMING, 6), MpmcTestRings.word(ring, 0));
            assertEquals(1, MpmcTestRings.head(ring), "the head moves before the handler runs");
        }, 1);
        assertEquals(MpmcSlotDescriptor.word(4, shift, MpmcSlotDescriptor.FREE, 0), MpmcTestRings.word(ring, 0));
    }

    @Test
    void theLapFieldWrapsAt2To48WithoutEffect() {
        MemorySegment ring = heapRing(2, SLOT_LENGTH, 8);
        int shift = MpmcTestRings.shift(ring);
        // Put the ring 3 laps before the 48-bit lap field wraps, as if 2^49 messages had passed.
        long start = ((1L << MpmcSlotDescriptor.LAP_BITS) - 3) << shift;
        MpmcTestRings.setTail(ring, start);
        MpmcTestRings.setHead(ring, start);
        for (long p = start; p < start + 2; p++) {
            MpmcTestRings.setWord(ring, p, MpmcSlotDescriptor.word(p, shift, MpmcSlotDescriptor.FREE, 0));
        }
        MpmcProducer producer = MpmcRing.attachProducer(ring, 1, null);
        MpmcConsumer consumer = MpmcRing.attachConsumer(ring, 2, null);
        for (long i = 0; i < 20; i++) {
            send(producer, 1, i);
            if (i % 2 == 1) {
                assertEquals(List.of(i - 1, i), drain(consumer).stream().map(MpmcRingTest::valueOf).toList());
            }
        }
        assertEquals(start + 20, MpmcTestRings.tail(ring));
        assertEquals(start + 20, MpmcTestRings.head(ring));
        assertTrue(MpmcSlotDescriptor.lap(MpmcTestRings.word(ring, start + 20)) < 10, "the lap field wrapped");
    }
}
