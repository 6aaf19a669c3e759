package io.sluice.ringbuffer;

import io.sluice.api.CorruptRingException;
import io.sluice.api.MessageProducer;
import io.sluice.api.RingLayoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.SplittableRandom;

import static io.sluice.ringbuffer.MpmcSlotDescriptor.ABORTED;
import static io.sluice.ringbuffer.MpmcSlotDescriptor.CLAIMED;
import static io.sluice.ringbuffer.MpmcSlotDescriptor.COMMITTED;
import static io.sluice.ringbuffer.MpmcSlotDescriptor.CONSUMING;
import static io.sluice.ringbuffer.MpmcSlotDescriptor.FREE;
import static io.sluice.ringbuffer.MpmcTestRings.heapRing;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

class MpmcCorruptionTest {
    private static final int SLOT_LENGTH = 64;
    private static final Duration NO_HANG = Duration.ofSeconds(5);

    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED;

    private static void assertLayoutRefused(MemorySegment ring, String expectedPart) {
        RingLayoutException e = assertThrows(RingLayoutException.class, () -> MpmcRing.attachConsumer(ring, 1, "orders"));
        assertTrue(e.getMessage().startsWith("mpmc ring 'orders': "), e.getMessage());
        assertTrue(e.getMessage().contains(expectedPart), e.getMessage());
        assertThrows(RingLayoutException.class, () -> MpmcRing.attachProducer(ring, 1, "orders"));
        assertThrows(RingLayoutException.class, () -> MpmcRecovery.recover(ring, 1, "orders"));
    }

    private static CorruptRingException assertCorrupt(Executable op, String expectedPart) {
        CorruptRingException e = assertTimeoutPreemptively(NO_HANG, () -> assertThrows(CorruptRingException.class, op));
        assertTrue(e.getMessage().startsWith("mpmc ring 'orders': "), e.getMessage());
        assertTrue(e.getMessage().contains(expectedPart), e.getMessage());
        return e;
    }

    // ---- attach-time validation ---------------------------------------------------------------

    @Test
    void headerFieldsThatAreWrongAreRefusedOnAttach() {
        MemorySegment ring = heapRing(4, SLOT_LENGTH, 8);
        ring.set(U64, 0, 0x1234L);
        assertLayoutRefused(ring, "bad magic 0x1234");

        ring = heapRing(4, SLOT_LENGTH, 8);
        ring.set(U32, RegionHeaderDescriptor.VERSION_OFFSET, 99);
        assertLayoutRefused(ring, "layout version 99");

        ring = heapRing(4, SLOT_LENGTH, 8);
        ring.set(U32, RegionHeaderDescriptor.KIND_OFFSET, 1);
        assertLayoutRefused(ring, "ring kind SPSC, expected MPMC");

        ring = heapRing(4, SLOT_LENGTH, 8);
        ring.set(U32, MpmcRingDescriptor.SLOT_LENGTH_OFFSET, 48);
        assertLayoutRefused(ring, "slot length 48 is not a power of two");

        ring = heapRing(4, SLOT_LENGTH, 8);
        ring.set(U32, MpmcRingDescriptor.SLOT_LENGTH_OFFSET, 16);
        assertLayoutRefused(ring, "slot length 16");

        ring = heapRing(4, SLOT_LENGTH, 8);
        ring.set(U32, MpmcRingDescriptor.SLOT_COUNT_OFFSET, 8);
        assertLayoutRefused(ring, "capacity 256 is not slot count 8 x slot length 64");

        ring = heapRing(4, SLOT_LENGTH, 8);
        ring.set(U32, MpmcRingDescriptor.SLOT_COUNT_OFFSET, 1);
        assertLayoutRefused(ring, "slot count 1");

        ring = heapRing(4, SLOT_LENGTH, 8);
        ring.set(U64, RegionHeaderDescriptor.CAPACITY_OFFSET, 1L << 20);
        assertLayoutRefused(ring, "exceeds the segment");

        ring = heapRing(4, SLOT_LENGTH, 8);
        ring.set(U32, MpmcRingDescriptor.MAX_PARTICIPANT_ID_OFFSET, 0);
        assertLayoutRefused(ring, "max participant id 0");

        ring = heapRing(4, SLOT_LENGTH, 8);
        ring.set(U32, MpmcRingDescriptor.MAX_PARTICIPANT_ID_OFFSET, 4096);
        assertLayoutRefused(ring, "max participant id 4096 outside 1..4095");

        ring = heapRing(4, SLOT_LENGTH, 8);
        ring.set(ValueLayout.JAVA_BYTE, 100, (byte) 1);
        assertLayoutRefused(ring, "reserved header bytes at 96");
    }

