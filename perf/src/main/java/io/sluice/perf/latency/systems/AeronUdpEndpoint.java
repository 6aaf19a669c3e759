package io.sluice.perf.latency.systems;

import io.aeron.Aeron;
import io.aeron.ExclusivePublication;
import io.aeron.Subscription;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import io.sluice.perf.latency.Endpoint;
import io.sluice.perf.latency.Role;
import io.sluice.perf.latency.RunSpec;

/**
 * Aeron's own UDP ping-pong on loopback, the reference for the bridge row: each side is a "host"
 * with its own media driver embedded in INVOKER mode, an exclusive publication to the other
 * side's port and a subscription on its own. The measured thread runs the driver's duty cycle
 * after each send and before each poll ({@link AeronEndpoint}, networked): that is what lets a
 * UDP path run on this two-CPU machine without a third spinning thread (see {@link AeronEndpoint}
 * on the threaded set-ups). Term length = the ring capacity; every message one fragment.
 */
public final class AeronUdpEndpoint {
    static final int STREAM = 1001;

    private AeronUdpEndpoint() {
    }

    public static Endpoint open(Role role, RunSpec spec) {
        boolean a = role == Role.INITIATOR;
        UdpPorts ports = UdpPorts.of(spec);
        MediaDriver driver = MediaDriver.launch(new MediaDriver.Context()
                .aeronDirectoryName(spec.workDir().resolve(a ? "aeron-udp-a" : "aeron-udp-b").toString())
                .threadingMode(ThreadingMode.INVOKER)
                .termBufferSparseFile(false)
                .dirDeleteOnStart(true)
                .dirDeleteOnShutdown(true));
        AeronEndpoint.SetupInvoker setup = new AeronEndpoint.SetupInvoker(driver.sharedAgentInvoker());
        setup.start();
        Aeron aeron = Aeron.connect(new Aeron.Context().aeronDirectoryName(driver.aeronDirectoryName()).preTouchMappedMemory(true));
        ExclusivePublication publication = aeron.addExclusivePublication(UdpPorts.publication(a ? ports.toB() : ports.toA(), spec, 0),
                STREAM);
        Subscription subscription = aeron.addSubscription(UdpPorts.unicast(a ? ports.toA() : ports.toB()), STREAM);
        return new AeronEndpoint(driver, setup, aeron, publication, subscription, spec.messageSize(), true);
    }
}
