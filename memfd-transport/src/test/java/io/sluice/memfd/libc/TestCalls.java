package io.sluice.memfd.libc;

/**
 * Calls only tests make: asking whether an fd number is open (what a leak check asks). Test
 * sources of this package; tests run on the class path, where this class joins the package.
 */
public final class TestCalls {
    private TestCalls() {
    }

    /** Whether fd is an open descriptor in this process ({@code fcntl(F_GETFD)} succeeds). */
    public static boolean isOpen(int fd) {
        try {
            FdCalls.fcntl(fd, FdCalls.F_GETFD, 0);
            return true;
        } catch (io.sluice.api.SystemCallException e) {
            return false;
        }
    }
}
