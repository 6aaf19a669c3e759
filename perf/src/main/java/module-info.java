/** Benchmarks: JMH in-process figures and the cross-process latency harness. */
module io.sluice.perf {
    requires io.sluice.api;
    requires io.sluice.ringbuffer;
    requires io.sluice.memfd;
    requires io.sluice.fdpassing;
}
