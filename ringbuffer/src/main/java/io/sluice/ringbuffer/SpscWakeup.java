package io.sluice.ringbuffer;

import io.sluice.api.ConsumerWaker;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.Objects;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntSupplier;

/**
 * Both halves of the SPSC cross-process wake-up, next to each other: a consumer that finds the
 * ring empty may sleep in the kernel instead of spinning, and the producer wakes it after a
 * commit. The words it uses:
 * <ul>
 *   <li>the consumer's <b>parked flag</b> (u32, {@link SpscConsumerPositionDescriptor#PARKED_FLAG_OFFSET}
 *       in the consumer's own position region): written only by the consumer, 1 while it is
 *       about to sleep or sleeping, else 0; read by the producer;</li>
 *   <li>the ring's <b>wake sequence</b> (u32, {@link SpscRingDescriptor#WAKE_SEQUENCE_OFFSET} in
 *       the ring region): incremented only by the producer, once per wake; the consumer sleeps
 *       on it.</li>
 * </ul>
 *
 * <h2>The protocol and why no wake is lost</h2>
 * <pre>
 *   consumer (parkOnce)                          producer (afterCommit)
 *   c1  seen = wakeSequence          (acquire)   p1  stamp = position        (release: the commit)
 *   c2  parkedFlag = 1               (release)   p2  full fence              (StoreLoad)
 *   c3  full fence                   (StoreLoad) p3  if parkedFlag == 1      (volatile load):
 *   c4  poll the ring: a message? stop           p4      wakeSequence += 1   (atomic add)
 *   c5  futex wait while wakeSequence == seen    p5      futex wake
 *   c6  parkedFlag = 0               (release)
 * </pre>
 * A Dekker pair: each side stores (c2, p1), fences (c3, p2), then loads what the other stored
 * (c4 reads the stamp, p3 reads the flag). With both fences, at least one load sees the other
 * side's store: either the consumer's poll at c4 finds the record and it does not sleep, or the
 * producer sees the flag at p3 and wakes. In the second case the wake cannot come too early:
 * the consumer read {@code seen} (c1) before it raised the flag (c2, ordered after c1 by the
 * acquire), the producer read the flag before it incremented (p3 before p4), so the increment
 * comes after c1 and the futex wait at c5 either finds the word changed and returns at once, or
 * is already asleep when p5 wakes it (the kernel checks the word and sleeps atomically).
 *
 * <p>The producer pays the fence (p2) and one load per commit only when wake-ups are enabled; a
 * flag it finds raised costs one atomic add and one system call. A consumer that is just about
 * to sleep when the message arrives may be woken needlessly; it polls again and parks again.
 *
 * <p>The consumer's loop (spins, slices, deadline, c1..c6) is {@link ParkLoop}, shared with the
 * other rings; this class supplies the SPSC words. A producer instance is shared by the producer
 * thread; {@link #wakes()} may be read from any thread. A consumer instance belongs to the
 * consumer's thread.
 */
public final class SpscWakeup implements ConsumerWaker, ConsumerParking {
    /** The wake sequence and the parked flag: 4-byte aligned u32, little-endian. */
    private static final VarHandle WORD = ParkLoop.WORD;

    private final MemorySegment wakeSequence; // producer: writable; consumer: read-only is enough
    private final Futex futex;
    private final ParkLoop parking;           // consumer: the shared spin-then-park loop; producer: null
    private final LongAdder wakes = new LongAdder();

    private SpscWakeup(MemorySegment wakeSequence, MemorySegment parkedFlag, Futex futex) {
        this.wakeSequence = wakeSequence;
        this.futex = Objects.requireNonNull(futex, "futex");
        this.parking = parkedFlag == null ? null : new ParkLoop(wakeSequence, futex, new ParkLoop.Mark() {
            @Override
            public void raise() {
                WORD.setRelease(parkedFlag, 0L, 1);               // c2
            }

            @Override
            public void lower() {
                WORD.setRelease(parkedFlag, 0L, 0);               // c6
            }
        });
    }

