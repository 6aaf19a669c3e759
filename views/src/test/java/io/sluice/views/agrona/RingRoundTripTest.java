package io.sluice.views.agrona;

import io.sluice.views.Seeded;
import io.sluice.api.MessageProducer;
import io.sluice.ringbuffer.SpscConsumer;
import io.sluice.ringbuffer.SpscProducer;
import io.sluice.ringbuffer.SpscRing;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * An SBE-style flyweight encodes in place into claims through the mutable view and decodes in
 * place from the consumer's read-only payloads through the read-only view, on a real SPSC ring
 * (it wraps many times); every message arrives as encoded.
 */
class RingRoundTripTest {
    private static final long CAPACITY = 4096;
    private static final int MESSAGES = 50_000;

    @Test
    void quotesEncodedIntoClaimsDecodeFromPayloads() {
        long seed = Seeded.seed();
        Seeded.run(seed, random -> {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment ring = arena.allocate(SpscRing.regionSize(CAPACITY), 4096);
                MemorySegment position = arena.allocate(SpscRing.consumerPositionRegionSize(), 128);
                SpscRing.format(ring, CAPACITY);
                SpscRing.formatConsumerPosition(position, CAPACITY);
                SpscProducer producer = SpscRing.attachProducer(ring, position, "test.views");
                SpscConsumer consumer = SpscRing.attachConsumer(ring.asReadOnly(), position, "test.views");

                MutableSegmentBuffer claim = new MutableSegmentBuffer();
                TestQuote.Encoder encoder = new TestQuote.Encoder();
                ReadOnlySegmentBuffer payload = new ReadOnlySegmentBuffer();
                TestQuote.Decoder decoder = new TestQuote.Decoder();
                long[] next = {0};
                String[] failure = {null};
                long sent = 0;
                while (next[0] < MESSAGES && failure[0] == null) {
                    // a random burst, then drain: the ring wraps at every offset
                    int burst = random.nextInt(1, 60);
                    for (int i = 0; i < burst && sent < MESSAGES; i++) {
                        long at = producer.tryClaim(TestQuote.TYPE, TestQuote.BLOCK_LENGTH);
                        if (at == MessageProducer.INSUFFICIENT_CAPACITY) {
                            break;
                        }
                        claim.wrapClaim(producer, at, TestQuote.BLOCK_LENGTH);
                        TestQuote.encode(encoder.wrap(claim, 0), seed, sent++);
                        producer.commit(at);
                    }
                    MemorySegment ringBuffer = consumer.buffer();
                    consumer.poll((type, bytes) -> {
                        payload.wrapPayload(ringBuffer, bytes);
                        String m = type != TestQuote.TYPE ? "type " + type
                                : payload.capacity() != TestQuote.BLOCK_LENGTH ? "length " + payload.capacity()
                                : TestQuote.mismatch(decoder.wrap(payload, 0), seed, next[0]);
                        if (m != null && failure[0] == null) {
                            failure[0] = "message " + next[0] + ": " + m;
                        }
                        next[0]++;
                    }, random.nextInt(1, 100));
                }
                assertNull(failure[0]);
                assertEquals(MESSAGES, next[0]);
                assertThrows(IllegalArgumentException.class, () -> claim.wrapClaim(producer, -1, 8), "a failed claim");
            }
        });
    }
}
