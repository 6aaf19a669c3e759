package io.sluice.perf.latency;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * A system the harness measures: one row of the table in {@link Systems}. The row is data (what
 * the launcher needs to start its JVMs and label its results); its behaviour is an
 * {@link Endpoint} class in {@code io.sluice.perf.latency.systems}, reached through {@link #open}.
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
 *
 * @param id            short name: command line, file names, plot legend
 * @param label         what it is, with its version and set-up, for the summary
 * @param kind          whether the two sides are separate processes or two threads of one
 * @param scenarios     the scenarios it can run
 * @param classpathSets dependency sets its JVMs need besides the harness's (the harness's class
 *                      path carries the Sluice modules): names of
 *                      {@code perf/target/latency/<name>.classpath} files or of folders of jars
 *                      there (written by the build, see perf/pom.xml)
 * @param jvmArgs       JVM flags its JVMs need (the peers' {@code --add-exports} live here and only
 *                      here); {@code --enable-native-access=ALL-UNNAMED} is always given
 * @param nativeSide    the side the native peer program runs instead of a JVM (the C client rows),
 *                      or empty when both sides are JVMs; only for {@link Kind#IPC} rows
 * @param nativeArgs    what the native peer needs besides its side, the control file and the run
 *                      spec (for the Sluice C client: the host's socket and the two channel names)
 * @param opener        opens one side; names the endpoint class only inside its body, so that the
 *                      table loads without any peer library (see {@link Systems})
 */
public record LatencySystem(String id, String label, Kind kind, Set<Scenario> scenarios, List<String> classpathSets,
                            List<String> jvmArgs, Optional<Role> nativeSide, Function<RunSpec, List<String>> nativeArgs,
                            Opener opener) {
    /** Whether the two sides are separate processes or two threads of one. */
    public enum Kind { IPC, IN_PROCESS }

    /** Opens one side of a row: {@link LatencySystem#open}. */
    @FunctionalInterface
    public interface Opener {
        Endpoint open(Role role, RunSpec spec) throws Exception;
    }

    public LatencySystem {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(label, "label");
        Objects.requireNonNull(kind, "kind");
        scenarios = Set.copyOf(scenarios);
        classpathSets = List.copyOf(classpathSets);
        jvmArgs = List.copyOf(jvmArgs);
        Objects.requireNonNull(nativeSide, "nativeSide");
        Objects.requireNonNull(nativeArgs, "nativeArgs");
        Objects.requireNonNull(opener, "opener");
        if (nativeSide.isPresent() && kind != Kind.IPC) {
            throw new IllegalArgumentException(id + ": only a two-process row can have a native side");
        }
    }

    /** A row whose two sides are both JVMs (or both threads of one), with no jars or flags of its own. */
    public static LatencySystem of(String id, String label, Kind kind, Set<Scenario> scenarios, Opener opener) {
        return new LatencySystem(id, label, kind, scenarios, List.of(), List.of(), Optional.empty(), spec -> List.of(),
                opener);
    }

    /** This row, its JVMs also given the jars of these dependency sets. */
    public LatencySystem withClasspathSets(String... sets) {
        return new LatencySystem(id, label, kind, scenarios, List.of(sets), jvmArgs, nativeSide, nativeArgs, opener);
    }

    /** This row, its JVMs also given these flags. */
    public LatencySystem withJvmArgs(String... args) {
        return new LatencySystem(id, label, kind, scenarios, classpathSets, List.of(args), nativeSide, nativeArgs, opener);
    }

    /** This row, with {@code side} run by the native peer program, given {@code args} before the spec. */
    public LatencySystem withNativeSide(Role side, Function<RunSpec, List<String>> args) {
        return new LatencySystem(id, label, kind, scenarios, classpathSets, jvmArgs, Optional.of(side), args, opener);
    }

    /**
     * Opens one side. Files go under {@link RunSpec#workDir()} (a fresh folder in
     * {@code /dev/shm} per run); the ring's data capacity is {@link RunSpec#ringCapacity()}.
     */
    public Endpoint open(Role role, RunSpec spec) throws Exception {
        if (nativeSide.equals(Optional.of(role))) {
            throw new IllegalStateException(id + ": side " + role.letter() + " is the native peer, not a JVM");
        }
        return opener.open(role, spec);
    }

    /** {@link #nativeArgs()} for this run. */
    public List<String> nativeArgs(RunSpec spec) {
        return nativeArgs.apply(spec);
    }
}
