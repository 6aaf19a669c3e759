package io.sluice.ringbuffer;

import io.sluice.api.CorruptRingException;
import io.sluice.api.MessageProducer;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import static io.sluice.ringbuffer.MpmcSlotDescriptor.ABORTED;
import static io.sluice.ringbuffer.MpmcSlotDescriptor.CLAIMED;
import static io.sluice.ringbuffer.MpmcSlotDescriptor.COMMITTED;
import static io.sluice.ringbuffer.MpmcSlotDescriptor.CONSUMING;
import static io.sluice.ringbuffer.MpmcSlotDescriptor.FREE;
import static io.sluice.ringbuffer.MpmcTestRings.heapRing;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MpmcRecoveryTest {
    private static final int SLOT_LENGTH = 64;

    private static void send(MpmcProducer producer, long value) {
        long at = producer.tryClaim(producer.participantId(), 8);
        assertTrue(at >= 0, "claim refused");
        producer.buffer().set(ValueLayout.JAVA_LONG_UNALIGNED, at, value);
        producer.commit(at);
    }

    private static List<Long> drain(MpmcConsumer consumer) {
        List<Long> out = new ArrayList<>();
        consumer.poll((type, payload) -> out.add(payload.get(ValueLayout.JAVA_LONG_UNALIGNED, 0)), Integer.MAX_VALUE);
        return out;
    }

    @Test
    void aDeadProducersClaimIsSkippedAndLaterCommittedMessagesAreDelivered() {
        MemorySegment ring = heapRing(4, SLOT_LENGTH, 8);
        MpmcProducer dead = MpmcRing.attachProducer(ring, 1, null);
        MpmcProducer live = MpmcRing.attachProducer(ring, 2, null);
        MpmcConsumer consumer = MpmcRing.attachConsumer(ring, 3, null);
        send(live, 10);
        dead.tryClaim(1, 8); // ... and the process dies
        send(live, 11);
        send(live, 12);
        assertEquals(List.of(10L), drain(consumer), "held back by the dead claim");
        send(live, 13);
        assertEquals(MessageProducer.INSUFFICIENT_CAPACITY, live.tryClaim(2, 8), "the dead claim's slot is held");
        assertEquals(List.of(), drain(consumer));

        MpmcRecovery.Result result = MpmcRecovery.recover(ring, 1);

        assertEquals(new MpmcRecovery.Result(1, 0, 0), result);
        assertEquals(List.of(11L, 12L, 13L), drain(consumer));
        for (long v = 14; v < 18; v++) {
            send(live, v); // the whole ring is usable again
        }
        assertEquals(List.of(14L, 15L, 16L, 17L), drain(consumer));
    }

    @Test
    void aProducerThatDiedBetweenClaimAndTailMoveIsHelpedPastAndRecovered() {
        MemorySegment ring = heapRing(4, SLOT_LENGTH, 8);
        int shift = MpmcTestRings.shift(ring);
        // Death right after the claim CAS, before the tail CAS: slot 0 claimed by 1, tail still 0.
        assertTrue((boolean) MpmcTestRings.STATE.compareAndSet(ring, MpmcTestRings.slotOffset(ring, 0),
                MpmcSlotDescriptor.word(0, shift, FREE, 0), MpmcSlotDescriptor.word(0, shift, CLAIMED, 1)));
        assertEquals(0, MpmcTestRings.tail(ring));
        MpmcProducer live = MpmcRing.attachProducer(ring, 2, null);
        MpmcConsumer consumer = MpmcRing.attachConsumer(ring, 3, null);
        send(live, 20); // helps the tail past slot 0, claims slot 1
        assertEquals(2, MpmcTestRings.tail(ring));
        assertEquals(List.of(), drain(consumer));

        assertEquals(new MpmcRecovery.Result(1, 0, 0), MpmcRecovery.recover(ring, 1));

        assertEquals(List.of(20L), drain(consumer));
    }

    @Test
    void aDeadProducersCommittedMessagesAreStillDelivered() {
        MemorySegment ring = heapRing(8, SLOT_LENGTH, 8);
        MpmcProducer dead = MpmcRing.attachProducer(ring, 1, null);
        MpmcConsumer consumer = MpmcRing.attachConsumer(ring, 3, null);
        send(dead, 1);
        send(dead, 2);
        dead.tryClaim(1, 8);
        assertEquals(new MpmcRecovery.Result(1, 0, 0), MpmcRecovery.recover(ring, 1));
        assertEquals(List.of(1L, 2L), drain(consumer));
    }

    @Test
    void aDeadConsumersSlotIsFreedAndItsMessageLostButNoOther() {
        MemorySegment ring = heapRing(2, SLOT_LENGTH, 8);
        MpmcProducer producer = MpmcRing.attachProducer(ring, 1, null);
        MpmcConsumer doomed = MpmcRing.attachConsumer(ring, 4, null);
        MpmcConsumer survivor = MpmcRing.attachConsumer(ring, 5, null);
        send(producer, 1);
        send(producer, 2);
        List<Long> survivorGot = new ArrayList<>();
        // The doomed consumer "dies" inside its handler: the host recovers it while it holds the
        // slot. (Here the handler returns afterwards, so we also see the zombie's side.)
        MpmcSlotLostException lost = assertThrows(MpmcSlotLostException.class, () -> doomed.poll((type, payload) -> {
            assertEquals(new MpmcRecovery.Result(0, 1, 0), MpmcRecovery.recover(ring, 4));
            survivorGot.addAll(drain(survivor)); // the ring flows while the zombie is still in its handler
            send(producer, 3);                     // the freed slot is reused at once
        }, 1));
        assertTrue(lost.getMessage().contains("participant 4 cannot release slot 0"), lost.getMessage());
        survivorGot.addAll(drain(survivor));
        assertEquals(List.of(2L, 3L), survivorGot, "message 1 is lost, nothing else");
        assertEquals(MpmcSlotDescriptor.word(4, MpmcTestRings.shift(ring), FREE, 0), MpmcTestRings.word(ring, 0),
                "the zombie's late release changed nothing");
    }

    @Test
    void aConsumerThatDiedBetweenTakeAndHeadMoveIsHelpedPastAndRecovered() {
        MemorySegment ring = heapRing(2, SLOT_LENGTH, 8);
        int shift = MpmcTestRings.shift(ring);
        MpmcProducer producer = MpmcRing.attachProducer(ring, 1, null);
        MpmcConsumer survivor = MpmcRing.attachConsumer(ring, 5, null);
        send(producer, 1);
        send(producer, 2);
        // Death right after the take CAS, before the head CAS.
        assertTrue((boolean) MpmcTestRings.STATE.compareAndSet(ring, MpmcTestRings.slotOffset(ring, 0),
                MpmcSlotDescriptor.word(0, shift, COMMITTED, 1), MpmcSlotDescriptor.word(0, shift, CONSUMING, 4)));
        assertEquals(0, MpmcTestRings.head(ring));
        assertEquals(List.of(2L), drain(survivor));
        assertEquals(MessageProducer.INSUFFICIENT_CAPACITY, producer.tryClaim(1, 8), "slot 0 still held");

        assertEquals(new MpmcRecovery.Result(0, 1, 0), MpmcRecovery.recover(ring, 4));

        send(producer, 3);
        send(producer, 4);
        assertEquals(List.of(3L, 4L), drain(survivor));
    }

    @Test
    void aParticipantThatWasBothProducerAndConsumerHasBothSlotsRecovered() {
        MemorySegment ring = heapRing(4, SLOT_LENGTH, 8);
        MpmcProducer other = MpmcRing.attachProducer(ring, 1, null);
        MpmcProducer deadProducer = MpmcRing.attachProducer(ring, 7, null);
        MpmcConsumer deadConsumer = MpmcRing.attachConsumer(ring, 7, null);
        MpmcConsumer survivor = MpmcRing.attachConsumer(ring, 2, null);
        send(other, 1);
        send(other, 2);
        assertThrows(MpmcSlotLostException.class, () -> deadConsumer.poll((t, p) -> {
            deadProducer.tryClaim(7, 8);
            send(other, 3);
            assertEquals(new MpmcRecovery.Result(1, 1, 0), MpmcRecovery.recover(ring, 7));
        }, 1));
        assertEquals(List.of(2L, 3L), drain(survivor));
    }

    @Test
    void aZombieProducersCommitAfterRecoveryFailsAndChangesNothing() {
        MemorySegment ring = heapRing(4, SLOT_LENGTH, 8);
        MpmcProducer zombie = MpmcRing.attachProducer(ring, 1, null);
        MpmcProducer live = MpmcRing.attachProducer(ring, 2, null);
        MpmcConsumer consumer = MpmcRing.attachConsumer(ring, 3, null);
        long at = zombie.tryClaim(1, 8);
        assertEquals(new MpmcRecovery.Result(1, 0, 0), MpmcRecovery.recover(ring, 1));
        assertEquals(MpmcSlotDescriptor.word(0, MpmcTestRings.shift(ring), ABORTED, 1), MpmcTestRings.word(ring, 0));
        MpmcSlotLostException e = assertThrows(MpmcSlotLostException.class, () -> zombie.commit(at));
        assertTrue(e.getMessage().contains("participant 1 cannot commit its claim of slot 0 at position 0"), e.getMessage());
        assertEquals(MpmcSlotDescriptor.word(0, MpmcTestRings.shift(ring), ABORTED, 1), MpmcTestRings.word(ring, 0));
        send(live, 5);
        assertEquals(List.of(5L), drain(consumer));
        // The zombie is fenced for that claim only; the ring is sound and it may claim again.
        send(zombie, 6);
        assertEquals(List.of(6L), drain(consumer));
    }

    @Test
    void aZombieProducersAbortAfterRecoveryFailsToo() {
        MemorySegment ring = heapRing(4, SLOT_LENGTH, 8);
        MpmcProducer zombie = MpmcRing.attachProducer(ring, 1, null);
        long at = zombie.tryClaim(1, 8);
        MpmcRecovery.recover(ring, 1);
        assertThrows(MpmcSlotLostException.class, () -> zombie.abort(at));
    }

    @Test
    void recoveringAParticipantThatHoldsNothingChangesNothing() {
        MemorySegment ring = heapRing(4, SLOT_LENGTH, 8);
        MpmcProducer producer = MpmcRing.attachProducer(ring, 1, null);
        MpmcConsumer consumer = MpmcRing.attachConsumer(ring, 2, null);
        send(producer, 1);
        send(producer, 2);
        consumer.poll((t, p) -> { }, 1);
        long at = producer.tryClaim(1, 8);
        byte[] before = ring.toArray(ValueLayout.JAVA_BYTE);
        assertEquals(new MpmcRecovery.Result(0, 0, 0), MpmcRecovery.recover(ring, 3));
        assertEquals(new MpmcRecovery.Result(0, 0, 0), MpmcRecovery.recover(ring, 2), "consumer 2 holds nothing now");
        assertArrayEquals(before, ring.toArray(ValueLayout.JAVA_BYTE));
        producer.commit(at);
    }

    @Test
    void recoveryRefusesIdsOutsideOneToMaxAndCorruptSlots() {
        MemorySegment ring = heapRing(4, SLOT_LENGTH, 8);
        assertThrows(IllegalArgumentException.class, () -> MpmcRecovery.recover(ring, 0));
        assertThrows(IllegalArgumentException.class, () -> MpmcRecovery.recover(ring, 9));
        MpmcTestRings.setWord(ring, 2, MpmcSlotDescriptor.word(0, MpmcTestRings.shift(ring), 9, 1));
        CorruptRingException e = assertThrows(CorruptRingException.class, () -> MpmcRecovery.recover(ring, 1, "orders"));
        assertTrue(e.getMessage().startsWith("mpmc ring 'orders': slot 2 holds state word"), e.getMessage());
    }
}
