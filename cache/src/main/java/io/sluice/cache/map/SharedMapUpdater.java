package io.sluice.cache.map;

import io.sluice.api.MessageProducer;
import io.sluice.api.Role;
import io.sluice.channel.Channels;
import io.sluice.channel.MpmcAttachment;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Sends updates of a shared map to its owner, from any process: a producer of the map's update
 * channel ({@link SharedMapWriter#hostUpdates}). The owner applies them in the order the channel
 * delivers them, this sender's in the order it sent them; it checks each one first and rejects
 * (counts, logs, does not apply) a key or value longer than the map allows.
 *
 * <p>Back-pressure as the rings' {@code offer}: {@link #offerPut} and {@link #offerRemove} return
 * false when the channel is full; once the owner is gone they throw
 * {@link io.sluice.api.ConnectionClosedException} instead. One thread per updater.
 */
public final class SharedMapUpdater implements AutoCloseable {
    private final MpmcAttachment producer;

    private SharedMapUpdater(MpmcAttachment producer) {
        this.producer = producer;
    }

    /**
     * Attaches to the update channel {@code channel} of the host at {@code socket} as a producer.
     *
     * @throws io.sluice.api.AttachRefusedException the host's refusal, with its reason
     */
    public static SharedMapUpdater attach(Path socket, String channel) {
        return new SharedMapUpdater(Channels.mpmc(socket, channel, Role.PRODUCER));
    }

    /** Sends through an attachment the caller made (a producer of the map's update channel); owns it from now on. */
    public static SharedMapUpdater over(MpmcAttachment producer) {
        return new SharedMapUpdater(Objects.requireNonNull(producer, "producer"));
    }

    /**
     * Sends a PUT of {@code key} and {@code value}.
     *
     * @return false if the channel is full now (nothing was sent)
     * @throws IllegalArgumentException if the update is longer than the channel's messages
     */
    public boolean offerPut(MemorySegment key, MemorySegment value) {
        long length = SharedMapUpdates.putLength(key.byteSize(), value.byteSize());
        long at = producer.tryClaim(SharedMapUpdates.PUT, fits(length));
        if (at == MessageProducer.INSUFFICIENT_CAPACITY) {
            return false;
        }
        try {
            SharedMapUpdates.encodePut(producer.buffer(), at, key, value);
        } catch (RuntimeException e) {
            producer.abort(at);
            throw e;
        }
        producer.commit(at);
        return true;
    }

    /** {@link #offerPut(MemorySegment, MemorySegment)} for arrays. */
    public boolean offerPut(byte[] key, byte[] value) {
        return offerPut(MemorySegment.ofArray(key), MemorySegment.ofArray(value));
    }

    /** {@link #offerPut(MemorySegment, MemorySegment)} for a UTF-8 key. */
    public boolean offerPut(String key, byte[] value) {
        return offerPut(key.getBytes(StandardCharsets.UTF_8), value);
    }

    /**
     * Sends a REMOVE of {@code key}.
     *
     * @return false if the channel is full now (nothing was sent)
     * @throws IllegalArgumentException if the update is longer than the channel's messages
     */
    public boolean offerRemove(MemorySegment key) {
        long at = producer.tryClaim(SharedMapUpdates.REMOVE, fits(SharedMapUpdates.removeLength(key.byteSize())));
        if (at == MessageProducer.INSUFFICIENT_CAPACITY) {
            return false;
        }
        try {
            SharedMapUpdates.encodeRemove(producer.buffer(), at, key);
        } catch (RuntimeException e) {
            producer.abort(at);
            throw e;
        }
        producer.commit(at);
        return true;
    }

    /** {@link #offerRemove(MemorySegment)} for an array. */
    public boolean offerRemove(byte[] key) {
        return offerRemove(MemorySegment.ofArray(key));
    }

    /** {@link #offerRemove(MemorySegment)} for a UTF-8 key. */
    public boolean offerRemove(String key) {
        return offerRemove(key.getBytes(StandardCharsets.UTF_8));
    }

    private int fits(long length) {
        if (length > producer.maxMessageLength()) {
            throw new IllegalArgumentException("map update channel '" + producer.info().name() + "': an update of "
                    + length + " bytes is longer than its messages (" + producer.maxMessageLength() + " bytes)");
        }
        return (int) length;
    }

    /** Whether the owner's host is still there. */
    public boolean isHostAlive() {
        return producer.isHostAlive();
    }

    /** Detaches from the channel. Idempotent. */
    @Override
    public void close() {
        producer.close();
    }
}
