package io.sluice.ringbuffer;

/**
 * A consumer published a position its producer cannot accept. A consumer's position region is
 * written by another process, which the producer does not trust: a bad position is that
 * consumer's fault, not the ring's. The producer neither throws nor trusts it: it stops reading
 * that consumer's position ({@link SpscProducer}: until the host hands it another region;
 * {@link BroadcastProducer}: that registration no longer gates it), and reports the fault once,
 * with this value, to the {@link ConsumerFaultListener} the host registered. The host typically
 * detaches that consumer.
 *
 * @param registration      which consumer: on an SPSC ring the generation of the followed region
 *                          (the {@link SpscProducer#followConsumer} hand-over that brought it; 0
 *                          for the region given at attach); on a broadcast ring the consumer's
 *                          registration number ({@link BroadcastProducer#addConsumer})
 * @param position          the position the consumer published
 * @param producerPosition  the producer's position (its tail) when it read it
 * @param validatedPosition the last position the producer had accepted from this consumer (SPSC:
 *                          its {@link SpscProducer#validatedPosition()}; broadcast: the last value
 *                          it read from that registration, or -1 if this was the first read)
 * @param problem           what is wrong
 * @param reason            what is wrong, in words naming the ring and the values (for a log, or
 *                          the text a host sends the consumer it detaches)
 */
public record ConsumerFault(long registration, long position, long producerPosition, long validatedPosition,
                            Problem problem, String reason) {

    /** What makes a published position impossible. */
    public enum Problem {
        /** Below zero: positions count bytes from the ring's start. */
        NEGATIVE,
        /** Not a multiple of 8: every record starts on one. */
        UNALIGNED,
        /** Beyond the producer's position: the consumer claims to have read what was never written. */
        BEYOND_PRODUCER,
        /** Behind a position the same consumer published before: positions never go back. */
        REWOUND,
        /** A region newly handed to the producer holds a position behind the one it had accepted. */
        BEHIND_ON_ADOPTION,
        /** Between the producer's last accepted position and its tail, but not where a record starts. */
        INSIDE_RECORD
    }
}
