package io.sluice.channel;

import io.sluice.api.ConnectionClosedException;
import io.sluice.api.CorruptRingException;
import io.sluice.api.MessageConsumer;
import io.sluice.api.MessageHandler;
import io.sluice.api.MessageProducer;
import io.sluice.api.RefusalReason;
import io.sluice.api.Role;
import io.sluice.ringbuffer.MpmcConsumer;
import io.sluice.ringbuffer.MpmcProducer;
import io.sluice.ringbuffer.MpmcRing;
import io.sluice.ringbuffer.MpmcWakeup;

import java.lang.foreign.MemorySegment;
import java.time.Duration;

/**
 * A producer, consumer or both (a participant) of an MPMC channel, in another process or in the
 * hosting one ({@link HostedMpmcChannel#attachLocal}), with the participant id the host assigned.
 * If this process dies, the host recovers the slots it had claimed or taken (see
 * {@code docs/guarantees.md}); closing does the same at once and frees the id.
 *
 * <p>As a {@link MessageProducer} and {@link MessageConsumer} it adds the host's fate to the ring's
 * own operations, as {@link ConsumerAttachment} does: once the host is gone, {@link #poll} delivers
 * what is left and then throws {@link ConnectionClosedException}, and a claim that finds the ring
 * full throws it instead of returning {@link #INSUFFICIENT_CAPACITY} forever. If the host marked
 * the ring corrupt, every call throws {@link CorruptRingException} at once. The bare ring objects
 * ({@link #producer()}, {@link #consumer()}) skip those checks.
 */
public final class MpmcAttachment implements MessageProducer, MessageConsumer, AutoCloseable {
    private final ChannelLink link;
    private final Role role;
    private final int participantId;
    private final MpmcProducer producer;
    private final MpmcConsumer consumer;
    private final MpmcWakeup parking; // null when the host does not have participants wake parked consumers

    private MpmcAttachment(ChannelLink link, Role role, int participantId, MpmcProducer producer, MpmcConsumer consumer,
                           MpmcWakeup parking) {
        this.link = link;
        this.role = role;
        this.participantId = participantId;
        this.producer = producer;
        this.consumer = consumer;
        this.parking = parking;
    }

    /** An attachment over a writable mapping of the ring; closes {@code link} if the ring is refused. */
    static MpmcAttachment of(ChannelLink link, Role role, int participantId, MemorySegment ring) {
        try {
            MpmcProducer p = role != Role.CONSUMER ? MpmcRing.attachProducer(ring, participantId, link.channel()) : null;
            MpmcConsumer c = role != Role.PRODUCER ? MpmcRing.attachConsumer(ring, participantId, link.channel()) : null;
            MpmcWakeup w = null;
            if (link.info().wakesParkedConsumers()) {
                // The host announced it: every producer of the channel, in every process, wakes.
                w = MpmcWakeup.forParticipant(ring, LibcFutex.INSTANCE);
                if (p != null) {
                    p.wakeParkedConsumersWith(w);
                }
            }
            return new MpmcAttachment(link, role, participantId, p, c, w);
        } catch (RuntimeException e) {
            link.close();
            throw e;
        }
    }

    /**
     * What the channel is (name, kind, sizes).
     *
     * @return the channel's description from the handshake
     */
    public ChannelInfo info() {
        return link.info();
    }

    /**
     * The participant id that tags this attachment's claims.
     *
     * @return the id the host assigned, 1 or more
     */
    public int participantId() {
        return participantId;
    }

    /**
     * The bare ring producer (roles PRODUCER and PARTICIPANT), without the host checks.
     *
     * @return the producer
     * @throws IllegalStateException if the role does not produce
     */
    public MpmcProducer producer() {
        if (producer == null) {
            throw new IllegalStateException("attached to '" + link.channel() + "' as " + role + ": no producer");
        }
        return producer;
    }

    /**
     * The bare ring consumer (roles CONSUMER and PARTICIPANT), without the host checks.
     *
     * @return the consumer
     * @throws IllegalStateException if the role does not consume
     */
    public MpmcConsumer consumer() {
        if (consumer == null) {
            throw new IllegalStateException("attached to '" + link.channel() + "' as " + role + ": no consumer");
        }
        return consumer;
    }

    /**
     * Claims a slot, as {@link MpmcProducer#tryClaim}.
     *
     * @throws ConnectionClosedException if the ring is full and the host is gone
     * @throws CorruptRingException      if the host marked the ring corrupt
     */
    @Override
    public long tryClaim(int type, int length) {
        checkSound();
        long at = producer().tryClaim(type, length);
        if (at == INSUFFICIENT_CAPACITY && link.hostGone()) {
            throw ended();
        }
        return at;
    }

    @Override
    public void commit(long offset) {
        producer().commit(offset);
    }

