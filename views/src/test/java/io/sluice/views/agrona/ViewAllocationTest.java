package io.sluice.views.agrona;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Re-pointing a view and reading or writing through it allocates nothing: the bytes this thread
 * allocated (HotSpot's per-thread counter) around a million re-points of each view, each followed
 * by a flyweight encode or decode, stay below what a single object per message would take.
 */
class ViewAllocationTest {
    private static final int ROUNDS = 1_000_000;

    @Test
    void aMillionRePointsAllocateNothing() {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long thread = Thread.currentThread().threadId();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ring = arena.allocate(64 * 1024, 64);
            MemorySegment readOnly = ring.asReadOnly();
            MutableSegmentBuffer claim = new MutableSegmentBuffer();
            ReadOnlySegmentBuffer payload = new ReadOnlySegmentBuffer();
            TestQuote.Encoder encoder = new TestQuote.Encoder();
            TestQuote.Decoder decoder = new TestQuote.Decoder();
            long sink = run(ring, readOnly, claim, payload, encoder, decoder); // warm up: compile the loop
            sink += run(ring, readOnly, claim, payload, encoder, decoder);
            long before = threads.getThreadAllocatedBytes(thread);
            sink += run(ring, readOnly, claim, payload, encoder, decoder);
            long allocated = threads.getThreadAllocatedBytes(thread) - before;
            double perMessage = (double) allocated / ROUNDS;
            System.out.printf("views: %d bytes allocated over %,d re-points of each view with an encode and a decode"
                    + " (%.4f B/message); checksum %d%n", allocated, ROUNDS, perMessage, sink);
            // A single 16-byte object per message would be 16 MB; allow the counter's own noise.
            assertTrue(allocated < 64 * 1024, () -> allocated + " bytes allocated over " + ROUNDS + " messages");
        }
    }

    private static long run(MemorySegment ring, MemorySegment readOnly, MutableSegmentBuffer claim,
                            ReadOnlySegmentBuffer payload, TestQuote.Encoder encoder, TestQuote.Decoder decoder) {
        long sum = 0;
        long slots = ring.byteSize() / 64;
        for (int i = 0; i < ROUNDS; i++) {
            long at = (i % slots) * 64 + 8;
            claim.wrap(ring, at, TestQuote.BLOCK_LENGTH);
            TestQuote.encode(encoder.wrap(claim, 0), 42, i);
            payload.wrap(readOnly, at, TestQuote.BLOCK_LENGTH);
            sum += decoder.wrap(payload, 0).bid();
        }
        return sum;
    }
}
