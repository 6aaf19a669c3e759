package io.sluice.ringbuffer;

import io.sluice.api.ConsumerWaker;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntSupplier;

/**
 * Both halves of the broadcast cross-process wake-up (both overflow policies): a consumer that
 * finds the ring empty may sleep in the kernel, and the producer wakes the sleepers after a
 * commit. The words it uses:
 * <ul>
 *   <li>each consumer's <b>parked flag</b> (u32,
 *       {@link BroadcastConsumerPositionDescriptor#PARKED_FLAG_OFFSET} in that consumer's own
 *       position region): written only by that consumer, 1 while it is about to sleep or
 *       sleeping, else 0; read by the producer;</li>
 *   <li>the ring's <b>wake sequence</b> (u32, {@link BroadcastRingDescriptor#WAKE_SEQUENCE_OFFSET}
 *       in the ring region): incremented only by the producer (and its host, on close), once per
 *       wake; every consumer sleeps on it, so one {@code FUTEX_WAKE} wakes them all.</li>
 * </ul>
 *
 * <h2>The protocol and why no wake is lost</h2>
 * <pre>
 *   consumer (ParkLoop)                          producer (afterCommit)
 *   c1  seen = wakeSequence          (acquire)   p1  the commit: the record's Sequence, then the
 *                                                    Tail (release stores)
 *   c2  parkedFlag = 1               (release)   p2  full fence              (StoreLoad)
 *   c3  full fence                   (StoreLoad) p3  for each registered consumer:
 *   c4  poll the ring: a message? stop                if its parkedFlag == 1 (volatile load):
 *   c5  futex wait while wakeSequence == seen    p4      wakeSequence += 1   (atomic add)
 *   c6  parkedFlag = 0               (release)   p5      futex wake (all), stop scanning
 * </pre>
 * For each consumer it is the SPSC argument ({@link SpscWakeup}): each side stores (c2, p1),
 * fences (c3, p2), then loads what the other stored (c4 loads the record's commit word or the Tail, p3 the flag), so either
 * the consumer's poll finds the record or the producer sees the flag; the wait at c5 is on the
 * value read at c1, before the flag was raised, so a bump after p3 makes it return at once.
 *
 * <p><b>The consumer set.</b> The producer scans the position regions registered with
 * {@link #addConsumer} (a copy-on-write array, published by a volatile store and read by a
 * volatile load after p2). A consumer parks only after it joined, and its host registers its
 * region before it lets it join (READY), so the host's store comes before c2: if the producer's
 * load at p3 misses the new array, that load precedes the host's store in the synchronization
 * order, hence precedes c2..c4, and the poll at c4 sees the commit p1 that came before p2. A
 * region the host unmaps while the producer scans it (the consumer left) throws
 * {@link IllegalStateException} from its closed arena; the scan skips it: nobody is asleep
 * there any more.
 *
 * <p>The producer pays the fence and one load per registered consumer per commit only when
 * wake-ups are enabled; a raised flag costs one atomic add and one system call, whichever
 * consumers are asleep. A flag left raised (a consumer killed asleep, or garbage its process
 * wrote) costs needless wakes, never a hang; no sleep lasts longer than one slice of
 * {@link ParkLoop}.
 *
 * <p>A producer instance is used by the producer thread ({@link #addConsumer},
 * {@link #removeConsumer} and {@link #wake} from any thread); a consumer instance belongs to the
 * consumer's thread.
 */
public final class BroadcastWakeup implements ConsumerWaker, ConsumerParking {
    private static final VarHandle WORD = ParkLoop.WORD;
    private static final MemorySegment[] NONE = new MemorySegment[0];

    private final MemorySegment wakeSequence; // producer: writable; consumer: read-only is enough
    private final Futex futex;
    private final ParkLoop parking;           // consumer: the shared spin-then-park loop; producer: null
    private final LongAdder wakes = new LongAdder();
    // Producer: the registered consumers' position regions. Replaced (never changed) under this
    // object's lock, published by the volatile store; read by the producer thread (volatile).
    private volatile MemorySegment[] consumers = NONE;

