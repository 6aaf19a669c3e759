package io.sluice.cache.map;

import io.sluice.fdpassing.SeqPacketSocket;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The owner JVM of {@link SharedMapCrossProcessTest#aWriterKilledMidUpdateLeavesOnlyWholeValues}:
 * creates a map, sends its read-only fd and size, then rewrites, removes and re-inserts keys with
 * checksummed values, without end, until it is killed.
 */
public final class KilledWriterChild {
    public static void main(String[] args) {
        try (SharedMapWriter w = SharedMapWriter.create("test.map-killed", SharedMapOptions.of(64, 16, Checksummed.MAX_LENGTH));
             SeqPacketSocket conn = SeqPacketSocket.connect(Path.of(args[0]))) {
            MemorySegment value = MemorySegment.ofArray(new byte[Checksummed.MAX_LENGTH]);
            MemorySegment[] keys = new MemorySegment[64];
            for (int i = 0; i < 64; i++) {
                keys[i] = MemorySegment.ofArray(RacingReaderChild.key(i));
                w.put(keys[i], value.asSlice(0, Checksummed.write(value, i)));
            }
            conn.send(Long.toString(w.regionSize()).getBytes(StandardCharsets.US_ASCII), w.readOnlyFd());
            for (long n = 64; ; n++) {
                int i = (int) (n * 0x9E3779B9L >>> 8) & 63;
                if (n % 17 == 0) {
                    w.remove(keys[i]);
                } else {
                    w.put(keys[i], value.asSlice(0, Checksummed.write(value, n)));
                }
            }
        } catch (Throwable t) {
            t.printStackTrace(System.out);
            System.exit(1);
        }
    }
}
