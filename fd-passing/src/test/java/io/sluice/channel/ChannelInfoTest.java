package io.sluice.channel;

import io.sluice.api.BroadcastPolicy;
import io.sluice.api.RingKind;
import io.sluice.api.Role;
import io.sluice.ringbuffer.BroadcastStart;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Both sides of a channel describe it alike: what the host made is what an attachment is told. */
class ChannelInfoTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    @Test
    void theHostAndEveryAttachmentSeeTheSameChannelInfo() {
        Path socket = dir.resolve("info.sock");
        try (ChannelHost host = ChannelHost.bind(socket)) {
            HostedSpscChannel spsc = host.spsc("orders", SpscOptions.of(8192).wakeParkedConsumers(true));
            HostedBroadcastChannel md = host.broadcast("md", BroadcastOptions.of(BroadcastPolicy.OVERWRITE, 4096)
                    .maxMessageLength(64).maxConsumers(2));
            HostedMpmcChannel work = host.mpmc("work", MpmcOptions.of(16, 64).maxParticipants(4));

            assertEquals(new ChannelInfo("orders", RingKind.SPSC, 8192, 1024, true), spsc.info());
            assertEquals(new ChannelInfo("md", RingKind.BROADCAST_OVERWRITE, 4096, 64, false), md.info());
            assertEquals(new ChannelInfo("work", RingKind.MPMC, 16 * 64, 64 - 16, false), work.info());

            try (var c = Channels.spsc(socket, "orders", WAIT);
                 var b = Channels.broadcast(socket, "md", BroadcastStart.NEWEST, WAIT);
                 var m = Channels.mpmc(socket, "work", Role.PRODUCER, WAIT);
                 var local = work.attachLocal(Role.CONSUMER)) {
                assertEquals(spsc.info(), c.info());
                assertEquals(md.info(), b.info());
                assertEquals(work.info(), m.info());
                assertEquals(work.info(), local.info());
            }
        }
    }
}
