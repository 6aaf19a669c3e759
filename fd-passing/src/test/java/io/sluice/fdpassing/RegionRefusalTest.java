package io.sluice.fdpassing;

import io.sluice.memfd.OwnedFd;
import io.sluice.api.ProtocolException;
import io.sluice.api.RegionRefusedException;
import io.sluice.memfd.MemfdRegion;
import io.sluice.memfd.ProcessResources;
import io.sluice.memfd.Seal;
import io.sluice.memfd.libc.FdCalls;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a receiver refuses, and proof that refusing leaks nothing: every test counts
 * /proc/self/fd before and after.
 */
class RegionRefusalTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final Set<Seal> PROMISED = EnumSet.of(Seal.SHRINK, Seal.GROW, Seal.FUTURE_WRITE);

    @TempDir
    Path dir;

    private SeqPacketServer server;
    private SeqPacketSocket sender;
    private SeqPacketSocket receiver;

    @BeforeEach
    void connect() {
        server = SeqPacketServer.bind(dir.resolve("refusals.sock"));
        sender = SeqPacketSocket.connect(server.path());
        receiver = server.accept(WAIT);
    }

    @AfterEach
    void close() {
        receiver.close();
        sender.close();
        server.close();
    }

    /** Receives one message with one fd and adopts it as a region of {@code size} bytes. */
    private MemfdRegion receiveRegion(long size) {
        try (ReceivedMessage m = receiver.receive(64, 1, WAIT)) {
            return MemfdRegion.adopt(m.takeFd(0), size, PROMISED);
        }
    }

    private void send(OwnedFd... fds) {
        sender.send("region".getBytes(StandardCharsets.UTF_8), fds);
    }

    @Test
    void pipeIsRefused() {
        int[] pipe = FdCalls.pipe();
        try {
            long baseline = ProcessResources.openFds();
            send(OwnedFd.adopt(pipe[0], "pipe"));
            RegionRefusedException e = assertThrows(RegionRefusedException.class, () -> receiveRegion(4096));
            assertTrue(e.getMessage().contains("is a pipe, not a memfd"), e.getMessage());
            assertEquals(baseline, ProcessResources.openFds(), "the received pipe fd was closed");
        } finally {
            FdCalls.close(pipe[0]);
            FdCalls.close(pipe[1]);
        }
    }

    @Test
    void regularFileIsRefused() throws Exception {
        Path file = Files.write(dir.resolve("plain.bin"), new byte[4096]);
        int fd = FdCalls.open(file.toString(), FdCalls.O_RDWR | FdCalls.O_CLOEXEC, 0);
        try {
            long baseline = ProcessResources.openFds();
            send(OwnedFd.adopt(fd, "file"));
            RegionRefusedException e = assertThrows(RegionRefusedException.class, () -> receiveRegion(4096));
            assertTrue(e.getMessage().contains("plain.bin (a regular file), not a memfd"), e.getMessage());
            assertEquals(baseline, ProcessResources.openFds(), "the received file fd was closed");
        } finally {
            FdCalls.close(fd);
        }
    }

    @Test
    void memfdMissingSealsIsRefused() {
        try (MemfdRegion r = MemfdRegion.create("test.missing-seals", 4096)) {
            r.addSeals(Seal.SHRINK, Seal.GROW); // no FUTURE_WRITE: the peer could still write
            long baseline = ProcessResources.openFds();
            send(r.fd());
            RegionRefusedException e = assertThrows(RegionRefusedException.class, () -> receiveRegion(4096));
            assertTrue(e.getMessage().contains("memfd 'sluice:test.missing-seals'"), e.getMessage());
            assertTrue(e.getMessage().contains("missing FUTURE_WRITE"), e.getMessage());
            assertEquals(baseline, ProcessResources.openFds());
        }
    }

    @Test
    void unsealedSizeIsRefusedEvenIfTheSizeMatches() {
        try (MemfdRegion r = MemfdRegion.create("test.no-seals", 4096)) {
            long baseline = ProcessResources.openFds();
            send(r.fd());
            RegionRefusedException e = assertThrows(RegionRefusedException.class, () -> receiveRegion(4096));
            assertTrue(e.getMessage().contains("missing SHRINK|GROW|FUTURE_WRITE"), e.getMessage());
            assertEquals(baseline, ProcessResources.openFds());
        }
    }

    @Test
    void memfdSmallerThanPromisedIsRefused() {
        try (MemfdRegion r = MemfdRegion.create("test.too-small", 4096)) {
            r.addSeals(PROMISED);
            long baseline = ProcessResources.openFds();
            send(r.fd());
            RegionRefusedException e = assertThrows(RegionRefusedException.class, () -> receiveRegion(65536));
            assertTrue(e.getMessage().contains("is 4096 bytes, promised 65536"), e.getMessage());
            assertEquals(baseline, ProcessResources.openFds());
        }
    }

    @Test
    void messageWithMoreFdsThanExpectedIsRefusedAndAllItsFdsClosed() {
        try (MemfdRegion a = MemfdRegion.create("test.extra-a", 4096);
             MemfdRegion b = MemfdRegion.create("test.extra-b", 4096)) {
            int[] pipe = FdCalls.pipe();
            try {
                long baseline = ProcessResources.openFds();
                send(a.fd(), b.fd(), OwnedFd.adopt(pipe[0], "pipe"));
                ProtocolException e = assertThrows(ProtocolException.class, () -> receiveRegion(4096));
                assertTrue(e.getMessage().contains("carried 3 fds, at most 1 expected"), e.getMessage());
                assertEquals(baseline, ProcessResources.openFds(), "all three received fds were closed");
            } finally {
                FdCalls.close(pipe[0]);
                FdCalls.close(pipe[1]);
            }
        }
    }

    @Test
    void oversizedMessageIsRefusedAndItsFdsClosed() {
        try (MemfdRegion r = MemfdRegion.create("test.oversized", 4096)) {
            long baseline = ProcessResources.openFds();
            sender.send(new byte[1000], r.fd());
            ProtocolException e = assertThrows(ProtocolException.class, () -> receiver.receive(64, 1, WAIT));
            assertTrue(e.getMessage().contains("longer than the 64 bytes allowed"), e.getMessage());
            assertEquals(baseline, ProcessResources.openFds());
        }
    }

    @Test
    void severalFdsInOneMessageArriveInOrder() {
        try (MemfdRegion a = MemfdRegion.create("test.multi-a", 4096);
             MemfdRegion b = MemfdRegion.create("test.multi-b", 8192)) {
            a.addSeals(PROMISED);
            b.addSeals(PROMISED);
            long baseline = ProcessResources.openFds();
            send(a.fd(), b.fd());
            try (ReceivedMessage m = receiver.receive(64, 2, WAIT)) {
                assertEquals(2, m.fdCount());
                try (MemfdRegion ra = MemfdRegion.adopt(m.takeFd(0), 4096, PROMISED);
                     MemfdRegion rb = MemfdRegion.adopt(m.takeFd(1), 8192, PROMISED)) {
                    assertEquals("test.multi-a", ra.name());
                    assertEquals("test.multi-b", rb.name());
                }
            }
            assertEquals(baseline, ProcessResources.openFds());
        }
    }

    @Test
    void receivedFdsAreCloseOnExec() {
        try (MemfdRegion r = MemfdRegion.create("test.cloexec", 4096)) {
            send(r.fd());
            try (ReceivedMessage m = receiver.receive(64, 1, WAIT)) {
                try (OwnedFd fd = m.takeFd(0)) {
                    assertEquals(1 /* FD_CLOEXEC */, fd.apply(n -> FdCalls.fcntl(n, FdCalls.F_GETFD, 0)) & 1, "MSG_CMSG_CLOEXEC set FD_CLOEXEC");
                }
            }
        }
    }
}
