package io.sluice.channel;

import io.sluice.api.ConnectionClosedException;
import io.sluice.api.MessageConsumer;
import io.sluice.api.MessageHandler;

import java.time.Duration;

/**
 * A consumer attached to a channel in another process. {@link #consumer()} is the ring's own
 * consumer, the same type as in-process use. {@link #poll} adds the host's fate: it delivers
 * everything the host committed, and once the host is gone and the ring is drained it throws
 * {@link ConnectionClosedException} instead of returning 0 forever.
 *
 * <p>Closing detaches: the host sees end of stream at once and stops waiting for this consumer.
 */
public final class ConsumerAttachment<C extends MessageConsumer> implements MessageConsumer, AutoCloseable {
    private final AttachSession session;
    private final C consumer;

    ConsumerAttachment(AttachSession session, C consumer) {
        this.session = session;
        this.consumer = consumer;
    }

    /** The ring consumer (read-only view of the shared ring). */
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
            // The host's commits all happened before its socket closed, which we observed:
            // one more poll sees every one of them.
            n = consumer.poll(handler, limit);
            if (n == 0) {
                throw new ConnectionClosedException("channel '" + session.channel()
                        + "': the host is gone and every message it committed was delivered");
            }
        }
        return n;
    }

    /** Whether the host is still there (its connection open). */
    public boolean isHostAlive() {
        return !session.hostGone();
    }

    /** Waits until the host is gone, at most {@code timeout}; returns whether it is. */
    public boolean awaitHostGone(Duration timeout) throws InterruptedException {
        session.awaitHostGone(timeout);
        return session.hostGone();
    }

    /** The WELCOME the host sent (kind, sizes, flags). */
    public Handshake.Welcome descriptor() {
        return session.welcome();
    }

    @Override
    public void close() {
        session.close();
    }
}
