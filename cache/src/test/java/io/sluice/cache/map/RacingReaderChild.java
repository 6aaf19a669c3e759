package io.sluice.cache.map;

import io.sluice.api.LimitExceededException;
import io.sluice.fdpassing.ReceivedMessage;
import io.sluice.fdpassing.SeqPacketSocket;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The reader JVM of {@link SharedMapCrossProcessTest#aReaderInAnotherJvmNeverSeesATornValue}: receives
 * the map's read-only fd, then for {@code args[1]} milliseconds looks keys up as fast as it can
 * (copying, in place, and walking the map) while the owner rewrites them, and checks every value
 * it was given. Reports {@code key=value} pairs on the socket and exits.
 */
public final class RacingReaderChild {
    static final int STABLE_KEYS = 48; // always live, rewritten all the time
    static final int KEYS = 64;        // the others come and go

    static byte[] key(int i) {
        return ("key-" + i).getBytes(StandardCharsets.US_ASCII);
    }

    public static void main(String[] args) {
        long millis = Long.parseLong(args[1]);
        try (SeqPacketSocket conn = SeqPacketSocket.connect(Path.of(args[0]))) {
            long lookups = 0, torn = 0, absentStable = 0, contention = 0, walks = 0, walked = 0, inPlace = 0;
            long newest = -1;
            try (ReceivedMessage m = conn.receive(64, 1, Duration.ofSeconds(20));
                 SharedMapReader r = SharedMapReader.adopt(m.takeFd(0), Long.parseLong(new String(m.bytes(), StandardCharsets.US_ASCII)))) {
                MemorySegment dst = MemorySegment.ofArray(new byte[r.geometry().maxValueLength()]);
                MemorySegment[] keys = new MemorySegment[KEYS];
                for (int i = 0; i < KEYS; i++) {
                    keys[i] = MemorySegment.ofArray(key(i));
                }
                ValueReader<Long> check = (map, at, length) -> Checksummed.verify(map.asSlice(at, length), length);
                long end = System.nanoTime() + millis * 1_000_000;
                int i = 0;
                while (System.nanoTime() < end) {
                    for (int batch = 0; batch < 1024; batch++, i = (i + 1) % KEYS) {
                        try {
                            lookups++;
                            int length = r.get(keys[i], dst);
                            if (length == SharedMapReader.ABSENT) {
                                if (i < STABLE_KEYS) {
                                    absentStable++;
                                }
                            } else {
                                long n = Checksummed.verify(dst, length);
                                if (n < 0) {
                                    torn++;
                                }
                                newest = Math.max(newest, n);
                            }
                            Long n = r.read(keys[(i * 7) % KEYS], check);
                            if (n != null) {
                                inPlace++;
                                if (n < 0) {
                                    torn++;
                                }
                            }
                        } catch (LimitExceededException e) {
                            contention++;
                        }
                    }
                    long[] bad = new long[1];
                    walked += r.forEach((k, v) -> {
                        if (Checksummed.verify(v, v.byteSize()) < 0) {
                            bad[0]++;
                        }
                    });
                    torn += bad[0];
                    walks++;
                }
                conn.send(("lookups=" + lookups + " in_place=" + inPlace + " torn=" + torn + " absent_stable=" + absentStable
                        + " contention=" + contention + " walks=" + walks + " walked=" + walked + " newest=" + newest
                        + " updates_seen=" + r.updatesApplied()).getBytes(StandardCharsets.US_ASCII));
            }
        } catch (Throwable t) {
            t.printStackTrace(System.out);
            System.exit(1);
        }
    }
}
