package io.sluice.ringbuffer;

import io.sluice.api.MessageProducer;

import java.lang.foreign.MemorySegment;

/**
 * {@link MessageProducer#offer} for every ring: claim, copy, commit, and abort the claim if the
 * copy fails. Each producer's {@code offer} calls it with {@code this}; the method is small enough
 * that the JIT inlines it into that caller, where the producer's exact (final) class is known, so
 * the claim, commit and abort calls below bind statically there, whichever rings share the JVM.
 */
final class Offer {
    private Offer() {
    }

    /**
     * @param producer         the producer offering (its {@code this})
     * @param buffer           the segment its claim offsets index ({@link MessageProducer#buffer()})
     * @param what             names the ring in exception messages
     * @param maxMessageLength the ring's longest payload, for the argument check's message
     * @return false if the ring has no room now
     * @throws IndexOutOfBoundsException if the source range is outside {@code source} (checked
     *                                   before anything is claimed)
     */
    static boolean offer(MessageProducer producer, MemorySegment buffer, String what, int maxMessageLength,
                         int type, MemorySegment source, long sourceOffset, int length) {
        if (Misuse.outside(sourceOffset, length, source.byteSize())) {
            throw Misuse.offerArguments(what, type, sourceOffset, length, source.byteSize(), maxMessageLength);
        }
        final long at = producer.tryClaim(type, length);
        if (at == MessageProducer.INSUFFICIENT_CAPACITY) {
            return false;
        }
        try {
            MemorySegment.copy(source, sourceOffset, buffer, at, length);
        } catch (RuntimeException e) { // e.g. the source's arena was closed
            try {
                producer.abort(at);
            } catch (MpmcSlotLostException lost) { // MPMC: recovered meanwhile, nothing left to give back
                e.addSuppressed(lost);
            }
            throw e;
        }
        producer.commit(at);
        return true;
    }
}
