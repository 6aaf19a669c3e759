package io.sluice.ringbuffer;

import io.sluice.api.BroadcastPolicy;
import io.sluice.api.MessageConsumer;
import io.sluice.api.MessageProducer;
import io.sluice.api.RingKind;
import io.sluice.api.RingLayoutException;
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
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * The same misuse gets the same exception, with the same message after the ring's name, from
 * every ring: one test body per misuse, run over SPSC, broadcast and MPMC. Covers the producer
 * and consumer calls, formatting a region that cannot hold the ring, and attaching to a region
 * that is read-only, of another kind, too small, misaligned, not a ring, or already unmapped.
 */
class RingMisuseTest {

    /**
     * One ring of each kind: a fixture with its producer, one consumer, and the name its messages
     * start with; and the facade calls (size, format, attach the producer) on a small ring.
     */
    enum Ring {
        SPSC("spsc", RingKind.MPMC, "SPSC") {
            @Override
            Fixture create() {
                SpscTestRing ring = SpscTestRing.onHeap(1024);
                return new Fixture("spsc ring 'test'", ring.producer, ring.consumer);
            }

            @Override
            long regionSize() {
                return SpscRing.regionSize(1024);
            }

            @Override
            void format(MemorySegment region) {
                SpscRing.format(region, 1024);
            }

            @Override
            MessageProducer attachProducer(MemorySegment region, Arena arena) {
                MemorySegment position = arena.allocate(SpscRing.consumerPositionRegionSize(), 128);
                SpscRing.formatConsumerPosition(position, 1024);
                return SpscRing.attachProducer(region, position, "test");
            }
        },
        BROADCAST("broadcast", RingKind.SPSC, "BROADCAST_BACKPRESSURE or BROADCAST_OVERWRITE") {
            @Override
            Fixture create() {
                MemorySegment region = BroadcastTestSupport.heapRing(RingKind.BROADCAST_OVERWRITE, 1024, 100);
                BroadcastProducer producer = BroadcastRing.attachProducer(region, "test");
                BroadcastConsumer consumer = BroadcastRing.attachConsumer(region, null, BroadcastStart.OLDEST, "test");
                return new Fixture("broadcast ring 'test'", producer, consumer);
            }

            @Override
            long regionSize() {
                return BroadcastRing.regionSize(1024);
            }

            @Override
            void format(MemorySegment region) {
                BroadcastRing.format(region, BroadcastPolicy.OVERWRITE, 1024);
            }

            @Override
            MessageProducer attachProducer(MemorySegment region, Arena arena) {
                return BroadcastRing.attachProducer(region, "test");
            }
        },
        MPMC("mpmc", RingKind.SPSC, "MPMC") {
            @Override
            Fixture create() {
                MemorySegment region = MpmcTestRings.heapRing(8, 128, 4);
                return new Fixture("mpmc ring 'test'", MpmcRing.attachProducer(region, 1, "test"),
                        MpmcRing.attachConsumer(region, 2, "test"));
            }

            @Override
            long regionSize() {
                return MpmcRing.regionSize(8, 128);
            }

            @Override
            void format(MemorySegment region) {
                MpmcRing.format(region, 8, 128, 4);
            }

            @Override
            MessageProducer attachProducer(MemorySegment region, Arena arena) {
                return MpmcRing.attachProducer(region, 1, "test");
            }
        };

        /** How messages name the ring when it has no name, e.g. "spsc ring". */
        final String unnamed;
        /** The name in the fixture's and attachProducer's messages. */
        final String named;
        /** A kind this ring refuses, and how the refusal lists the kinds it expects. */
        final RingKind otherKind;
        final String expectedKinds;

        Ring(String type, RingKind otherKind, String expectedKinds) {
            this.unnamed = type + " ring";
            this.named = type + " ring 'test'";
            this.otherKind = otherKind;
            this.expectedKinds = expectedKinds;
        }

        abstract Fixture create();

        abstract long regionSize();

        abstract void format(MemorySegment region);

        /** Attaches the producer to {@code region}; any other region it needs comes from {@code arena}. */
        abstract MessageProducer attachProducer(MemorySegment region, Arena arena);

        /** A formatted ring on the heap (8-byte aligned). */
        MemorySegment formatted() {
            MemorySegment region = MemorySegment.ofArray(new long[(int) (regionSize() / Long.BYTES)]);
            format(region);
            return region;
        }
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

    // ---- format and attach ------------------------------------------------------------------

    private static void assertStartsWith(String prefix, Throwable e) {
        assertTrue(e.getMessage().startsWith(prefix), () -> "expected \"" + prefix + "...\", got \"" + e.getMessage() + "\"");
    }

