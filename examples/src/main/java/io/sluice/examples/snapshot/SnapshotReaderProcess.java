package io.sluice.examples.snapshot;

import io.sluice.api.SluiceException;
import io.sluice.cache.Caches;
import io.sluice.cache.SnapshotLease;
import io.sluice.cache.SnapshotSubscription;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.StringJoiner;

/**
 * A Java reader of {@link SnapshotDemo}: subscribes to the owner's table with
 * {@link Caches#snapshot}, looks random symbols up in place in each version (a lease holds the
 * version while it is read), checks every answer against {@link ReferenceData}, and stops when
 * the owner ends the table. The subscription switches versions by itself; this reader only
 * acquires the current one. Lines on stdout, the same as the C reader prints (the owner reads them):
 * <pre>
 *   SAW reader=LABEL version=V instruments=N lookups=L hits=H mismatches=M
 *   DONE reader=LABEL pid=P versions=1,2 lookups=L mismatches=M
 *   FAILED reader=LABEL error=...
 * </pre>
 * Run by the demo: {@code SnapshotReaderProcess <socket path> <name> <label> <lookups per version>}.
 */
public final class SnapshotReaderProcess {
    /** How long to wait for the first version, then for each next one or the end. */
    private static final Duration WAIT = Duration.ofSeconds(60);
    /** Symbols looked up: every instrument of the first versions, and some not (yet) listed. */
    static final int KEY_SPACE = ReferenceData.INITIAL_INSTRUMENTS + 2_000;

    private final String label;
    private final MemorySegment[] keys = new MemorySegment[KEY_SPACE];
    private final MemorySegment expected = MemorySegment.ofArray(new byte[ReferenceData.MAX_VALUE_LENGTH]);
    private long lookups;
    private long mismatches;

    private SnapshotReaderProcess(String label) {
        this.label = label;
        for (int i = 0; i < KEY_SPACE; i++) {
            keys[i] = MemorySegment.ofArray(ReferenceData.symbol(i));
        }
    }

    public static void main(String[] args) throws InterruptedException {
        Path socket = Path.of(args[0]);
        String name = args[1];
        String label = args[2];
        long perVersion = Long.parseLong(args[3]);
        SnapshotReaderProcess reader = new SnapshotReaderProcess(label);
        try {
            System.exit(reader.run(socket, name, perVersion) ? 0 : 1);
        } catch (SluiceException | IllegalStateException e) {
            System.out.println("FAILED reader=" + label + " error=" + e);
            System.exit(1);
        }
    }

    private boolean run(Path socket, String name, long perVersion) throws InterruptedException {
        StringJoiner versions = new StringJoiner(",");
        SplittableRandom random = new SplittableRandom(label.hashCode());
        try (SnapshotSubscription table = Caches.snapshot(socket, name, WAIT)) {
            long seen = 0;
            while (true) {
                try (SnapshotLease version = table.acquire()) { // held: never unmapped while we read it
                    if (version.version() > seen) {
                        seen = version.version();
                        versions.add(Long.toString(seen));
                        lookUp(version, perVersion, random);
                    }
                }
                if (!table.awaitVersion(seen + 1, WAIT)) {
                    break; // the end, or no new version in time
                }
            }
            if (!table.isEnded()) {
                System.out.println("FAILED reader=" + label + " error=no new version and no END within " + WAIT);
                return false;
            }
            if (table.failure() != null) {
                System.out.println("FAILED reader=" + label + " error=" + table.failure());
                return false;
            }
        }
        System.out.println("DONE reader=" + label + " pid=" + ProcessHandle.current().pid() + " versions=" + versions
                + " lookups=" + lookups + " mismatches=" + mismatches);
        return mismatches == 0;
    }

    /** {@code count} lookups of random symbols in place, each answer checked. */
    private void lookUp(SnapshotLease table, long count, SplittableRandom random) {
        long version = table.version();
        int listed = ReferenceData.instrumentCount(version);
        long versionHits = 0;
        long versionMismatches = 0;
        for (long i = 0; i < count; i++) {
            int index = random.nextInt(KEY_SPACE);
            MemorySegment value = table.get(keys[index]); // a read-only slice of the mapping: no copy
            boolean ok;
            if (index < listed) {
                int length = ReferenceData.valueInto(version, index, expected);
                ok = value != null && MemorySegment.mismatch(expected, 0, length, value, 0, value.byteSize()) == -1;
                versionHits += value != null ? 1 : 0;
            } else {
                ok = value == null;
            }
            versionMismatches += ok ? 0 : 1;
        }
        lookups += count;
        mismatches += versionMismatches;
        System.out.println("SAW reader=" + label + " version=" + version + " instruments=" + listed + " lookups=" + count
                + " hits=" + versionHits + " mismatches=" + versionMismatches);
    }
}
