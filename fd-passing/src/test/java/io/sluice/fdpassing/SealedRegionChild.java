package io.sluice.fdpassing;

import io.sluice.api.SystemCallException;
import io.sluice.memfd.MemfdRegion;
import io.sluice.memfd.Seal;
import io.sluice.memfd.libc.FdCalls;
import io.sluice.memfd.libc.MemfdCalls;
import io.sluice.testing.TestCalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The second JVM of {@link CrossProcessRegionTest}: attaches through the socket, receives a
 * sealed region, reads it, then tries every way of writing it and reports what the kernel said.
 * Replies are text lines over the socket: {@code key=value ...}.
 */
public final class SealedRegionChild {
    private static final Duration WAIT = Duration.ofSeconds(20);

    public static void main(String[] args) throws Exception {
        Path socket = Path.of(args[0]);
        long size = Long.parseLong(args[1]);
        try (SeqPacketSocket s = SeqPacketSocket.connect(socket)) {
            MemfdRegion region;
            try (ReceivedMessage m = s.receive(256, 1, WAIT)) {
                region = MemfdRegion.adopt(m.takeFd(0), size, EnumSet.of(Seal.SHRINK, Seal.GROW, Seal.FUTURE_WRITE));
            }
            try (region) {
                MemorySegment ro = region.mapReadOnly();
                send(s, "read1=" + Long.toHexString(ro.get(JAVA_LONG, 0)));
                try (ReceivedMessage go = s.receive(256, 0, WAIT)) {
                    // The parent wrote its second value before sending this message.
                }
                send(s, "read2=" + Long.toHexString(ro.get(JAVA_LONG, 0)));
                send(s, "mmap_rw=" + attempt(region::mapReadWrite)
                        + " mprotect_rw=" + attempt(() -> TestCalls.mprotect(ro.address(), size, TestCalls.PROT_READ | TestCalls.PROT_WRITE))
                        + " write=" + attempt(() -> {
                            try (Arena a = Arena.ofConfined()) {
                                region.fd().use(fd -> FdCalls.write(fd, a.allocate(8)));
                            }
                        })
                        + " ftruncate_grow=" + attempt(() -> region.fd().use(fd -> MemfdCalls.ftruncate(fd, size * 2)))
                        + " ftruncate_shrink=" + attempt(() -> region.fd().use(fd -> MemfdCalls.ftruncate(fd, size / 2)))
                        + " java_write=" + attempt(() -> ro.set(JAVA_LONG, 0, 1L)));
                try (ReceivedMessage bye = s.receive(256, 0, WAIT)) {
                    // parent is done
                }
            }
        }
    }

    /** {@code ALLOWED}, or what refused {@code r}: the errno's name, or the exception's simple name. */
    public static String attempt(Runnable r) {
        try {
            r.run();
            return "ALLOWED";
        } catch (SystemCallException e) {
            return e.errnoName();
        } catch (RuntimeException e) {
            return e.getClass().getSimpleName();
        }
    }

    private static void send(SeqPacketSocket s, String text) {
        s.send(text.getBytes(StandardCharsets.UTF_8));
    }
}
