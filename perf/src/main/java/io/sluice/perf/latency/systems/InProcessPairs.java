package io.sluice.perf.latency.systems;

import io.sluice.perf.latency.Role;
import io.sluice.perf.latency.RunSpec;

import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * For the in-process rows: the initiator thread creates the pair of queues, the responder
 * thread (which opens only after the initiator's open returned) takes the same pair.
 */
final class InProcessPairs {
    private static final ConcurrentHashMap<String, Object> PAIRS = new ConcurrentHashMap<>();

    private InProcessPairs() {
    }

    /** The two queues of one run: A to B, and B to A. */
    record Pair<T>(T ab, T ba) {
        /** What {@code role} sends on. */
        T out(Role role) {
            return role == Role.INITIATOR ? ab : ba;
        }

        /** What {@code role} polls. */
        T in(Role role) {
            return role == Role.INITIATOR ? ba : ab;
        }
    }

    @SuppressWarnings("unchecked")
    static <T> Pair<T> pair(Role role, RunSpec spec, Supplier<T> create) {
        String key = spec.workDir().toString();
        if (role == Role.INITIATOR) {
            Pair<T> pair = new Pair<>(create.get(), create.get());
            PAIRS.put(key, pair);
            return pair;
        }
        Object pair = PAIRS.get(key);
        if (pair == null) {
            throw new IllegalStateException("the initiator created no queues for " + key);
        }
        return (Pair<T>) pair;
    }

    /** Slots of a queue whose slots would fill the ring capacity (power of two, as in the JMH rows). */
    static int slots(RunSpec spec) {
        int slot = Integer.highestOneBit(spec.messageSize() + 16 - 1) << 1; // payload + header, rounded up
        return Math.max(2, spec.ringCapacity() / slot);
    }
}
