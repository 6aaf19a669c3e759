package io.sluice.views.chronicle;

import io.sluice.api.MessageProducer;
import io.sluice.channel.ChannelHost;
import io.sluice.channel.HostedSpscChannel;
import io.sluice.channel.SpscOptions;
import io.sluice.ringbuffer.SpscProducer;
import io.sluice.testing.ChildJvm;
import io.sluice.views.Seeded;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * This JVM hosts an SPSC channel and encodes quotes into its claims with a BytesMarshallable
 * through {@link MutableSegmentBytes}; a child JVM attaches through the socket and decodes every
 * one in place, through {@link ReadOnlySegmentBytes} over its PROT_READ mapping, and says how
 * many matched what this JVM encoded.
 */
class ChronicleCrossProcessDecodeTest {
    static final int MESSAGES = 100_000;
    private static final long WAIT_SECONDS = 60;

    @TempDir
    Path dir;

    @Test
    void aChildJvmDecodesEveryQuoteThisJvmEncoded() throws Exception {
        long seed = Seeded.seed();
        Path socket = dir.resolve("views.sock");
        try (ChannelHost host = ChannelHost.bind(socket)) {
            HostedSpscChannel channel = host.spsc("views.chronicle", SpscOptions.of(16 * 1024));
            try (ChildJvm child = ChildJvm.launcher(ChronicleDecodingChild.class).jvmOptions("-XX:+UseSerialGC")
                    .jvmOptions(ChronicleFlags.ofThisJvm()).withoutStdin()
                    .start(socket.toString(), "views.chronicle", Long.toString(seed), Integer.toString(MESSAGES))) {
                child.awaitLine("ATTACHED", WAIT_SECONDS);
                SpscProducer producer = channel.producer();
                MutableSegmentBytes claim = new MutableSegmentBytes();
                ChronicleQuote quote = new ChronicleQuote();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
                for (long seq = 0; seq < MESSAGES; ) {
                    long at = producer.tryClaim(ChronicleQuote.TYPE, ChronicleQuote.MAX_LENGTH);
                    if (at == MessageProducer.INSUFFICIENT_CAPACITY) {
                        if (System.nanoTime() > deadline || !child.isAlive()) {
                            throw new AssertionError("the child stopped reading at message " + seq + "; seed " + seed
                                    + "; its output:\n" + child.output());
                        }
                        Thread.onSpinWait();
                        continue;
                    }
                    quote.fill(seed, seq++).writeMarshallable(claim.wrapClaim(producer, at, ChronicleQuote.MAX_LENGTH));
                    producer.commit(at);
                }
                String line = child.awaitLine("DECODED", WAIT_SECONDS);
                assertEquals("DECODED messages=" + MESSAGES + " matched=" + MESSAGES + " first_mismatch=none", line,
                        () -> "seed " + seed + "; child output:\n" + child.output());
                assertEquals(0, child.waitFor(WAIT_SECONDS), child::output);
            }
        }
    }
}
