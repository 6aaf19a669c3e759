package io.sluice.memfd;

import io.sluice.api.SystemCallException;
import io.sluice.memfd.libc.FdCalls;

/** Leak checks of this module's tests. */
final class OpenFds {
    private OpenFds() {
    }

    /** Whether fd is an open descriptor in this process ({@code fcntl(F_GETFD)} succeeds). */
    static boolean isOpen(int fd) {
        try {
            FdCalls.fcntl(fd, FdCalls.F_GETFD, 0);
            return true;
        } catch (SystemCallException e) {
            return false;
        }
    }
}
