package io.sluice.perf.latency;

import io.sluice.perf.latency.systems.AeronDriverMode;
import io.sluice.perf.latency.systems.AeronEndpoint;
import io.sluice.perf.latency.systems.AeronUdpEndpoint;
import io.sluice.perf.latency.systems.AgronaEndpoint;
import io.sluice.perf.latency.systems.ChronicleEndpoint;
import io.sluice.perf.latency.systems.DisruptorEndpoint;
import io.sluice.perf.latency.systems.JCToolsEndpoint;
import io.sluice.perf.latency.systems.RawJavaEndpoint;
import io.sluice.perf.latency.systems.SluiceBridgeEndpoint;
import io.sluice.perf.latency.systems.SluiceChannelRows;
import io.sluice.perf.latency.systems.SluiceMixedRows;
import io.sluice.perf.latency.systems.UdpPorts;

import java.util.List;
import java.util.Set;

import static io.sluice.perf.latency.LatencySystem.Kind.IN_PROCESS;
import static io.sluice.perf.latency.LatencySystem.Kind.IPC;

/**
 * Every system the latency harness knows, one {@link LatencySystem} row each, in the order the
 * launcher interleaves them within a round. A new row is one entry here plus, for its behaviour,
 * an {@link Endpoint} class in {@code io.sluice.perf.latency.systems} (it opens the rings, sends
 * and polls); a system whose JVMs need jars of their own names a dependency set, which
 * perf/pom.xml writes to {@code target/latency/}.
 *
 * <p>The launcher loads this table without any peer library on its class path, so a row names
 * its endpoint class only inside a lambda's body: a method reference ({@code AeronEndpoint::open})
 * would make the JVM load the class, and with it Aeron's types, when the table is built.
 *
 * <p>The raw C probe ({@code perf/native/rawpingpong.c}) is not a JVM system: the launcher runs
 * it itself as the {@code raw-c} row of each ping-pong round. The C client rows
 * ({@code sluice-java-c}, {@code sluice-c-java}) are JVM systems with a native side
 * ({@link LatencySystem#nativeSide()}): one side is the native peer program.
 */
public final class Systems {
    private static final Set<Scenario> EVERY_SCENARIO = Set.of(Scenario.PING_PONG, Scenario.FIXED_RATE, Scenario.THROUGHPUT);
    private static final Set<Scenario> PING_PONG = Set.of(Scenario.PING_PONG);

