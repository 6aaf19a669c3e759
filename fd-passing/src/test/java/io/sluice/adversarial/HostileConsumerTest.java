package io.sluice.adversarial;

import io.sluice.api.Role;
import io.sluice.channel.Attachment;
import io.sluice.channel.ChannelHost;
import io.sluice.channel.Channels;
import io.sluice.channel.ConsumerAttachment;
import io.sluice.channel.HostedSpscChannel;
import io.sluice.channel.SpscOptions;
import io.sluice.memfd.MemfdRegion;
import io.sluice.memfd.Seal;
import io.sluice.ringbuffer.SpscConsumerPositionDescriptor;
import io.sluice.ringbuffer.SpscConsumer;
import io.sluice.ringbuffer.SpscRing;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An SPSC consumer keeps a writable mapping of its own position region after READY (the protocol
 * has it so: only it writes its position). What it writes there before it leaves must not break
 * the channel for the producer or for the next consumer.
 */
class HostileConsumerTest {
    private static final Duration WAIT = Duration.ofSeconds(5);

    @TempDir
    Path dir;

    @Test
    void aConsumerThatLeavesAnUnalignedPositionDoesNotBreakTheChannel() throws Exception {
        assertTheChannelSurvives(12);
    }

    @Test
    void aConsumerThatLeavesAPositionAheadOfTheProducerDoesNotBreakTheChannel() throws Exception {
        assertTheChannelSurvives(1L << 20);
    }

    /**
     * A consumer attaches, writes {@code impossible} as its position after READY, and leaves; then
     * the next consumer is served, starts where the last honest position was, and the producer goes
     * on through several capacities with it.
     */
    private void assertTheChannelSurvives(long impossible) throws Exception {
        Path socket = dir.resolve("hostile.sock");
        try (ChannelHost host = ChannelHost.bind(socket); Arena arena = Arena.ofConfined()) {
            HostedSpscChannel ch = host.spsc("orders", SpscOptions.of(4096));
            long start = attachWriteAndLeave(socket, ch, impossible);
            try (ConsumerAttachment<SpscConsumer> c = Channels.spsc(socket, "orders", WAIT)) {
                assertEquals(start, c.consumer().position(), "the next consumer's start");
                MemorySegment m = arena.allocate(64);
                for (long i = 1; i <= 200; i++) { // several capacities: the producer reads the consumer's position
                    m.set(ValueLayout.JAVA_LONG_UNALIGNED, 0, i);
                    assertTrue(ch.producer().offer(1, m, 0, 64), "producer room for message " + i);
                    long[] got = {0};
                    long deadline = System.nanoTime() + WAIT.toNanos();
                    while (c.poll((t, p) -> got[0] = p.get(ValueLayout.JAVA_LONG_UNALIGNED, 0), 1) == 0) {
                        assertTrue(System.nanoTime() < deadline, "message " + i + " did not come");
                        Thread.onSpinWait();
                    }
                    assertEquals(i, got[0]);
                }
            }
        }
    }

    /**
     * Attaches as an honest consumer would (raw), then, after READY, writes {@code position} into
     * its own position region and closes. Returns the start position the host gave it.
     */
    private static long attachWriteAndLeave(Path socket, HostedSpscChannel ch, long position) throws Exception {
        CompletableFuture<Attachment> left = new CompletableFuture<>();
        ch.onDetach(left::complete);
        try (RawClient c = RawClient.connect(socket);
             MemfdRegion region = MemfdRegion.create("hostile.consumer", SpscConsumerPositionDescriptor.REGION_SIZE)) {
            assertEquals(0, c.send(Wire.hello(Role.CONSUMER, "orders")));
            RawClient.Received w = c.receive(WAIT);
            w.closeFds();
            Wire.Welcome welcome = Wire.decodeWelcome(ByteBuffer.wrap(w.data()).order(ByteOrder.LITTLE_ENDIAN));
            MemorySegment view = region.mapReadWrite();
            SpscRing.formatConsumerPosition(view, 4096);
            SpscConsumerPositionDescriptor.publishPosition(view, welcome.startPosition());
            region.addSeals(Seal.SHRINK, Seal.GROW, Seal.FUTURE_WRITE); // our own mapping stays writable
            assertEquals(0, c.send(Wire.position(SpscConsumerPositionDescriptor.REGION_SIZE), region.fd().numberForDiagnostics()));
            RawClient.Received ready = c.receive(WAIT);
            assertEquals(Wire.READY, Wire.type(ByteBuffer.wrap(ready.data()).order(ByteOrder.LITTLE_ENDIAN)));
            view.set(ValueLayout.JAVA_LONG_UNALIGNED, SpscConsumerPositionDescriptor.POSITION_OFFSET, position);
            c.close();
            left.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            return welcome.startPosition();
        }
    }
}
