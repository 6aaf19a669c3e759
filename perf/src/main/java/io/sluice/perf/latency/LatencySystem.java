package io.sluice.perf.latency;

import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A system the harness measures: one small class per row, listed in {@link Systems}.
 *
 * <p>The launcher starts two JVMs per run ({@link Kind#IPC}: A pinned to CPU 0, B to CPU 1), or
 * one JVM with two pinned threads ({@link Kind#IN_PROCESS}), each with the class path
 * {@code target/classes} + the harness's jars + {@link #classpathSets()}, and the flags
 * {@link #jvmArgs()}. In each, the harness calls {@link #open} for its role — the initiator
 * first; the responder only once the initiator's {@code open} has returned, so the initiator
 * creates what is shared and the responder attaches — then {@link Endpoint#awaitReady()} on
 * both, then the scenario's loops.
 *
 * <p>A row may run one side as a native program instead ({@link #nativeSide()}): the launcher
 * starts {@code perf/native/sluice_latency_peer} for that side, pinned to the same CPU, and it
 * speaks the same protocol on the control file as {@link PeerMain}; the JVM side calls
 * {@link #open} for its role only.
 */
public interface LatencySystem {
    /** Whether the two sides are separate processes or two threads of one. */
    enum Kind { IPC, IN_PROCESS }

    /** Short name: command line, file names, plot legend. */
    String id();

    /** What it is, with its version and set-up, for the summary. */
    String label();

    Kind kind();

    /** The scenarios it can run. */
    Set<Scenario> scenarios();

    /**
     * Dependency sets its JVMs need besides the harness's: names of
     * {@code perf/target/latency/<name>.classpath} files or of folders of jars there (written by
     * the build, see perf/pom.xml).
     */
    default List<String> classpathSets() {
        return List.of(); // the harness's class path carries the Sluice modules
    }

    /**
     * JVM flags its JVMs need (the peers' {@code --add-exports} live here and only here);
     * {@code --enable-native-access=ALL-UNNAMED} is always given.
     */
    default List<String> jvmArgs() {
        return List.of();
    }

    /**
     * Opens one side. Files go under {@link RunSpec#workDir()} (a fresh folder in
     * {@code /dev/shm} per run); the ring's data capacity is {@link RunSpec#ringCapacity()}.
     */
    Endpoint open(Role role, RunSpec spec) throws Exception;

    /**
     * The side the native peer program runs instead of a JVM (the C client rows), or empty when
     * both sides are JVMs. Only for {@link Kind#IPC} rows.
     */
    default Optional<Role> nativeSide() {
        return Optional.empty();
    }

    /**
     * What the native peer needs besides its side, the control file and the run spec: for the
     * Sluice C client, the host's socket and the two channel names.
     */
    default List<String> nativeArgs(RunSpec spec) {
        return List.of();
    }
}