    @Test
    void impossibleCountersAreRefusedOnAttach() {
        MemorySegment ring = heapRing(4, SLOT_LENGTH, 8);
        MpmcTestRings.setTail(ring, -5);
        assertLayoutRefused(ring, "impossible counters head 0, tail -5");

        ring = heapRing(4, SLOT_LENGTH, 8);
        MpmcTestRings.setHead(ring, 2);
        assertLayoutRefused(ring, "impossible counters head 2, tail 0");
    }

    @Test
    void segmentsThatCannotCarryTheRingAreRefused() {
        MemorySegment ring = heapRing(4, SLOT_LENGTH, 8);
        assertLayoutRefused(ring.asSlice(0, ring.byteSize() - 8), "exceeds the segment");
        // A read-only segment is a caller's mistake, refused before the layout: see RingMisuseTest.
        assertThrows(IllegalArgumentException.class, () -> MpmcRing.attachConsumer(ring.asReadOnly(), 1, "x"));
        MemorySegment bytes = MemorySegment.ofArray(new byte[(int) ring.byteSize()]);
        MemorySegment.copy(ring, 0, bytes, 0, ring.byteSize());
        assertLayoutRefused(bytes, "not 8-byte aligned");
        assertThrows(IllegalArgumentException.class,
                () -> MpmcRingDescriptor.format(MemorySegment.ofArray(new byte[4096]), 4, SLOT_LENGTH, 8));
        assertThrows(IllegalArgumentException.class,
                () -> MpmcRingDescriptor.format(MemorySegment.ofArray(new long[64]), 4, SLOT_LENGTH, 8), "too small");
        assertThrows(IllegalArgumentException.class, () -> MpmcRing.regionSize(3, SLOT_LENGTH));
        assertThrows(IllegalArgumentException.class, () -> MpmcRing.regionSize(4, 24));
        assertThrows(IllegalArgumentException.class,
                () -> MpmcRingDescriptor.format(MemorySegment.ofArray(new long[1024]), 4, SLOT_LENGTH, 4096));
    }

    @Test
    void aFormattedRegionIsAnEmptyRingWhateverItHeldBefore() {
        try (Arena arena = Arena.ofConfined()) {
            long length = MpmcRing.regionSize(8, 128);
            MemorySegment region = arena.allocate(length, 64);
            region.fill((byte) 0x5A);
            MpmcRingDescriptor.format(region, 8, 128, 100);
            MpmcRingGeometry g = MpmcRingDescriptor.validate(region, "x");
            assertEquals(new MpmcRingGeometry(8, 128, 100), g);
            assertEquals(112, g.maxMessageLength());
            assertEquals(length, g.regionSize());
            assertEquals(0, MpmcRing.attachConsumer(region, 1, null).poll((t, p) -> fail("delivered"), 10));
            assertTrue(MpmcRing.attachProducer(region, 100, null).tryClaim(1, 112) >= 0);
        }
    }

    // ---- slot words -----------------------------------------------------------------------------

    @Test
    void anUnknownStateIsCorruptionForProducersAndConsumers() {
        MemorySegment ring = heapRing(4, SLOT_LENGTH, 8);
        int shift = MpmcTestRings.shift(ring);
        MpmcTestRings.setWord(ring, 0, MpmcSlotDescriptor.word(0, shift, 9, 3));
        assertCorrupt(() -> MpmcRing.attachConsumer(ring, 1, "orders").poll((t, p) -> { }, 1),
                "slot 0 at head position 0 holds state word 0x9003 (lap 0, state 9, participant 3)");
        assertCorrupt(() -> MpmcRing.attachProducer(ring, 1, "orders").tryClaim(1, 0),
                "slot 0 at tail position 0 holds state word 0x9003");
    }

