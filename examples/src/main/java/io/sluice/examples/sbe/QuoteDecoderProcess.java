package io.sluice.examples.sbe;

import io.sluice.api.BackOffIdleStrategy;
import io.sluice.api.ConnectionClosedException;
import io.sluice.api.IdleStrategy;
import io.sluice.api.MessageHandler;
import io.sluice.channel.Channels;
import io.sluice.channel.ConsumerAttachment;
import io.sluice.ringbuffer.SpscConsumer;
import io.sluice.views.agrona.ReadOnlySegmentBuffer;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/**
 * The decoding JVM of {@link SbeDemo}: attaches to the channel (read-only mapping), decodes every
 * quote in place with the SBE-style decoder through a {@link ReadOnlySegmentBuffer}, checks each
 * against what the publisher encoded for its sequence number, and prints one {@code REPORT} line.
 * Arguments: socket, number of quotes.
 */
public final class QuoteDecoderProcess {
    private QuoteDecoderProcess() {
    }

    /** The instrument the publisher gives quote {@code seq}: both JVMs compute it. */
    static long instrument(long seq) {
        return 1000 + seq % 8;
    }

    /** The bid the publisher gives quote {@code seq}. */
    static long bid(long seq) {
        return 100_000 + (seq * 7919) % 50_000;
    }

    private static void pollUntil(ConsumerAttachment<SpscConsumer> in, Decoding onQuote, long quotes) {
        IdleStrategy idle = new BackOffIdleStrategy();
        while (onQuote.decoded < quotes) {
            idle.idle(in.poll(onQuote, 256));
        }
    }

    /**
     * Decodes one quote per call. onMessage only re-points the view (the payload slice goes no
     * further, so the JIT can scalar-replace it) and hands over to {@link #check}.
     */
    private static final class Decoding implements MessageHandler {
        private final MemorySegment ring; // every payload is a slice of it
        private final ReadOnlySegmentBuffer view = new ReadOnlySegmentBuffer();
        private final QuoteCodec.Decoder decoder = new QuoteCodec.Decoder();
        long decoded;
        long intact;

        Decoding(MemorySegment ring) {
            this.ring = ring;
        }

        @Override
        public void onMessage(int type, MemorySegment payload) {
            view.wrapPayload(ring, payload); // keeps the ring and an offset, not the slice: no allocation
            check(type);
        }

        private void check(int type) {
            decoder.wrapAndCheckHeader(view, 0);
            long seq = decoded;
            if (type == QuoteCodec.MESSAGE_TYPE && decoder.sequence() == seq && decoder.instrumentId() == instrument(seq)
                    && decoder.bid() == bid(seq) && decoder.ask() == bid(seq) + 4
                    && decoder.bidSize() == 1_000_000 && decoder.askSize() == 2_000_000) {
                intact++;
            }
            decoded++;
        }
    }

    public static void main(String[] args) {
        Path socket = Path.of(args[0]);
        long quotes = Long.parseLong(args[1]);
        String tag = "[decoder pid " + ProcessHandle.current().pid() + "] ";
        try (ConsumerAttachment<SpscConsumer> in = Channels.spsc(socket, SbeDemo.CHANNEL)) {
            System.out.println(tag + "attached to '" + SbeDemo.CHANNEL + "', ring mapped read-only; decoding in place");
            Decoding onQuote = new Decoding(in.consumer().buffer());
            long before = 0;
            long measuredFrom = 0;
            try {
                // The first half warms the JIT up (the interpreter allocates the payload slices); the second is measured.
                pollUntil(in, onQuote, quotes / 2);
                measuredFrom = onQuote.decoded;
                before = AllocatedBytes.ofThisThread();
                pollUntil(in, onQuote, quotes);
            } catch (ConnectionClosedException e) {
                System.out.println(tag + "the publisher left after " + onQuote.decoded + " quotes: " + e.getMessage());
            }
            long[] counts = {onQuote.decoded, onQuote.intact};
            long allocated = AllocatedBytes.ofThisThread() - before;
            System.out.println(tag + "REPORT pid=" + ProcessHandle.current().pid() + " decoded=" + counts[0] + " intact="
                    + counts[1] + " measured=" + (counts[0] - measuredFrom) + " allocated=" + allocated);
        }
    }
}
