package io.sluice.perf.latency.systems;

import io.sluice.perf.latency.Endpoint;
import io.sluice.perf.latency.LatencySystem;
import io.sluice.perf.latency.Role;
import io.sluice.perf.latency.RunSpec;
import io.sluice.perf.latency.Scenario;
import io.sluice.ringbuffer.MpmcSlotDescriptor;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The shape a C client needs, since it can consume an SPSC channel but never produce one (that
 * producer is its host): one JVM hosts both channels, an SPSC channel to the attaching side
 * ({@value #DOWN}) and an MPMC channel back ({@value #UP}, the host its consumer); the attaching
 * side is the SPSC consumer and an MPMC producer. Three rows share it:
 *
 * <ul>
 *   <li>{@code sluice-mixed}: A is the host JVM, B an attaching JVM, the Java reference for
 *       the two C rows (same pair of rings, same direction of each);</li>
 *   <li>{@code sluice-java-c}: A is the host JVM and times; B is the C client
 *       ({@code perf/native/sluice_latency_peer}), echoing;</li>
 *   <li>{@code sluice-c-java}: A is the C client and times (clock_gettime(CLOCK_MONOTONIC),
 *       the clock of System.nanoTime()); B is the host JVM, echoing.</li>
 * </ul>
 *
 * A round trip crosses one SPSC hop and one MPMC hop in every row; the rows differ in who times
 * it and in which language each end runs. Ping-pong only.
 */
public final class SluiceMixedSystem implements LatencySystem {
    /** The SPSC channel, host to attacher. */
    static final String DOWN = "down";
    /** The MPMC channel, attacher to host. */
    static final String UP = "up";
    /** The host's consumer and the attacher's producer, and room for a retry after a failed attach. */
    static final int MAX_PARTICIPANTS = 4;

    private final String id;
    private final String label;
    private final Role host;
    private final Optional<Role> nativeSide;

    private SluiceMixedSystem(String id, String label, Role host, Optional<Role> nativeSide) {
        this.id = id;
        this.label = label;
        this.host = host;
        this.nativeSide = nativeSide;
    }

    /** Java to Java: the reference for the C rows. */
    public static SluiceMixedSystem javaJava() {
        return new SluiceMixedSystem("sluice-mixed", "Sluice, one JVM hosts an SPSC channel out and an MPMC channel back, "
                + "the other JVM attaches (the Java reference of the C rows)", Role.INITIATOR, Optional.empty());
    }

    /** Java to C: the host JVM times, the C client echoes. */
    public static SluiceMixedSystem javaC() {
        return new SluiceMixedSystem("sluice-java-c", "as sluice-mixed, B the C client (fd-passing/native, gcc -O2; "
                + "perf/native/sluice_latency_peer.c) echoing; the host JVM times", Role.INITIATOR, Optional.of(Role.RESPONDER));
    }

    /** C to Java: the C client times, the host JVM echoes. */
    public static SluiceMixedSystem cJava() {
        return new SluiceMixedSystem("sluice-c-java", "as sluice-mixed, A the C client timing with "
                + "clock_gettime(CLOCK_MONOTONIC); the host JVM echoes", Role.RESPONDER, Optional.of(Role.INITIATOR));
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
        return Set.of(Scenario.PING_PONG);
    }

    @Override
    public Optional<Role> nativeSide() {
        return nativeSide;
    }

    @Override
    public List<String> nativeArgs(RunSpec spec) {
        return List.of(socket(spec).toString(), DOWN, UP);
    }

    @Override
    public Endpoint open(Role role, RunSpec spec) {
        if (nativeSide.equals(Optional.of(role))) {
            throw new IllegalStateException(id + ": side " + role.letter() + " is the native peer, not a JVM");
        }
        return role == host ? new SluiceHostEndpoint(spec) : new SluiceAttacherEndpoint(spec);
    }

    /** The host's socket. */
    static Path socket(RunSpec spec) {
        return spec.workDir().resolve("sluice-host.sock");
    }

    /** Bytes per MPMC slot: the smallest power of two that holds the slot header and the message. */
    static int slotLength(RunSpec spec) {
        int needed = Math.max(MpmcSlotDescriptor.MIN_SLOT_LENGTH, MpmcSlotDescriptor.HEADER_LENGTH + spec.messageSize());
        return Integer.highestOneBit(needed - 1) << 1;
    }

    /** MPMC slots: a power of two, so that the slots hold about the ring capacity every row gets. */
    static int slotCount(RunSpec spec) {
        return Math.max(2, Integer.highestOneBit(spec.ringCapacity() / slotLength(spec)));
    }
}
