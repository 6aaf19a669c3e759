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

    @SuppressWarnings("unchecked")
    static <T> T pair(Role role, RunSpec spec, Supplier<T> create) {
        String key = spec.workDir().toString();
        if (role == Role.INITIATOR) {
            T pair = create.get();
            PAIRS.put(key, pair);
            return pair;
        }
        Object pair = PAIRS.get(key);
        if (pair == null) {
            throw new IllegalStateException("the initiator created no queues for " + key);
        }
        return (T) pair;
    }

    /** Slots of a queue whose slots would fill the ring capacity (power of two, as in the JMH rows). */
    static int slots(RunSpec spec) {
        int slot = Integer.highestOneBit(spec.messageSize() + 16 - 1) << 1; // payload + header, rounded up
        return Math.max(2, spec.ringCapacity() / slot);
    }
}
