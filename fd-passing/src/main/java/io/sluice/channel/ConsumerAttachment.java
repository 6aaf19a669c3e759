package io.sluice.channel;

import io.sluice.api.ConnectionClosedException;
import io.sluice.api.MessageConsumer;
import io.sluice.api.MessageHandler;
import io.sluice.api.RefusalReason;
import io.sluice.ringbuffer.ConsumerParking;

import java.time.Duration;

/**
 * A consumer attached to a channel in another process. {@link #consumer()} is the ring's own
 * consumer, the same type as in-process use. {@link #poll} adds the host's fate: it delivers
 * everything the host committed, and once the host is gone and the ring is drained it throws
 * {@link ConnectionClosedException} instead of returning 0 forever.
 *
 * <p>Closing detaches: the host sees end of stream at once and stops waiting for this consumer.
 * One thread polls; {@link #isHostAlive()}, {@link #awaitHostGone} and {@link #close()} are safe
 * from any thread.
 *
 * @param <C> the ring's consumer type ({@code SpscConsumer} or {@code BroadcastConsumer})
 */
public final class ConsumerAttachment<C extends MessageConsumer> implements MessageConsumer, AutoCloseable {
    private final AttachSession session;
    private final C consumer;
    private final ConsumerParking parking; // null when the host does not wake parked consumers

    ConsumerAttachment(AttachSession session, C consumer, ConsumerParking parking) {
        this.session = session;
        this.consumer = consumer;
        this.parking = session.info().wakesParkedConsumers() ? parking : null;
    }

    /**
     * Like {@link #poll}, but when the ring is empty the thread sleeps in the kernel (a futex on
     * the producer's wake word) until the producer commits, instead of spinning. Needs a channel
     * whose host wakes parked consumers (SPSC or broadcast, either policy). Each sleep lasts at
     * most 50 ms, after which it checks the host again; the host's close wakes it at once.
     *
     * @return messages handled; 0 only if {@code timeout} passed with nothing to read
     * @throws IllegalStateException     if the host does not wake parked consumers on this channel
     * @throws ConnectionClosedException when the host is gone and everything was delivered
     * @param handler called once per message, on this thread; the payload is valid only during the call
     * @param limit   the most messages to hand over in this call, at least 1
     * @param timeout how long to sleep at most when the ring is empty
     */
    public int pollBlocking(MessageHandler handler, int limit, Duration timeout) {
        if (parking == null) {
            throw new IllegalStateException("channel '" + session.channel()
                    + "' does not wake parked consumers: its host must enable it (spin or back off instead)");
        }
        return parking.pollOrPark(() -> poll(handler, limit), timeout.toNanos());
    }

    /**
     * Whether this channel's host wakes parked consumers ({@link #pollBlocking} works).
     *
     * @return true if the host announced it wakes parked consumers
     */
    public boolean canBlock() {
        return parking != null;
    }

    /**
     * The ring consumer (read-only view of the shared ring).
     *
     * @return the consumer; polling it directly skips the host-gone check
     */
    public C consumer() {
        return consumer;
    }

    /**
     * Polls the ring; costs one volatile read more than the ring's own poll, and only when the
     * ring is empty.
     *
     * @throws ConnectionClosedException when the host is gone and everything it committed has
     *                                   been delivered
     */
    @Override
    public int poll(MessageHandler handler, int limit) {
        int n = consumer.poll(handler, limit);
        if (n == 0 && session.hostGone()) {
            ChannelLink.End end = session.end();
            if (end != null && (end.reason() == RefusalReason.BAD_POSITION || end.reason() == RefusalReason.CHANNEL_CORRUPT
                    || end.reason() == RefusalReason.STUCK)) {
                // Detached for cause: the producer no longer waits for this consumer, so what is
                // still in the ring may be overwritten under it. Stop here.
                throw new ConnectionClosedException(end.text(), end.reason());
            }
            // The host's commits all happened before its socket closed, which we observed:
            // one more poll sees every one of them.
            n = consumer.poll(handler, limit);
            if (n == 0) {
                throw end != null ? new ConnectionClosedException(end.text() + "; every message it committed was delivered",
                        end.reason())
                        : new ConnectionClosedException("channel '" + session.channel()
                        + "': the host is gone and every message it committed was delivered");
            }
        }
        return n;
    }

    /**
     * Whether the host is still there (its connection open).
     *
     * @return false once the host closed the connection or died
     */
    public boolean isHostAlive() {
        return !session.hostGone();
    }

    /**
     * Waits until the host is gone, at most {@code timeout}; returns whether it is.
     *
     * @param timeout how long to wait at most
     * @return true if the host is gone
     * @throws InterruptedException if the thread is interrupted while waiting
     */
    public boolean awaitHostGone(Duration timeout) throws InterruptedException {
        session.awaitEnd(timeout);
        return session.hostGone();
    }

    /**
     * The data region as received (sealed, verified). For diagnostics: a consumer that tries
     * {@code dataRegion().mapReadWrite()} sees the kernel's {@code mmap: EPERM}.
     *
     * @return the region, closed with this attachment
     */
    public io.sluice.memfd.MemfdRegion dataRegion() {
        return session.data();
    }

    /**
     * What the channel is, as its host announced it (name, kind, sizes).
     *
     * @return the channel's description from the handshake
     */
    public ChannelInfo info() {
        return session.info();
    }

    @Override
    public void close() {
        session.close();
    }
}
