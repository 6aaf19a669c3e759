package io.sluice.ringbuffer;

import io.sluice.api.MessageConsumer;
import io.sluice.api.MessageProducer;
import io.sluice.api.RingKind;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The same misuse gets the same exception, with the same message after the ring's name, from
 * every ring's producer (and consumer): one test body, run over SPSC, broadcast and MPMC.
 */
class RingMisuseTest {

    /** One ring of each kind, with its producer, one consumer, and the name its messages start with. */
    enum Ring {
        SPSC {
            @Override
            Fixture create() {
                SpscTestRing ring = SpscTestRing.onHeap(1024);
                return new Fixture("spsc ring 'test'", ring.producer, ring.consumer);
            }
        },
        BROADCAST {
            @Override
            Fixture create() {
                MemorySegment region = BroadcastTestSupport.heapRing(RingKind.BROADCAST_OVERWRITE, 1024, 100);
                BroadcastProducer producer = BroadcastRing.attachProducer(region, "test");
                BroadcastConsumer consumer = BroadcastRing.attachConsumer(region, null, BroadcastStart.OLDEST, "test");
                return new Fixture("broadcast ring 'test'", producer, consumer);
            }
        },
        MPMC {
            @Override
            Fixture create() {
                MemorySegment region = MpmcTestRings.heapRing(8, 128, 4);
                return new Fixture("mpmc ring 'test'", MpmcRing.attachProducer(region, 1, "test"),
                        MpmcRing.attachConsumer(region, 2, "test"));
            }
        };

        abstract Fixture create();
    }

    record Fixture(String what, MessageProducer producer, MessageConsumer consumer) {
        int max() {
            return producer.maxMessageLength();
        }

        /** Every message the consumer can take now, as the first payload byte of each (or -1 if empty). */
        List<Integer> drain() {
            List<Integer> got = new ArrayList<>();
            consumer.poll((type, payload) -> got.add(payload.byteSize() == 0 ? -1 : (int) payload.get(ValueLayout.JAVA_BYTE, 0)),
                    100);
            return got;
        }
    }

    private static <T extends Throwable> void assertRefused(Class<T> type, Fixture f, String message, Executable call) {
        T e = assertThrows(type, call);
        assertEquals(f.what() + ": " + message, e.getMessage());
    }

    private static MemorySegment bytes(int length, int first) {
        MemorySegment s = Arena.ofAuto().allocate(Math.max(length, 1), 8).asSlice(0, length);
        if (length > 0) {
            s.set(ValueLayout.JAVA_BYTE, 0, (byte) first);
        }
        return s;
    }

    @ParameterizedTest
    @EnumSource(Ring.class)
    void aTypeThatIsNotPositiveIsAnIllegalArgument(Ring ring) {
        Fixture f = ring.create();
        assertRefused(IllegalArgumentException.class, f, "message type 0 is not positive", () -> f.producer().tryClaim(0, 1));
        assertRefused(IllegalArgumentException.class, f, "message type -1 is not positive", () -> f.producer().tryClaim(-1, 1));
        assertRefused(IllegalArgumentException.class, f, "message type 0 is not positive",
                () -> f.producer().offer(0, bytes(4, 1), 0, 4));
        assertTrue(f.producer().tryClaim(1, 1) >= 0, "nothing was claimed");
    }

    @ParameterizedTest
    @EnumSource(Ring.class)
    void aLengthOutsideZeroToTheMaximumIsAnIllegalArgument(Ring ring) {
        Fixture f = ring.create();
        int max = f.max();
        assertRefused(IllegalArgumentException.class, f, "message length -1 is outside 0.." + max,
                () -> f.producer().tryClaim(1, -1));
        assertRefused(IllegalArgumentException.class, f, "message length " + (max + 1) + " is outside 0.." + max,
                () -> f.producer().tryClaim(1, max + 1));
        assertRefused(IllegalArgumentException.class, f, "message length " + (max + 1) + " is outside 0.." + max,
                () -> f.producer().offer(1, bytes(max + 1, 1), 0, max + 1));
        assertTrue(f.producer().tryClaim(1, max) >= 0, "the maximum itself is fine, and nothing was claimed before");
    }

