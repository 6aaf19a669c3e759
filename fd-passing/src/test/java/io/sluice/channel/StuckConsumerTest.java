package io.sluice.channel;

import io.sluice.api.BroadcastPolicy;
import io.sluice.api.RefusalReason;
import io.sluice.ringbuffer.SpscConsumer;
import io.sluice.testing.ChildJvm;
import jdk.jfr.Configuration;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.sluice.channel.ChannelEventsTest.assertOne;
import static io.sluice.channel.ChannelEventsTest.await;
import static io.sluice.channel.ChannelEventsTest.produce;
import static io.sluice.channel.ChannelEventsTest.sluiceEvents;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The stuck-consumer policy across processes: a child JVM attaches as a consumer and stops
 * polling while it stays alive; the host's producer fills the ring. With the policy on, the host
 * detaches the child ({@code DETACH(STUCK)}) and the producer goes on (broadcast: at once; SPSC:
 * once the next consumer reads, which receives everything from where the stuck one stopped). With
 * it off, the child stays attached however long the producer waits.
 */
class StuckConsumerTest {
    private static final long TIMEOUT_S = 20;
    private static final Duration STUCK = Duration.ofMillis(300);

    @TempDir
    Path dir;

    @Test
    void aStuckSpscConsumerIsDetachedAndTheNextConsumerReceivesEverythingFromWhereItStopped() throws Exception {
        String name = "stuck-orders";
        Path socket = dir.resolve("spsc.sock");
        Path file = dir.resolve("stuck.jfr");
        long childPid;
        long attachment;
        List<String> lines;
        try (Recording recording = new Recording(Configuration.getConfiguration("default"));
             ChannelEventsTest.JulCapture log = new ChannelEventsTest.JulCapture();
             ChannelHost host = ChannelHost.bind(socket, HostOptions.defaults().stuckConsumerTimeout(STUCK))) {
            recording.start();
            HostedSpscChannel ch = host.spsc(name, SpscOptions.of(4096));
            CompletableFuture<Attachment> detached = new CompletableFuture<>();
            ch.onDetach(detached::complete);
            long seq = 0;
            try (ChildJvm child = ChildJvm.start(ChannelPeer.class, "spsc-stop", socket.toString(), name, "3")) {
                child.awaitLine("ATTACHED", TIMEOUT_S);
                childPid = child.pid();
                attachment = ch.consumer().id();
                while (seq < 3) {
                    seq += produce(ch.producer(), seq) ? 1 : 0;
                }
                child.awaitLine("HELD 3", TIMEOUT_S);
                while (produce(ch.producer(), seq)) {
                    seq++;
                }
                Attachment gone = detached.get(TIMEOUT_S, TimeUnit.SECONDS);
                assertEquals(attachment, gone.id());
                assertEquals(1, host.stuckConsumerDetaches());
                // What the detached consumer sees: end of stream after DETACH(STUCK).
                child.stdin().write("go\n".getBytes(StandardCharsets.UTF_8));
                child.stdin().flush();
                child.awaitLine("DETACHED STUCK ", TIMEOUT_S);
            }
            // Nothing committed is lost: the next consumer starts where the stuck one stopped.
            long produced = seq;
            try (ConsumerAttachment<SpscConsumer> next = Channels.spsc(socket, name)) {
                long[] expected = {3};
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_S);
                while (expected[0] < produced) {
                    next.poll((type, payload) -> assertEquals(expected[0]++, payload.get(JAVA_LONG_UNALIGNED, 0)), 256);
                    assertTrue(System.nanoTime() < deadline, "the next consumer read up to " + expected[0] + " of " + produced);
                }
                assertTrue(produce(ch.producer(), seq), "the producer has room again");
            }
            recording.stop();
            recording.dump(file);
            lines = log.lines();
        }
        assertOne(lines, "WARNING: detach: channel '" + name + "' SPSC CONSUMER #" + attachment, " peer pid " + childPid,
                " cause STUCK: channel '" + name + "': consumer #" + attachment + " has not moved from position ");
        RecordedEvent detach = sluiceEvents(file, name).stream()
                .filter(e -> e.getEventType().getName().equals("io.sluice.Detach") && e.getLong("attachment") == attachment)
                .findFirst().orElseThrow();
        assertEquals("STUCK", detach.getString("cause"));
        assertEquals(childPid, detach.getInt("pid"));
    }

    @Test
    void aStuckBackPressureBroadcastConsumerIsDetachedAndTheProducerGoesOnAtOnce() throws Exception {
        String name = "stuck-quotes";
        Path socket = dir.resolve("bcast.sock");
        try (ChannelHost host = ChannelHost.bind(socket, HostOptions.defaults().stuckConsumerTimeout(STUCK))) {
            HostedBroadcastChannel ch = host.broadcast(name, BroadcastOptions.of(BroadcastPolicy.BACK_PRESSURE, 4096));
            CompletableFuture<Attachment> detached = new CompletableFuture<>();
            ch.onDetach(detached::complete);
            try (ChildJvm child = ChildJvm.start(ChannelPeer.class, "bcast-stop", socket.toString(), name)) {
                child.awaitLine("ATTACHED", TIMEOUT_S);
                Attachment stuck = ch.attachments().get(0);
                long seq = 0;
                while (produce(ch.producer(), seq)) {
                    seq++;
                }
                assertSame(stuck, detached.get(TIMEOUT_S, TimeUnit.SECONDS));
                assertEquals(1, host.stuckConsumerDetaches());
                assertTrue(produce(ch.producer(), seq), "the producer no longer waits for the detached consumer");
                child.stdin().write("go\n".getBytes(StandardCharsets.UTF_8));
                child.stdin().flush();
                child.awaitLine("DETACHED " + RefusalReason.STUCK + " ", TIMEOUT_S);
            }
        }
    }

    @Test
    void withThePolicyOffAConsumerThatStopsStaysAttachedHoweverLongTheProducerWaits() throws Exception {
        String name = "patient-orders";
        Path socket = dir.resolve("off.sock");
        // The stall line tells when the host's watch has seen the stall; the policy is off (the default).
        try (ChannelEventsTest.JulCapture log = new ChannelEventsTest.JulCapture();
             ChannelHost host = ChannelHost.bind(socket, HostOptions.defaults().stallLogThreshold(Duration.ofMillis(50)))) {
            assertTrue(host.options().stuckConsumerTimeout().isZero());
            HostedSpscChannel ch = host.spsc(name, SpscOptions.of(4096));
            try (ChildJvm child = ChildJvm.start(ChannelPeer.class, "spsc-stop", socket.toString(), name, "0")) {
                child.awaitLine("HELD 0", TIMEOUT_S);
                Attachment consumer = ch.consumer();
                long seq = 0;
                while (produce(ch.producer(), seq)) {
                    seq++;
                }
                await(() -> ChannelEventsTest.lines(log).stream().anyMatch(l -> l.startsWith("WARNING: stall: channel '" + name + "'")),
                        "the stall's line");
                // Many watch ticks, and several times the timeout the other tests use.
                await(() -> ch.producer().counters().stalledNanos(System.nanoTime()) >= 5 * STUCK.toNanos(), "a long stall");
                assertSame(consumer, ch.consumer());
                assertEquals(0, host.stuckConsumerDetaches());
                assertFalse(produce(ch.producer(), seq));
                assertTrue(child.isAlive());
            }
        }
    }
}