    private BroadcastWakeup(MemorySegment wakeSequence, MemorySegment parkedFlag, Futex futex) {
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
     * The producer's half, for {@link BroadcastProducer#wakeParkedConsumersWith}.
     *
     * @param ringRegion the whole ring region, writable (the wake sequence is incremented there)
     * @param futex the futex calls (the platform's)
     * @return the producer's half; register consumers with {@link #addConsumer}
     */
    public static BroadcastWakeup forProducer(MemorySegment ringRegion, Futex futex) {
        Misuse.checkWritable(ringRegion, "broadcast ring", "the producer", "ring region");
        return new BroadcastWakeup(word(ringRegion, BroadcastRingDescriptor.WAKE_SEQUENCE_OFFSET), null, futex);
    }

    /**
     * A consumer's half.
     *
     * @param ringRegion     the whole ring region (read-only is enough)
     * @param positionRegion the consumer's own position region, writable (its parked flag is there)
     * @param futex the futex calls (the platform's)
     * @return the consumer's half, for {@link #pollOrPark} and {@link #parkOnce}
     */
    public static BroadcastWakeup forConsumer(MemorySegment ringRegion, MemorySegment positionRegion, Futex futex) {
        Objects.requireNonNull(ringRegion, "ring region");
        Misuse.checkWritable(positionRegion, "broadcast ring", "the consumer", "position region");
        return new BroadcastWakeup(word(ringRegion, BroadcastRingDescriptor.WAKE_SEQUENCE_OFFSET),
                word(positionRegion, BroadcastConsumerPositionDescriptor.PARKED_FLAG_OFFSET), futex);
    }

    private static MemorySegment word(MemorySegment region, long offset) {
        return region.asSlice(offset, Integer.BYTES);
    }

    // ---- producer half ------------------------------------------------------------------------

    /**
     * Any thread: the producer checks this consumer's parked flag after every commit from now
     * on. Register before the consumer may park (before it joins).
     *
     * @param positionRegion the consumer's position region (read-only is enough), at least
     *                       {@link BroadcastConsumerPositionDescriptor#REGION_SIZE} bytes
     */
    public synchronized void addConsumer(MemorySegment positionRegion) {
        if (positionRegion.byteSize() < BroadcastConsumerPositionDescriptor.REGION_SIZE) {
            throw new IllegalArgumentException("broadcast ring: position region of " + positionRegion.byteSize()
                    + " bytes is smaller than " + BroadcastConsumerPositionDescriptor.REGION_SIZE);
        }
        MemorySegment[] next = Arrays.copyOf(consumers, consumers.length + 1);
        next[next.length - 1] = positionRegion;
        consumers = next;
    }

    /**
     * Any thread: stops checking this consumer (it left). The producer may still be reading the
     * region in a scan that began before; if the region is unmapped meanwhile, that scan skips it.
     *
     * @param positionRegion the region given to {@link #addConsumer} (the same segment object)
     * @return false if it was not registered
     */
    public synchronized boolean removeConsumer(MemorySegment positionRegion) {
        MemorySegment[] now = consumers;
        for (int i = 0; i < now.length; i++) {
            if (now[i] == positionRegion) {
                MemorySegment[] next = new MemorySegment[now.length - 1];
                System.arraycopy(now, 0, next, 0, i);
                System.arraycopy(now, i + 1, next, i, now.length - i - 1);
                consumers = next;
                return true;
            }
        }
        return false;
    }

    /** {@return how many consumers the producer checks after each commit} */
    public int consumerCount() {
        return consumers.length;
    }

    /**
     * p2..p5: after the commit's release stores of the Sequence and the Tail (p1), wakes every sleeper if any
     * registered consumer's parked flag is raised. Producer thread.
     */
    void afterCommit() {
        VarHandle.fullFence(); // p2: the commit before the flags (Dekker with c2..c4)
        for (MemorySegment region : consumers) {
            try {
                if ((int) WORD.getVolatile(region, BroadcastConsumerPositionDescriptor.PARKED_FLAG_OFFSET) != 0) {
                    wake();
                    return; // one bump and one FUTEX_WAKE wake every sleeper
                }
            } catch (IllegalStateException unmapped) {
                // the consumer left and its host unmapped the region during this scan: nobody sleeps there
            }
        }
    }

    /**
     * p4, p5: bumps the wake sequence and wakes every sleeper. {@link #afterCommit} calls it when
     * it finds a flag raised; the producer's host calls it when it closes the channel, so that no
     * consumer sleeps on past the close.
     */
    @Override
    public void wake() {
        ParkLoop.bump(wakeSequence, futex);
        wakes.increment();
    }

    /** {@return how many times the producer woke sleeping consumers} */
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
            throw new IllegalStateException("broadcast ring: a producer's wake-up cannot park (use forConsumer)");
        }
        return parking;
    }
}
