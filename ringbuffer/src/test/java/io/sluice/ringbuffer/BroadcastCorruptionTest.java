package io.sluice.ringbuffer;

import io.sluice.api.CorruptRingException;
import io.sluice.api.RingKind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static io.sluice.ringbuffer.BroadcastRingDescriptor.DATA_OFFSET;
import static io.sluice.ringbuffer.BroadcastTestSupport.drain;
import static io.sluice.ringbuffer.BroadcastTestSupport.heapPositionRegion;
import static io.sluice.ringbuffer.BroadcastTestSupport.heapRing;
import static io.sluice.ringbuffer.BroadcastTestSupport.sendAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Garbage in a record header is reported as {@link CorruptRingException} naming the ring, the
 * position and the bad value — unless, on an overwrite ring, the producer's Tail Intent shows the
 * header was being overwritten: that is a lap.
 */
class BroadcastCorruptionTest {

    private static final long INT_FIELD = 0;

    /** A way to damage the header of the record at {@code offset}, and what the error must say. */
    record Damage(String name, long field, boolean isLong, long value, String expected) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Arguments> damages() {
        List<Damage> damages = List.of(
                new Damage("negative length", BroadcastRecordDescriptor.LENGTH_OFFSET, false, -5, "message length -5"),
                new Damage("length past capacity", BroadcastRecordDescriptor.LENGTH_OFFSET, false, 1 << 20, "message length 1048576"),
                new Damage("length below the header", BroadcastRecordDescriptor.LENGTH_OFFSET, false, 8, "message length 8"),
                new Damage("type zero", BroadcastRecordDescriptor.TYPE_OFFSET, false, 0, "unknown record type 0"),
                new Damage("unknown negative type", BroadcastRecordDescriptor.TYPE_OFFSET, false, -2, "unknown record type -2"),
                new Damage("wrong sequence", BroadcastRecordDescriptor.SEQUENCE_OFFSET, true, 99, "sequence 99, expected 0"),
                new Damage("unaligned padding", -1, false, 20, "padding length 20"));
        List<Arguments> arguments = new ArrayList<>();
        for (RingKind kind : new RingKind[]{RingKind.BROADCAST_BACKPRESSURE, RingKind.BROADCAST_OVERWRITE}) {
            for (Damage d : damages) {
                arguments.add(Arguments.of(kind, d));
            }
        }
        return arguments.stream();
    }

    private record Setup(MemorySegment ring, BroadcastProducer producer, BroadcastConsumer consumer) {
        static Setup of(RingKind kind) {
            MemorySegment ring = heapRing(kind, 1024, 100);
            BroadcastProducer producer = BroadcastRing.attachProducer(ring, "md");
            BroadcastConsumer consumer;
            if (kind == RingKind.BROADCAST_BACKPRESSURE) {
                consumer = BroadcastRing.attachConsumer(ring, heapPositionRegion(), BroadcastStart.OLDEST, "md");
                consumer.registered(producer.addConsumer(consumer.positionRegion()));
                producer.refreshConsumers();
            } else {
                consumer = BroadcastRing.attachConsumer(ring, null, BroadcastStart.OLDEST, "md");
            }
            return new Setup(ring, producer, consumer);
        }
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("damages")
    void impossibleHeaderIsReportedWithPositionAndValue(RingKind kind, Damage damage) {
        Setup s = Setup.of(kind);
        sendAll(s.producer, 4, 48);
        long header = DATA_OFFSET;                          // record 0 at position 0
        if (damage.field < 0) {
            s.ring.set(ValueLayout.JAVA_INT, header + BroadcastRecordDescriptor.TYPE_OFFSET, BroadcastRecordDescriptor.PADDING_TYPE);
            s.ring.set(ValueLayout.JAVA_INT, header + BroadcastRecordDescriptor.LENGTH_OFFSET, (int) damage.value);
        } else if (damage.isLong) {
            s.ring.set(ValueLayout.JAVA_LONG_UNALIGNED, header + damage.field, damage.value);
        } else {
            s.ring.set(ValueLayout.JAVA_INT_UNALIGNED, header + damage.field, (int) damage.value);
        }
        CorruptRingException e = assertThrows(CorruptRingException.class, () -> s.consumer.poll((t, p) -> { }, 10));
        assertTrue(e.getMessage().startsWith("broadcast ring 'md': corrupt record at position 0 (offset 0): "), e.getMessage());
        assertTrue(e.getMessage().contains(damage.expected), e.getMessage() + " should name " + damage.expected);
    }

    @Test
    void messageCrossingTheEndOfTheDataAreaIsCorrupt() {
        Setup s = Setup.of(RingKind.BROADCAST_OVERWRITE);
        sendAll(s.producer, 16, 48);                        // the 16th laps record 0: the consumer resumes at 64
        s.consumer.poll((t, p) -> { }, 14);
        s.ring.set(ValueLayout.JAVA_INT, DATA_OFFSET + 960, 116);   // 120 bytes from offset 960: 56 too many
        CorruptRingException e = assertThrows(CorruptRingException.class, () -> s.consumer.poll((t, p) -> { }, 10));
        assertTrue(e.getMessage().contains("position 960 (offset 960): message of length 116 crosses the end"), e.getMessage());
    }