    /** All JVM systems, in launch order. */
    public static final List<LatencySystem> ALL = List.of(
            LatencySystem.of("raw-java",
                    "raw cache-line ping-pong, Java (VarHandle on a mapped /dev/shm segment, through the harness loop)",
                    IPC, PING_PONG, (role, spec) -> RawJavaEndpoint.open(role, spec)),
            LatencySystem.of("sluice-spsc",
                    "Sluice SPSC channel over sealed memfds, attached by socket (offer, poll 1, read in place)",
                    IPC, EVERY_SCENARIO, (role, spec) -> SluiceChannelRows.spsc(role, spec)),
            LatencySystem.of("sluice-broadcast",
                    "Sluice broadcast channel (back-pressure, one consumer) over sealed memfds, attached by socket",
                    IPC, EVERY_SCENARIO, (role, spec) -> SluiceChannelRows.broadcast(role, spec)),
            LatencySystem.of("sluice-mpmc",
                    "Sluice MPMC channels, one per direction: each side hosts the one it receives on (local consumer) "
                            + "and attaches to the other's as a producer",
                    IPC, PING_PONG, (role, spec) -> SluiceChannelRows.mpmc(role, spec)),
            LatencySystem.of("sluice-mixed",
                    "Sluice, one JVM hosts an SPSC channel out and an MPMC channel back, "
                            + "the other JVM attaches (the Java reference of the C rows)",
                    IPC, PING_PONG, (role, spec) -> SluiceMixedRows.open(Role.INITIATOR, role, spec)),
            LatencySystem.of("sluice-java-c",
                    "as sluice-mixed, B the C client (fd-passing/native, gcc -O2; "
                            + "perf/native/sluice_latency_peer.c) echoing; the host JVM times",
                    IPC, PING_PONG, (role, spec) -> SluiceMixedRows.open(Role.INITIATOR, role, spec))
                    .withNativeSide(Role.RESPONDER, SluiceMixedRows::nativeArgs),
            LatencySystem.of("sluice-c-java",
                    "as sluice-mixed, A the C client timing with clock_gettime(CLOCK_MONOTONIC); the host JVM echoes",
                    IPC, PING_PONG, (role, spec) -> SluiceMixedRows.open(Role.RESPONDER, role, spec))
                    .withNativeSide(Role.INITIATOR, SluiceMixedRows::nativeArgs),
            LatencySystem.of("agrona",
                    "Agrona OneToOneRingBuffer over /dev/shm files (tryClaim/commit, read 1)",
                    IPC, EVERY_SCENARIO, (role, spec) -> AgronaEndpoint.open(role, spec))
                    .withClasspathSets("agrona")
                    .withJvmArgs("--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"),
            LatencySystem.of("aeron", AeronDriverMode.label(),
                    IPC, EVERY_SCENARIO, (role, spec) -> AeronEndpoint.open(role, spec))
                    .withClasspathSets("aeron")
                    .withJvmArgs("--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                            "-Daeron.print.configuration=false"),
            LatencySystem.of("aeron-udp",
                    "Aeron over UDP on loopback, each side a host with its own driver (INVOKER, run by the measured thread), "
                            + "exclusive publication + subscription per direction: the bridge row's reference",
                    IPC, EVERY_SCENARIO, (role, spec) -> AeronUdpEndpoint.open(role, spec))
                    .withClasspathSets("aeron")
                    .withJvmArgs(UdpPorts.AERON_JVM_ARGS),
            LatencySystem.of("sluice-bridge",
                    "Sluice over the Aeron bridge: each side sends into its SPSC channel, bridge out -> UDP (loopback) -> "
                            + "bridge in -> broadcast channel read by the other side; as aeron-udp, all on the measured thread",
                    IPC, EVERY_SCENARIO, (role, spec) -> SluiceBridgeEndpoint.open(role, spec))
                    .withClasspathSets("aeron")
                    .withJvmArgs(UdpPorts.AERON_JVM_ARGS),
            LatencySystem.of("chronicle",
                    "Chronicle Queue (binary queue per direction in /dev/shm, appender + tailer)",
                    IPC, EVERY_SCENARIO, (role, spec) -> ChronicleEndpoint.open(role, spec))
                    .withClasspathSets("chronicle")
                    .withJvmArgs("--add-exports=java.base/sun.nio.ch=ALL-UNNAMED",
                            "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
                            "--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED",
                            "--sun-misc-unsafe-memory-access=allow",
                            "-Dchronicle.analytics.disable=true",
                            "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn"),
            LatencySystem.of("jctools",
                    "JCTools SpscArrayQueue, two threads of one JVM (in-process context row, not IPC)",
                    IN_PROCESS, EVERY_SCENARIO, (role, spec) -> JCToolsEndpoint.open(role, spec))
                    .withClasspathSets("jctools")
                    .withJvmArgs("--sun-misc-unsafe-memory-access=allow"),
            LatencySystem.of("disruptor",
                    "LMAX Disruptor single-producer RingBuffer + EventPoller, two threads of one JVM (in-process context row, not IPC)",
                    IN_PROCESS, EVERY_SCENARIO, (role, spec) -> DisruptorEndpoint.open(role, spec))
                    .withClasspathSets("disruptor"));

    private Systems() {
    }

    public static LatencySystem byId(String id) {
        for (LatencySystem s : ALL) {
            if (s.id().equals(id)) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown system '" + id + "'; known: "
                + ALL.stream().map(LatencySystem::id).toList());
    }
}
