package io.sluice.examples.gateway;

import io.sluice.api.Role;
import io.sluice.channel.Channels;
import io.sluice.channel.MpmcAttachment;
import io.sluice.ringbuffer.MpmcProducer;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/** An order-entry JVM: attaches to the gateway's MPMC ring as a producer and sends its orders. */
public final class OrderEntry {
    public static void main(String[] args) {
        Path socket = Path.of(args[0]);
        long entry = Long.parseLong(args[1]);
        long orders = Long.parseLong(args[2]);
        try (MpmcAttachment gw = Channels.mpmc(socket, OrderGatewayDemo.CHANNEL, Role.PRODUCER)) {
            MpmcProducer producer = gw.producer();
            System.out.println("[entry " + entry + " pid " + ProcessHandle.current().pid() + "] attached as participant "
                    + gw.participantId() + "; sending " + orders + " orders");
            long t0 = System.nanoTime();
            for (long id = 0; id < orders; id++) {
                long at;
                while ((at = producer.tryClaim(OrderGatewayDemo.ORDER, OrderGatewayDemo.ORDER_LENGTH)) < 0) {
                    Thread.onSpinWait(); // ring full: the matchers catch up
                }
                MemorySegment b = producer.buffer();
                b.set(JAVA_LONG_UNALIGNED, at, entry);
                b.set(JAVA_LONG_UNALIGNED, at + 8, id);
                b.set(JAVA_LONG_UNALIGNED, at + 16, 100_000 + id % 97);
                b.set(JAVA_LONG_UNALIGNED, at + 24, 1 + id % 10);
                producer.commit(at);
            }
            double s = (System.nanoTime() - t0) / 1e9;
            System.out.printf("REPORT entry=%d pid=%d sent=%d rate=%.0f/s%n", entry, ProcessHandle.current().pid(), orders, orders / s);
        }
    }
}