    @Test
    void participantFieldsThatCannotBeAreCorruption() {
        int[][] cases = {{FREE, 2}, {CLAIMED, 0}, {COMMITTED, 0}, {COMMITTED, 9}, {CONSUMING, 4095}, {ABORTED, 0}};
        for (int[] c : cases) {
            MemorySegment ring = heapRing(4, SLOT_LENGTH, 8);
            int shift = MpmcTestRings.shift(ring);
            long bad = MpmcSlotDescriptor.word(0, shift, c[0], c[1]);
            MpmcTestRings.setWord(ring, 0, bad);
            assertCorrupt(() -> MpmcRing.attachConsumer(ring, 1, "orders").poll((t, p) -> fail("delivered"), 1),
                    "participants 1..8");
            assertCorrupt(() -> MpmcRing.attachProducer(ring, 1, "orders").tryClaim(1, 0), "participants 1..8");
        }
    }

    @Test
    void impossibleLengthsAndTypesAreCorruptionAndTheSlotIsDropped() {
        int[][] cases = {{1, -1}, {1, SLOT_LENGTH - 15}, {1, Integer.MAX_VALUE}, {1, Integer.MIN_VALUE}, {0, 8}, {-3, 8}};
        for (int[] c : cases) {
            MemorySegment ring = heapRing(4, SLOT_LENGTH, 8);
            MpmcProducer producer = MpmcRing.attachProducer(ring, 1, "orders");
            MpmcConsumer consumer = MpmcRing.attachConsumer(ring, 2, "orders");
            long at = producer.tryClaim(1, 8);
            long slot = at - MpmcSlotDescriptor.PAYLOAD_OFFSET;
            ring.set(U32, slot + MpmcSlotDescriptor.TYPE_OFFSET, c[0]);
            ring.set(U32, slot + MpmcSlotDescriptor.LENGTH_OFFSET, c[1]);
            producer.commit(at);
            assertTrue(producer.offer(5, MemorySegment.ofArray(new byte[3]), 0, 3));
            assertCorrupt(() -> consumer.poll((t, p) -> fail("delivered"), 10),
                    "has type " + c[0] + " and length " + c[1] + " (types are positive, lengths 0..48)");
            int[] delivered = new int[1];
            assertEquals(1, consumer.poll((t, p) -> delivered[0] = t, 10), "the ring flows on");
            assertEquals(5, delivered[0]);
        }
    }

    @Test
    void aSlotTwoLapsBehindTheTailOrHeadIsCorruption() {
        MemorySegment ring = heapRing(4, SLOT_LENGTH, 8);
        int shift = MpmcTestRings.shift(ring);
        MpmcTestRings.setTail(ring, 9); // lap 2; slot 1 left at lap 0
        MpmcTestRings.setHead(ring, 9);
        MpmcTestRings.setWord(ring, 9, MpmcSlotDescriptor.word(1, shift, COMMITTED, 3));
        assertCorrupt(() -> MpmcRing.attachProducer(ring, 1, "orders").tryClaim(1, 0), "2 laps behind the tail");
        assertCorrupt(() -> MpmcRing.attachConsumer(ring, 1, "orders").poll((t, p) -> fail(), 1), "2 laps behind the head");
    }

    @Test
    void aSlotFreeForAPositionTheTailHasPassedIsCorruption() {
        MemorySegment ring = heapRing(4, SLOT_LENGTH, 8);
        MpmcTestRings.setTail(ring, 4); // lap 1; slot 0 still FREE at lap 0
        MpmcTestRings.setHead(ring, 4);
        assertCorrupt(() -> MpmcRing.attachProducer(ring, 1, "orders").tryClaim(1, 0),
                "FREE for the previous lap although the tail has passed that position");
        assertCorrupt(() -> MpmcRing.attachConsumer(ring, 1, "orders").poll((t, p) -> fail(), 1),
                "FREE for the previous lap although the head has passed that position");
    }

    @Test
    void aTailOrHeadFarBehindTheSlotsIsCorruptionNotAnEndlessWalk() {
        MemorySegment ring = heapRing(4, SLOT_LENGTH, 8);
        int shift = MpmcTestRings.shift(ring);
        long real = 1L << 40;
        for (long p = real; p < real + 4; p++) {
            MpmcTestRings.setWord(ring, p, MpmcSlotDescriptor.word(p, shift, COMMITTED, 1));
        }
        // Counters reset to 0 by a stray write, slots at lap 2^38.
        assertCorrupt(() -> MpmcRing.attachProducer(ring, 2, "orders").tryClaim(1, 0), "ahead of a tail that never reached it");
        assertCorrupt(() -> MpmcRing.attachConsumer(ring, 2, "orders").poll((t, p) -> fail(), 1),
                "ahead of a head that never reached it");
    }