    @Override
    public void abort(long offset) {
        producer().abort(offset);
    }

    /** Copies a message in, as {@link MpmcProducer#offer}; throws as {@link #tryClaim}. */
    @Override
    public boolean offer(int type, MemorySegment source, long sourceOffset, int length) {
        checkSound();
        boolean offered = producer().offer(type, source, sourceOffset, length);
        if (!offered && link.hostGone()) {
            throw ended();
        }
        return offered;
    }

    @Override
    public MemorySegment buffer() {
        return producer().buffer();
    }

    @Override
    public int maxMessageLength() {
        return producer().maxMessageLength();
    }

    /**
     * Takes up to {@code limit} messages, as {@link MpmcConsumer#poll}.
     *
     * @throws ConnectionClosedException when the host is gone and nothing is left to take
     * @throws CorruptRingException      if the host marked the ring corrupt
     */
    @Override
    public int poll(MessageHandler handler, int limit) {
        checkSound();
        MpmcConsumer c = consumer();
        int n;
        try {
            n = c.poll(handler, limit);
        } catch (IllegalStateException unmapped) {
            if (link.hostGone()) {
                throw ended(); // a participant of the hosting process: the closed channel took the ring with it
            }
            throw unmapped;
        }
        if (n == 0 && link.hostGone()) {
            n = c.poll(handler, limit); // what was committed before the end is delivered
            if (n == 0) {
                throw ended();
            }
        }
        return n;
    }

    /**
     * Like {@link #poll}, but when the ring has nothing to take the thread sleeps in the kernel (a
     * futex on the ring's wake word) until a producer, in any process, commits, instead of
     * spinning. Needs a channel whose host has producers wake parked consumers
     * ({@link MpmcOptions#wakeParkedConsumers}). Each sleep lasts at most 50 ms, after which it
     * checks the host again; the host's close wakes it at once.
     *
     * @return messages handled; 0 only if {@code timeout} passed with nothing to take
     * @throws IllegalStateException     if the host does not wake parked consumers on this channel,
     *                                   or this attachment does not consume
     * @throws ConnectionClosedException when the host is gone and nothing is left to take
     * @throws CorruptRingException      if the host marked the ring corrupt
     * @param handler called once per message, on this thread; the payload is valid only during the call
     * @param limit   the most messages to hand over in this call, at least 1
     * @param timeout how long to sleep at most when the ring has nothing to take
     */
    public int pollBlocking(MessageHandler handler, int limit, Duration timeout) {
        if (parking == null) {
            throw new IllegalStateException("channel '" + link.channel()
                    + "' does not wake parked consumers: its host must enable it (spin or back off instead)");
        }
        consumer(); // a producer-only attachment has nothing to wait for
        try {
            return parking.pollOrPark(() -> poll(handler, limit), timeout.toNanos());
        } catch (IllegalStateException unmapped) {
            if (link.hostGone()) {
                // A participant of the hosting process, woken by the close: the ring's words went
                // with the channel before the wait loop read them again.
                throw ended();
            }
            throw unmapped;
        }
    }

    /**
     * Whether this channel's host has producers wake parked consumers ({@link #pollBlocking} works
     * on an attachment that consumes).
     *
     * @return true if the host announced that producers wake parked consumers
     */
    public boolean canBlock() {
        return parking != null;
    }

    private void checkSound() {
        if (link.hostGone()) {
            ChannelLink.End end = link.end();
            if (end != null && end.reason() == RefusalReason.CHANNEL_CORRUPT) {
                throw new CorruptRingException(end.text());
            }
        }
    }

    private RuntimeException ended() {
        ChannelLink.End end = link.end();
        if (end != null && end.reason() == RefusalReason.CHANNEL_CORRUPT) {
            return new CorruptRingException(end.text());
        }
        if (end != null && end.text() != null) {
            return new ConnectionClosedException(end.text(), end.reason());
        }
        return new ConnectionClosedException("channel '" + link.channel() + "': the host is gone"
                + (producer != null && consumer == null ? " and the ring is full" : " and every message was taken"));
    }

    /**
     * Whether the host is still there (and has not ended this attachment).
     *
     * @return false once the host closed the connection, died or detached this attachment
     */
    public boolean isHostAlive() {
        return !link.hostGone();
    }

    /**
     * Waits until the host is gone, at most {@code timeout}; returns whether it is.
     *
     * @param timeout how long to wait at most
     * @return true if the host is gone
     * @throws InterruptedException if the thread is interrupted while waiting
     */
    public boolean awaitHostGone(Duration timeout) throws InterruptedException {
        link.awaitEnd(timeout);
        return link.hostGone();
    }

    /** Detaches: the host recovers what this participant still holds and frees its id. Idempotent. */
    @Override
    public void close() {
        link.close();
    }
}
