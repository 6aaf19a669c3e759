package io.sluice.perf.latency.systems;

import io.sluice.api.MessageProducer;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * How every Sluice row sends: the value goes into an off-heap staging message
 * ({@link Payload#offHeapMessage}), and {@link MessageProducer#offer} claims, copies and commits
 * it in one call.
 *
 * <p>Why not tryClaim, write in place, commit, as an application that encodes into the ring
 * would: in a loop that spins on poll between messages (every responder here), C2 profiles the
 * send path as cold next to the spin, and in some runs declined to inline tryClaim and commit
 * ("too big" for a cold call site, or "already compiled into a medium method"); those runs were
 * 40-60 ns slower per round trip. {@code offer} is one call whether inlined or not, and C2
 * compiles it whole (its claim, copy and commit are hot within it): every run the same. The extra
 * cost is copying the 8-byte value once more.
 */
final class OfferSender {
    private final MessageProducer out;
    private final MemorySegment message;
    private final int size;

    OfferSender(MessageProducer out, int size) {
        this.out = out;
        this.size = size;
        this.message = Payload.offHeapMessage(size);
    }

    /** Sends a message of {@code size} bytes carrying {@code value}; spins while the ring is full. */
    void send(long value) {
        message.set(JAVA_LONG_UNALIGNED, 0, value);
        while (!out.offer(1, message, 0, size)) {
            // full: spin
        }
    }
}
