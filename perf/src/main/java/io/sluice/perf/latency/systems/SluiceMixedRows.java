package io.sluice.perf.latency.systems;

import io.sluice.perf.latency.Endpoint;
import io.sluice.perf.latency.Role;
import io.sluice.perf.latency.RunSpec;
import io.sluice.ringbuffer.MpmcSlotDescriptor;

import java.nio.file.Path;
import java.util.List;

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
public final class SluiceMixedRows {
    /** The SPSC channel, host to attacher. */
    static final String DOWN = "down";
    /** The MPMC channel, attacher to host. */
    static final String UP = "up";
    /** The host's consumer and the attacher's producer, and room for a retry after a failed attach. */
    static final int MAX_PARTICIPANTS = 4;

    private SluiceMixedRows() {
    }

    /**
     * Opens a JVM side of one of the three rows: the host if {@code role} is the row's
     * {@code host} role, else the attacher.
     */
    public static Endpoint open(Role host, Role role, RunSpec spec) {
        return role == host ? new SluiceHostEndpoint(spec) : new SluiceAttacherEndpoint(spec);
    }

    /** What the C client needs besides its side, the control file and the run spec. */
    public static List<String> nativeArgs(RunSpec spec) {
        return List.of(socket(spec).toString(), DOWN, UP);
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
