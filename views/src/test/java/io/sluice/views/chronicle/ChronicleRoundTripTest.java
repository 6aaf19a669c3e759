package io.sluice.views.chronicle;

import io.sluice.api.MessageProducer;
import io.sluice.ringbuffer.SpscConsumer;
import io.sluice.ringbuffer.SpscProducer;
import io.sluice.ringbuffer.SpscRing;
import io.sluice.views.Seeded;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.bytes.BytesMarshallable;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.BufferOverflowException;
import java.nio.BufferUnderflowException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Chronicle codecs encode in place into claims through {@link MutableSegmentBytes} and decode in
 * place from the consumer's read-only payloads through {@link ReadOnlySegmentBytes}, on a real
 * SPSC ring (it wraps many times): a hand-written {@code BytesMarshallable}, one read by
 * Chronicle's reflective marshaller (strings, stop-bit numbers, doubles: Chronicle's own helpers
 * reading through the view), and length-prefixed messages.
 */
class ChronicleRoundTripTest {
    private static final long CAPACITY = 4096;
    private static final int MESSAGES = 50_000;

    @Test
    void quotesEncodedIntoClaimsDecodeFromPayloads() {
        long seed = Seeded.seed();
        Seeded.run(seed, random -> {
            try (Arena arena = Arena.ofConfined()) {
                Ring ring = new Ring(arena);
                MutableSegmentBytes claim = new MutableSegmentBytes();
                ReadOnlySegmentBytes payload = new ReadOnlySegmentBytes();
                ChronicleQuote out = new ChronicleQuote();
                ChronicleQuote in = new ChronicleQuote();
                long[] next = {0};
                String[] failure = {null};
                long sent = 0;
                while (next[0] < MESSAGES && failure[0] == null) {
                    int burst = random.nextInt(1, 60); // a random burst, then drain: the ring wraps at every offset
                    for (int i = 0; i < burst && sent < MESSAGES; i++) {
                        long at = ring.producer.tryClaim(ChronicleQuote.TYPE, ChronicleQuote.MAX_LENGTH);
                        if (at == MessageProducer.INSUFFICIENT_CAPACITY) {
                            break;
                        }
                        out.fill(seed, sent++).writeMarshallable(claim.wrapClaim(ring.producer, at, ChronicleQuote.MAX_LENGTH));
                        ring.producer.commit(at);
                    }
                    MemorySegment ringBuffer = ring.consumer.buffer();
                    ring.consumer.poll((type, bytes) -> {
                        payload.wrapPayload(ringBuffer, bytes);
                        in.readMarshallable(payload);
                        String m = type != ChronicleQuote.TYPE ? "type " + type : in.mismatch(seed, next[0]);
                        if (m != null && failure[0] == null) {
                            failure[0] = "message " + next[0] + ": " + m;
                        }
                        next[0]++;
                    }, random.nextInt(1, 100));
                }
                assertNull(failure[0]);
                assertEquals(MESSAGES, next[0]);
                assertThrows(IllegalArgumentException.class, () -> claim.wrapClaim(ring.producer, -1, 8), "a failed claim");
            }
        });
    }

    /** Read by Chronicle's reflective marshaller: every field through the view's getters. */
    public static final class Order implements BytesMarshallable { // public: Chronicle's marshaller reads its fields
        public String symbol;
        public long quantity;
        public double price;
        public int flags;
        public boolean buy;
    }

    @Test
    void chroniclesReflectiveMarshallerAndLengthPrefixedMessagesReadThroughTheView() {
        try (Arena arena = Arena.ofConfined()) {
            Ring ring = new Ring(arena);
            MutableSegmentBytes claim = new MutableSegmentBytes();
            Order order = new Order();
            order.symbol = "EURUSD prix €";
            order.quantity = 1_000_000;
            order.price = 1.08345;
            order.flags = -7;
            order.buy = true;
            long at = ring.producer.tryClaim(3, 128);
            Bytes<Void> bytes = claim.wrapClaim(ring.producer, at, 128);
            order.writeMarshallable(bytes);
            bytes.writeUtf8("after");
            bytes.writeMarshallableLength16(order);
            bytes.writeStopBit(-1L);
            assertThrows(BufferOverflowException.class, () -> bytes.write(new byte[128]), "never past the claim");
            ring.producer.commit(at);

            ReadOnlySegmentBytes view = new ReadOnlySegmentBytes();
            MemorySegment ringBuffer = ring.consumer.buffer();
            int polled = ring.consumer.poll((type, payload) -> {
                view.wrapPayload(ringBuffer, payload);
                Order read = new Order();
                read.readMarshallable(view);
                assertEquals(order.symbol, read.symbol);
                assertEquals(order.quantity, read.quantity);
                assertEquals(order.price, read.price);
                assertEquals(order.flags, read.flags);
                assertEquals(order.buy, read.buy);
                assertEquals("after", view.readUtf8());
                Order framed = (Order) view.readMarshallableLength16(Order.class, null);
                assertEquals(order.symbol, framed.symbol);
                assertEquals(-1L, view.readStopBit());
                assertEquals(128, view.readLimit(), "the frame's limit was restored");
                view.readSkip(view.readRemaining());
                assertThrows(BufferUnderflowException.class, view::readByte, "the payload's end");
            }, 1);
            assertEquals(1, polled);
        }
    }

    /** An SPSC ring in native memory: the producer writes it, the consumer holds it read-only. */
    static final class Ring {
        final SpscProducer producer;
        final SpscConsumer consumer;

        Ring(Arena arena) {
            MemorySegment ring = arena.allocate(SpscRing.regionSize(CAPACITY), 4096);
            MemorySegment position = arena.allocate(SpscRing.consumerPositionRegionSize(), 128);
            SpscRing.format(ring, CAPACITY);
            SpscRing.formatConsumerPosition(position, CAPACITY);
            producer = SpscRing.attachProducer(ring, position, "test.chronicle");
            consumer = SpscRing.attachConsumer(ring.asReadOnly(), position, "test.chronicle");
        }
    }
}
