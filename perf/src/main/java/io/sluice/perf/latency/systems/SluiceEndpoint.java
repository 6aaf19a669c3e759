package io.sluice.perf.latency.systems;

import io.sluice.api.MessageConsumer;
import io.sluice.api.MessageHandler;
import io.sluice.api.MessageProducer;
import io.sluice.perf.latency.Endpoint;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.function.Supplier;

import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * What the endpoints of every Sluice row share: they send with {@link OfferSender} and receive
 * one message per poll, the handler reading the value in place. A subclass opens its channels
 * and calls {@link #connect} once it has both ends (in its constructor or in {@code awaitReady}).
 * Each JVM runs one subclass, with one producer class and one consumer class, so the calls below
 * stay monomorphic.
 */
abstract class SluiceEndpoint implements Endpoint, MessageHandler {
    /** How long an endpoint keeps trying to attach to the other side's channels. */
    static final Duration ATTACH_TIMEOUT = Duration.ofSeconds(30);
    /** Pre-touch by an atomic add of zero: another process may map the same pages read-write. */
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    private OfferSender sender;
    private MessageConsumer in;
    private long received;

    /** Sends on {@code out} messages of {@code size} bytes from now on, and receives from {@code in}. */
    final void connect(MessageProducer out, MessageConsumer in, int size) {
        this.sender = new OfferSender(out, size);
        this.in = in;
    }

    /**
     * Attaches with {@code attach}, again and again while it fails (the other side may not have
     * bound its socket or created its channel yet), at most {@link #ATTACH_TIMEOUT}; then the
     * last failure is thrown.
     */
    static <T> T attachWithRetry(Supplier<T> attach) {
        long deadline = System.nanoTime() + ATTACH_TIMEOUT.toNanos();
        while (true) {
            try {
                return attach.get();
            } catch (RuntimeException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.onSpinWait();
            }
        }
    }

    /** Takes the write fault of every page of {@code ring} now, not in the measured loop. */
    static void touch(MemorySegment ring) {
        for (long at = 0; at < ring.byteSize(); at += 4096) {
            long unused = (long) LONG.getAndAdd(ring, at, 0L);
        }
    }

    @Override
    public final void send(long value) {
        sender.send(value);
    }

    @Override
    public final long poll() {
        received = EMPTY;
        in.poll(this, 1);
        return received;
    }

    @Override
    public final void onMessage(int type, MemorySegment message) {
        received = message.get(JAVA_LONG_UNALIGNED, 0);
    }
}
