package io.sluice.views.agrona;

import io.sluice.api.MessageHandler;
import io.sluice.ringbuffer.SpscConsumer;
import io.sluice.ringbuffer.SpscProducer;
import io.sluice.ringbuffer.SpscRing;
import io.sluice.testing.ChildJvm;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The views add no allocation per message: a million quotes through a real SPSC ring, each
 * encoded into its claim through the mutable view ({@code wrapClaim}) and decoded from its
 * payload through the read-only view ({@code wrapPayload}); the bytes this thread allocated
 * (HotSpot's per-thread counter) stay below what one object per message would take. The same
 * loop with {@code wrap(payload)}, which keeps the slice, is measured and printed for comparison.
 * Each runs in a fresh JVM: the ring's handler call site must see one handler class, as in an
 * application's poll loop (after other tests' handlers it is megamorphic, the handler is not
 * inlined, and the ring's payload slice is allocated whatever the handler does).
 */
public final class ViewAllocationTest {
    private static final int MESSAGES = 1_000_000;
    private static final long CAPACITY = 64 * 1024;

    @Test
    void aMillionMessagesThroughARingAllocateNothing() throws Exception {
        long viaOffset = allocatedInAChild("offset");
        long viaSlice = allocatedInAChild("slice");
        System.out.printf("views: wrapClaim + wrapPayload: %d bytes over %,d messages (%.4f B/message);"
                + " wrapClaim + wrap(payload): %d bytes (%.1f B/message)%n",
                viaOffset, MESSAGES, (double) viaOffset / MESSAGES, viaSlice, (double) viaSlice / MESSAGES);
        // One 16-byte object per message would be 16 MB; allow the counter's and the JIT's own noise.
        assertTrue(viaOffset < 64 * 1024, () -> viaOffset + " bytes allocated over " + MESSAGES + " messages");
    }

    private static long allocatedInAChild(String mode) throws Exception {
        try (ChildJvm child = ChildJvm.launcher(ViewAllocationTest.class).withoutStdin().start(mode)) {
            String line = child.awaitLine("ALLOCATED ", 120);
            return Long.parseLong(line.substring("ALLOCATED ".length()).trim());
        }
    }

    /** In the child: warm up twice, then print the bytes allocated by one measured run. */
    public static void main(String[] args) {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        boolean viaOffset = args[0].equals("offset");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ring = arena.allocate(SpscRing.regionSize(CAPACITY), 4096);
            MemorySegment position = arena.allocate(SpscRing.consumerPositionRegionSize(), 128);
            SpscRing.format(ring, CAPACITY);
            SpscRing.formatConsumerPosition(position, CAPACITY);
            Loop loop = new Loop(SpscRing.attachProducer(ring, position, "test.alloc"),
                    SpscRing.attachConsumer(ring.asReadOnly(), position, "test.alloc"), viaOffset);
            loop.run();
            loop.run();
            long thread = Thread.currentThread().threadId();
            long before = threads.getThreadAllocatedBytes(thread);
            loop.run();
            long allocated = threads.getThreadAllocatedBytes(thread) - before;
            System.out.println("checksum " + loop.sum);
            System.out.println("ALLOCATED " + allocated);
        }
    }

    private static final class Loop {
        final SpscProducer producer;
        final SpscConsumer consumer;
        final MemorySegment ringBuffer;
        final MutableSegmentBuffer claim = new MutableSegmentBuffer();
        final ReadOnlySegmentBuffer payload = new ReadOnlySegmentBuffer();
        final TestQuote.Encoder encoder = new TestQuote.Encoder();
        final TestQuote.Decoder decoder = new TestQuote.Decoder();
        final MessageHandler handler;
        long sum;

        Loop(SpscProducer producer, SpscConsumer consumer, boolean viaOffset) {
            this.producer = producer;
            this.consumer = consumer;
            this.ringBuffer = consumer.buffer();
            this.handler = viaOffset
                    ? (type, bytes) -> {
                        payload.wrapPayload(ringBuffer, bytes);
                        sum += decoder.wrap(payload, 0).bid();
                    }
                    : (type, bytes) -> {
                        payload.wrap(bytes);
                        sum += decoder.wrap(payload, 0).bid();
                    };
        }

        void run() {
            for (int i = 0; i < MESSAGES; i++) {
                long at = producer.tryClaim(TestQuote.TYPE, TestQuote.BLOCK_LENGTH);
                claim.wrapClaim(producer, at, TestQuote.BLOCK_LENGTH);
                TestQuote.encode(encoder.wrap(claim, 0), 42, i);
                producer.commit(at);
                consumer.poll(handler, 1);
            }
        }
    }
}
