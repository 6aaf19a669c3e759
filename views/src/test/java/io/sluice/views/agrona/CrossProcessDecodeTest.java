package io.sluice.views.agrona;

import io.sluice.views.Seeded;
import io.sluice.channel.ChannelHost;
import io.sluice.channel.HostedSpscChannel;
import io.sluice.channel.SpscOptions;
import io.sluice.api.MessageProducer;
import io.sluice.ringbuffer.SpscProducer;
import io.sluice.testing.ChildJvm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * This JVM hosts an SPSC channel and encodes quotes into its claims through the mutable view; a
 * child JVM attaches through the socket and decodes every one in place, through the read-only
 * view over its PROT_READ mapping, and says how many matched what this JVM encoded.
 */
class CrossProcessDecodeTest {
    static final int MESSAGES = 100_000;
    private static final long WAIT_SECONDS = 60;

    @TempDir
    Path dir;

    @Test
    void aChildJvmDecodesEveryQuoteThisJvmEncoded() throws Exception {
        long seed = Seeded.seed();
        Path socket = dir.resolve("views.sock");
        try (ChannelHost host = ChannelHost.bind(socket)) {
            HostedSpscChannel channel = host.spsc("views.quotes", SpscOptions.of(16 * 1024));
            try (ChildJvm child = ChildJvm.launcher(DecodingChild.class).jvmOptions("-XX:+UseSerialGC").withoutStdin()
                    .start(socket.toString(), "views.quotes", Long.toString(seed), Integer.toString(MESSAGES))) {
                child.awaitLine("ATTACHED", WAIT_SECONDS);
                SpscProducer producer = channel.producer();
                MutableSegmentBuffer claim = new MutableSegmentBuffer();
                TestQuote.Encoder encoder = new TestQuote.Encoder();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
                for (long seq = 0; seq < MESSAGES; ) {
                    long at = producer.tryClaim(TestQuote.TYPE, TestQuote.BLOCK_LENGTH);
                    if (at == MessageProducer.INSUFFICIENT_CAPACITY) {
                        if (System.nanoTime() > deadline || !child.isAlive()) {
                            throw new AssertionError("the child stopped reading at message " + seq + "; seed " + seed
                                    + "; its output:\n" + child.output());
                        }
                        Thread.onSpinWait();
                        continue;
                    }
                    claim.wrapClaim(producer, at, TestQuote.BLOCK_LENGTH);
                    TestQuote.encode(encoder.wrap(claim, 0), seed, seq++);
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
