package io.sluice.perf.latency.systems;

import io.sluice.perf.latency.RunSpec;

/**
 * The two UDP ports of a run's loopback rows (A to B, B to A): both sides derive them from the
 * run's work directory, so they agree without talking, and runs in other directories differ.
 */
public record UdpPorts(int toB, int toA) {
    /**
     * The flags of the aeron-udp and sluice-bridge rows (here, not in their endpoints: the launcher
     * reads them without Aeron on its class path). The driver timeout is raised to a minute: each
     * side's driver runs only when its measured thread invokes it, and between a run's phases (the
     * raw probe's brackets, the other side finishing a throughput run) that thread may not for
     * longer than Aeron's default 10 s, after which the client declares the driver dead.
     */
    public static final String[] AERON_JVM_ARGS = {"--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED",
            "--sun-misc-unsafe-memory-access=allow", "-Daeron.print.configuration=false", "-Daeron.driver.timeout=60000"};

    static UdpPorts of(RunSpec spec) {
        int base = 21_000 + 2 * Math.floorMod(spec.workDir().toString().hashCode(), 10_000);
        return new UdpPorts(base, base + 1);
    }

    static String unicast(int port) {
        return "aeron:udp?endpoint=127.0.0.1:" + port;
    }

    /**
     * A publication's URI to {@code port}, the same on both rows: term length twice the ring
     * capacity (Aeron's largest message is an eighth of a term, and the bridge must fit a Sluice
     * ring's largest, an eighth of its capacity, plus its header), and an MTU that holds a whole
     * message of the run ({@code extra} bytes of header included), so every message is one frame.
     */
    static String publication(int port, RunSpec spec, int extra) {
        int termLength = 2 * Math.max(64 * 1024, Integer.highestOneBit(spec.ringCapacity()));
        int mtu = Math.max(1408, (spec.messageSize() + extra + 32 + 31) & ~31);
        return unicast(port) + "|term-length=" + termLength + "|mtu=" + mtu;
    }
}