    @ParameterizedTest
    @EnumSource(Ring.class)
    void formatRefusesARegionTooSmallReadOnlyOrMisalignedAsAnIllegalArgument(Ring ring) {
        long size = ring.regionSize();
        MemorySegment small = MemorySegment.ofArray(new long[(int) (size / Long.BYTES) - 1]);
        assertStartsWith(ring.unnamed + ": region of " + (size - 8) + " bytes is smaller than the " + size + " bytes ",
                assertThrows(IllegalArgumentException.class, () -> ring.format(small)));
        MemorySegment readOnly = MemorySegment.ofArray(new long[(int) (size / Long.BYTES)]).asReadOnly();
        assertEquals(ring.unnamed + ": region is read-only; format writes it",
                assertThrows(IllegalArgumentException.class, () -> ring.format(readOnly)).getMessage());
        MemorySegment bytes = MemorySegment.ofArray(new byte[(int) size]);
        assertEquals(ring.unnamed + ": region is not 8-byte aligned (a heap segment must wrap a long[])",
                assertThrows(IllegalArgumentException.class, () -> ring.format(bytes)).getMessage());
    }

    @ParameterizedTest
    @EnumSource(Ring.class)
    void attachingTheProducerToAReadOnlyRegionIsAnIllegalArgument(Ring ring) {
        MemorySegment region = ring.formatted();
        assertEquals(ring.named + ": the producer needs a writable ring region",
                assertThrows(IllegalArgumentException.class,
                        () -> ring.attachProducer(region.asReadOnly(), Arena.ofAuto())).getMessage());
        assertFalse(ring.attachProducer(region, Arena.ofAuto()).maxMessageLength() <= 0);
    }

    @ParameterizedTest
    @EnumSource(Ring.class)
    void attachingToARegionOfAnotherKindIsALayoutError(Ring ring) {
        MemorySegment region = ring.formatted();
        region.set(RegionHeaderDescriptor.U32, RegionHeaderDescriptor.KIND_OFFSET, ring.otherKind.code());
        assertEquals(ring.named + ": ring kind " + ring.otherKind + ", expected " + ring.expectedKinds,
                assertThrows(RingLayoutException.class, () -> ring.attachProducer(region, Arena.ofAuto())).getMessage());
    }

    @ParameterizedTest
    @EnumSource(Ring.class)
    void attachingToARegionWithoutTheMagicOrVersionIsALayoutError(Ring ring) {
        MemorySegment notARing = ring.formatted();
        notARing.set(RegionHeaderDescriptor.U64, RegionHeaderDescriptor.MAGIC_OFFSET, 0L);
        assertEquals(ring.named + ": bad magic 0x0, expected 0x" + Long.toHexString(RegionHeaderDescriptor.MAGIC)
                        + " (\"SLUICERB\")",
                assertThrows(RingLayoutException.class, () -> ring.attachProducer(notARing, Arena.ofAuto())).getMessage());
        MemorySegment newer = ring.formatted();
        newer.set(RegionHeaderDescriptor.U32, RegionHeaderDescriptor.VERSION_OFFSET, RegionHeaderDescriptor.LAYOUT_VERSION + 1);
        assertEquals(ring.named + ": layout version " + (RegionHeaderDescriptor.LAYOUT_VERSION + 1) + ", this library reads "
                        + RegionHeaderDescriptor.LAYOUT_VERSION,
                assertThrows(RingLayoutException.class, () -> ring.attachProducer(newer, Arena.ofAuto())).getMessage());
    }

    @ParameterizedTest
    @EnumSource(Ring.class)
    void attachingToASegmentTooSmallOrMisalignedIsALayoutError(Ring ring) {
        MemorySegment region = ring.formatted();
        assertEquals(ring.named + ": segment of 64 bytes is smaller than the "
                        + region.get(RegionHeaderDescriptor.U32, RegionHeaderDescriptor.HEADER_LENGTH_OFFSET) + "-byte header",
                assertThrows(RingLayoutException.class,
                        () -> ring.attachProducer(region.asSlice(0, 64), Arena.ofAuto())).getMessage());
        assertStartsWith(ring.named + ": capacity ",
                assertThrows(RingLayoutException.class,
                        () -> ring.attachProducer(region.asSlice(0, region.byteSize() - 8), Arena.ofAuto())));
        MemorySegment bytes = MemorySegment.ofArray(new byte[(int) region.byteSize()]);
        MemorySegment.copy(region, 0, bytes, 0, region.byteSize());
        assertEquals(ring.named + ": segment is not 8-byte aligned (a heap segment must wrap a long[])",
                assertThrows(RingLayoutException.class, () -> ring.attachProducer(bytes, Arena.ofAuto())).getMessage());
    }

    @ParameterizedTest
    @EnumSource(Ring.class)
    void usingARegionAfterItsArenaClosedIsAnIllegalState(Ring ring) {
        Arena arena = Arena.ofShared();
        MemorySegment region = arena.allocate(ring.regionSize(), 128);
        ring.format(region);
        MessageProducer producer = ring.attachProducer(region, arena);
        arena.close();
        assertThrows(IllegalStateException.class, () -> producer.offer(1, bytes(8, 1), 0, 8));
        assertThrows(IllegalStateException.class, () -> ring.attachProducer(region, Arena.ofAuto()));
    }
}
