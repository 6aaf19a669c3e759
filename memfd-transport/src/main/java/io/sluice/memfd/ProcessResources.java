package io.sluice.memfd;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

/**
 * Counts what this process holds, read from {@code /proc/self}: open fds and Sluice mappings.
 * The evidence behind "nothing leaked" in tests, and a quick check for operators.
 */
public final class ProcessResources {
    private ProcessResources() {
    }

    /**
     * Number of open file descriptors of this process.
     *
     * @return the entries of {@code /proc/self/fd}
     */
    public static long openFds() {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Waits until this process has {@code expected} open fds, at most {@code timeout}, and
     * returns the last count: fds that other threads close asynchronously (a channel host's
     * connection threads, the JDK's pipe readers of a child process that exited) are counted
     * once they are closed, and a leak still shows as a count that never comes back.
     *
     * @param expected the fd count to wait for
     * @param timeout  how long to wait at most
     * @return the last count seen: {@code expected}, or what was open when the time ran out
     */
    public static long awaitOpenFds(long expected, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        long count;
        while ((count = openFds()) != expected && System.nanoTime() < deadline) {
            LockSupport.parkNanos(5_000_000L); // polling a count other threads change; bounded by the deadline
        }
        return count;
    }

    /**
     * The lines of {@code /proc/self/maps}.
     *
     * @return the lines, a snapshot
     */
    public static List<String> maps() {
        try {
            return Files.readAllLines(Path.of("/proc/self/maps"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Number of mappings of Sluice memfds ({@code memfd:sluice:*}) in this process.
     *
     * @return the count, from {@code /proc/self/maps}
     */
    public static long sluiceMappings() {
        return maps().stream().filter(l -> l.contains("/memfd:" + MemfdRegion.NAME_PREFIX)).count();
    }

    /**
     * Number of open fds that are Sluice memfds.
     *
     * @return the count, from {@code /proc/self/fd}
     */
    public static long sluiceFds() {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.filter(p -> {
                try {
                    return Files.readSymbolicLink(p).toString().startsWith("/memfd:" + MemfdRegion.NAME_PREFIX);
                } catch (IOException e) {
                    return false; // the fd closed while we looked
                }
            }).count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
