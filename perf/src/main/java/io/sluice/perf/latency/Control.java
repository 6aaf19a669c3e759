package io.sluice.perf.latency;

import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;

/**
 * The block the two peers of one measured run share, a 4 KiB file under {@code /dev/shm} that
 * the launcher creates (zeroed) before it starts them, and each peer maps. It holds the raw
 * cache-line ping-pong that brackets every run (the machine's limit, measured by the same two
 * processes just before and after the system under test), the phase words the peers meet on,
 * and the mailbox of the {@code raw-java} row.
 *
 * <pre>
 *    0 +--------------------------------+ bracket ping: A writes the round-trip number
 *  128 +--------------------------------+ bracket pong: B echoes it
 *  256 +--------------------------------+ phase of A (sync points it reached)
 *  384 +--------------------------------+ phase of B
 *  512 +--------------------------------+ raw-java row, A to B
 *  640 +--------------------------------+ raw-java row, B to A
 *  768 +--------------------------------+ settle decision: A writes +n (go on after batch n) or -n (stop)
 *  896 +--------------------------------+ throughput warm-up: A writes the number of its last warm-up batch
 * 1024 +--------------------------------+ (unused up to 4096)
 * </pre>
 *
 * Every word is a little-endian long on its own 128-byte line (adjacent-line prefetch). The
 * segment sits in a {@code static final} field, so the JIT sees it as a constant and drops its
 * bounds checks (docs/performance-notes.md): the file is named by the system property
 * {@value #PATH_PROPERTY}, set before this class is first used. The bracket loops spin without
 * {@code Thread.onSpinWait()}, as the C probe does.
 */
public final class Control {
    /** System property naming the control file. */
    public static final String PATH_PROPERTY = "sluice.perf.control";
    /** Size of the control file. */
    public static final long SIZE = 4096;

    static final long PING = 0;
    static final long PONG = 128;
    static final long PHASE_A = 256;
    static final long PHASE_B = 384;
    /** Mailbox words of the raw-java row. */
    public static final long MAILBOX_AB = 512;
    public static final long MAILBOX_BA = 640;
    static final long SETTLE = 768;
    static final long WARMUP_END = 896;
    private static final int SETTLE_BATCH = 10_000;

    /** Access to a long word of {@link #SEGMENT}: exact invocation, so a wrong coordinate type throws. */
    public static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle().withInvokeExactBehavior();
    /** The mapped control file; a constant to the JIT. */
    public static final MemorySegment SEGMENT = map(Path.of(System.getProperty(PATH_PROPERTY, "")));

    private static final long SYNC_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(
            Long.getLong("sluice.perf.syncTimeoutSeconds", 120));

    /**
     * The round-trip number of the last bracket exchange, counted by each side alike (one field
     * per side: the in-process rows run both sides in one JVM).
     */
    private static long initiatorSequence;
    private static long responderSequence;

    private Control() {
    }

