package io.sluice.perf.latency;

import io.sluice.perf.latency.systems.AeronIpcSystem;
import io.sluice.perf.latency.systems.AgronaRingSystem;
import io.sluice.perf.latency.systems.ChronicleQueueSystem;
import io.sluice.perf.latency.systems.DisruptorSystem;
import io.sluice.perf.latency.systems.JCToolsSpscSystem;
import io.sluice.perf.latency.systems.RawJavaSystem;
import io.sluice.perf.latency.systems.SluiceMixedSystem;
import io.sluice.perf.latency.systems.SluiceChannelSystem;

import java.util.List;

/**
 * Every system the latency harness knows, in the order the launcher interleaves them within a
 * round. A new row is one class implementing {@link LatencySystem} (its {@link Endpoint} opens
 * the rings, sends and polls) plus one entry here; a system whose JVMs need jars of their own
 * names a dependency set, which perf/pom.xml writes to {@code target/latency/}.
 *
 * <p>The raw C probe ({@code perf/native/rawpingpong.c}) is not a JVM system: the launcher runs
 * it itself as the {@code raw-c} row of each ping-pong round. The C client rows
 * ({@code sluice-java-c}, {@code sluice-c-java}) are JVM systems with a native side
 * ({@link LatencySystem#nativeSide()}): one side is the native peer program.
 */
public final class Systems {
    /** All JVM systems, in launch order. */
    public static final List<LatencySystem> ALL = List.of(
            new RawJavaSystem(),
            SluiceChannelSystem.spsc(),
            SluiceChannelSystem.broadcast(),
            SluiceMixedSystem.javaJava(),
            SluiceMixedSystem.javaC(),
            SluiceMixedSystem.cJava(),
            new AgronaRingSystem(),
            new AeronIpcSystem(),
            new ChronicleQueueSystem(),
            new JCToolsSpscSystem(),
            new DisruptorSystem());

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
