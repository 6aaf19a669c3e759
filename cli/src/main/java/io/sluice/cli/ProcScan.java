package io.sluice.cli;

import java.util.List;

/**
 * One pass over {@code /proc}: the processes that hold Sluice regions, and how many processes
 * could not be looked into.
 *
 * @param processes       processes holding at least one Sluice fd or mapping, by pid
 * @param otherUsers      processes of other users whose fds and maps this user may not read
 * @param otherUnreadable processes of this user that still could not be read (not dumpable,
 *                        e.g. a set-uid program)
 */
record ProcScan(List<ProcessHoldings> processes, int otherUsers, int otherUnreadable) {

    ProcScan {
        processes = List.copyOf(processes);
    }
}
