package io.sluice.examples.gateway;

import io.sluice.api.Role;
import io.sluice.channel.Channels;
import io.sluice.channel.MpmcAttachment;
import io.sluice.ringbuffer.MpmcConsumer;

import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * A matching JVM: takes orders from the gateway's MPMC ring in place until it takes a STOP, and
 * reports, per entry process, how many orders it took with their id sums; it checks that each
 * entry's orders reach it in increasing id order.
 */
public final class OrderMatcher {
    public static void main(String[] args) {
        Path socket = Path.of(args[0]);
        String name = args[1];
        long[][] perEntry = new long[3][4]; // [entry][count, sum, sum of squares, last id]
        perEntry[1][3] = -1;
        perEntry[2][3] = -1;
        boolean[] stop = new boolean[1];
        try (MpmcAttachment gw = Channels.mpmc(socket, OrderGatewayDemo.CHANNEL, Role.CONSUMER)) {
            MpmcConsumer consumer = gw.consumer();
            System.out.println("[matcher " + name + " pid " + ProcessHandle.current().pid() + "] attached as participant "
                    + gw.participantId());
            while (!stop[0]) {
                int n = consumer.poll((type, order) -> {
                    if (type == OrderGatewayDemo.STOP) {
                        stop[0] = true;
                        return;
                    }
                    int entry = (int) order.get(JAVA_LONG_UNALIGNED, 0);
                    long id = order.get(JAVA_LONG_UNALIGNED, 8);
                    long[] e = perEntry[entry];
                    if (id <= e[3]) {
                        throw new IllegalStateException("entry " + entry + ": order " + id + " after " + e[3]);
                    }
                    e[0]++;
                    e[1] += id;
                    e[2] += id * id;
                    e[3] = id;
                }, 1); // one at a time: leave everything after our STOP to the other matcher
                if (n == 0) {
                    Thread.onSpinWait();
                }
            }
        }
        System.out.printf("REPORT matcher=%s pid=%d entry1=%d:%d:%d entry2=%d:%d:%d%n", name, ProcessHandle.current().pid(),
                perEntry[1][0], perEntry[1][1], perEntry[1][2], perEntry[2][0], perEntry[2][1], perEntry[2][2]);
    }
}
