package io.sluice.channel;

import io.sluice.api.BroadcastPolicy;
import io.sluice.memfd.OwnedFd;
import io.sluice.fdpassing.SeqPacketSocket;
import io.sluice.memfd.MemfdRegion;
import io.sluice.memfd.Seal;
import io.sluice.memfd.libc.FdCalls;
import io.sluice.memfd.libc.MmapCalls;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A hostile C consumer (sluice_peer's attack-writes mode) tries every way to write the data region
 * it was handed read-only. Whatever the host hands over — today's host an O_RDWR fd, the hardened
 * one an O_RDONLY fd sealed F_SEAL_SEAL as well — the kernel lets no write reach the host's pages
 * and no change reach the region's size: the host reads its region afterwards and finds it as it
 * was. Which of the other attempts (adding seals, chmod, re-opening) the kernel allows depends on
 * the fd and the seals the host chose; they are printed, and asserted only where the kernel
 * guarantees the answer.
 */
class NativeAttackTest {
    private static final long TIMEOUT_S = 60;

    /** Every attempt, in sluice_peer's order. */
    static final List<String> ATTACKS = List.of("mmap-shared-write", "mprotect-write", "madvise-remove",
            "proc-self-mem-write", "write", "pwrite", "ftruncate-shrink", "ftruncate-grow", "fallocate-punch-hole",
            "fallocate-grow", "add-seal-SHRINK", "add-seal-GROW", "add-seal-WRITE", "add-seal-FUTURE_WRITE", "add-seal-EXEC",
            "add-seal-SEAL", "fchmod", "reopen-rdwr", "reopen-mmap-write", "reopen-pwrite", "reopen-add-seal-SEAL");

    /**
     * What the seals SHRINK|GROW|FUTURE_WRITE refuse whatever fd the consumer holds: every write to
     * the pages, every change of the size, and a WRITE seal (EBUSY: the producer's writable mapping).
     */
    static final Set<String> REFUSED_WITH_ANY_FD = Set.of("mmap-shared-write", "mprotect-write", "madvise-remove",
            "proc-self-mem-write", "write", "pwrite", "ftruncate-shrink", "ftruncate-grow", "fallocate-punch-hole",
            "fallocate-grow", "add-seal-WRITE", "reopen-mmap-write", "reopen-pwrite");

    /** Allowed to the owner of the memfd (same uid) whatever the host does: they change no byte of the region. */
    static final Set<String> ALLOWED_TO_THE_OWNER = Set.of("fchmod", "reopen-rdwr");

    @TempDir
    Path dir;

    /** Runs the attacks; returns attack name to "refused ERRNO" / "ALLOWED -". */
    private static Map<String, String> attack(NativeChild c) throws InterruptedException {
        c.awaitLine("ATTACKS-DONE", TIMEOUT_S);
        c.assertExitsCleanly(TIMEOUT_S);
        Map<String, String> results = new LinkedHashMap<>();
        for (String line : c.lines("ATTACK ")) {
            String[] f = line.split(" ", 3);
            results.put(f[1], f[2]);
            System.out.println("C consumer, " + line);
        }
        assertEquals(ATTACKS, List.copyOf(results.keySet()), "every attempt, once, in order");
        return results;
    }

    private static void assertRefused(Map<String, String> results, Set<String> names) {
        for (String name : names) {
            assertTrue(results.get(name).startsWith("refused "), name + ": " + results.get(name));
        }
    }

    /** Fills the data area past its first 4 KiB with a pattern, so that a hole punched or a page zeroed shows. */
    private static void fill(MemorySegment data) {
        for (long i = 4096; i < data.byteSize(); i++) {
            data.set(ValueLayout.JAVA_BYTE, i, (byte) (0x5A ^ i));
        }
    }

    /** The host's view of the whole region, through a fresh read-only mapping of its own fd. */
    private static byte[] snapshot(OwnedFd fd, long size) {
        assertEquals(size, fd.apply(FdCalls::fstat).size(), "region size");
        long address = fd.apply(n -> MmapCalls.mmap(size, MmapCalls.PROT_READ, MmapCalls.MAP_SHARED, n));
        try (Arena arena = Arena.ofConfined()) {
            return MmapCalls.segmentAt(address, size, arena, null).toArray(ValueLayout.JAVA_BYTE);
        } finally {
            MmapCalls.munmap(address, size);
        }
    }

    @Test
    void aHostileSpscConsumerWritesNothingIntoTheRegionAndAddsNoSeal() throws Exception {
        Path socket = dir.resolve("spsc.sock");
        try (ChannelHost host = ChannelHost.bind(socket)) {
            HostedSpscChannel ch = host.spsc("orders", SpscOptions.of(64 * 1024));
            fill(ch.producer().buffer());
            byte[] before = snapshot(ch.data.fd(), ch.dataRegionSize());
            Set<Seal> seals = ch.data.seals();
            try (NativeChild c = NativeChild.start(NativeChild.SANITIZED, "sluice_peer", "attack-writes", socket.toString(),
                    "orders")) {
                Map<String, String> results = attack(c);
                assertRefused(results, REFUSED_WITH_ANY_FD);
            }
            assertArrayEquals(before, snapshot(ch.data.fd(), ch.dataRegionSize()), "the host's pages after the attacks");
            assertEquals(seals, ch.data.seals(), "no seal was added (the host sealed SEAL; the consumer's fd is O_RDONLY)");
        }
    }

    @Test
    void aHostileBroadcastConsumerWritesNothingIntoTheRegionEither() throws Exception {
        Path socket = dir.resolve("bcast.sock");
        try (ChannelHost host = ChannelHost.bind(socket)) {
            HostedBroadcastChannel ch = host.broadcast("md", BroadcastOptions.of(BroadcastPolicy.OVERWRITE, 64 * 1024)
                    .maxMessageLength(256).maxConsumers(2));
            fill(ch.producer().buffer());
            byte[] before = snapshot(ch.data.fd(), ch.dataRegionSize());
            Set<Seal> seals = ch.data.seals();
            try (NativeChild c = NativeChild.start(NativeChild.SANITIZED, "sluice_peer", "attack-writes", socket.toString(),
                    "md", "oldest")) {
                assertRefused(attack(c), REFUSED_WITH_ANY_FD);
            }
            assertArrayEquals(before, snapshot(ch.data.fd(), ch.dataRegionSize()), "the host's pages after the attacks");
            assertEquals(seals, ch.data.seals(), "no seal was added (the host sealed SEAL; the consumer's fd is O_RDONLY)");
        }
    }

    @Test
    void againstTheHardenedHandOverOnlyTheOwnersChmodAndReopenAreLeft() throws Exception {
        // The hardened host's hand-over: an O_RDONLY fd of a region sealed
        // SHRINK|GROW|FUTURE_WRITE|SEAL. The C client must take it (read-only mapping), and then no
        // seal can be added (O_RDONLY: EPERM; through a re-opened O_RDWR fd: F_SEAL_SEAL).
        Path socket = dir.resolve("hardened.sock");
        long capacity = 64 * 1024;
        try (NativeFakeHost host = NativeFakeHost.bind(socket);
             NativeFakeHost.SpscRegion ring = NativeFakeHost.spscRegion("test.hardened", capacity, Seal.SHRINK, Seal.GROW,
                     Seal.FUTURE_WRITE, Seal.SEAL)) {
            fill(ring.writable().asSlice(128));
            byte[] before = ring.writable().toArray(ValueLayout.JAVA_BYTE);
            OwnedFd readOnly = NativeFakeHost.reopen(ring.fd(), FdCalls.O_RDONLY);
            try (NativeChild c = NativeChild.start(NativeChild.SANITIZED, "sluice_peer", "attack-writes", socket.toString(),
                    "orders");
                 SeqPacketSocket conn = host.acceptHello();
                 MemfdRegion position = NativeFakeHost.serveSpscConsumer(conn, capacity, 0, readOnly)) {
                assertTrue(c.awaitLine("ATTACHED", TIMEOUT_S).endsWith(" data fd O_RDONLY"));
                Map<String, String> results = attack(c);
                for (String name : ATTACKS) {
                    if (!ALLOWED_TO_THE_OWNER.contains(name)) {
                        assertTrue(results.get(name).startsWith("refused "), name + ": " + results.get(name));
                    }
                }
                assertTrue(results.get("add-seal-SEAL").equals("refused EPERM"), results.toString());
                assertTrue(results.get("reopen-add-seal-SEAL").startsWith("refused "), results.toString());
            } finally {
                readOnly.close();
            }
            assertArrayEquals(before, ring.writable().toArray(ValueLayout.JAVA_BYTE), "the host's pages after the attacks");
            assertEquals(ring.region().size(), ring.fd().apply(FdCalls::fstat).size());
        }
    }
}