    /** Checked where records are read up to the Tail: here the consumer's first poll (see BroadcastConsumer). */
    @Test
    void recordEndingPastTheTailIsCorrupt() {
        Setup s = Setup.of(RingKind.BROADCAST_BACKPRESSURE);
        sendAll(s.producer, 2, 48);
        s.ring.set(ValueLayout.JAVA_INT, DATA_OFFSET + 64, 116);
        CorruptRingException e = assertThrows(CorruptRingException.class, () -> s.consumer.poll((t, p) -> { }, 10));
        assertTrue(e.getMessage().contains("position 64 (offset 64): record of 120 bytes ends past the tail 128"), e.getMessage());
    }

    @Test
    void headerTornByTheProducerIsALapNotCorruption() {
        Setup s = Setup.of(RingKind.BROADCAST_OVERWRITE);
        sendAll(s.producer, 16, 48);                        // full; consumer at 0
        long at = s.producer.tryClaim(7, 0);                // in flight over [1024, 1056) = offset 0
        // Half-written: as if the producer had stored a length but not yet the type.
        s.ring.set(ValueLayout.JAVA_INT, DATA_OFFSET, -12345);
        s.ring.set(ValueLayout.JAVA_INT, DATA_OFFSET + 4, 0);
        List<Long> seqs = drain(s.consumer);
        assertEquals(1, seqs.getFirst());
        assertEquals(15, seqs.getLast());
        assertEquals(1, s.consumer.lostMessages());
        s.producer.commit(at);

        // The same garbage with no claim over it is corruption (15 records: the 16th marks the
        // header of the record at offset 0 as the next slot, which is a lap).
        Setup t = Setup.of(RingKind.BROADCAST_OVERWRITE);
        sendAll(t.producer, 15, 48);
        t.ring.set(ValueLayout.JAVA_INT, DATA_OFFSET, -12345);
        t.ring.set(ValueLayout.JAVA_INT, DATA_OFFSET + 4, 0);
        assertThrows(CorruptRingException.class, () -> t.consumer.poll((x, p) -> { }, 10));
    }

    @Test
    void impossibleCountersAreCorrupt() {
        Setup s = Setup.of(RingKind.BROADCAST_OVERWRITE);
        sendAll(s.producer, 3, 48);
        s.ring.set(ValueLayout.JAVA_LONG, BroadcastRingDescriptor.HEAD_OFFSET, 4096L);
        CorruptRingException head = assertThrows(CorruptRingException.class,
                () -> BroadcastRing.attachConsumer(s.ring, null, BroadcastStart.OLDEST, "md"));
        assertTrue(head.getMessage().contains("head 4096 and tail 192"), head.getMessage());

        // Lapped, but the head does not lead past the lapped position.
        s.ring.set(ValueLayout.JAVA_LONG, BroadcastRingDescriptor.HEAD_OFFSET, 0L);
        s.ring.set(ValueLayout.JAVA_LONG, BroadcastRingDescriptor.TAIL_INTENT_OFFSET, 5000L);
        CorruptRingException lap = assertThrows(CorruptRingException.class, () -> s.consumer.poll((t, p) -> { }, 10));
        assertTrue(lap.getMessage().contains("lapped at position 0 but the head 0"), lap.getMessage());

        Setup b = Setup.of(RingKind.BROADCAST_BACKPRESSURE);
        sendAll(b.producer, 3, 48);
        b.ring.set(ValueLayout.JAVA_LONG, BroadcastRingDescriptor.TAIL_INTENT_OFFSET, 64L);
        CorruptRingException intent = assertThrows(CorruptRingException.class, () -> b.consumer.poll((t, p) -> { }, 10));
        assertTrue(intent.getMessage().contains("tail intent 64 is behind tail 192"), intent.getMessage());
    }

    /** Random garbage anywhere in the data area: poll terminates, delivers or throws CorruptRingException, nothing else. */
    @Test
    void randomGarbageNeverEscapesAsAnythingButCorruptRingException() {
        long seed = System.nanoTime();
        SplittableRandom random = new SplittableRandom(seed);
        int corrupt = 0;
        for (int trial = 0; trial < 2000; trial++) {
            RingKind kind = random.nextBoolean() ? RingKind.BROADCAST_OVERWRITE : RingKind.BROADCAST_BACKPRESSURE;
            Setup s = Setup.of(kind);
            int n = random.nextInt(1, 40);
            for (int i = 0; i < n; i++) {
                BroadcastTestSupport.send(s.producer, i, random.nextInt(0, 101));
                int limit = random.nextInt(0, 3);
                if (kind == RingKind.BROADCAST_BACKPRESSURE && limit > 0) { // 0: the consumer does not poll
                    s.consumer.poll((t, p) -> { }, limit);
                }
            }
            int hits = random.nextInt(1, 4);
            for (int h = 0; h < hits; h++) {
                long at = DATA_OFFSET + random.nextLong(0, 1024 - 8);
                s.ring.set(ValueLayout.JAVA_LONG_UNALIGNED, at, random.nextLong());
            }
            try {
                for (int polls = 0; polls < 100 && s.consumer.poll((t, p) -> { }, random.nextInt(1, 50)) > 0; polls++) {
                    // drain
                }
            } catch (CorruptRingException expected) {
                corrupt++;
            } catch (Throwable t) {
                throw new AssertionError("seed " + seed + "L, trial " + trial + ": " + t, t);
            }
        }
        assertTrue(corrupt > 100, "seed " + seed + "L: garbage should often be detected, was " + corrupt);
    }
}
