package io.sluice.channel;

import io.sluice.api.BroadcastPolicy;
import io.sluice.api.Role;
import io.sluice.ringbuffer.BroadcastProducer;
import io.sluice.ringbuffer.MpmcConsumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The C examples of fd-passing/native/examples, run against hosts in this JVM. */
class NativeExamplesTest {
    private static final long TIMEOUT_S = 60;

    @TempDir
    Path dir;

    @Test
    void marketDataSubscriberInCReadsQuotesAndReportsItsRateAndLaps() throws Exception {
        Path socket = dir.resolve("md.sock");
        try (ChannelHost host = ChannelHost.bind(socket)) {
            HostedBroadcastChannel ch = host.broadcast("md.quotes", BroadcastOptions.of(BroadcastPolicy.OVERWRITE, 64 * 1024)
                    .maxMessageLength(256).maxConsumers(4));
            try (NativeChild sub = NativeChild.start(NativeChild.RELEASE, "md_subscriber", socket.toString(), "md.quotes")) {
                sub.awaitLine("md_subscriber: attached to 'md.quotes' (overwrite", TIMEOUT_S);
                BroadcastProducer p = ch.producer();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_S);
                long seq = 0;
                while (sub.lines("md_subscriber: ").stream().noneMatch(l -> l.contains(" msg/s,")) && System.nanoTime() < deadline) {
                    for (int i = 0; i < 1000; i++, seq++) { // quotes: instrument id, price, size
                        long at = p.tryClaim(1, 24);
                        p.buffer().set(JAVA_LONG_UNALIGNED, at, seq % 64);
                        p.buffer().set(JAVA_LONG_UNALIGNED, at + 8, 100_000 + seq % 100);
                        p.buffer().set(JAVA_LONG_UNALIGNED, at + 16, 1 + seq % 10);
                        p.commit(at);
                    }
                    Thread.sleep(1); // ~1,000 quotes per millisecond
                }
                String rate = sub.awaitLine("md_subscriber: ", 1);
                System.out.println("C subscriber: " + sub.lines("md_subscriber: ").stream().filter(l -> l.contains("msg/s")).findFirst().orElse(rate));
                host.close(); // the subscriber drains, notices, sums up, and exits
                sub.awaitLine("md_subscriber: the host is gone", TIMEOUT_S);
                sub.assertExitsCleanly(TIMEOUT_S);
                String summary = sub.lines("md_subscriber: ").getLast(); // "md_subscriber: N messages, ..."
                System.out.println("C subscriber: " + summary);
                long read = Long.parseLong(summary.split(" ")[1]);
                assertTrue(read > 0 && read <= seq, summary);
            }
        }
    }

    @Test
    void orderProducerInCWritesOrdersStraightIntoTheSlots() throws Exception {
        Path socket = dir.resolve("orders.sock");
        int count = 100_000;
        try (ChannelHost host = ChannelHost.bind(socket)) {
            HostedMpmcChannel ch = host.mpmc("orders", MpmcOptions.of(1024, 64).maxParticipants(8));
            MpmcConsumer consumer = ch.attachLocal(Role.CONSUMER).consumer();
            try (NativeChild producer = NativeChild.start(NativeChild.RELEASE, "order_producer", socket.toString(), "orders",
                    Integer.toString(count))) {
                long[] next = new long[1];
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_S);
                while (next[0] < count && System.nanoTime() < deadline) {
                    consumer.poll((type, order) -> {
                        long id = order.get(JAVA_LONG_UNALIGNED, 0);
                        assertEquals(1, type);
                        assertEquals(32, order.byteSize());
                        assertEquals(next[0], id, "orders arrive in the order they were written");
                        assertEquals(producer.pid(), order.get(JAVA_LONG_UNALIGNED, 8), "client");
                        assertEquals(100_000 + id % 100, order.get(JAVA_LONG_UNALIGNED, 16), "price");
                        assertEquals(1 + id % 10, order.get(JAVA_INT_UNALIGNED, 24), "quantity");
                        assertEquals(1 + id % 2, order.get(JAVA_INT_UNALIGNED, 28), "side");
                        next[0]++;
                    }, 256);
                }
                assertEquals(count, next[0]);
                String done = producer.awaitLine("order_producer: produced", TIMEOUT_S);
                System.out.println("C producer: " + done);
                assertTrue(done.startsWith("order_producer: produced " + count + " orders"), done);
                producer.assertExitsCleanly(TIMEOUT_S);
            }
        }
    }
}
