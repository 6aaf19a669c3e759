package io.sluice.channel;

import io.sluice.api.RefusalReason;

import java.time.Duration;

/**
 * What an attachment knows of the other side: whether the host is still there, and if it ended
 * the attachment, why. An attachment in another process is linked by its connection
 * ({@link AttachSession}); a participant in the hosting process by its channel.
 */
interface ChannelLink extends AutoCloseable {
    /** Why an attachment ended: the host's reason ({@code DETACH}), or null for a plain end of stream. */
    record End(RefusalReason reason, String text) {
    }

    String channel();

    /** What the channel is (name, kind, sizes). */
    ChannelInfo info();

    /** Whether the host is gone, or has ended this attachment. One volatile read. */
    boolean hostGone();

    /** Why the attachment ended; null while it lasts. */
    End end();

    /** Waits until the host is gone, at most {@code timeout}. */
    void awaitEnd(Duration timeout) throws InterruptedException;

    @Override
    void close();
}
