package io.sluice.cache.map;

import io.sluice.api.LimitExceededException;
import io.sluice.api.SystemCallException;
import io.sluice.cache.Caches;
import io.sluice.cache.MapSubscription;
import io.sluice.cache.snapshot.WriteAttempts;
import io.sluice.memfd.ProcessResources;
import io.sluice.testing.TestCalls;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;

/**
 * The reader JVM of {@link ServedMapCrossProcessTest}: subscribes with {@link Caches#map}, as an
 * application would, and prints what it saw, one line per step.
 *
 * <ul>
 *   <li>{@code race SOCKET NAME MILLIS KEYS FINAL}: prints {@code writes k=outcome...} (every way
 *   this process could try to change the map, and what refused it), then for MILLIS ms looks up
 *   keys {@code 0..KEYS-1} (by copy and in place) while the owner rewrites them, checking every
 *   value's checksum: {@code read lookups=L torn=T absent=A newest=N contention=C}. Then waits for
 *   END ({@code ended=true failure=null}), checks that key {@code i} now holds value
 *   {@code FINAL + i} ({@code final matched=M of KEYS}), closes and prints
 *   {@code closed fds=F maps=M leaked=L}.</li>
 *   <li>{@code digest SOCKET NAME DONE_KEY...}: waits until every done key is in the map, prints
 *   the whole map ({@code map {k=v, ...}}, keys sorted, ASCII), then as above from END on.</li>
 * </ul>
 */
public final class ServedMapReaderChild {
    private static final long DEADLINE_NANOS = 60_000_000_000L;

    private ServedMapReaderChild() {
    }

    public static void main(String[] args) throws Exception {
        Path socket = Path.of(args[1]);
        String name = args[2];
        // Load what the checks use before counting fds (a jar stays open once read).
        Checksummed.verify(MemorySegment.ofArray(Checksummed.of(1)), Checksummed.length(1));
        WriteAttempts.describe("mmap_rw");
        // The map's classes get a System.Logger: the first one looks for providers in every jar of
        // the class path, and the jars stay open.
        SharedMapWriter.SEALS.size();
        try {
            Caches.map(Path.of(args[1] + ".absent"), name);
        } catch (SystemCallException expected) {
            // ENOENT: the client's classes are loaded now
        }
        java.util.Set<String> fdList = fds();
        long fdsBefore = ProcessResources.openFds();
        MapSubscription sub = Caches.map(socket, name);
        switch (args[0]) {
            case "race" -> race(sub, Long.parseLong(args[3]), Integer.parseInt(args[4]), Long.parseLong(args[5]));
            case "digest" -> digest(sub, java.util.Arrays.copyOfRange(args, 3, args.length));
            default -> throw new IllegalArgumentException(args[0]);
        }
        System.out.println("ended=" + sub.awaitEnd(Duration.ofSeconds(30)) + " failure=" + sub.failure());
        if (args[0].equals("race")) {
            int keys = Integer.parseInt(args[4]);
            long first = Long.parseLong(args[5]);
            MemorySegment dst = MemorySegment.ofArray(new byte[Checksummed.MAX_LENGTH]);
            int matched = 0;
            for (int i = 0; i < keys; i++) {
                int length = sub.reader().get(RacingReaderChild.key(i), dst);
                if (length != SharedMapReader.ABSENT && Checksummed.verify(dst, length) == first + i) {
                    matched++;
                }
            }
            System.out.println("final matched=" + matched + " of " + keys);
        }
        sub.close();
        long leaked = ProcessResources.awaitOpenFds(fdsBefore, Duration.ofSeconds(5)) - fdsBefore;
        if (leaked != 0) {
            java.util.Set<String> now = fds();
            now.removeAll(fdList);
            System.out.println("new fds: " + now);
        }
        System.out.println("closed fds=" + ProcessResources.sluiceFds() + " maps=" + ProcessResources.sluiceMappings()
                + " leaked=" + leaked);
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

    private static void race(MapSubscription sub, long millis, int keyCount, long first) {
        SharedMapReader r = sub.reader();
        StringBuilder writes = new StringBuilder("writes");
        WriteAttempts.tryAll(r.region(), r.segment()).forEach((k, v) -> writes.append(' ').append(k).append('=').append(v));
        writes.append(" mprotect=").append(WriteAttempts.outcome(() ->
                TestCalls.mprotect(r.segment().address(), r.segment().byteSize(), TestCalls.PROT_READ | TestCalls.PROT_WRITE)));
        System.out.println(writes);

        MemorySegment dst = MemorySegment.ofArray(new byte[r.geometry().maxValueLength()]);
        MemorySegment[] keys = new MemorySegment[keyCount];
        for (int i = 0; i < keyCount; i++) {
            keys[i] = MemorySegment.ofArray(RacingReaderChild.key(i));
        }
        ValueReader<Long> inPlace = (map, at, length) -> Checksummed.verify(map.asSlice(at, length), length);
        long lookups = 0, torn = 0, absent = 0, contention = 0, newest = -1;
        long end = System.nanoTime() + millis * 1_000_000;
        while (System.nanoTime() < end) {
            for (int i = 0; i < keyCount; i++) {
                try {
                    lookups += 2;
                    int length = r.get(keys[i], dst);
                    Long n = r.read(keys[(i * 7) % keyCount], inPlace);
                    if (length == SharedMapReader.ABSENT || n == null) {
                        absent++; // every key is live all along
                        continue;
                    }
                    long copied = Checksummed.verify(dst, length);
                    torn += (copied < 0 ? 1 : 0) + (n < 0 ? 1 : 0);
                    newest = Math.max(newest, Math.max(copied, n));
                } catch (LimitExceededException e) {
                    contention++;
                }
            }
        }
        System.out.println("read lookups=" + lookups + " torn=" + torn + " absent=" + absent + " newest=" + newest
                + " contention=" + contention);
    }

    private static void digest(MapSubscription sub, String[] doneKeys) {
        long deadline = System.nanoTime() + DEADLINE_NANOS;
        for (String done : doneKeys) {
            while (!sub.reader().contains(done)) { // the owner applies the updates: no message tells us
                if (System.nanoTime() > deadline || sub.isEnded()) {
                    System.out.println("failed: '" + done + "' never came; ended=" + sub.isEnded());
                    System.exit(1);
                }
                Thread.onSpinWait();
            }
        }
        Map<String, String> map = new TreeMap<>();
        sub.reader().forEach((k, v) -> map.put(new String(k.toArray(ValueLayout.JAVA_BYTE), StandardCharsets.US_ASCII),
                new String(v.toArray(ValueLayout.JAVA_BYTE), StandardCharsets.US_ASCII)));
        System.out.println("map " + map);
    }
}
