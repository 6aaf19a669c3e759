/** Runnable programs that show Sluice end to end; see the README for the commands. */
module io.sluice.examples {
    requires io.sluice.api;
    requires io.sluice.ringbuffer;
    requires io.sluice.memfd;
    requires io.sluice.fdpassing;
    requires io.sluice.cache;
    requires io.sluice.views;  // Agrona buffer views for the SBE-style demo (Agrona: automatic module org.agrona)
    requires java.management; // the snapshot demo's readers report lookups per CPU-second
    requires jdk.management;  // the SBE demo counts the bytes each thread allocates
    requires HdrHistogram;    // automatic module (file name): the subscribers' latency percentiles
}
