package io.sluice.examples.snapshot;

import io.sluice.cache.snapshot.SnapshotReader;
import io.sluice.cache.snapshot.SealedSnapshot;
import io.sluice.cache.snapshot.SnapshotMessages;
import io.sluice.api.ConnectionClosedException;
import io.sluice.api.ProtocolException;
import io.sluice.examples.WriteAttempts;
import io.sluice.fdpassing.ReceivedMessage;
import io.sluice.fdpassing.SeqPacketSocket;
import io.sluice.memfd.ProcessResources;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.StringJoiner;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A reader JVM of {@link SnapshotDemo}. A receiving thread takes each PUBLISH from the owner,
 * adopts the fd ({@link SealedSnapshot#adopt}: memfd, seals, size, header, version, all checked
 * before or right after mapping) and verifies the whole table once; the main thread looks up
 * random symbols in place, checks every answer against {@link ReferenceData}, and swaps to a
 * newer version between batches, closing the old one (its fd and mapping). Swapping on the
 * lookup thread is what makes closing safe: no lookup of the old version can still be running.
 * Once, it also tries to write the table every way it can and records what the kernel said.
 * On END it answers with one REPORT.
 *
 * <p>Run by the demo: {@code SnapshotReaderProcess <socket path> <reader number>}.
 */
public final class SnapshotReaderProcess {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final ThreadMXBean CPU = ManagementFactory.getThreadMXBean();
    private static final int BATCH = 4096;
    /** Symbols looked up: every instrument of the first versions, and some not (yet) listed. */
    private static final int KEY_SPACE = ReferenceData.INITIAL_INSTRUMENTS + 2_000;

    private final SeqPacketSocket conn;
    private final int readerNo;
    private final LinkedBlockingQueue<SealedSnapshot> arrived = new LinkedBlockingQueue<>();
    private volatile boolean ended;        // receiver saw END (or failed); set after its last add
    private volatile String receiverError; // why the receiver stopped early, if it did
    private long verifyNanosMax;           // receiver thread only

    private final MemorySegment[] keys = new MemorySegment[KEY_SPACE];
    private final MemorySegment expected = MemorySegment.ofArray(new byte[ReferenceData.MAX_VALUE_LENGTH]);
    private long lookups;
    private long hits;
    private long misses;
    private long mismatches;
    private long lookupNanos;
    private long lookupCpuNanos;

    private SnapshotReaderProcess(SeqPacketSocket conn, int readerNo) {
        this.conn = conn;
        this.readerNo = readerNo;
        for (int i = 0; i < KEY_SPACE; i++) {
            keys[i] = MemorySegment.ofArray(ReferenceData.symbol(i));
        }
    }

    public static void main(String[] args) throws Exception {
        Path socket = Path.of(args[0]);
        int readerNo = Integer.parseInt(args[1]);
        try (SeqPacketSocket conn = SeqPacketSocket.connect(socket)) {
            new SnapshotReaderProcess(conn, readerNo).run();
        }
    }

    private void run() throws InterruptedException {
        // A daemon: if the lookups fail, this JVM reports and exits without waiting for END.
        Thread receiver = Thread.ofPlatform().name("snapshot-receiver").daemon().start(this::receive);
        List<Long> versions = new ArrayList<>();
        Map<String, String> refusals = new LinkedHashMap<>();
        String error = null;
        SealedSnapshot current = awaitFirst();
        try {
            if (current == null) {
                throw new IllegalStateException("no snapshot arrived within " + WAIT
                        + (receiverError == null ? "" : ": " + receiverError));
            }
            versions.add(current.version());
            tryToWrite(current, refusals);
            SplittableRandom random = new SplittableRandom(readerNo * 0x9E37_79B9_7F4A_7C15L);
            // CPU time as well as elapsed time: on a machine with fewer cores than busy
            // threads, lookups per CPU-second is what a lookup costs.
            long cpuStart = CPU.getCurrentThreadCpuTime();
            while (true) {
                lookUp(current, random);
                SealedSnapshot next = arrived.poll();
                if (next == null && ended) {
                    next = arrived.poll(); // the receiver adds before it sets ended: this sees the last one
                    if (next == null) {
                        lookupCpuNanos = CPU.getCurrentThreadCpuTime() - cpuStart;
                        break;
                    }
                }
                if (next != null) {
                    current.close(); // unmaps the old version and closes its fd
                    current = next;
                    versions.add(current.version());
                }
            }
        } catch (RuntimeException e) {
            error = e.toString();
        } finally {
            if (current != null) {
                current.close();
            }
        }
        if (error == null) {
            receiver.join(WAIT.toMillis()); // it has seen END (or failed): ended is set
            for (SealedSnapshot left; (left = arrived.poll()) != null; ) {
                left.close(); // only after a receiver failure: versions never swapped in
            }
            error = receiverError;
        }
        StringJoiner seen = new StringJoiner(",");
        versions.forEach(v -> seen.add(Long.toString(v)));
        StringBuilder report = new StringBuilder()
                .append("reader=").append(readerNo)
                .append(" pid=").append(ProcessHandle.current().pid())
                .append(" versions=").append(seen.length() == 0 ? "none" : seen)
                .append(" lookups=").append(lookups)
                .append(" hits=").append(hits)
                .append(" misses=").append(misses)
                .append(" mismatches=").append(mismatches)
                .append(" lookup_ns=").append(lookupNanos)
                .append(" lookup_cpu_ns=").append(lookupCpuNanos)
                .append(" verify_us_max=").append(verifyNanosMax / 1000);
        refusals.forEach((k, v) -> report.append(' ').append(k).append('=').append(v));
        report.append(" sluice_fds=").append(ProcessResources.sluiceFds())
                .append(" sluice_maps=").append(ProcessResources.sluiceMappings());
        if (error != null) {
            report.append(" error=").append(error); // last: it may contain spaces
        }
        try {
            conn.send(SnapshotMessages.report(truncate(report.toString())));
        } catch (ConnectionClosedException e) {
            System.err.println("[reader " + readerNo + "] owner gone before the report: " + report);
        }
    }

    /** The first version, or null if none arrives within {@link #WAIT} or the receiver gave up. */
    private SealedSnapshot awaitFirst() throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            boolean receiverDone = ended; // read before polling: then an empty poll is conclusive
            SealedSnapshot first = arrived.poll(100, TimeUnit.MILLISECONDS);
            if (first != null || receiverDone) {
                return first;
            }
        }
        return null;
    }

    /** One batch of lookups of random symbols, each answer checked. */
    private void lookUp(SealedSnapshot snapshot, SplittableRandom random) {
        SnapshotReader table = snapshot.reader();
        long version = snapshot.version();
        int listed = ReferenceData.instrumentCount(version);
        long start = System.nanoTime();
        for (int i = 0; i < BATCH; i++) {
            int index = random.nextInt(KEY_SPACE);
            MemorySegment value = table.get(keys[index]); // a read-only slice of the mapping: no copy
            if (index < listed) {
                if (value == null) {
                    mismatches++;
                    continue;
                }
                int length = ReferenceData.valueInto(version, index, expected);
                if (MemorySegment.mismatch(expected, 0, length, value, 0, value.byteSize()) != -1) {
                    mismatches++;
                }
                hits++;
            } else {
                if (value != null) {
                    mismatches++;
                }
                misses++;
            }
        }
        lookupNanos += System.nanoTime() - start;
        lookups += BATCH;
    }

    private void receive() {
        long lastVersion = 0;
        try {
            while (true) {
                try (ReceivedMessage m = conn.receive(SnapshotMessages.MAX_LENGTH, 1, WAIT)) {
                    short type = SnapshotMessages.type(m.data(), m.fdCount());
                    if (type == SnapshotMessages.END) {
                        return;
                    }
                    if (type != SnapshotMessages.PUBLISH) {
                        throw new ProtocolException("owner sent message type " + type + ", expected PUBLISH or END");
                    }
                    SnapshotMessages.Publish p = SnapshotMessages.decodePublish(m.data());
                    if (p.version() <= lastVersion) {
                        throw new ProtocolException("PUBLISH of version " + p.version() + " after version " + lastVersion);
                    }
                    SealedSnapshot s = SealedSnapshot.adopt(m.takeFd(0), p.regionSize(), p.version());
                    try {
                        long t = System.nanoTime();
                        s.reader().verify();
                        verifyNanosMax = Math.max(verifyNanosMax, System.nanoTime() - t);
                    } catch (RuntimeException e) {
                        s.close();
                        throw e;
                    }
                    lastVersion = p.version();
                    arrived.add(s);
                }
            }
        } catch (RuntimeException e) {
            receiverError = e.toString();
        } finally {
            ended = true;
        }
    }

    /** Every way of writing the table; the kernel (or the JVM) must refuse each one. */
    private static void tryToWrite(SealedSnapshot s, Map<String, String> results) {
        results.putAll(WriteAttempts.tryAll(s.region(), s.reader().segment()));
    }

    private static String truncate(String s) {
        int max = SnapshotMessages.MAX_LENGTH - SnapshotMessages.HEADER_LENGTH;
        return s.length() <= max ? s : s.substring(0, max);
    }
}
