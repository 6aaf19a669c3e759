package io.sluice.views.chronicle;

import io.sluice.channel.Channels;
import io.sluice.channel.ConsumerAttachment;
import io.sluice.ringbuffer.SpscConsumer;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The second JVM of {@link ChronicleCrossProcessDecodeTest}: attaches to the channel (args:
 * socket, channel, seed, messages), decodes every quote in place through a
 * {@link ReadOnlySegmentBytes} over its read-only mapping and prints
 * {@code DECODED messages=<n> matched=<n> first_mismatch=<what>}.
 */
public final class ChronicleDecodingChild {
    private ChronicleDecodingChild() {
    }

    public static void main(String[] args) {
        long seed = Long.parseLong(args[2]);
        int messages = Integer.parseInt(args[3]);
        try (ConsumerAttachment<SpscConsumer> in = Channels.spsc(Path.of(args[0]), args[1])) {
            System.out.println("ATTACHED");
            ReadOnlySegmentBytes view = new ReadOnlySegmentBytes();
            MemorySegment ring = in.consumer().buffer();
            if (!ring.isReadOnly()) {
                throw new AssertionError("the consumer's ring should be read-only");
            }
            ChronicleQuote quote = new ChronicleQuote();
            long[] counts = new long[2]; // seen, matched
            String[] firstMismatch = {"none"};
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (counts[0] < messages && System.nanoTime() < deadline) {
                in.poll((type, payload) -> {
                    view.wrapPayload(ring, payload);
                    quote.readMarshallable(view);
                    String m = quote.mismatch(seed, counts[0]);
                    if (m == null && type == ChronicleQuote.TYPE) {
                        counts[1]++;
                    } else if ("none".equals(firstMismatch[0])) {
                        firstMismatch[0] = (m == null ? "type_" + type : m).replace(' ', '_');
                    }
                    counts[0]++;
                }, 256);
            }
            System.out.println("DECODED messages=" + counts[0] + " matched=" + counts[1] + " first_mismatch=" + firstMismatch[0]);
        }
    }
}