    @ParameterizedTest
    @EnumSource(Ring.class)
    void aSecondClaimWhileOneIsOpenIsAnIllegalState(Ring ring) {
        Fixture f = ring.create();
        long at = f.producer().tryClaim(1, 8);
        assertRefused(IllegalStateException.class, f, "the claim at offset " + at + " is still open; commit or abort it first",
                () -> f.producer().tryClaim(1, 8));
        assertRefused(IllegalStateException.class, f, "the claim at offset " + at + " is still open; commit or abort it first",
                () -> f.producer().offer(1, bytes(8, 1), 0, 8));
        f.producer().buffer().set(ValueLayout.JAVA_BYTE, at, (byte) 5);
        f.producer().commit(at);
        assertEquals(List.of(5), f.drain(), "the open claim was untouched by the refused calls");
    }

    @ParameterizedTest
    @EnumSource(Ring.class)
    void commitOrAbortWithoutAClaimIsAnIllegalState(Ring ring) {
        Fixture f = ring.create();
        assertRefused(IllegalStateException.class, f, "commit(16) without an open claim", () -> f.producer().commit(16));
        assertRefused(IllegalStateException.class, f, "abort(16) without an open claim", () -> f.producer().abort(16));
        long at = f.producer().tryClaim(1, 8);
        f.producer().commit(at);
        assertRefused(IllegalStateException.class, f, "commit(" + at + ") without an open claim",
                () -> f.producer().commit(at));
        assertRefused(IllegalStateException.class, f, "abort(" + at + ") without an open claim",
                () -> f.producer().abort(at));
    }

    @ParameterizedTest
    @EnumSource(Ring.class)
    void commitOrAbortWithAnotherOffsetIsAnIllegalArgumentAndLeavesTheClaimOpen(Ring ring) {
        Fixture f = ring.create();
        long at = f.producer().tryClaim(1, 8);
        assertRefused(IllegalArgumentException.class, f, "commit(" + (at + 8) + ") is not the open claim's offset " + at,
                () -> f.producer().commit(at + 8));
        assertRefused(IllegalArgumentException.class, f, "abort(" + (at - 8) + ") is not the open claim's offset " + at,
                () -> f.producer().abort(at - 8));
        f.producer().buffer().set(ValueLayout.JAVA_BYTE, at, (byte) 9);
        f.producer().commit(at);
        assertEquals(List.of(9), f.drain());
    }

    @ParameterizedTest
    @EnumSource(Ring.class)
    void anOfferFromOutsideTheSourceIsOutOfBoundsAndClaimsNothing(Ring ring) {
        Fixture f = ring.create();
        MemorySegment source = bytes(10, 3);
        assertRefused(IndexOutOfBoundsException.class, f, "source range 5+10 is outside the 10-byte source",
                () -> f.producer().offer(1, source, 5, 10));
        assertRefused(IndexOutOfBoundsException.class, f, "source range -1+4 is outside the 10-byte source",
                () -> f.producer().offer(1, source, -1, 4));
        assertRefused(IndexOutOfBoundsException.class, f, "source range 11+0 is outside the 10-byte source",
                () -> f.producer().offer(1, source, 11, 0));
        // Type and length are checked first, on every ring.
        assertRefused(IllegalArgumentException.class, f, "message type 0 is not positive",
                () -> f.producer().offer(0, source, 5, 10));
        assertEquals(List.of(), f.drain(), "nothing was published");
        assertTrue(f.producer().offer(1, source, 0, 10), "and no claim was left open");
        assertEquals(List.of(3), f.drain());
    }

    @ParameterizedTest
    @EnumSource(Ring.class)
    void anOfferWhoseCopyFailsAbortsItsClaimAndRethrows(Ring ring) {
        Fixture f = ring.create();
        Arena arena = Arena.ofConfined();
        MemorySegment closed = arena.allocate(16, 8);
        arena.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> f.producer().offer(1, closed, 0, 16));
        assertTrue(e.getMessage().toLowerCase().contains("closed"), e.getMessage());
        assertTrue(f.producer().offer(1, bytes(8, 4), 0, 8), "the failed offer's claim was aborted");
        assertEquals(List.of(4), f.drain(), "the aborted claim is never delivered");
    }

    @ParameterizedTest
    @EnumSource(Ring.class)
    void aPollLimitBelowOneIsAnIllegalArgument(Ring ring) {
        Fixture f = ring.create();
        assertRefused(IllegalArgumentException.class, f, "poll limit 0 is not positive",
                () -> f.consumer().poll((t, p) -> { }, 0));
        assertRefused(IllegalArgumentException.class, f, "poll limit -3 is not positive",
                () -> f.consumer().poll((t, p) -> { }, -3));
    }
}
