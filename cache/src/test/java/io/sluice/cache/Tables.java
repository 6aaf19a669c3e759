package io.sluice.cache;

import io.sluice.cache.snapshot.SnapshotWriter;

import java.nio.charset.StandardCharsets;

/** The tests' tables: version {@code v} maps {@code k0..k(n-1)} to {@code "v<v>:<i>"}, n growing with v. */
final class Tables {
    private Tables() {
    }

    static int entries(long version) {
        return 100 + 10 * (int) version;
    }

    static SnapshotWriter version(long version) {
        SnapshotWriter w = new SnapshotWriter();
        for (int i = 0; i < entries(version); i++) {
            w.put("k" + i, value(version, i));
        }
        return w;
    }

    static byte[] value(long version, int i) {
        return ("v" + version + ":" + i).getBytes(StandardCharsets.UTF_8);
    }

    /** How many of the version's keys a lease finds with exactly their value (and that k<n> is absent). */
    static int matching(SnapshotLease s) {
        long v = s.version();
        int ok = 0;
        for (int i = 0; i < entries(v); i++) {
            var value = s.get("k" + i);
            if (value != null && java.util.Arrays.equals(value(v, i), value.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE))) {
                ok++;
            }
        }
        return s.get("k" + entries(v)) == null ? ok : -1;
    }
}