    /**
     * The producer's half, for {@link SpscProducer#wakeParkedConsumersWith}.
     *
     * @param ringRegion the whole ring region, writable (the wake sequence is incremented there)
     * @param futex the futex calls (the platform's)
     * @return the producer's half, to pass to {@link SpscProducer#wakeParkedConsumersWith}
     */
    public static SpscWakeup forProducer(MemorySegment ringRegion, Futex futex) {
        Misuse.checkWritable(ringRegion, "spsc ring", "the producer", "ring region");
        return new SpscWakeup(word(ringRegion, SpscRingDescriptor.WAKE_SEQUENCE_OFFSET), null, futex);
    }

    /**
     * The consumer's half.
     *
     * @param ringRegion     the whole ring region (read-only is enough)
     * @param positionRegion the consumer's own position region, writable (its parked flag is there)
     * @param futex the futex calls (the platform's)
     * @return the consumer's half, for {@link #pollOrPark} and {@link #parkOnce}
     */
    public static SpscWakeup forConsumer(MemorySegment ringRegion, MemorySegment positionRegion, Futex futex) {
        Objects.requireNonNull(ringRegion, "ring region");
        Misuse.checkWritable(positionRegion, "spsc ring", "the consumer", "position region");
        return new SpscWakeup(word(ringRegion, SpscRingDescriptor.WAKE_SEQUENCE_OFFSET),
                word(positionRegion, SpscConsumerPositionDescriptor.PARKED_FLAG_OFFSET), futex);
    }

    private static MemorySegment word(MemorySegment region, long offset) {
        return region.asSlice(offset, Integer.BYTES);
    }

    // ---- producer half ------------------------------------------------------------------------

    /**
     * p2..p5: after the commit's release store (p1), wakes the consumer whose position region is
     * {@code consumerPositionRegion} if its parked flag is raised. The caller keeps that region
     * mapped for the duration (see {@link SpscProducer}).
     *
     * @param consumerPositionRegion the followed consumer's region, or null when there is none
     */
    void afterCommit(MemorySegment consumerPositionRegion) {
        VarHandle.fullFence(); // p2: the stamp before the flag (Dekker with c2..c4)
        if (consumerPositionRegion != null
                && (int) WORD.getVolatile(consumerPositionRegion, SpscConsumerPositionDescriptor.PARKED_FLAG_OFFSET) != 0) {
            wake();
        }
    }

    /**
     * p4, p5: bumps the wake sequence and wakes every sleeper. The add changes the word, so a
     * consumer that read the old value and has not slept yet returns from its wait at once.
     * {@link #afterCommit} calls it when it finds the flag raised; a producer's owner may call it
     * to wake a consumer for another reason (the producer is closing).
     */
    @Override
    public void wake() {
        ParkLoop.bump(wakeSequence, futex);
        wakes.increment();
    }

    /** {@return how many commits found the consumer parked and woke it} */
    public long wakes() {
        return wakes.sum();
    }

    // ---- consumer half ------------------------------------------------------------------------

    /**
     * Runs {@code poll} until it handles messages or {@code timeoutNanos} pass: spins a little,
     * then parks one slice at a time ({@link #parkOnce}).
     *
     * @param poll polls the ring and returns the number of messages handled
     * @param timeoutNanos the longest wait in nanoseconds, from the first empty poll
     * @return the last poll's count (0 on timeout)
     */
    @Override
    public int pollOrPark(IntSupplier poll, long timeoutNanos) {
        return consumerHalf().pollOrPark(poll, timeoutNanos);
    }

    /**
     * One round of the consumer's half, c1..c6: raise the flag, check the ring once more, sleep
     * at most {@code sliceNanos} unless it had a message, lower the flag; if it slept, poll once
     * more.
     *
     * @param poll polls the ring and returns the number of messages handled
     * @param sliceNanos the longest sleep, in nanoseconds
     * @return what the last poll returned
     */
    @Override
    public int parkOnce(IntSupplier poll, long sliceNanos) {
        return consumerHalf().parkOnce(poll, sliceNanos);
    }

    private ParkLoop consumerHalf() {
        if (parking == null) {
            throw new IllegalStateException("spsc ring: a producer's wake-up cannot park (use forConsumer)");
        }
        return parking;
    }
}
