package io.sluice.channel;

import io.sluice.api.AttachRefusedException;
import io.sluice.api.ConnectionClosedException;
import io.sluice.api.CorruptRingException;
import io.sluice.api.MessageProducer;
import io.sluice.api.RefusalReason;
import io.sluice.api.Role;
import io.sluice.ringbuffer.MpmcRingDescriptor;
import io.sluice.ringbuffer.MpmcSlotDescriptor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * MPMC participants are a trusted group, but no failure among them is silent or permanent: ids
 * of local participants come back when they close, forged claims under a free id are recovered
 * before the id is reused, a recovery that cannot complete marks the channel corrupt for
 * everyone, and a vanished host ends every participant's work with an exception.
 */
class MpmcTrustTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final long SLOT_LENGTH = 64;

    @TempDir
    Path dir;

    private static long slotWord(MemorySegment ring, int slot) {
        return ring.get(ValueLayout.JAVA_LONG, MpmcRingDescriptor.HEADER_LENGTH + slot * SLOT_LENGTH);
    }

    private static void forgeSlotWord(MemorySegment ring, int slot, long word) {
        ring.set(ValueLayout.JAVA_LONG, MpmcRingDescriptor.HEADER_LENGTH + slot * SLOT_LENGTH, word);
    }

    @Test
    void aLocalParticipantOfAClosedChannelIsRefusedWithTheReasonARemoteOneGets() {
        try (ChannelHost host = ChannelHost.bind(dir.resolve("closed.sock"))) {
            HostedMpmcChannel ch = host.mpmc("work", MpmcOptions.of(16, 64));
            ch.close();
            AttachRefusedException e = assertThrows(AttachRefusedException.class, () -> ch.attachLocal(Role.PRODUCER));
            assertEquals(RefusalReason.CHANNEL_CLOSED, e.reason());
            assertEquals("mpmc channel 'work' was closed", e.getMessage());
        }
    }

    @Test
    void localParticipantsAreHandlesThatGiveTheirIdBack() {
        try (ChannelHost host = ChannelHost.bind(dir.resolve("local.sock"))) {
            HostedMpmcChannel ch = host.mpmc("work", MpmcOptions.of(16, 64).maxParticipants(2));
            MpmcAttachment a = ch.attachLocal(Role.PRODUCER);
            MpmcAttachment b = ch.attachLocal(Role.CONSUMER);
            // The same refusal a remote participant gets, with the same reason and words.
            AttachRefusedException full = assertThrows(AttachRefusedException.class, () -> ch.attachLocal(Role.PRODUCER));
            assertEquals(RefusalReason.CHANNEL_FULL, full.reason());
            assertTrue(full.getMessage().contains("all 2 participant ids in use"), full.getMessage());
            AttachRefusedException remote = assertThrows(AttachRefusedException.class,
                    () -> Channels.mpmc(dir.resolve("local.sock"), "work", Role.PRODUCER, WAIT).close());
            assertEquals(full.reason(), remote.reason());
            assertEquals(full.getMessage(), remote.getMessage());
            long at = a.tryClaim(1, 8); // a claim left open by a participant that then closes...
            a.close();
            a.close(); // idempotent
            assertEquals(1, ch.lastRecovery().claimsAborted(), "...is recovered when it closes");
            try (MpmcAttachment c = ch.attachLocal(Role.PRODUCER)) { // ...and its id is free again
                assertEquals(a.participantId(), c.participantId());
                c.commit(c.tryClaim(2, 8));
                assertEquals(1, b.poll((type, payload) -> assertEquals(2, type), 8), "the aborted claim was skipped");
            }
            assertTrue(at >= 0);
        }
    }

    @Test
    void claimsForgedUnderAFreeIdAreRecoveredBeforeTheIdIsHandedOut() {
        try (ChannelHost host = ChannelHost.bind(dir.resolve("forge.sock"))) {
            HostedMpmcChannel ch = host.mpmc("work", MpmcOptions.of(16, 64).maxParticipants(4));
            try (MpmcAttachment forger = ch.attachLocal(Role.PARTICIPANT)) {
                MemorySegment ring = forger.buffer();
                int victimId = forger.participantId() + 1; // free: nobody has it yet
                // Slot 0, lap 0, CLAIMED by the victim id: consumers can never pass it.
                forgeSlotWord(ring, 0, ((long) MpmcSlotDescriptor.CLAIMED << MpmcSlotDescriptor.STATE_SHIFT) | victimId);
                ring.set(ValueLayout.JAVA_LONG, MpmcRingDescriptor.TAIL_POSITION_OFFSET, 1L);
                assertEquals(0, forger.consumer().poll((t, p) -> { }, 8), "the ring is stuck behind the forged claim");
                try (MpmcAttachment next = ch.attachLocal(Role.PRODUCER)) {
                    assertEquals(victimId, next.participantId());
                    next.commit(next.tryClaim(3, 8));
                    assertEquals(1, forger.poll((t, p) -> assertEquals(3, t), 8), "flows again: the forged claim was aborted");
                }
            }
        }
    }

    @Test
    void aRecoveryThatCannotCompleteMarksTheChannelCorruptForEveryone() throws Exception {
        Path socket = dir.resolve("corrupt.sock");
        try (ChannelHost host = ChannelHost.bind(socket)) {
            HostedMpmcChannel ch = host.mpmc("work", MpmcOptions.of(16, 64).maxParticipants(8));
            MpmcAttachment local = ch.attachLocal(Role.PARTICIPANT);
            try (MpmcAttachment remote = Channels.mpmc(socket, "work", Role.PARTICIPANT, WAIT);
                 MpmcAttachment leaving = Channels.mpmc(socket, "work", Role.PRODUCER, WAIT)) {
                CompletableFuture<Attachment> left = new CompletableFuture<>();
                ch.onDetach(left::complete);
                forgeSlotWord(local.buffer(), 5, 0xF << MpmcSlotDescriptor.STATE_SHIFT); // a state no participant writes
                leaving.close(); // its recovery meets the malformed word
                left.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                assertNotNull(ch.corruption());
                assertTrue(ch.corruption().contains("slot 5"), ch.corruption());
                assertTrue(remote.awaitHostGone(WAIT), "the other participant is detached");
                CorruptRingException e = assertThrows(CorruptRingException.class, () -> remote.poll((t, p) -> { }, 8));
                assertTrue(e.getMessage().contains("CHANNEL_CORRUPT") && e.getMessage().contains("slot 5"), e.getMessage());
                assertThrows(CorruptRingException.class, () -> local.tryClaim(1, 8), "and so is the local one");
                AttachRefusedException refused = assertThrows(AttachRefusedException.class,
                        () -> Channels.mpmc(socket, "work", Role.CONSUMER, WAIT).close());
                assertEquals(RefusalReason.CHANNEL_CORRUPT, refused.reason());
                assertEquals(RefusalReason.CHANNEL_CORRUPT, assertThrows(AttachRefusedException.class,
                        () -> ch.attachLocal(Role.CONSUMER), "no id is handed out again").reason());
            }
        }
    }

    @Test
    void whenTheHostIsGoneAProducerIsToldOnceTheRingIsFullAndAConsumerOnceItIsEmpty() throws Exception {
        Path socket = dir.resolve("gone.sock");
        ChannelHost host = ChannelHost.bind(socket);
        host.mpmc("work", MpmcOptions.of(4, 64).maxParticipants(4));
        try (MpmcAttachment producer = Channels.mpmc(socket, "work", Role.PRODUCER, WAIT);
             MpmcAttachment consumer = Channels.mpmc(socket, "work", Role.CONSUMER, WAIT)) {
            producer.commit(producer.tryClaim(7, 8));
            host.close();
            assertTrue(producer.awaitHostGone(WAIT) && consumer.awaitHostGone(WAIT));
            // The participants still share the ring: the producer fills it...
            int produced = 1;
            while (true) {
                long at;
                try {
                    at = producer.tryClaim(7, 8);
                } catch (ConnectionClosedException e) {
                    assertEquals(RefusalReason.CHANNEL_CLOSED, e.reason(), e.getMessage());
                    break; // ...and is told instead of getting INSUFFICIENT_CAPACITY forever
                }
                assertTrue(at != MessageProducer.INSUFFICIENT_CAPACITY);
                producer.commit(at);
                produced++;
            }
            assertEquals(4, produced);
            int consumed = 0;
            while (true) {
                try {
                    consumed += consumer.poll((t, p) -> assertEquals(7, t), 16);
                } catch (ConnectionClosedException e) {
                    break; // everything committed was taken first
                }
            }
            assertEquals(4, consumed);
        }
    }
}
