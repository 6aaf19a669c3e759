package io.sluice.channel;

import io.sluice.api.Role;
import io.sluice.ringbuffer.MpmcConsumer;
import io.sluice.ringbuffer.MpmcProducer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.sluice.channel.NativeTestMessages.*;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** An MPMC channel hosted here, with C producers and consumers attached through the native client. */
class NativeMpmcTest {
    private static final long TIMEOUT_S = 120;
    private static final int SLOTS = 256;
    private static final int SLOT_LENGTH = 512;
    private static final int MAX_LENGTH = SLOT_LENGTH - 16;
    private static final int STOP = 1000;

    @TempDir
    Path dir;

    private static void claimSpinning(MpmcProducer p, int type, int length, long[] at, NativeChild child) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_S);
        int spins = 0;
        while ((at[0] = p.tryClaim(type, length)) < 0) {
            if (System.nanoTime() > deadline || !child.isAlive()) {
                throw new AssertionError("ring stayed full; child output:\n" + child.output());
            }
            backOff(++spins);
        }
    }

    @Test
    void javaProducerToCConsumerUnderSanitizersAMillionRandomMessages() throws Exception {
        long seed = seed();
        long count = 1_000_000;
        Path socket = dir.resolve("mpmc.sock");
        withSeed(seed, () -> {
            try (ChannelHost host = ChannelHost.bind(socket)) {
                HostedMpmcChannel ch = host.mpmc("orders", MpmcOptions.of(SLOTS, SLOT_LENGTH).maxParticipants(8));
                try (NativeChild c = NativeChild.start(NativeChild.SANITIZED, "sluice_peer", "mpmc-consume", socket.toString(),
                        "orders", Long.toString(seed), Integer.toString(MAX_LENGTH))) {
                    c.awaitLine("ATTACHED", TIMEOUT_S);
                    MpmcProducer p = ch.attachLocal(Role.PRODUCER).producer();
                    long[] at = new long[1];
                    long checksum = BASIS;
                    long started = System.nanoTime();
                    for (long seq = 0; seq < count; seq++) {
                        long mix = mix(seed, 1, seq);
                        int type = type(mix), length = length(mix, MAX_LENGTH);
                        claimSpinning(p, type, length, at, c);
                        fill(p.buffer(), at[0], mix, 1, seq, length);
                        checksum = step(checksum, digest(type, p.buffer(), at[0], length));
                        p.commit(at[0]);
                    }
                    claimSpinning(p, STOP, 0, at, c);
                    p.commit(at[0]);
                    String consumed = c.awaitLine("CONSUMED", TIMEOUT_S);
                    System.out.printf("Java -> C (ASan) mpmc: %,d messages in %.2f s%n", count, (System.nanoTime() - started) / 1e9);
                    assertEquals("CONSUMED 1:" + count + ":" + hex(checksum), consumed, "count and checksum (content, order)");
                    c.assertExitsCleanly(TIMEOUT_S);
                }
            }
        });
    }

    /** Checks each message of producer {@code tag} against the generator, in order; keeps the checksum. */
    private static final class Checker {
        final long seed;
        final long tag;
        final MemorySegment scratch = Arena.ofAuto().allocate(SLOT_LENGTH, 8);
        long next;
        long checksum = BASIS;
        boolean stopped;

        Checker(long seed, long tag) {
            this.seed = seed;
            this.tag = tag;
        }

        void accept(int type, MemorySegment payload) {
            if (type == STOP) {
                stopped = true;
                return;
            }
            long seq = payload.get(JAVA_LONG_UNALIGNED, 0);
            long tagSeen = payload.get(JAVA_LONG_UNALIGNED, 8);
            if (tagSeen != tag || seq != next) {
                throw new AssertionError("expected message " + next + " of producer " + tag + ", got " + seq + " of " + tagSeen);
            }
            long mix = mix(seed, tag, seq);
            int length = length(mix, MAX_LENGTH);
            assertEquals(type(mix), type, "type of message " + seq);
            assertEquals(length, (int) payload.byteSize(), "length of message " + seq);
            fill(scratch, 0, mix, tag, seq, length);
            long d = digest(type, payload, 0, length);
            if (d != digest(type, scratch, 0, length) || payload.asSlice(0, length).mismatch(scratch.asSlice(0, length)) >= 0) {
                throw new AssertionError("payload of message " + seq + " differs from what the C producer wrote");
            }
            checksum = step(checksum, d);
            next++;
        }
    }

    @Test
    void cProducerUnderSanitizersToJavaConsumerAMillionRandomMessages() throws Exception {
        long seed = seed();
        long count = 1_000_000;
        Path socket = dir.resolve("mpmc-c.sock");
        withSeed(seed, () -> {
            try (ChannelHost host = ChannelHost.bind(socket)) {
                HostedMpmcChannel ch = host.mpmc("orders", MpmcOptions.of(SLOTS, SLOT_LENGTH).maxParticipants(8));
                MpmcConsumer consumer = ch.attachLocal(Role.CONSUMER).consumer();
                Checker check = new Checker(seed, 2);
                long started = System.nanoTime();
                try (NativeChild c = NativeChild.start(NativeChild.SANITIZED, "sluice_peer", "mpmc-produce", socket.toString(),
                        "orders", "2", Long.toString(count), Long.toString(seed), Integer.toString(MAX_LENGTH))) {
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_S);
                    int idle = 0;
                    while (check.next < count) {
                        if (consumer.poll(check::accept, 64) == 0) {
                            if (System.nanoTime() > deadline || (!c.isAlive() && consumer.poll(check::accept, 64) == 0)) {
                                throw new AssertionError("received " + check.next + " of " + count + "; child output:\n" + c.output());
                            }
                            backOff(++idle);
                        }
                    }
                    String produced = c.awaitLine("PRODUCED", TIMEOUT_S);
                    System.out.printf("C (ASan) -> Java mpmc: %,d messages in %.2f s%n", count, (System.nanoTime() - started) / 1e9);
                    assertEquals("PRODUCED " + count + " " + hex(check.checksum), produced, "count and checksum (content, order)");
                    c.assertExitsCleanly(TIMEOUT_S);
                }
            }
        });
    }

    @Test
    void cProducerKilledMidStreamIsDetachedLikeAJavaPeerAndItsClaimRecovered() throws Exception {
        long seed = seed();
        Path socket = dir.resolve("mpmc-kill.sock");
        withSeed(seed, () -> {
            try (ChannelHost host = ChannelHost.bind(socket)) {
                HostedMpmcChannel ch = host.mpmc("orders", MpmcOptions.of(64, SLOT_LENGTH).maxParticipants(8));
                CompletableFuture<Long> detachedAt = new CompletableFuture<>();
                ch.onDetach(a -> detachedAt.complete(System.nanoTime()));
                MpmcConsumer consumer = ch.attachLocal(Role.CONSUMER).consumer();
                Checker check = new Checker(seed, 2);
                try (NativeChild c = NativeChild.start(NativeChild.RELEASE, "sluice_peer", "mpmc-produce", socket.toString(),
                        "orders", "2", "1000000000", Long.toString(seed), Integer.toString(MAX_LENGTH))) {
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_S);
                    while (check.next < 20_000) { // mid-stream: it produces as fast as we consume
                        if (consumer.poll(check::accept, 64) == 0 && (System.nanoTime() > deadline || !c.isAlive())) {
                            throw new AssertionError("received " + check.next + "; child output:\n" + c.output());
                        }
                    }
                    long killedAt = System.nanoTime();
                    c.kill();
                    long detached = detachedAt.get(TIMEOUT_S, TimeUnit.SECONDS);
                    assertNotNull(ch.lastRecovery());
                    // Everything it committed is still delivered, in order; a claim it held is skipped.
                    // The ring may be full of its messages: consume while waiting for room for a STOP.
                    MpmcProducer p = ch.attachLocal(Role.PRODUCER).producer();
                    long at;
                    while ((at = p.tryClaim(STOP, 0)) < 0) {
                        if (consumer.poll(check::accept, 64) == 0 && System.nanoTime() > deadline) {
                            throw new AssertionError("no room after the producer died: " + check.next + " received");
                        }
                    }
                    p.commit(at);
                    while (!check.stopped) {
                        if (consumer.poll(check::accept, 64) == 0 && System.nanoTime() > deadline) {
                            throw new AssertionError("the ring did not flow past the dead producer: " + check.next + " received");
                        }
                    }
                    System.out.printf("C mpmc producer kill -9 mid-stream (after %,d messages) -> host detached it in %.2f ms; "
                            + "recovery: %d claims aborted, %d takes released%n", check.next, (detached - killedAt) / 1e6,
                            ch.lastRecovery().claimsAborted(), ch.lastRecovery().takesReleased());
                    assertTrue(ch.lastRecovery().claimsAborted() <= 1, "a producer holds at most one claim");
                }
            }
        });
    }

    @Test
    void slotsHeldByKilledCProcessesAreRecovered() throws Exception {
        Path socket = dir.resolve("mpmc-held.sock");
        try (ChannelHost host = ChannelHost.bind(socket)) {
            // A claim held by a killed C producer: consumers are stuck behind it until recovery.
            HostedMpmcChannel ch = host.mpmc("orders", MpmcOptions.of(64, 64).maxParticipants(8));
            MpmcConsumer consumer = ch.attachLocal(Role.CONSUMER).consumer();
            MpmcProducer producer = ch.attachLocal(Role.PRODUCER).producer();
            CompletableFuture<Long> detached = new CompletableFuture<>();
            ch.onDetach(a -> detached.complete(System.nanoTime()));
            try (NativeChild dying = NativeChild.start(NativeChild.SANITIZED, "sluice_peer", "mpmc-claim-die", socket.toString(),
                    "orders")) {
                dying.awaitLine("CLAIMED", TIMEOUT_S);
                long at = producer.tryClaim(1, 16);
                producer.buffer().set(JAVA_LONG_UNALIGNED, at, 42L);
                producer.commit(at);
                long[] got = new long[1];
                assertEquals(0, consumer.poll((t, pl) -> got[0] = pl.get(JAVA_LONG_UNALIGNED, 0), 1), "the open claim holds consumers back");
                long killedAt = System.nanoTime();
                dying.kill();
                long deadline = killedAt + TimeUnit.SECONDS.toNanos(TIMEOUT_S);
                int n = 0;
                while (n == 0 && System.nanoTime() < deadline) {
                    n = consumer.poll((t, pl) -> got[0] = pl.get(JAVA_LONG_UNALIGNED, 0), 1);
                }
                long flowing = System.nanoTime();
                assertEquals(1, n, "the ring flows again after recovery");
                assertEquals(42L, got[0], "the message committed behind the dead claim is delivered");
                long detachedNanos = detached.get(TIMEOUT_S, TimeUnit.SECONDS); // recovery's result is set by then
                assertEquals(1, ch.lastRecovery().claimsAborted());
                System.out.printf("C mpmc producer kill -9 with a claim open -> host detached it in %.2f ms, ring flowing after %.2f ms%n",
                        (detachedNanos - killedAt) / 1e6, (flowing - killedAt) / 1e6);
            }

            // A message taken by a killed C consumer: its slot comes back to producers.
            HostedMpmcChannel small = host.mpmc("small", MpmcOptions.of(4, 64).maxParticipants(8));
            MpmcProducer p = small.attachLocal(Role.PRODUCER).producer();
            CompletableFuture<Long> gone = new CompletableFuture<>();
            small.onDetach(a -> gone.complete(System.nanoTime()));
            long at = p.tryClaim(1, 8);
            p.commit(at);
            try (NativeChild taker = NativeChild.start(NativeChild.SANITIZED, "sluice_peer", "mpmc-take-die", socket.toString(),
                    "small")) {
                taker.awaitLine("TAKEN", TIMEOUT_S); // it sleeps in its handler, holding slot 0
                for (int i = 0; i < 3; i++) {
                    p.commit(p.tryClaim(1, 8));
                }
                assertEquals(MpmcProducer.INSUFFICIENT_CAPACITY, p.tryClaim(1, 8), "slot 0 is still being read: full");
                taker.kill();
                gone.get(TIMEOUT_S, TimeUnit.SECONDS);
                assertEquals(1, small.lastRecovery().takesReleased());
                at = p.tryClaim(1, 8);
                assertTrue(at >= 0, "the dead consumer's slot is free again");
                p.commit(at);
            }
        }
    }
}
