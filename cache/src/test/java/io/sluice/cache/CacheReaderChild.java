package io.sluice.cache;

import io.sluice.memfd.ProcessResources;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The reader JVM of {@link CrossProcessCacheTest}: subscribes, and for the first version and each
 * new one prints a line {@code version=V matched=M maps=[...] fds=F}, where maps lists this
 * process's mappings of the snapshot's memfds and fds counts its Sluice memfd fds. After END it
 * closes the subscription and prints {@code closed fds=F maps=M leaked=L}, L being open fds
 * beyond those it had before subscribing.
 */
public final class CacheReaderChild {
    private CacheReaderChild() {
    }

    public static void main(String[] args) throws Exception {
        Path socket = Path.of(args[0]);
        int versions = Integer.parseInt(args[1]);
        Tables.version(1); // load what the checks use before counting fds (a jar stays open once read)
        try {
            Caches.snapshot(Path.of(args[0] + ".absent"), "refdata");
        } catch (io.sluice.api.SystemCallException expected) {
            // ENOENT: the client's classes are loaded now
        }
        java.util.Set<String> fdList = fds();
        long fdsBefore = ProcessResources.openFds();
        SnapshotSubscription sub = Caches.snapshot(socket, "refdata");
        sub.addListener(v -> report(sub)); // on the receiver thread: the next version waits behind it
        report(sub); // the test publishes version 2 only after this line
        if (!sub.awaitVersion(versions, Duration.ofSeconds(30))) {
            System.out.println("failed: version " + sub.version() + ", " + sub.failure());
            System.exit(1);
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        synchronized (sub) {
            while (!sub.isEnded() && System.nanoTime() < deadline) {
                sub.wait(100);
            }
        }
        System.out.println("ended=" + sub.isEnded() + " failure=" + sub.failure());
        sub.close();
        long leaked = ProcessResources.awaitOpenFds(fdsBefore, Duration.ofSeconds(5)) - fdsBefore;
        System.out.println("closed fds=" + ProcessResources.sluiceFds() + " maps=" + ProcessResources.sluiceMappings()
                + " leaked=" + leaked);
        if (leaked != 0) {
            java.util.Set<String> now = fds();
            now.removeAll(fdList);
            System.out.println("new fds: " + now);
        }
    }

    private static java.util.Set<String> fds() throws java.io.IOException {
        java.util.Set<String> out = new java.util.TreeSet<>();
        try (var l = java.nio.file.Files.list(Path.of("/proc/self/fd"))) {
            l.forEach(p -> {
                try {
                    out.add(p.getFileName() + "->" + java.nio.file.Files.readSymbolicLink(p));
                } catch (java.io.IOException e) {
                    // the listing's own fd
                }
            });
        }
        return out;
    }

    private static void report(SnapshotSubscription sub) {
        try (SnapshotLease s = sub.acquire()) {
            List<String> maps = ProcessResources.maps().stream().filter(l -> l.contains("memfd:sluice:refdata.v"))
                    .map(l -> l.substring(l.indexOf("refdata.v")).replace(" (deleted)", "")).toList();
            System.out.println("version=" + s.version() + " matched=" + Tables.matching(s) + " maps=" + maps
                    + " fds=" + ProcessResources.sluiceFds());
        }
    }
}
