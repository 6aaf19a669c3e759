package io.sluice.channel;

import io.sluice.api.MessageConsumer;
import io.sluice.api.MessageHandler;
import io.sluice.api.RingKind;
import io.sluice.api.SluiceException;
import io.sluice.ringbuffer.BroadcastConsumer;
import io.sluice.ringbuffer.BroadcastStart;
import io.sluice.ringbuffer.SpscTap;

import java.time.Duration;

/**
 * Reads a channel's messages as they pass, from another process, without a place among its
 * consumers: the SPSC consumer keeps its place, and no producer ever waits for a tap (on a
 * back-pressure channel too). A tap that falls behind skips ahead and counts what it missed. What
 * {@code sluice tail} uses. Get one from {@link Channels#tap}; one thread at a time; close it to
 * detach.
 *
 * <p>A tap reads the ring in place, racing the producer: after reading a message's payload the
 * handler calls {@link #isStillValid()}, and discards what it read if that says false
 * ({@link SpscTap}, {@link BroadcastConsumer#isStillValid()}).
 */
public final class ChannelTap implements MessageConsumer, AutoCloseable {
    private final AttachSession session;
    private final SpscTap spsc;           // SPSC channels
    private final BroadcastConsumer broadcast; // broadcast channels, read as a tap

    private ChannelTap(AttachSession session, SpscTap spsc, BroadcastConsumer broadcast) {
        this.session = session;
        this.spsc = spsc;
        this.broadcast = broadcast;
    }

    static ChannelTap attach(AttachSession s) {
        try {
            RingKind kind = s.info().kind();
            return switch (kind) {
                case SPSC -> new ChannelTap(s, io.sluice.ringbuffer.SpscRing.attachTap(s.dataView(), s.channel()), null);
                case BROADCAST_BACKPRESSURE, BROADCAST_OVERWRITE -> new ChannelTap(s, null,
                        io.sluice.ringbuffer.BroadcastRing.attachTap(s.dataView(), BroadcastStart.NEWEST, s.channel()));
                case MPMC -> throw new SluiceException("channel '" + s.channel() + "' is MPMC: a message there is taken by"
                        + " one consumer, not passed by, so there is nothing to tap; taps read SPSC and broadcast channels");
            };
        } catch (RuntimeException e) {
            s.close();
            throw e;
        }
    }

    /**
     * Hands up to {@code limit} messages committed since the last poll to {@code handler}, each a
     * read-only slice valid until the handler returns. Never waits, never holds the producer.
     *
     * @return messages handed over; 0 if none is new
     */
    @Override
    public int poll(MessageHandler handler, int limit) {
        return spsc != null ? spsc.poll(handler, limit) : broadcast.poll(handler, limit);
    }

    /**
     * Whether the message last handed to the handler is still intact; call it after reading the
     * payload, and discard what was read if false.
     *
     * @return true if every byte read of the last message was the committed payload
     */
    public boolean isStillValid() {
        return spsc != null ? spsc.isStillValid() : broadcast.isStillValid();
    }

    /**
     * How many times the tap fell behind and skipped ahead (SPSC: jumps to the producer; broadcast:
     * laps).
     *
     * @return skips so far
     */
    public long skips() {
        return spsc != null ? spsc.skips() : broadcast.lapCount();
    }

    /**
     * What the channel is, as its host announced it.
     *
     * @return the channel's description from the handshake
     */
    public ChannelInfo info() {
        return session.info();
    }

    /**
     * Whether the host is still there.
     *
     * @return false once the host closed the connection, died, or closed the channel
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

    @Override
    public void close() {
        session.close();
    }
}
