package io.sluice.cli;

import java.util.List;

/**
 * What one process holds of Sluice regions: its fds on them and its mappings of them.
 *
 * @param pid       the process id
 * @param comm      {@code /proc/PID/comm}, the kernel's short process name (the process chose it)
 * @param mainClass for a JVM, the main class, module/class or jar from {@code /proc/PID/cmdline};
 *                  empty otherwise or when it cannot be told
 * @param fds       its fds whose target is a Sluice memfd
 * @param mappings  its mappings of Sluice memfds
 */
record ProcessHoldings(long pid, String comm, String mainClass, List<RegionFd> fds, List<RegionMapping> mappings) {

    ProcessHoldings {
        fds = List.copyOf(fds);
        mappings = List.copyOf(mappings);
    }
}