    @Test
    void aCounterFarAheadOfTheSlotsIsCorruption() {
        MemorySegment ring = heapRing(4, SLOT_LENGTH, 8);
        MpmcProducer producer = MpmcRing.attachProducer(ring, 1, "orders");
        MpmcConsumer consumer = MpmcRing.attachConsumer(ring, 2, "orders");
        MpmcTestRings.setTail(ring, 1L << 40);
        assertCorrupt(() -> producer.tryClaim(1, 0), "274877906944 laps behind the tail");
        MpmcTestRings.setHead(ring, 1L << 40);
        assertCorrupt(() -> consumer.poll((t, p) -> fail(), 1), "laps behind the head");
    }

    @Test
    void negativeCountersWrittenAfterAttachAreCorruption() {
        MemorySegment ring = heapRing(4, SLOT_LENGTH, 8);
        MpmcProducer producer = MpmcRing.attachProducer(ring, 1, "orders");
        MpmcConsumer consumer = MpmcRing.attachConsumer(ring, 2, "orders");
        MpmcTestRings.setTail(ring, Long.MIN_VALUE);
        MpmcTestRings.setHead(ring, -1);
        assertCorrupt(() -> producer.tryClaim(1, 0), "tail position " + Long.MIN_VALUE + " is negative");
        assertCorrupt(() -> consumer.poll((t, p) -> fail(), 1), "head position -1 is negative");
    }

    /**
     * Garbage in the counters and slot words, then random operations: each either works or throws
     * CorruptRingException (or the slot-lost exception a garbage word can cause) — never another
     * exception, never a hang.
     */
    @Test
    void randomGarbageYieldsOnlyCorruptRingExceptionsAndNeverHangs() {
        long seed = System.nanoTime();
        SplittableRandom random = new SplittableRandom(seed);
        try {
            assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
                for (int trial = 0; trial < 2_000; trial++) {
                    MemorySegment ring = heapRing(4, SLOT_LENGTH, 8);
                    MpmcProducer producer = MpmcRing.attachProducer(ring, 1, "orders");
                    MpmcConsumer consumer = MpmcRing.attachConsumer(ring, 2, "orders");
                    for (int op = 0; op < 20; op++) {
                        if (random.nextInt(4) == 0) {
                            scribble(ring, random);
                        }
                        try {
                            if (random.nextBoolean()) {
                                long at = producer.tryClaim(1 + random.nextInt(5), random.nextInt(49));
                                if (at != MessageProducer.INSUFFICIENT_CAPACITY) {
                                    if (random.nextBoolean()) {
                                        producer.commit(at);
                                    } else {
                                        producer.abort(at);
                                    }
                                }
                            } else {
                                consumer.poll((t, p) -> {
                                    for (long i = 0; i < p.byteSize(); i++) {
                                        p.get(ValueLayout.JAVA_BYTE, i);
                                    }
                                }, 3);
                            }
                        } catch (CorruptRingException | MpmcSlotLostException expected) {
                            // fine: a clear answer
                        }
                    }
                }
            });
        } catch (Throwable t) {
            throw new AssertionError("seed " + seed, t);
        }
    }

    private static void scribble(MemorySegment ring, SplittableRandom random) {
        int shift = MpmcTestRings.shift(ring);
        long base = MpmcTestRings.tail(ring);
        switch (random.nextInt(6)) {
            case 0 -> MpmcTestRings.setTail(ring, random.nextBoolean() ? random.nextLong() : base + random.nextInt(-9, 10));
            case 1 -> MpmcTestRings.setHead(ring, random.nextBoolean() ? random.nextLong() : base + random.nextInt(-9, 10));
            case 2 -> MpmcTestRings.setWord(ring, random.nextInt(4), random.nextLong());
            case 3 -> MpmcTestRings.setWord(ring, random.nextInt(4), MpmcSlotDescriptor.word(
                    Math.max(0, base + random.nextInt(-12, 12)), shift, random.nextInt(6), random.nextInt(10)));
            case 4 -> ring.set(U32, MpmcTestRings.slotOffset(ring, random.nextInt(4)) + MpmcSlotDescriptor.LENGTH_OFFSET,
                    random.nextInt());
            default -> ring.set(U32, MpmcTestRings.slotOffset(ring, random.nextInt(4)) + MpmcSlotDescriptor.TYPE_OFFSET,
                    random.nextInt(-2, 3));
        }
    }
}
