package io.sluice.ringbuffer;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.SplittableRandom;

import static io.sluice.ringbuffer.SpscRecordDescriptor.INVALID_STAMP;
import static io.sluice.ringbuffer.SpscRingTest.drain;
import static io.sluice.ringbuffer.SpscRingTest.pattern;
import static io.sluice.ringbuffer.SpscRingTest.publish;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The consumer never zeroes what it read, so the ring is full of stale bytes. Commit detection
 * must not be fooled by stale bytes that equal the position the consumer expects: payload of an
 * older lap, or records of an earlier ring in the same memory. Each test here fails if the
 * producer stops writing the invalid stamp into the next record's slot before each commit (the
 * first one by delivering a phantom record), or if format stops writing it into the slot of
 * position 0.
 */
class SpscStaleBytesTest {

    @Test
    void stalePayloadEqualToTheConsumersPositionIsNotTakenForACommittedRecord() {
        // All-ones memory: every slot reads as "not committed", except what the forged payload says.
        SpscTestRing ring = SpscTestRing.onHeapFilled(256, (byte) 0xFF);
        // Lap 0: a 32-byte payload (data offsets 16..48) forging a record at lap 1's position 272.
        long at = ring.producer.tryClaim(1, 32);
        MemorySegment buf = ring.producer.buffer();
        buf.set(ValueLayout.JAVA_LONG_UNALIGNED, at, 272L);        // "stamp"
        buf.set(ValueLayout.JAVA_INT_UNALIGNED, at + 8, 8);        // "length"
        buf.set(ValueLayout.JAVA_INT_UNALIGNED, at + 12, 2);       // "type"
        buf.set(ValueLayout.JAVA_LONG_UNALIGNED, at + 16, 0xBADL);  // "payload"
        ring.producer.commit(at);
        assertEquals(1, drain(ring.consumer, 10).size());
        assertEquals(64, ring.consumer.position(), "the first record ends at 48, in the last 16 bytes of its line");
        for (int i = 0; i < 3; i++) {
            publish(ring.producer, 3, new byte[32]);                // 64, 128, 192 (48 bytes, then a gap) -> 256
        }
        publish(ring.producer, 3, new byte[0]);                     // 256 -> 272
        assertEquals(272, ring.producer.position());
        assertEquals(4, drain(ring.consumer, 10).size(), "the four fillers and nothing else (a phantom at 272 makes 5)");
        assertEquals(272, ring.consumer.position());

        assertEquals(INVALID_STAMP, ring.data().get(ValueLayout.JAVA_LONG_UNALIGNED, 16),
                "the forged stamp was overwritten before the record ending at 272 was published");
        assertEquals(0, drain(ring.consumer, 10).size(), "no phantom record at 272");

        publish(ring.producer, 5, pattern(5, 8));
        List<SpscRingTest.Message> got = drain(ring.consumer, 10);
        assertEquals(1, got.size());
        assertEquals(5, got.getFirst().type());
        assertArrayEquals(pattern(5, 8), got.getFirst().payload());
    }

    @Test
    void payloadsFullOfNextLapPositionsNeverProduceAPhantom() {
        long seed = new SplittableRandom().nextLong();
        try {
            SpscTestRing ring = SpscTestRing.onHeapFilled(512, (byte) 0xFF);
            SplittableRandom random = new SplittableRandom(seed);
            int max = ring.producer.maxMessageLength();
            MemorySegment buf = ring.producer.buffer();
            for (int i = 0; i < 20_000; i++) {
                int length = random.nextInt(max + 1);
                long at = ring.producer.tryClaim(1 + (i & 0xFFFF), length);
                assertTrue(at >= 0);
                // every aligned word of the payload holds the position its bytes will have in the next lap
                long payloadPosition = ring.producer.position() + SpscRecordDescriptor.HEADER_LENGTH;
                for (long k = 0; k + 8 <= length; k += 8) {
                    buf.set(ValueLayout.JAVA_LONG_UNALIGNED, at + k, payloadPosition + k + ring.capacity);
                }
                if (random.nextBoolean()) {
                    assertEquals(0, drain(ring.consumer, 10).size(), "nothing before the commit");
                }
                ring.producer.commit(at);
                List<SpscRingTest.Message> got = drain(ring.consumer, 10);
                assertEquals(1, got.size(), "message " + i);
                assertEquals(1 + (i & 0xFFFF), got.getFirst().type());
                assertEquals(length, got.getFirst().payload().length);
                assertEquals(0, drain(ring.consumer, 10).size(), "nothing after it either");
            }
        } catch (AssertionError | RuntimeException e) {
            throw new AssertionError("seed " + seed + ": " + e.getMessage(), e);
        }
    }

    @Test
    void formattingOverTheRecordsOfAnEarlierRingDeliversOnlyNewRecords() {
        SpscTestRing old = SpscTestRing.onHeap(1024);
        // The earlier ring: a chain of committed 24-byte records at positions 0, 24, 64, 88, 128, ...
        for (int i = 0; i < 40; i++) {
            publish(old.producer, 9, pattern(i, 8));
        }
        SpscRing.format(old.region, 1024);
        SpscRing.formatConsumerPosition(old.position, 1024);
        SpscProducer producer = SpscRing.attachProducer(old.region, old.position.asReadOnly(), "reused");
        SpscConsumer consumer = SpscRing.attachConsumer(old.region.asReadOnly(), old.position, "reused");
        assertEquals(0, producer.position(), "the new producer starts at 0, not after the old chain");
        assertEquals(0, drain(consumer, 100).size(), "the old chain is not delivered");
        // New records of other sizes land on old stamps and old payload alike.
        for (int i = 0; i < 200; i++) {
            publish(producer, 1, pattern(i, i % 40));
            List<SpscRingTest.Message> got = drain(consumer, 100);
            assertEquals(1, got.size(), "record " + i);
            assertArrayEquals(pattern(i, i % 40), got.getFirst().payload());
        }
    }
}
