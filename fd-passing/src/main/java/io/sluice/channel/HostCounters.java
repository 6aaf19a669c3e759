package io.sluice.channel;

import io.sluice.api.RefusalReason;

import java.util.concurrent.atomic.AtomicLong;

/**
 * What a host counts about its peers, published in its status region. Any thread increments
 * (attachments end on the host's thread, on a closing thread, or on a producer's, through a
 * fault); the host's thread reads them when it publishes. Atomic counters, each on its own: a
 * monitor sees each whole, not all of them at one instant.
 */
final class HostCounters {
    final AtomicLong attaches = new AtomicLong();
    final AtomicLong detaches = new AtomicLong();
    final AtomicLong hangUps = new AtomicLong();
    final AtomicLong recoveries = new AtomicLong();
    final AtomicLong stuckDetaches = new AtomicLong();
    private final AtomicLong[] refusals = new AtomicLong[HostStatusDescriptor.REFUSAL_CODES];

    HostCounters() {
        for (int i = 0; i < refusals.length; i++) {
            refusals[i] = new AtomicLong();
        }
    }

    /** An attachment ended with {@code cause} ({@link ChannelEvents#HANG_UP} or a reason's name). */
    void detached(String cause) {
        detaches.incrementAndGet();
        if (ChannelEvents.HANG_UP.equals(cause)) {
            hangUps.incrementAndGet();
        }
    }

    void refused(RefusalReason reason) {
        if (reason.code() < refusals.length) {
            refusals[reason.code()].incrementAndGet();
        }
    }

    long refusals(int code) {
        return refusals[code].get();
    }
}
