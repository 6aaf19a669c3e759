package io.sluice.channel;

import io.sluice.ringbuffer.SpscProducer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.sluice.channel.NativeTestMessages.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** An SPSC channel hosted here (the producer), consumed by a C process through the native client. */
class NativeSpscTest {
    private static final long CAPACITY = 64 * 1024;
    private static final int MAX_LENGTH = 512;
    private static final long TIMEOUT_S = 120;
    /** Short messages for the kill test: the 400 it leaves unread must fit the ring. */
    private static final int HOLD_MAX_LENGTH = 64;

    @TempDir
    Path dir;

    /** Sends test message {@code seq} (random type and length from the seed), spinning while full; returns its digest. */
    static long send(SpscProducer p, long seed, long seq, int maxLength, NativeChild child) {
        long mix = mix(seed, 0, seq);
        int type = type(mix);
        int length = length(mix, maxLength);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_S);
        long at;
        int spins = 0;
        while ((at = p.tryClaim(type, length)) < 0) {
            if (System.nanoTime() > deadline || !child.isAlive()) {
                throw new AssertionError("ring stayed full at message " + seq + "; child output:\n" + child.output());
            }
            backOff(++spins);
        }
        fill(p.buffer(), at, mix, 0, seq, length);
        long digest = digest(type, p.buffer(), at, length);
        p.commit(at);
        return digest;
    }

    @Test
    void cConsumerUnderSanitizersReceivesAMillionRandomMessagesInOrderAndTheKernelRefusesItsWrites() throws Exception {
        long seed = seed();
        long count = 1_000_000;
        Path socket = dir.resolve("spsc.sock");
        withSeed(seed, () -> {
            try (ChannelHost host = ChannelHost.bind(socket)) {
                HostedSpscChannel ch = host.spsc("orders", SpscOptions.of(CAPACITY));
                try (NativeChild c = NativeChild.start(NativeChild.SANITIZED, "sluice_peer", "spsc", socket.toString(), "orders",
                        Long.toString(count), Long.toString(seed), Integer.toString(MAX_LENGTH), "prove-sealed")) {
                    assertEquals("ATTACHED SPSC max 8192", c.awaitLine("ATTACHED", TIMEOUT_S));
                    // The consumer holds the data region through an O_RDONLY fd of a sealed memfd: every
                    // way to write it fails in the kernel (EACCES/EBADF/EINVAL for the fd's mode; the
                    // seals would answer EPERM to a writable fd).
                    String sealed = c.awaitLine("SEALED", TIMEOUT_S);
                    System.out.println("C consumer, data region: " + sealed);
                    assertTrue(sealed.contains("mmap(PROT_WRITE,MAP_SHARED)=EACCES") && sealed.contains("mprotect(PROT_WRITE)=EACCES")
                            && sealed.contains("write=EBADF") && sealed.contains("ftruncate(grow)=EINVAL")
                            && sealed.contains("ftruncate(shrink)=EINVAL"), sealed);
                    long checksum = BASIS;
                    long started = System.nanoTime();
                    for (long seq = 0; seq < count; seq++) {
                        checksum = step(checksum, send(ch.producer(), seed, seq, MAX_LENGTH, c));
                    }
                    String done = c.awaitLine("DONE", TIMEOUT_S);
                    System.out.printf("Java -> C (ASan) spsc: %,d messages in %.2f s%n", count, (System.nanoTime() - started) / 1e9);
                    assertEquals("DONE " + count + " " + hex(checksum), done, "count and checksum (content and order) of every message");
                    c.assertExitsCleanly(TIMEOUT_S);
                }
            }
        });
    }

    @Test
    void killedCConsumerIsDetachedLikeAJavaOneAndTheNextConsumerContinuesWhereItStopped() throws Exception {
        long seed = seed();
        Path socket = dir.resolve("spsc-kill.sock");
        withSeed(seed, () -> {
            try (ChannelHost host = ChannelHost.bind(socket)) {
                HostedSpscChannel ch = host.spsc("orders", SpscOptions.of(CAPACITY));
                CompletableFuture<Long> detachedAt = new CompletableFuture<>();
                ch.onDetach(a -> detachedAt.complete(System.nanoTime()));
                long sent = 0;
                long checksum = BASIS; // of messages 5,000 and later: what the second consumer must see
                try (NativeChild first = NativeChild.start(NativeChild.SANITIZED, "sluice_peer", "spsc-hold", socket.toString(),
                        "orders", "5000", Long.toString(seed), Integer.toString(HOLD_MAX_LENGTH))) {
                    first.awaitLine("ATTACHED", TIMEOUT_S);
                    for (; sent < 5_400; sent++) { // 400 more than it will read: they stay in the ring
                        long d = send(ch.producer(), seed, sent, HOLD_MAX_LENGTH, first);
                        if (sent >= 5_000) {
                            checksum = step(checksum, d);
                        }
                    }
                    first.awaitLine("HELD 5000", TIMEOUT_S);
                    // A second consumer is refused while the first is attached, and leaks nothing.
                    try (NativeChild second = NativeChild.start(NativeChild.RELEASE, "sluice_peer", "refused", socket.toString(),
                            "orders", "CONSUMER")) {
                        String refused = second.awaitLine("REFUSED", TIMEOUT_S);
                        assertTrue(refused.startsWith("REFUSED CHANNEL_FULL 5 "), refused);
                        String[] fds = refused.split(":")[0].split(" ");
                        assertEquals(fds[3], fds[4], "fds open in the C process before and after the refused attach: " + refused);
                    }
                    long killedAt = System.nanoTime();
                    first.kill(); // SIGKILL, mid-stream: 400 committed messages unread
                    long detached = detachedAt.get(TIMEOUT_S, TimeUnit.SECONDS);
                    System.out.printf("C spsc consumer kill -9 -> host detached it in %.2f ms%n", (detached - killedAt) / 1e6);
                    assertNull(ch.consumer());
                }
                // The next consumer starts exactly where the dead one stopped: nothing committed is lost.
                try (NativeChild next = NativeChild.start(NativeChild.RELEASE, "sluice_peer", "spsc", socket.toString(), "orders",
                        "25000", Long.toString(seed), Integer.toString(HOLD_MAX_LENGTH), "from", "5000")) {
                    next.awaitLine("ATTACHED", TIMEOUT_S);
                    for (; sent < 30_000; sent++) {
                        checksum = step(checksum, send(ch.producer(), seed, sent, HOLD_MAX_LENGTH, next));
                    }
                    assertEquals("DONE 25000 " + hex(checksum), next.awaitLine("DONE", TIMEOUT_S));
                    next.assertExitsCleanly(TIMEOUT_S);
                }
            }
        });
    }

    @Test
    void parkedCConsumerIsWokenByTheJavaProducerThroughTheFutex() throws Exception {
        long seed = seed();
        Path socket = dir.resolve("spsc-wake.sock");
        int count = 200;
        withSeed(seed, () -> {
            try (ChannelHost host = ChannelHost.bind(socket)) {
                HostedSpscChannel ch = host.spsc("wake", SpscOptions.of(CAPACITY).wakeParkedConsumers(true));
                try (NativeChild c = NativeChild.start(NativeChild.SANITIZED, "sluice_peer", "spsc", socket.toString(), "wake",
                        Integer.toString(count), Long.toString(seed), "64", "block")) {
                    assertEquals("ATTACHED SPSC max 8192 can-block", c.awaitLine("ATTACHED", TIMEOUT_S));
                    long checksum = BASIS;
                    for (long seq = 0; seq < count; seq++) {
                        Thread.sleep(2); // slower than the consumer's spin: it parks in FUTEX_WAIT between messages
                        checksum = step(checksum, send(ch.producer(), seed, seq, 64, c));
                    }
                    assertEquals("DONE " + count + " " + hex(checksum), c.awaitLine("DONE", TIMEOUT_S));
                    c.assertExitsCleanly(TIMEOUT_S);
                    System.out.println("C consumer parked and was woken " + ch.wakeups() + " times for " + count + " messages");
                    assertTrue(ch.wakeups() > 0, "the producer found the C consumer's parked flag raised and woke it");
                }
            }
        });
    }
}
