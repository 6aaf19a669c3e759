package io.sluice.channel;

import io.sluice.fdpassing.SealedRegionChild;
import io.sluice.ringbuffer.SpscConsumer;
import io.sluice.testing.TestCalls;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * The consumer of {@link NamespaceAttachTest}, started inside new PID and mount (and, where the
 * kernel allows, user) namespaces that see the host's socket directory only where it was
 * bind-mounted. Prints, one line each:
 * <pre>
 * INSIDE pid=P uid=U original-visible=B shm-entries=N   how this process sees itself and the host's paths
 * ATTACHED
 * DONE n sum                                             every message, in order, read in place
 * MAP perms                                              the permissions of the ring's mapping (/proc/self/maps)
 * WRITE map=E mprotect=E                                 the kernel's answer to a writable mapping, and to
 *                                                        making the read-only mapping writable (errno names)
 * </pre>
 * Arguments: SOCKET (its path inside), CHANNEL, COUNT, ORIGINAL (the socket's path on the host).
 */
public final class NamespacedConsumer {
    public static void main(String[] args) throws Exception {
        Path socket = Path.of(args[0]);
        String channel = args[1];
        long count = Long.parseLong(args[2]);
        Path original = Path.of(args[3]);
        long shmEntries;
        try (Stream<Path> shm = Files.list(Path.of("/dev/shm"))) {
            shmEntries = shm.count();
        }
        System.out.println("INSIDE pid=" + ProcessHandle.current().pid() + " uid=" + uid()
                + " original-visible=" + Files.exists(original) + " shm-entries=" + shmEntries);
        try (ConsumerAttachment<SpscConsumer> a = Channels.spsc(socket, channel)) {
            System.out.println("ATTACHED");
            System.out.flush();
            ChannelPeer.SequenceCheck check = new ChannelPeer.SequenceCheck(0);
            while (check.count < count) {
                a.poll(check::accept, 256);
            }
            System.out.println("DONE " + check.count + " " + check.sum);
            long address = a.consumer().buffer().address();
            System.out.println("MAP " + permissionsAt(address));
            long page = address & ~4095L;
            System.out.println("WRITE map=" + SealedRegionChild.attempt(() -> a.dataRegion().mapReadWrite())
                    + " mprotect=" + SealedRegionChild.attempt(() -> TestCalls.mprotect(page, 4096, TestCalls.PROT_READ | TestCalls.PROT_WRITE)));
        }
        System.out.flush();
    }

    private static String uid() throws IOException {
        return Files.readAllLines(Path.of("/proc/self/status")).stream()
                .filter(l -> l.startsWith("Uid:")).map(l -> l.split("\\s+")[1]).findFirst().orElse("?");
    }

    /** The permissions column of the /proc/self/maps line whose range holds {@code address}. */
    private static String permissionsAt(long address) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
            String[] f = line.split("\\s+");
            String[] range = f[0].split("-");
            if (Long.compareUnsigned(address, Long.parseUnsignedLong(range[0], 16)) >= 0
                    && Long.compareUnsigned(address, Long.parseUnsignedLong(range[1], 16)) < 0) {
                return f[1];
            }
        }
        return "none";
    }
}
