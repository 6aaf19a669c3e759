package io.sluice.examples.snapshot;

import io.sluice.cache.snapshot.SealedSnapshot;
import io.sluice.cache.snapshot.SnapshotMessages;
import io.sluice.api.SystemCallException;
import io.sluice.fdpassing.ReceivedMessage;
import io.sluice.fdpassing.SeqPacketSocket;
import io.sluice.memfd.ProcessResources;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;

/**
 * The second JVM of {@link CrossProcessSnapshotTest}: connects, and for every PUBLISH adopts the
 * fd, verifies the table, closes the version it held, looks up every listed symbol and 500
 * unlisted ones in place, tries once to map the table writable, and answers with a REPORT of
 * {@code key=value} pairs. On END it closes what it holds and reports what is left.
 */
public final class SnapshotChild {
    private static final Duration WAIT = Duration.ofSeconds(20);

    public static void main(String[] args) {
        try (SeqPacketSocket conn = SeqPacketSocket.connect(Path.of(args[0]))) {
            SealedSnapshot current = null;
            try {
                while (true) {
                    try (ReceivedMessage m = conn.receive(SnapshotMessages.MAX_LENGTH, 1, WAIT)) {
                        if (SnapshotMessages.type(m.data(), m.fdCount()) == SnapshotMessages.END) {
                            break;
                        }
                        SnapshotMessages.Publish p = SnapshotMessages.decodePublish(m.data());
                        SealedSnapshot next = SealedSnapshot.adopt(m.takeFd(0), p.regionSize(), p.version());
                        if (current != null) {
                            current.close();
                        }
                        current = next;
                        current.reader().verify();
                        conn.send(SnapshotMessages.report(lookUpEverything(current)));
                    }
                }
            } finally {
                if (current != null) {
                    current.close();
                }
            }
            conn.send(SnapshotMessages.report("done sluice_fds=" + ProcessResources.sluiceFds()
                    + " sluice_maps=" + ProcessResources.sluiceMappings()));
        }
    }

    private static String lookUpEverything(SealedSnapshot s) {
        long version = s.version();
        int listed = ReferenceData.instrumentCount(version);
        int found = 0;
        int matched = 0;
        int absent = 0;
        for (int i = 0; i < listed + 500; i++) {
            MemorySegment value = s.reader().get(ReferenceData.symbol(i));
            if (value == null) {
                absent++;
                continue;
            }
            found++;
            if (i < listed && Arrays.equals(ReferenceData.value(version, i), value.toArray(ValueLayout.JAVA_BYTE))) {
                matched++;
            }
        }
        String mmap;
        try {
            s.region().mapReadWrite();
            mmap = "ALLOWED";
        } catch (SystemCallException e) {
            mmap = e.errnoName();
        }
        return "version=" + version + " entries=" + s.reader().entryCount() + " found=" + found + " matched=" + matched
                + " absent=" + absent + " mmap_rw=" + mmap + " sluice_fds=" + ProcessResources.sluiceFds()
                + " sluice_maps=" + ProcessResources.sluiceMappings();
    }
}
