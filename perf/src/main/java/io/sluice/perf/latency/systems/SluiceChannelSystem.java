package io.sluice.perf.latency.systems;

import io.sluice.perf.latency.Endpoint;
import io.sluice.perf.latency.LatencySystem;
import io.sluice.perf.latency.Role;
import io.sluice.perf.latency.RunSpec;
import io.sluice.perf.latency.Scenario;

import java.util.Set;
import java.util.function.BiFunction;

/**
 * The Sluice rows where each process hosts the channel it sends on and attaches to the other's,
 * as two applications would: {@code sluice-spsc} ({@link SluiceSpscEndpoint}) and
 * {@code sluice-broadcast} ({@link SluiceBroadcastEndpoint}). Every scenario.
 */
public final class SluiceChannelSystem implements LatencySystem {
    private final String id;
    private final String label;
    private final BiFunction<Role, RunSpec, Endpoint> open;

    private SluiceChannelSystem(String id, String label, BiFunction<Role, RunSpec, Endpoint> open) {
        this.id = id;
        this.label = label;
        this.open = open;
    }

    /** SPSC channels, one per direction. */
    public static SluiceChannelSystem spsc() {
        return new SluiceChannelSystem("sluice-spsc",
                "Sluice SPSC channel over sealed memfds, attached by socket (offer, poll 1, read in place)",
                SluiceSpscEndpoint::new);
    }

    /** Broadcast channels with one consumer each, one per direction. */
    public static SluiceChannelSystem broadcast() {
        return new SluiceChannelSystem("sluice-broadcast",
                "Sluice broadcast channel (back-pressure, one consumer) over sealed memfds, attached by socket",
                SluiceBroadcastEndpoint::new);
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public String label() {
        return label;
    }

    @Override
    public Kind kind() {
        return Kind.IPC;
    }

    @Override
    public Set<Scenario> scenarios() {
        return Set.of(Scenario.PING_PONG, Scenario.FIXED_RATE, Scenario.THROUGHPUT);
    }

    @Override
    public Endpoint open(Role role, RunSpec spec) {
        return open.apply(role, spec);
    }
}
