package io.sluice.ringbuffer;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * An immutable snapshot of the consumers a backpressure producer gates on. Registering threads
 * build a new snapshot (copy on write) and publish it with a release store; the producer's hot path
 * compares its acquire-loaded reference with the one it adopted and only rescans on a change.
 *
 * @param version       grows by one on every add and remove; the producer publishes the version
 *                      it adopted in the ring's Gated Registration field
 * @param registrations the registration number of each consumer (the version its add produced)
 * @param positions     read-only views of each consumer's position region
 */
record BroadcastConsumerSet(long version, long[] registrations, MemorySegment[] positions) {
    static final BroadcastConsumerSet EMPTY = new BroadcastConsumerSet(0, new long[0], new MemorySegment[0]);

    BroadcastConsumerSet with(long newVersion, MemorySegment position) {
        long[] r = Arrays.copyOf(registrations, registrations.length + 1);
        MemorySegment[] p = Arrays.copyOf(positions, positions.length + 1);
        r[r.length - 1] = newVersion;
        p[p.length - 1] = position;
        return new BroadcastConsumerSet(newVersion, r, p);
    }

    /** The snapshot without {@code registration}, or null if it is not in this one. */
    BroadcastConsumerSet without(long newVersion, long registration) {
        for (int i = 0; i < registrations.length; i++) {
            if (registrations[i] == registration) {
                long[] r = new long[registrations.length - 1];
                MemorySegment[] p = new MemorySegment[positions.length - 1];
                System.arraycopy(registrations, 0, r, 0, i);
                System.arraycopy(registrations, i + 1, r, i, r.length - i);
                System.arraycopy(positions, 0, p, 0, i);
                System.arraycopy(positions, i + 1, p, i, p.length - i);
                return new BroadcastConsumerSet(newVersion, r, p);
            }
        }
        return null;
    }
}
