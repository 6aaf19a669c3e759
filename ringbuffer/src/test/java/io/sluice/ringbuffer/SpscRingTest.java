package io.sluice.ringbuffer;

import io.sluice.api.MessageProducer;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import static io.sluice.ringbuffer.SpscRecordDescriptor.HEADER_LENGTH;
import static io.sluice.ringbuffer.SpscRecordDescriptor.INVALID_STAMP;
import static io.sluice.ringbuffer.SpscRecordDescriptor.PADDING_TYPE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Single-threaded behaviour of the SPSC ring: records, wrap, padding, claims, polls. */
class SpscRingTest {

    record Message(int type, byte[] payload) {
    }

    static byte[] pattern(long seed, int length) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (seed * 31 + i * 7 + 1);
        }
        return b;
    }

    static long publish(SpscProducer producer, int type, byte[] payload) {
        long at = producer.tryClaim(type, payload.length);
        if (at != MessageProducer.INSUFFICIENT_CAPACITY) {
            MemorySegment.copy(MemorySegment.ofArray(payload), 0, producer.buffer(), at, payload.length);
            producer.commit(at);
        }
        return at;
    }

    static List<Message> drain(SpscConsumer consumer, int limit) {
        List<Message> out = new ArrayList<>();
        consumer.poll((type, payload) -> out.add(new Message(type, payload.toArray(ValueLayout.JAVA_BYTE))), limit);
        return out;
    }

    static long stampAt(SpscTestRing ring, long position) {
        return ring.data().get(ValueLayout.JAVA_LONG_UNALIGNED, position & (ring.capacity - 1));
    }

    @Test
    void everyRecordSizeFromZeroToTheMaximumWrapsAroundIntact() {
        SpscTestRing ring = SpscTestRing.onHeap(1024);
        int max = ring.producer.maxMessageLength();
        assertEquals(128, max);
        long seq = 0;
        // One message at a time: each size crosses the wrap at some offset over the laps.
        for (int lap = 0; lap < 7; lap++) {
            for (int length = 0; length <= max; length++, seq++) {
                byte[] payload = pattern(seq, length);
                assertTrue(publish(ring.producer, length + 1, payload) >= 0, "room for one message");
                List<Message> got = drain(ring.consumer, 10);
                assertEquals(1, got.size(), "size " + length + " lap " + lap);
                assertEquals(length + 1, got.getFirst().type());
                assertArrayEquals(payload, got.getFirst().payload(), "size " + length);
                assertEquals(ring.producer.position(), ring.consumer.position());
            }
        }
        assertTrue(ring.producer.position() > 7 * ring.capacity, "wrapped many times");
    }

    @Test
    void everyRecordSizeSurvivesAFullRingAndBatchedPolls() {
        SpscTestRing ring = SpscTestRing.onHeap(1024);
        int max = ring.producer.maxMessageLength();
        List<byte[]> sent = new ArrayList<>();
        List<Message> received = new ArrayList<>();
        for (int round = 0; round < 3; round++) {
            for (int length = max; length >= 0; length--) {
                byte[] payload = pattern(sent.size(), length);
                while (publish(ring.producer, 5, payload) < 0) {
                    received.addAll(drain(ring.consumer, 3)); // full: make room in small batches
                }
                sent.add(payload);
            }
        }
        List<Message> rest;
        while (!(rest = drain(ring.consumer, 1000)).isEmpty()) {
            received.addAll(rest);
        }
        assertEquals(sent.size(), received.size());
        for (int i = 0; i < sent.size(); i++) {
            assertArrayEquals(sent.get(i), received.get(i).payload(), "message " + i);
        }
    }

    @Test
    void aRecordThatDoesNotFitTheEndOfTheLapGoesToTheStartBehindAPaddingRecord() {
        SpscTestRing ring = SpscTestRing.onHeap(256); // max message 32
        // 4 records of 48 bytes (32-byte payloads) -> position 192, 64 bytes left.
        for (int i = 0; i < 4; i++) {
            publish(ring.producer, 1, pattern(i, 32));
        }
        assertEquals(4, drain(ring.consumer, 10).size());
        publish(ring.producer, 1, pattern(4, 24));            // 40 bytes -> 232, 24 left
        long at = publish(ring.producer, 9, pattern(5, 16));  // 32 bytes: does not fit 24
        assertEquals(HEADER_LENGTH, at, "the record starts the next lap");
        MemorySegment data = ring.data();
        assertEquals(232, data.get(ValueLayout.JAVA_LONG_UNALIGNED, 232), "padding stamped with its position");
        assertEquals(24 - HEADER_LENGTH, data.get(ValueLayout.JAVA_INT_UNALIGNED, 232 + 8), "padding runs to the end");
        assertEquals(PADDING_TYPE, data.get(ValueLayout.JAVA_INT_UNALIGNED, 232 + 12));
        assertEquals(256 + 32, ring.producer.position());

        List<Message> got = drain(ring.consumer, 10);
        assertEquals(2, got.size(), "padding is not delivered");
        assertEquals(9, got.get(1).type());
        assertArrayEquals(pattern(5, 16), got.get(1).payload());
        assertEquals(256 + 32, ring.consumer.position());
    }

    @Test
    void aRecordThatWouldLeaveOnlyEightBytesAtTheEndIsPaddedSoNoHeaderEverWraps() {
        SpscTestRing ring = SpscTestRing.onHeap(256);
        for (int i = 0; i < 4; i++) {
            publish(ring.producer, 1, pattern(i, 32));        // -> 192
        }
        drain(ring.consumer, 10);
        long at = publish(ring.producer, 2, pattern(9, 40 - HEADER_LENGTH)); // 40 bytes would leave 24
        assertEquals(192 + HEADER_LENGTH, at);
        drain(ring.consumer, 10);
        // 232: 24 bytes left. A 16-byte record would leave 8: padded instead.
        at = publish(ring.producer, 3, new byte[0]);
        assertEquals(HEADER_LENGTH, at, "went to the next lap");
        assertEquals(PADDING_TYPE, ring.data().get(ValueLayout.JAVA_INT_UNALIGNED, 232 + 12));
        List<Message> got = drain(ring.consumer, 10);
        assertEquals(1, got.size());
        assertEquals(3, got.getFirst().type());
        assertEquals(0, got.getFirst().payload().length);
    }

    @Test
    void aRecordThatFitsTheEndExactlyNeedsNoPadding() {
        SpscTestRing ring = SpscTestRing.onHeap(256);
        for (int i = 0; i < 4; i++) {
            publish(ring.producer, 1, pattern(i, 32));        // -> 192
        }
        drain(ring.consumer, 10);
        long at = publish(ring.producer, 2, pattern(7, 64 - HEADER_LENGTH - 16)); // 48 bytes -> 240
        assertEquals(192 + HEADER_LENGTH, at);
        at = publish(ring.producer, 3, new byte[0]);          // 16 bytes: exactly the end
        assertEquals(240 + HEADER_LENGTH, at);
        assertEquals(256, ring.producer.position());
        assertEquals(INVALID_STAMP, stampAt(ring, 256), "the next lap's first slot was invalidated");
        assertEquals(2, drain(ring.consumer, 10).size());
    }

    @Test
    void anAbortedClaimIsNeverDeliveredAndItsSpaceIsReused() {
        SpscTestRing ring = SpscTestRing.onHeap(256);
        publish(ring.producer, 1, pattern(1, 8));
        long position = ring.producer.position();
        long at = ring.producer.tryClaim(2, 32);
        ring.producer.buffer().asSlice(at, 32).fill((byte) 0x5A);
        ring.producer.abort(at);
        assertEquals(position, ring.producer.position(), "abort gives the space back");
        assertEquals(INVALID_STAMP, stampAt(ring, position), "nothing published");
        List<Message> got = drain(ring.consumer, 10);
        assertEquals(1, got.size());
        assertEquals(0, drain(ring.consumer, 10).size());
        assertEquals(at, publish(ring.producer, 3, pattern(3, 4)), "same space claimed again");
        got = drain(ring.consumer, 10);
        assertEquals(1, got.size());
        assertEquals(3, got.getFirst().type());
        assertArrayEquals(pattern(3, 4), got.getFirst().payload());
    }

    @Test
    void anAbortAfterAPaddingRecordKeepsThePaddingAndTheConsumerSkipsIt() {
        SpscTestRing ring = SpscTestRing.onHeap(256);
        for (int i = 0; i < 5; i++) {
            publish(ring.producer, 1, pattern(i, 32));        // -> 240
        }
        drain(ring.consumer, 10);
        long at = ring.producer.tryClaim(2, 32);              // pads 16 bytes, record at 256
        assertEquals(HEADER_LENGTH, at);
        ring.producer.abort(at);
        assertEquals(256, ring.producer.position());
        assertEquals(0, drain(ring.consumer, 10).size(), "only the padding was published");
        assertEquals(256, ring.consumer.position(), "the consumer skipped it");
        publish(ring.producer, 4, pattern(4, 1));
        assertEquals(4, drain(ring.consumer, 10).getFirst().type());
    }

    @Test
    void aFullRingRefusesClaimsWithoutSideEffectsUntilTheConsumerReleasesSpace() {
        SpscTestRing ring = SpscTestRing.onHeap(256);
        int published = 0;
        while (publish(ring.producer, 1, pattern(published, 32)) >= 0) {
            published++;
        }
        // 5 x 48 = 240; a sixth needs 48 + the next stamp slot.
        assertEquals(5, published);
        long position = ring.producer.position();
        assertEquals(MessageProducer.INSUFFICIENT_CAPACITY, ring.producer.tryClaim(1, 0), "not even an empty one: 16 + 8 > 16");
        assertFalse(ring.producer.offer(1, MemorySegment.ofArray(new byte[4]), 0, 4));
        assertEquals(position, ring.producer.position());
        assertEquals(1, drain(ring.consumer, 1).size());                       // head 48: room up to 304
        assertEquals(MessageProducer.INSUFFICIENT_CAPACITY, ring.producer.tryClaim(1, 32),
                "16 bytes of padding + 48 + 8 do not fit the 64 released");
        assertTrue(publish(ring.producer, 2, new byte[0]) >= 0, "an empty record fits the end exactly: 16 + 8");
        assertEquals(1, drain(ring.consumer, 1).size());                       // head 96
        assertTrue(publish(ring.producer, 3, pattern(99, 32)) >= 0, "room after the consumer released another record");
        List<Message> rest = drain(ring.consumer, 100);
        assertEquals(5, rest.size());
        assertEquals(2, rest.get(3).type());
        assertArrayEquals(pattern(99, 32), rest.getLast().payload());
    }

    @Test
    void anEmptyRingPollsNothingAndPublishesNothing() {
        SpscTestRing ring = SpscTestRing.onHeap(128);
        assertEquals(0, ring.consumer.poll((t, p) -> { throw new AssertionError(); }, 10));
        assertEquals(0, ring.consumer.position());
        assertEquals(0, ring.position.get(ValueLayout.JAVA_LONG_UNALIGNED, SpscConsumerPositionDescriptor.POSITION_OFFSET));
    }

    @Test
    void claimsOfOversizeOrNegativeLengthOrNonPositiveTypeAreRefused() {
        SpscTestRing ring = SpscTestRing.onHeap(1024);
        int max = ring.producer.maxMessageLength();
        assertThrows(IllegalArgumentException.class, () -> ring.producer.tryClaim(1, max + 1));
        assertThrows(IllegalArgumentException.class, () -> ring.producer.tryClaim(1, -1));
        assertThrows(IllegalArgumentException.class, () -> ring.producer.tryClaim(1, Integer.MAX_VALUE));
        assertThrows(IllegalArgumentException.class, () -> ring.producer.tryClaim(0, 8));
        assertThrows(IllegalArgumentException.class, () -> ring.producer.tryClaim(PADDING_TYPE, 8));
        MemorySegment big = MemorySegment.ofArray(new byte[max + 1]);
        assertThrows(IllegalArgumentException.class, () -> ring.producer.offer(1, big, 0, max + 1));
        assertEquals(0, ring.producer.position(), "nothing claimed");
        assertTrue(ring.producer.tryClaim(1, max) >= 0, "the maximum itself is fine");
    }

    @Test
    void claimCommitAndAbortOutOfOrderAreRefused() {
        SpscTestRing ring = SpscTestRing.onHeap(1024);
        assertThrows(IllegalStateException.class, () -> ring.producer.commit(HEADER_LENGTH));
        assertThrows(IllegalStateException.class, () -> ring.producer.abort(HEADER_LENGTH));
        long at = ring.producer.tryClaim(1, 8);
        assertThrows(IllegalStateException.class, () -> ring.producer.tryClaim(1, 8), "one claim at a time");
        assertThrows(IllegalArgumentException.class, () -> ring.producer.commit(at + 8));
        assertThrows(IllegalArgumentException.class, () -> ring.producer.abort(at - 8));
        ring.producer.commit(at);
        assertThrows(IllegalStateException.class, () -> ring.producer.commit(at), "no double commit");
        assertEquals(1, drain(ring.consumer, 10).size());
    }

    @Test
    void pollDeliversAtMostLimitMessagesAndPublishesItsPositionOncePerPoll() {
        SpscTestRing ring = SpscTestRing.onHeap(1024);
        for (int i = 0; i < 10; i++) {
            publish(ring.producer, i + 1, pattern(i, 8));
        }
        int[] expectedCounts = {3, 3, 3, 1, 0};
        int next = 1;
        for (int expected : expectedCounts) {
            List<Integer> types = new ArrayList<>();
            long published = ring.position.get(ValueLayout.JAVA_LONG_UNALIGNED, SpscConsumerPositionDescriptor.POSITION_OFFSET);
            int n = ring.consumer.poll((type, payload) -> {
                types.add(type);
                // inside the batch the published position has not moved yet
                assertEquals(published, ring.position.get(ValueLayout.JAVA_LONG_UNALIGNED, SpscConsumerPositionDescriptor.POSITION_OFFSET));
            }, 3);
            assertEquals(expected, n);
            assertEquals(expected, types.size());
            for (int type : types) {
                assertEquals(next++, type, "in order, each once");
            }
            assertEquals(ring.consumer.position(),
                    ring.position.get(ValueLayout.JAVA_LONG_UNALIGNED, SpscConsumerPositionDescriptor.POSITION_OFFSET));
        }
        assertThrows(IllegalArgumentException.class, () -> ring.consumer.poll((t, p) -> { }, 0));
    }

    @Test
    void theHandlerGetsAReadOnlySliceOfTheRingItselfNotACopy() throws Exception {
        try (SpscTestRing ring = SpscTestRing.inSharedArena(1024)) {
            long at = publish(ring.producer, 7, pattern(1, 24));
            long expectedAddress = ring.region.address() + SpscRingDescriptor.HEADER_LENGTH + at;
            int n = ring.consumer.poll((type, payload) -> {
                assertEquals(expectedAddress, payload.address(), "the payload is read in place");
                assertEquals(24, payload.byteSize());
                assertTrue(payload.isReadOnly());
                assertThrows(IllegalArgumentException.class, () -> payload.set(ValueLayout.JAVA_BYTE, 0, (byte) 1));
            }, 1);
            assertEquals(1, n);
        }
        SpscTestRing heap = SpscTestRing.onHeap(1024);
        long at = publish(heap.producer, 7, pattern(1, 24));
        heap.consumer.poll((type, payload) -> {
            // a write to the ring's array shows through the payload: a view, not a copy
            heap.region.set(ValueLayout.JAVA_BYTE, SpscRingDescriptor.HEADER_LENGTH + at + 5, (byte) 0x77);
            assertEquals((byte) 0x77, payload.get(ValueLayout.JAVA_BYTE, 5));
        }, 1);
    }

    @Test
    void aMessageWhoseHandlerThrowsIsConsumedAndTheExceptionPropagates() {
        SpscTestRing ring = SpscTestRing.onHeap(1024);
        for (int i = 1; i <= 3; i++) {
            publish(ring.producer, i, pattern(i, 8));
        }
        List<Integer> seen = new ArrayList<>();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> ring.consumer.poll((type, payload) -> {
            seen.add(type);
            if (type == 2) {
                throw new IllegalStateException("handler failed");
            }
        }, 10));
        assertEquals("handler failed", e.getMessage());
        assertEquals(List.of(1, 2), seen);
        assertEquals(ring.consumer.position(),
                ring.position.get(ValueLayout.JAVA_LONG_UNALIGNED, SpscConsumerPositionDescriptor.POSITION_OFFSET),
                "the position up to and including message 2 is published");
        List<Message> rest = drain(ring.consumer, 10);
        assertEquals(1, rest.size());
        assertEquals(3, rest.getFirst().type());
    }

    @Test
    void offerCopiesExactlyTheSourceRange() {
        SpscTestRing ring = SpscTestRing.onHeap(1024);
        byte[] source = pattern(42, 100);
        assertTrue(ring.producer.offer(11, MemorySegment.ofArray(source), 10, 50));
        assertTrue(ring.producer.offer(12, MemorySegment.ofArray(source), 100, 0));
        List<Message> got = drain(ring.consumer, 10);
        assertEquals(2, got.size());
        assertEquals(11, got.get(0).type());
        assertArrayEquals(java.util.Arrays.copyOfRange(source, 10, 60), got.get(0).payload());
        assertEquals(0, got.get(1).payload().length);
        assertThrows(IndexOutOfBoundsException.class, () -> ring.producer.offer(1, MemorySegment.ofArray(source), 60, 41));
        assertThrows(IndexOutOfBoundsException.class, () -> ring.producer.offer(1, MemorySegment.ofArray(source), -1, 4));
        assertEquals(ring.producer.position(), ring.consumer.position(), "refused offers claim nothing");
    }

    @Test
    void claimOffsetsAreEightByteAlignedAndThePayloadNeverWraps() {
        SpscTestRing ring = SpscTestRing.onHeap(512);
        java.util.SplittableRandom random = new java.util.SplittableRandom(7);
        for (int i = 0; i < 10_000; i++) {
            int length = random.nextInt(ring.producer.maxMessageLength() + 1);
            long at = ring.producer.tryClaim(1, length);
            assertTrue(at >= 0);
            assertEquals(0, at % 8, "aligned");
            assertTrue(at + length <= ring.capacity, "inside the data area");
            ring.producer.commit(at);
            assertEquals(1, drain(ring.consumer, 10).size());
        }
    }
}
