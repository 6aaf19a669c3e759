package io.sluice.bridge.demo;

import io.sluice.channel.Channels;
import io.sluice.channel.ConsumerAttachment;
import io.sluice.ringbuffer.BroadcastConsumer;
import io.sluice.ringbuffer.BroadcastStart;

import java.nio.file.Path;

/**
 * A subscriber on "host 2" of the loopback demo: attaches to the in side's channel exactly as to
 * any local Sluice channel, reads quotes in place until the last one, and prints what it got:
 * {@code RESULT name received inOrder bad}. Arguments: NAME SOCKET CHANNEL COUNT.
 */
public final class RemoteSubscriber {
    private long next;
    private long received;
    private long outOfOrder;
    private long bad;

    public static void main(String[] args) {
        String name = args[0];
        Path socket = Path.of(args[1]);
        long count = Long.parseLong(args[3]);
        RemoteSubscriber s = new RemoteSubscriber();
        try (ConsumerAttachment<BroadcastConsumer> a = Channels.broadcast(socket, args[2], BroadcastStart.OLDEST)) {
            System.out.println("[subscriber " + name + " pid " + ProcessHandle.current().pid() + "] attached to '" + args[2]
                    + "' on host 2 (" + a.info().kind() + "), as to any local channel");
            System.out.println("READY " + name);
            System.out.flush();
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (s.next < count && s.bad == 0 && System.nanoTime() < deadline) {
                if (a.poll(s::accept, 256) == 0) {
                    Thread.onSpinWait();
                }
            }
        }
        System.out.println("RESULT " + name + " " + s.received + " " + (s.received - s.outOfOrder) + " " + s.bad);
        System.out.flush();
    }

    private void accept(int type, java.lang.foreign.MemorySegment quote) {
        long seq = DemoQuote.read(type, quote);
        if (seq < 0) {
            bad++;
            return;
        }
        if (seq != next) {
            outOfOrder++;
        }
        next = seq + 1;
        received++;
    }
}
