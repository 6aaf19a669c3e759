/** Runnable programs that show Sluice end to end; see the README for the commands. */
module io.sluice.examples {
    requires io.sluice.api;
    requires io.sluice.ringbuffer;
    requires io.sluice.memfd;
    requires io.sluice.fdpassing;
    requires io.sluice.cache;
    requires java.management; // the snapshot demo's readers report lookups per CPU-second
    requires HdrHistogram;    // automatic module (file name): the subscribers' latency percentiles
}
