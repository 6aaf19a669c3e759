package io.sluice.channel;

import io.sluice.api.Role;
import io.sluice.ringbuffer.MpmcConsumer;
import io.sluice.ringbuffer.MpmcProducer;

import java.time.Duration;

/**
 * A producer, consumer or both, attached to an MPMC channel in another process, with the
 * participant id the host assigned. If this process dies, the host recovers the slots it had
 * claimed or taken (see {@code docs/guarantees.md}).
 */
public final class MpmcAttachment implements AutoCloseable {
    private final AttachSession session;
    private final Role role;
    private final MpmcProducer producer;
    private final MpmcConsumer consumer;

    MpmcAttachment(AttachSession session, Role role, MpmcProducer producer, MpmcConsumer consumer) {
        this.session = session;
        this.role = role;
        this.producer = producer;
        this.consumer = consumer;
    }

    /** The participant id that tags this process's claims. */
    public int participantId() {
        return session.welcome().participantId();
    }

    /** The producer (roles PRODUCER and PARTICIPANT). */
    public MpmcProducer producer() {
        if (producer == null) {
            throw new IllegalStateException("attached to '" + session.channel() + "' as " + role + ": no producer");
        }
        return producer;
    }

    /** The consumer (roles CONSUMER and PARTICIPANT). */
    public MpmcConsumer consumer() {
        if (consumer == null) {
            throw new IllegalStateException("attached to '" + session.channel() + "' as " + role + ": no consumer");
        }
        return consumer;
    }

    public boolean isHostAlive() {
        return !session.hostGone();
    }

    public boolean awaitHostGone(Duration timeout) throws InterruptedException {
        session.awaitHostGone(timeout);
        return session.hostGone();
    }

    @Override
    public void close() {
        session.close();
    }
}
