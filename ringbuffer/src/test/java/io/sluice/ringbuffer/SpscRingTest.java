package io.sluice.ringbuffer;

import io.sluice.api.MessageProducer;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

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
        // 3 records of 48 bytes (32-byte payloads) at 0, 64, 128: each ends 48 bytes into its line,
        // in the last 16 bytes, so the next starts on the next line -> position 192.
        for (int i = 0; i < 3; i++) {
            assertTrue(publish(ring.producer, 1, pattern(i, 32)) >= 0);
        }
        assertEquals(192, ring.producer.position());
        assertEquals(3, drain(ring.consumer, 10).size());
        publish(ring.producer, 1, pattern(4, 8));             // 24 bytes -> 216; one as long fits the 40 left
        assertEquals(216, ring.producer.position(), "no padding yet");
        long at = publish(ring.producer, 9, pattern(5, 32));  // 48 bytes: does not fit 40
        assertEquals(HEADER_LENGTH, at, "the record starts the next lap");
        MemorySegment data = ring.data();
        assertEquals(216, data.get(ValueLayout.JAVA_LONG_UNALIGNED, 216), "padding stamped with its position");
        assertEquals(40 - HEADER_LENGTH, data.get(ValueLayout.JAVA_INT_UNALIGNED, 216 + 8), "padding runs to the end");
        assertEquals(PADDING_TYPE, data.get(ValueLayout.JAVA_INT_UNALIGNED, 216 + 12));
        assertEquals(256 + 64, ring.producer.position(), "the record ends 48 into the line: the next starts on the next");

        List<Message> got = drain(ring.consumer, 10);
        assertEquals(2, got.size(), "padding is not delivered");
        assertEquals(9, got.get(1).type());
        assertArrayEquals(pattern(5, 32), got.get(1).payload());
        assertEquals(256 + 64, ring.consumer.position());
    }

    /**
     * A commit that leaves less room before the end of the data area than its own record spans
     * pads to the end right away, so the next claim of that size starts the lap without padding;
     * only inside the room, never over an unread record.
     */
    @Test
    void aCommitPadsToTheEndOfTheLapWhenARecordAsLongWouldNotFitBeforeIt() {
        SpscTestRing ring = SpscTestRing.onHeap(256);
        for (int i = 0; i < 3; i++) {
            publish(ring.producer, 1, pattern(i, 32));        // 0, 64, 128 -> 192
        }
        assertEquals(3, drain(ring.consumer, 10).size());
        publish(ring.producer, 1, pattern(3, 24));            // 40 bytes -> 232: 24 left < 40
        assertEquals(256, ring.producer.position(), "padded to the end of the lap at the commit");
        MemorySegment data = ring.data();
        assertEquals(232, data.get(ValueLayout.JAVA_LONG_UNALIGNED, 232), "padding stamped with its position");
        assertEquals(24 - HEADER_LENGTH, data.get(ValueLayout.JAVA_INT_UNALIGNED, 232 + 8), "padding runs to the end");
        assertEquals(PADDING_TYPE, data.get(ValueLayout.JAVA_INT_UNALIGNED, 232 + 12));
        assertEquals(INVALID_STAMP, stampAt(ring, 256), "the next lap's first slot was invalidated first");
        assertEquals(1, drain(ring.consumer, 10).size(), "the record, then the padding skipped");
        assertEquals(256, ring.consumer.position(), "the consumer waits at the next lap");
        assertEquals(HEADER_LENGTH, publish(ring.producer, 2, pattern(4, 24)), "the next claim starts the lap");
        List<Message> got = drain(ring.consumer, 10);
        assertEquals(1, got.size());
        assertArrayEquals(pattern(4, 24), got.getFirst().payload());

        SpscTestRing full = SpscTestRing.onHeap(256);          // the consumer stays at 0: room up to 256
        for (int i = 0; i < 3; i++) {
            publish(full.producer, 1, pattern(i, 32));
        }
        publish(full.producer, 1, pattern(3, 24));            // -> 232; padding would need 256 + 8
        assertEquals(232, full.producer.position(), "no padding past the room");
        assertEquals(0, stampAt(full, 256), "data offset 0 still holds the unread first record's stamp");
        assertEquals(1, drain(full.consumer, 1).size());       // room up to 320
        assertEquals(HEADER_LENGTH, publish(full.producer, 2, pattern(4, 24)), "the claim pads instead");
        assertEquals(4, drain(full.consumer, 10).size(), "every record delivered, the padding skipped");
    }

    @Test
    void aRecordEndingInTheLastSixteenBytesOfTheDataAreaIsFollowedByTheNextLapWithoutPadding() {
        // Bytes the producer never writes keep this fill: the gap after such a record must too.
        SpscTestRing ring = SpscTestRing.onHeapFilled(256, (byte) 0x5A);
        MemorySegment data = ring.data();
        for (int i = 0; i < 3; i++) {
            publish(ring.producer, 1, pattern(i, 32));        // 0, 64, 128 -> 192
        }
        drain(ring.consumer, 10);
        // A 48-byte record at 192 ends at 240, 16 bytes before the end: the next lap follows.
        long at = publish(ring.producer, 2, pattern(9, 32));
        assertEquals(192 + HEADER_LENGTH, at, "it fits: no padding before it");
        assertEquals(256, ring.producer.position(), "the next lap, no padding record in 240..256");
        assertEquals(INVALID_STAMP, stampAt(ring, 256), "the next lap's first slot was invalidated");
        assertEquals(0x5A5A_5A5A_5A5A_5A5AL, data.get(ValueLayout.JAVA_LONG_UNALIGNED, 240), "nothing written at 240");
        assertEquals(0x5A5A_5A5A_5A5A_5A5AL, data.get(ValueLayout.JAVA_LONG_UNALIGNED, 248));
        List<Message> got = drain(ring.consumer, 10);
        assertEquals(1, got.size());
        assertEquals(2, got.getFirst().type());
        assertArrayEquals(pattern(9, 32), got.getFirst().payload());
        assertEquals(256, ring.consumer.position(), "the consumer continues at the next lap");

        for (int i = 0; i < 3; i++) {
            publish(ring.producer, 1, pattern(i, 32));        // 256, 320, 384 -> 448 (data offset 192)
        }
        drain(ring.consumer, 10);
        publish(ring.producer, 2, new byte[0]);               // 16 bytes -> 464 (data offset 208)
        publish(ring.producer, 2, pattern(9, 8));             // 24 bytes -> 488 (data offset 232); 24 left: no padding
        // A 16-byte record at 232 ends at 248, 8 bytes before the end (layout 2 padded it instead).
        at = publish(ring.producer, 3, new byte[0]);
        assertEquals(232 + HEADER_LENGTH, at, "it fits: no padding before it");
        assertEquals(512, ring.producer.position(), "the next lap, no padding record in 248..256");
        assertEquals(INVALID_STAMP, stampAt(ring, 512));
        assertEquals(0x5A5A_5A5A_5A5A_5A5AL, data.get(ValueLayout.JAVA_LONG_UNALIGNED, 248), "nothing written at 248");
        got = drain(ring.consumer, 10);
        assertEquals(3, got.size());
        assertEquals(3, got.getLast().type());
        assertEquals(0, got.getLast().payload().length);
        assertEquals(512, ring.consumer.position());
        assertEquals(HEADER_LENGTH, publish(ring.producer, 4, pattern(4, 8)), "the next record starts the lap");
        assertEquals(4, drain(ring.consumer, 10).getFirst().type());
    }

    @Test
    void aRecordThatFitsTheEndExactlyNeedsNoPadding() {
        SpscTestRing ring = SpscTestRing.onHeap(256);
        for (int i = 0; i < 3; i++) {
            publish(ring.producer, 1, pattern(i, 32));        // 0, 64, 128 -> 192
        }
        drain(ring.consumer, 10);
        long at = publish(ring.producer, 2, pattern(7, 8));   // 24 bytes -> 216; 40 left
        assertEquals(192 + HEADER_LENGTH, at);
        at = publish(ring.producer, 3, pattern(8, 40 - HEADER_LENGTH)); // 40 bytes: exactly the end
        assertEquals(216 + HEADER_LENGTH, at);
        assertEquals(256, ring.producer.position());
        assertEquals(INVALID_STAMP, stampAt(ring, 256), "the next lap's first slot was invalidated");
        assertEquals(2, drain(ring.consumer, 10).size());
    }

    /**
     * A commit reads the consumer's position when less than a quarter of the ring is left, at most
     * once per eighth of it, so that the claims of a ring that keeps up never have to.
     */
    @Test
    void aCommitReadsTheConsumerPositionBeforeTheRoomRunsOut() {
        SpscTestRing ring = SpscTestRing.onHeap(1024);        // a quarter: 256 bytes, an eighth: 128
        for (int i = 0; i < 13; i++) {
            publish(ring.producer, 1, pattern(i, 32));        // 48-byte records, one per line -> 832
        }
        assertEquals(832, ring.producer.position());
        assertEquals(0, ring.producer.validatedPosition(), "read at 832 (192 left), the consumer still at 0");
        assertEquals(5, drain(ring.consumer, 5).size());      // the consumer at 320
        publish(ring.producer, 1, pattern(13, 32));           // -> 896: 128 left, but not an eighth since
        assertEquals(0, ring.producer.validatedPosition(), "not read again before 832 + 128");
        publish(ring.producer, 1, pattern(14, 32));           // -> 960
        assertEquals(320, ring.producer.validatedPosition(), "read again at 960");
        assertEquals(0, ring.producer.counters().refusedClaims(), "no claim found the room gone");
        assertEquals(10, drain(ring.consumer, 100).size());
    }

    /**
     * After each commit the producer stores an invalid stamp at the start of the line after the
     * next record's, to own that line early; only inside its room, where no unread record lies.
     */
    @Test
    void theLineAheadIsTakenOnlyInsideTheRoomAndNeverOverAnUnreadRecord() {
        SpscTestRing ring = SpscTestRing.onHeap(256); // the consumer stays at 0: the room ends at 256
        publish(ring.producer, 1, pattern(0, 32));     // 0..48, the next record at 64
        assertEquals(INVALID_STAMP, stampAt(ring, 128), "the line after the next record's is taken");
        publish(ring.producer, 2, pattern(1, 32));     // 64..112, next at 128
        assertEquals(INVALID_STAMP, stampAt(ring, 192));
        publish(ring.producer, 3, pattern(2, 32));     // 128..176, next at 192: the line at 256 is past the room
        assertEquals(0, stampAt(ring, 256), "data offset 0 still holds the unread first record's stamp");
        assertEquals(MessageProducer.INSUFFICIENT_CAPACITY, ring.producer.tryClaim(4, 32),
                "192..240, then the next record's slot at 256: past the room");
        assertEquals(0, stampAt(ring, 256), "a refused claim takes no line either");
        List<Message> got = drain(ring.consumer, 10);
        assertEquals(3, got.size(), "every unread record is delivered");
        for (int i = 0; i < 3; i++) {
            assertArrayEquals(pattern(i, 32), got.get(i).payload(), "message " + i);
        }
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
        long abortedNext = SpscRecordDescriptor.nextRecordStart(position + SpscRecordDescriptor.recordLength(32));
        assertEquals(INVALID_STAMP, stampAt(ring, abortedNext), "the claim marked its successor's slot; it stays, in free room");
        List<Message> got = drain(ring.consumer, 10);
        assertEquals(1, got.size());
        assertEquals(0, drain(ring.consumer, 10).size());
        assertEquals(at, publish(ring.producer, 3, pattern(3, 4)), "same space claimed again");
        got = drain(ring.consumer, 10);
        assertEquals(1, got.size());
        assertEquals(3, got.getFirst().type());
        assertArrayEquals(pattern(3, 4), got.getFirst().payload());
        for (int i = 0; i < 20; i++) {                  // laps over the slot the aborted claim marked
            publish(ring.producer, 4, pattern(i, 24 + i % 9));
            got = drain(ring.consumer, 10);
            assertEquals(1, got.size());
            assertArrayEquals(pattern(i, 24 + i % 9), got.getFirst().payload(), "message " + i);
        }
    }

    @Test
    void anAbortAfterAPaddingRecordKeepsThePaddingAndTheConsumerSkipsIt() {
        SpscTestRing ring = SpscTestRing.onHeap(256);
        for (int i = 0; i < 3; i++) {
            publish(ring.producer, 1, pattern(i, 32));        // 0, 64, 128 -> 192
        }
        publish(ring.producer, 1, pattern(3, 24));            // 40 bytes -> 232
        assertEquals(4, drain(ring.consumer, 10).size());
        long at = ring.producer.tryClaim(2, 32);              // 48 > 24: pads 24 bytes, record at 256
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
        // 0, 64, 128 (48 bytes each, then a 16-byte gap): a fourth at 192 ends at 240, and needs
        // the next lap's stamp slot too: 256 + 8 > 256.
        assertEquals(3, published);
        assertTrue(publish(ring.producer, 1, pattern(published++, 24)) >= 0, "40 bytes + 8 fit: 192 -> 232");
        long position = ring.producer.position();
        assertEquals(232, position);
        assertEquals(MessageProducer.INSUFFICIENT_CAPACITY, ring.producer.tryClaim(1, 0),
                "not even an empty one: it ends at 248, so the next record is at 256, and 256 + 8 > 256");
        assertFalse(ring.producer.offer(1, MemorySegment.ofArray(new byte[4]), 0, 4));
        assertEquals(position, ring.producer.position());
        assertEquals(INVALID_STAMP, stampAt(ring, position), "nothing written at the tail");
        assertEquals(1, drain(ring.consumer, 1).size());                       // head 64: room up to 320
        assertEquals(MessageProducer.INSUFFICIENT_CAPACITY, ring.producer.tryClaim(1, 32),
                "24 bytes of padding + 48, then the gap to 320, + 8 do not fit the 64 released");
        assertEquals(position, ring.producer.position());
        assertEquals(INVALID_STAMP, stampAt(ring, position), "the refused claim wrote no padding");
        assertTrue(publish(ring.producer, 2, new byte[0]) >= 0, "an empty record fits: 232 -> 248, next lap at 256, + 8");
        assertEquals(256, ring.producer.position(), "no padding after it");
        assertEquals(1, drain(ring.consumer, 1).size());                       // head 128
        assertTrue(publish(ring.producer, 3, pattern(99, 32)) >= 0, "room after the consumer released another record");
        List<Message> rest = drain(ring.consumer, 100);
        assertEquals(4, rest.size());                                          // 128, 192, 232, 256
        assertEquals(2, rest.get(2).type());
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

    /** A message the layout test sent and the consumer has not delivered yet: where it must be read. */
    private record Sent(long seq, int type, int length, long index) {
    }

    /**
     * Layout 3's placement rule, against arithmetic worked out here rather than taken from
     * SpscRecordDescriptor: records of random lengths through a small ring, a consumer draining in
     * random batches. Every record starts at most 40 bytes into its 64-byte line; the producer's
     * position after each commit is where the next record must start (or the next lap, when the
     * commit padded because a record as long would not fit before it); a claim is refused exactly
     * when the room it needs (up to the next record's stamp slot) is not free; a record ending 8
     * or 16 bytes before the end of the data area is followed by the next lap, no padding record
     * between; and every payload arrives intact, in order, where it was claimed.
     */
    @Test
    void noRecordStartsInTheLastSixteenBytesOfALine() {
        long seed = new SplittableRandom().nextLong();
        SplittableRandom random = new SplittableRandom(seed);
        SpscTestRing ring = SpscTestRing.onHeap(256);
        long capacity = ring.capacity;
        int max = ring.producer.maxMessageLength();
        ArrayDeque<Sent> inFlight = new ArrayDeque<>();
        int messages = 20_000;
        int[] endedShort = new int[2]; // records that ended 8, and 16, bytes before the end of the data area
        int paddings = 0;
        int eagerPaddings = 0;
        int refusals = 0;
        for (long seq = 0; seq < messages; seq++) {
            int length = random.nextInt(max + 1);
            int type = 1 + random.nextInt(1000);
            int recordLength = (HEADER_LENGTH + length + 7) & -8;
            long before = ring.producer.position();
            // Where it must go: here if it fits before the end of the data area, else the next lap;
            // and where the next one must start: where it ends, unless that is past 40 into a line.
            long start = (before & (capacity - 1)) + recordLength <= capacity ? before : (before / capacity + 1) * capacity;
            long end = start + recordLength;
            long next = (end & 63) <= 40 ? end : (end / 64 + 1) * 64;
            String what = "seed " + seed + ", message " + seq + " (" + start + ".." + end + ")";
            long at;
            while ((at = ring.producer.tryClaim(type, length)) == MessageProducer.INSUFFICIENT_CAPACITY) {
                assertTrue(next + 8 > ring.consumer.position() + capacity, what + ": refused, yet the room up to "
                        + (next + 8) + " is free (consumer at " + ring.consumer.position() + ")");
                assertEquals(before, ring.producer.position(), what + ": a refused claim writes nothing");
                refusals++;
                drainChecked(ring.consumer, inFlight, 1 + random.nextInt(4), seed);
            }
            assertTrue(next + 8 <= ring.consumer.position() + capacity, what + ": claimed without room up to " + (next + 8));
            assertEquals((start & (capacity - 1)) + HEADER_LENGTH, at, what + ": payload offset");
            SpscPayloads.fill(ring.producer.buffer(), at, length, seq);
            ring.producer.commit(at);
            // The commit pads to the end of the lap when a record as long would not fit before it
            // and the padding lies in the room (up to the last position the producer accepted).
            long toEnd = capacity - (next & (capacity - 1));
            boolean padNow = toEnd < next - start && next + toEnd + 8 <= ring.producer.validatedPosition() + capacity;
            assertEquals(padNow ? next + toEnd : next, ring.producer.position(), what + ": the producer's next position");
            assertTrue(ring.producer.validatedPosition() <= ring.consumer.position(), what + ": validated what the consumer published");
            if (start != before) {
                paddings++;
            }
            if (padNow) {
                eagerPaddings++;
            }
            long left = capacity - (end & (capacity - 1));
            if (left == 8 || left == 16) {
                // The next lap follows directly: no padding record in the last 8 or 16 bytes.
                assertEquals(end + left, ring.producer.position(), what + ": ends " + left + " bytes before the lap");
                endedShort[left == 8 ? 0 : 1]++;
            }
            inFlight.add(new Sent(seq, type, length, start & (capacity - 1)));
            if (random.nextInt(3) == 0) {
                drainChecked(ring.consumer, inFlight, 1 + random.nextInt(4), seed);
            }
        }
        while (!inFlight.isEmpty()) {
            assertTrue(drainChecked(ring.consumer, inFlight, 100, seed) > 0, "seed " + seed + ": messages lost " + inFlight);
        }
        assertEquals(messages, ring.consumer.messagesConsumed(), "seed " + seed + ": paddings are not delivered");
        assertEquals(ring.producer.position(), ring.consumer.position(), "seed " + seed);
        assertTrue(endedShort[0] > 100 && endedShort[1] > 100 && paddings > 100 && eagerPaddings > 100 && refusals > 100,
                "seed " + seed + ": every case came up (8 left: " + endedShort[0] + ", 16 left: " + endedShort[1]
                        + ", padded by a claim: " + paddings + ", by a commit: " + eagerPaddings + ", refused: " + refusals + ")");
    }

    /** Polls up to {@code limit} messages, each checked against the next one sent; returns how many. */
    private static int drainChecked(SpscConsumer consumer, ArrayDeque<Sent> inFlight, int limit, long seed) {
        long base = consumer.buffer().address();
        return consumer.poll((type, payload) -> {
            Sent sent = inFlight.poll();
            assertTrue(sent != null, "seed " + seed + ": a message nobody sent");
            String what = "seed " + seed + ", message " + sent.seq();
            long index = payload.address() - base - HEADER_LENGTH;
            assertTrue((index & 63) <= 40, what + ": record at data offset " + index + ", " + (index & 63) + " into its line");
            assertEquals(sent.index(), index, what + ": read where it was written");
            assertEquals(sent.type(), type, what);
            assertEquals(sent.length(), payload.byteSize(), what);
            assertTrue(SpscPayloads.matches(payload, sent.seq()), what + ": payload intact");
        }, limit);
    }
}
