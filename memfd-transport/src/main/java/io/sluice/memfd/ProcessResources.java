package io.sluice.memfd;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * Counts what this process holds, read from {@code /proc/self}: open fds and Sluice mappings.
 * The evidence behind "nothing leaked" in tests, and a quick check for operators.
 */
public final class ProcessResources {
    private ProcessResources() {
    }

    /** Number of open file descriptors of this process. */
    public static long openFds() {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The lines of {@code /proc/self/maps}. */
    public static List<String> maps() {
        try {
            return Files.readAllLines(Path.of("/proc/self/maps"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Number of mappings of Sluice memfds ({@code memfd:sluice:*}) in this process. */
    public static long sluiceMappings() {
        return maps().stream().filter(l -> l.contains("/memfd:" + MemfdRegion.NAME_PREFIX)).count();
    }

    /** Number of open fds that are Sluice memfds. */
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
