package io.sluice.ringbuffer;

import io.sluice.api.MessageProducer;
import io.sluice.api.RingLayoutException;
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

/**
 * The host's read-only look at an MPMC ring shows where head and tail are and who holds the slot
 * there, enough to tell a ring held up by one participant's open claim (or take), including a
 * claim forged with an id nobody was given, which a recovery of that id then clears.
 */
class MpmcRingInspectorTest {
    private static final int SLOT_LENGTH = 64;

    private final MemorySegment ring = heapRing(4, SLOT_LENGTH, 8);
    private final MpmcRingInspector inspector = MpmcRingInspector.of(ring.asReadOnly(), "jobs");

    private static void send(MpmcProducer producer, long value) {
        long at = producer.tryClaim(1, 8);
        assertTrue(at >= 0, "claim refused");
        producer.buffer().set(ValueLayout.JAVA_LONG_UNALIGNED, at, value);
        producer.commit(at);
    }

    private static List<Long> drain(MpmcConsumer consumer) {
        List<Long> out = new ArrayList<>();
        consumer.poll((type, payload) -> out.add(payload.get(ValueLayout.JAVA_LONG_UNALIGNED, 0)), 100);
        return out;
    }

    @Test
    void anEmptyRingShowsFreeSlotsHeldByNobodyAtPositionZero() {
        MpmcRingInspector.Slot head = inspector.headSlot();
        assertEquals(new MpmcRingInspector.Slot(0, 0, 0, 0), head);
        assertEquals(FREE, head.state());
        assertEquals(0, head.holder());
        assertEquals(head, inspector.tailSlot());
        assertEquals(new MpmcRingGeometry(4, SLOT_LENGTH, 8), inspector.geometry());
    }

    @Test
    void aRingHeldUpByAnOpenClaimNamesItsClaimantUntilTheClaimIsRecovered() {
        MpmcProducer stuck = MpmcRing.attachProducer(ring, 3, null);
        MpmcProducer other = MpmcRing.attachProducer(ring, 1, null);
        MpmcConsumer consumer = MpmcRing.attachConsumer(ring, 2, null);
        stuck.tryClaim(1, 8);                                    // ... and never commits
        send(other, 10);
        send(other, 11);
        assertEquals(List.of(), drain(consumer), "everything waits behind the open claim");

        MpmcRingInspector.Slot head = inspector.headSlot();
        assertEquals(0, head.position());
        assertEquals(CLAIMED, head.state());
        assertEquals(3, head.participant());
        assertEquals(3, head.holder(), "participant 3 holds the ring");
        assertEquals(0, head.lapsAhead());
        assertEquals(head, inspector.headSlot(), "and it does not move");
        assertEquals(3, inspector.tailSlot().position());
        assertTrue(head.toString().contains("CLAIMED, participant 3"), head.toString());

        assertEquals(1, MpmcRecovery.recover(ring, 3, "jobs").claimsAborted());
        assertEquals(ABORTED, inspector.headSlot().state());
        assertEquals(0, inspector.headSlot().holder(), "an aborted slot holds nobody up");
        assertEquals(List.of(10L, 11L), drain(consumer));
        assertEquals(3, inspector.headSlot().position(), "the head moved");
    }

    @Test
    void aClaimForgedWithAnIdNobodyWasGivenIsClearedByRecoveringThatIdBeforeItIsHandedOut() {
        MpmcProducer honest = MpmcRing.attachProducer(ring, 1, null);
        MpmcConsumer consumer = MpmcRing.attachConsumer(ring, 2, null);
        // A participant shares the ring read-write and may name itself 7, an id the host never gave out.
        MpmcRing.attachProducer(ring, 7, null).tryClaim(1, 8);
        send(honest, 20);
        assertEquals(List.of(), drain(consumer));
        assertEquals(7, inspector.headSlot().holder(), "the orphan claim's id");
        // The host, about to hand out id 7, recovers it first.
        assertEquals(new MpmcRecovery.Result(1, 0, 0), MpmcRecovery.recover(ring, 7, "jobs"));
        assertEquals(List.of(20L), drain(consumer));
        MpmcProducer newcomer = MpmcRing.attachProducer(ring, 7, null);
        send(newcomer, 21);
        assertEquals(List.of(21L), drain(consumer));
        assertEquals(0, inspector.headSlot().holder());
    }

    @Test
    void aFullRingWaitingForAConsumersOpenTakeNamesThatConsumerAtTheTail() {
        MpmcProducer producer = MpmcRing.attachProducer(ring, 1, null);
        MpmcConsumer consumer = MpmcRing.attachConsumer(ring, 5, null);
        for (long v = 0; v < 4; v++) {
            send(producer, v);
        }
        List<MpmcRingInspector.Slot> seen = new ArrayList<>();
        consumer.poll((type, payload) -> {
            seen.add(inspector.tailSlot());                      // while the take is open
            assertEquals(MessageProducer.INSUFFICIENT_CAPACITY, producer.tryClaim(1, 8));
        }, 1);
        MpmcRingInspector.Slot tail = seen.getFirst();
        assertEquals(4, tail.position());
        assertEquals(0, tail.index());
        assertEquals(CONSUMING, tail.state());
        assertEquals(-1, tail.lapsAhead(), "still the previous lap's message");
        assertEquals(5, tail.holder(), "producers wait for consumer 5");
        assertEquals(FREE, inspector.tailSlot().state(), "released");
        assertEquals(0, inspector.tailSlot().lapsAhead(), "free for the tail's lap");
        assertEquals(COMMITTED, inspector.headSlot().state());
        assertEquals(1, inspector.headSlot().participant(), "committed by producer 1; held by nobody");
        assertEquals(0, inspector.headSlot().holder());
    }

    @Test
    void inspectionWorksOnAReadOnlyMappingAndWritesNothing() {
        MpmcProducer producer = MpmcRing.attachProducer(ring, 1, null);
        producer.tryClaim(1, 8);
        byte[] before = ring.toArray(ValueLayout.JAVA_BYTE);
        for (int i = 0; i < 10; i++) {
            inspector.headSlot();
            inspector.tailSlot();
        }
        assertArrayEquals(before, ring.toArray(ValueLayout.JAVA_BYTE), "nothing written");
        assertThrows(RingLayoutException.class, () -> MpmcRingInspector.of(MemorySegment.ofArray(new long[128]), "x"));
    }
}
