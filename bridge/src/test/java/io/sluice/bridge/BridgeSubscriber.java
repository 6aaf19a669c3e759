package io.sluice.bridge;

import io.sluice.api.ConnectionClosedException;
import io.sluice.api.SluiceException;
import io.sluice.channel.Channels;
import io.sluice.channel.ConsumerAttachment;
import io.sluice.ringbuffer.BroadcastConsumer;
import io.sluice.ringbuffer.BroadcastStart;

import java.nio.file.Path;

/**
 * A remote subscriber of the bridge tests, in a JVM of its own: attaches to the in side's
 * broadcast channel like any local subscriber and checks every byte of every message
 * ({@link Quotes}). When the in side's host goes away it attaches again (to the restarted one)
 * and goes on. Prints:
 * <pre>
 * ATTACHED                  each time it attached
 * GAP from to               messages from..to-1 never arrived (after a re-attach)
 * DONE received gaps lost   once message LAST arrived
 * </pre>
 * Any message out of order or repeated, or any wrong byte, ends it with an AssertionError.
 * Arguments: SOCKET CHANNEL LAST.
 */
public final class BridgeSubscriber {
    private long next;
    private long received;
    private long gaps;
    private long lost;

    public static void main(String[] args) throws Exception {
        Path socket = Path.of(args[0]);
        String channel = args[1];
        long last = Long.parseLong(args[2]);
        BridgeSubscriber s = new BridgeSubscriber();
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (s.next <= last) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("message " + s.next + " did not arrive in 120 s");
            }
            ConsumerAttachment<BroadcastConsumer> a;
            try {
                a = Channels.broadcast(socket, channel, BroadcastStart.OLDEST);
            } catch (SluiceException | java.io.UncheckedIOException e) {
                Thread.sleep(5); // the in side is restarting: try again
                continue;
            }
            try (a) {
                System.out.println("ATTACHED");
                System.out.flush();
                while (s.next <= last) {
                    if (a.poll(s::accept, 256) == 0) {
                        Thread.onSpinWait();
                    }
                }
            } catch (ConnectionClosedException hostGone) {
                // the in side died after we read all it had published: attach to the next one
            }
        }
        System.out.println("DONE " + s.received + " " + s.gaps + " " + s.lost);
        System.out.flush();
    }

    private void accept(int type, java.lang.foreign.MemorySegment m) {
        long seq = Quotes.check(type, m);
        if (seq < next) {
            throw new AssertionError("message " + seq + " after " + (next - 1) + ": repeated or out of order");
        }
        if (seq > next) {
            if (received == 0 && next == 0) {
                throw new AssertionError("the first message is " + seq + ", not 0");
            }
            System.out.println("GAP " + next + " " + seq);
            gaps++;
            lost += seq - next;
        }
        next = seq + 1;
        received++;
    }
}
