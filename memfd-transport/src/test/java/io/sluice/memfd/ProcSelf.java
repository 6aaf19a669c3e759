package io.sluice.memfd;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** Counts what this process holds, from /proc/self: the evidence for "nothing leaked". */
public final class ProcSelf {
    private ProcSelf() {
    }

    public static long openFds() {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static List<String> maps() {
        try {
            return Files.readAllLines(Path.of("/proc/self/maps"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static long sluiceMappings() {
        return maps().stream().filter(l -> l.contains("/memfd:" + MemfdRegion.NAME_PREFIX)).count();
    }

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
