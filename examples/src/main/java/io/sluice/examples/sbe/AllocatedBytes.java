package io.sluice.examples.sbe;

import java.lang.management.ManagementFactory;

/** HotSpot's count of the bytes the current thread has allocated, for the demo's zero-allocation claim. */
final class AllocatedBytes {
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private AllocatedBytes() {
    }

    static long ofThisThread() {
        return THREADS.getThreadAllocatedBytes(Thread.currentThread().threadId());
    }
}