    @SuppressWarnings("restricted") // reinterpret: a view of the mapping this method just made, SIZE bytes
    private static MemorySegment map(Path path) {
        if (path.toString().isEmpty()) {
            throw new IllegalStateException("system property " + PATH_PROPERTY + " names no control file");
        }
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            MemorySegment segment = channel.map(FileChannel.MapMode.READ_WRITE, 0, SIZE, Arena.global());
            for (long at = 0; at < SIZE; at += 4096) { // pre-touch: a write fault now, none later
                long unused = (long) LONG.getAndAdd(segment, at + 3 * 8L, 0L);
            }
            // Handed out as a plain native segment over the same pages (the mapping stays in the
            // global arena): a MappedMemorySegmentImpl would be one more receiver class in the
            // JDK's shared segment-access code, which every peer's rings go through too (see
            // systems/Payload.offHeapMessage).
            return MemorySegment.ofAddress(segment.address()).reinterpret(SIZE);
        } catch (IOException e) {
            throw new UncheckedIOException("control file " + path + ": " + e.getMessage(), e);
        }
    }

    /**
     * The throughput initiator's decision: its warm-up ends with batch {@code batches}. Stored
     * (release) before that batch is sent, so a receiver that has taken the batch sees it.
     */
    public static void endWarmupAfter(long batches) {
        LONG.setRelease(SEGMENT, WARMUP_END, batches);
    }

    /** {@return the number of warm-up batches the initiator declared, or 0 while it warms up} */
    public static long warmupEnd() {
        return (long) LONG.getAcquire(SEGMENT, WARMUP_END);
    }

    /**
     * Publishes that this side reached sync point {@code phase} and waits until the other side
     * has too. Busy-spins (the peers spin anyway); gives up after the sync timeout, so that a
     * peer that died does not leave the other spinning forever.
     */
    public static void sync(Role me, long phase) {
        sync(me, phase, Thread::onSpinWait);
    }

    /**
     * As {@link #sync(Role, long)}, running {@code whileWaiting} instead of a spin-wait hint: a
     * sender whose transport needs its thread to deliver what it sent (Aeron's driver in INVOKER
     * mode, {@link Endpoint#idle()}) keeps it running until the other side has it all.
     */
    public static void sync(Role me, long phase, Runnable whileWaiting) {
        long mine = me == Role.INITIATOR ? PHASE_A : PHASE_B;
        long theirs = me == Role.INITIATOR ? PHASE_B : PHASE_A;
        LONG.setRelease(SEGMENT, mine, phase);
        long deadline = System.nanoTime() + SYNC_TIMEOUT_NS;
        int spins = 0;
        while ((long) LONG.getAcquire(SEGMENT, theirs) < phase) {
            whileWaiting.run();
            if (++spins == 1 << 16) {
                spins = 0;
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(me + ": the other peer did not reach sync point " + phase
                            + " within " + TimeUnit.NANOSECONDS.toSeconds(SYNC_TIMEOUT_NS) + " s");
                }
            }
        }
    }

    /**
     * Raw ping-pong for {@code millis}, recorded nowhere, before the first bracket. The machine's
     * level settles while both sides spin (docs/performance-notes.md); freshly started JVMs were seen to begin
     * on a slow level and move to a fast one after a while of spinning. A decides when to stop,
     * after whole batches, and tells B through the settle word.
     */
    public static void settleInitiate(long millis) {
        long end = System.nanoTime() + millis * 1_000_000L;
        for (long batch = 1; ; batch++) {
            bracketInitiateBatch(SETTLE_BATCH, null);
            boolean more = System.nanoTime() < end;
            LONG.setRelease(SEGMENT, SETTLE, more ? batch : -batch);
            if (!more) {
                return;
            }
        }
    }

    /** B's half of {@link #settleInitiate}. */
    public static void settleRespond() {
        for (long batch = 1; ; batch++) {
            bracketRespondBatch(SETTLE_BATCH);
            long decision;
            while (Math.abs(decision = (long) LONG.getAcquire(SEGMENT, SETTLE)) != batch) {
                Thread.onSpinWait();
            }
            if (decision < 0) {
                return;
            }
        }
    }

    /**
     * One raw bracket run, initiator side: {@code warmup} uncounted round trips, then
     * {@code count} recorded into {@code histogram}. The responder runs {@link #bracketRespond}
     * with the same numbers.
     */
    public static void bracketInitiate(int warmup, int count, Histogram histogram) {
        int batch = 10_000;
        for (int done = 0; done < warmup; done += batch) {
            bracketInitiateBatch(Math.min(batch, warmup - done), null);
        }
        for (int done = 0; done < count; done += batch) {
            bracketInitiateBatch(Math.min(batch, count - done), histogram);
        }
    }

    /** The responder's half of {@link #bracketInitiate}. */
    public static void bracketRespond(int warmup, int count) {
        int batch = 10_000;
        for (int done = 0; done < warmup + count; done += batch) {
            bracketRespondBatch(Math.min(batch, warmup + count - done));
        }
    }

    private static void bracketInitiateBatch(int n, Histogram histogram) {
        long s = initiatorSequence;
        for (int i = 0; i < n; i++) {
            s++;
            long t0 = System.nanoTime();
            LONG.setRelease(SEGMENT, PING, s);
            while ((long) LONG.getAcquire(SEGMENT, PONG) != s) {
                // spin: this is the machine's limit, nothing between the two loads
            }
            long rtt = System.nanoTime() - t0;
            if (histogram != null) {
                histogram.recordValue(rtt);
            }
        }
        initiatorSequence = s;
    }

    private static void bracketRespondBatch(int n) {
        long s = responderSequence;
        for (int i = 0; i < n; i++) {
            s++;
            while ((long) LONG.getAcquire(SEGMENT, PING) != s) {
                // spin
            }
            LONG.setRelease(SEGMENT, PONG, s);
        }
        responderSequence = s;
    }
}
