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
import java.util.Arrays;

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

    public static void main(String[] args) {
        Path socket = Path.of(args[0]);
        long quotes = Long.parseLong(args[1]);
        String tag = "[decoder pid " + ProcessHandle.current().pid() + "] ";
        ReadOnlySegmentBuffer view = new ReadOnlySegmentBuffer();
        QuoteCodec.Decoder decoder = new QuoteCodec.Decoder();
        long[] counts = new long[2]; // decoded, intact
        long[] latencies = new long[4096]; // a sample of publish-to-decode times
        try (ConsumerAttachment<SpscConsumer> in = Channels.spsc(socket, SbeDemo.CHANNEL)) {
            System.out.println(tag + "attached to '" + SbeDemo.CHANNEL + "', ring mapped read-only; decoding in place");
            IdleStrategy idle = new BackOffIdleStrategy();
            MemorySegment ring = in.consumer().buffer(); // every payload is a slice of it
            MessageHandler onQuote = (type, payload) -> {
                view.wrapPayload(ring, payload); // keeps the ring and an offset, not the slice: no allocation
                decoder.wrapAndCheckHeader(view, 0);
                long seq = counts[0];
                if (type == QuoteCodec.MESSAGE_TYPE && decoder.sequence() == seq && decoder.instrumentId() == instrument(seq)
                        && decoder.bid() == bid(seq) && decoder.ask() == bid(seq) + 4
                        && decoder.bidSize() == 1_000_000 && decoder.askSize() == 2_000_000) {
                    counts[1]++;
                }
                if ((seq & 0xFF) == 0) {
                    latencies[(int) ((seq >>> 8) % latencies.length)] = System.nanoTime() - decoder.sendTime();
                }
                counts[0]++;
            };
            long before = AllocatedBytes.ofThisThread();
            try {
                while (counts[0] < quotes) {
                    idle.idle(in.poll(onQuote, 256));
                }
            } catch (ConnectionClosedException e) {
                System.out.println(tag + "the publisher left after " + counts[0] + " quotes: " + e.getMessage());
            }
            long allocated = AllocatedBytes.ofThisThread() - before;
            long[] sample = Arrays.copyOf(latencies, (int) Math.min(latencies.length, (counts[0] + 255) / 256));
            Arrays.sort(sample);
            long p50 = sample.length == 0 ? 0 : sample[sample.length / 2] / 1000;
            System.out.println(tag + "REPORT pid=" + ProcessHandle.current().pid() + " decoded=" + counts[0] + " intact="
                    + counts[1] + " allocated=" + allocated + " p50_us=" + p50);
        }
    }
}
