package io.sluice.ringbuffer;

import io.sluice.api.BackOffIdleStrategy;
import io.sluice.api.IdleStrategy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;

/**
 * The consumer side of {@link SpscCrossProcessTest}, in its own JVM. Opens the parent's memfds
 * through {@code /proc/<parent>/fd/<fd>}: the ring read-only, its own position region
 * read-write, which it formats. Prints {@code ready}, consumes {@code count} messages, prints
 * {@code checksum=<hex> count=<n>} and exits 0; exits 1 with a reason on any failure or when
 * {@code timeoutSeconds} pass.
 *
 * <p>Arguments: parentPid ringFd ringSize positionFd positionSize capacity count timeoutSeconds
 */
public final class SpscCrossProcessConsumer {
    private SpscCrossProcessConsumer() {
    }

    public static void main(String[] args) throws Exception {
        long parent = Long.parseLong(args[0]);
        int ringFd = Integer.parseInt(args[1]);
        long ringSize = Long.parseLong(args[2]);
        int positionFd = Integer.parseInt(args[3]);
        long positionSize = Long.parseLong(args[4]);
        long capacity = Long.parseLong(args[5]);
        long count = Long.parseLong(args[6]);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Long.parseLong(args[7]));
        try (Arena arena = Arena.ofShared();
             FileChannel ringChannel = FileChannel.open(fdPath(parent, ringFd), StandardOpenOption.READ);
             FileChannel positionChannel = FileChannel.open(fdPath(parent, positionFd),
                     StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            MemorySegment ring = ringChannel.map(FileChannel.MapMode.READ_ONLY, 0, ringSize, arena);
            MemorySegment position = positionChannel.map(FileChannel.MapMode.READ_WRITE, 0, positionSize, arena);
            SpscRing.formatConsumerPosition(position, capacity);
            SpscConsumer consumer = SpscRing.attachConsumer(ring, position, "cross-process");
            System.out.println("ready");

            long[] state = {SpscPayloads.CHECKSUM_SEED, 0};
            IdleStrategy idle = new BackOffIdleStrategy(1_000, 10, 1_000, 100_000);
            while (state[1] < count) {
                int n = consumer.poll((type, payload) -> {
                    state[0] = SpscPayloads.checksum(state[0], type, payload);
                    state[1]++;
                }, 256);
                if (n == 0 && System.nanoTime() - deadline > 0) {
                    System.out.println("timeout after " + state[1] + " of " + count + " messages");
                    System.exit(1);
                }
                idle.idle(n);
            }
            System.out.println("checksum=" + Long.toHexString(state[0]) + " count=" + state[1]);
        } catch (Throwable t) {
            System.out.println("failed: " + t);
            t.printStackTrace(System.out);
            System.exit(1);
        }
    }

    private static Path fdPath(long pid, int fd) {
        return Path.of("/proc", Long.toString(pid), "fd", Integer.toString(fd));
    }
}
