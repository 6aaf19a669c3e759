package io.sluice.channel;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * What a peer of {@link ChaosTest} delivered and committed, in a file the peer maps
 * {@code MAP_SHARED}: the page cache keeps every store a process made before the kernel killed
 * it, so the test reads exactly what a {@code kill -9}ed peer had done. The C peer
 * ({@code native/test/chaos_peer.c}) writes the same layout:
 *
 * <pre>
 * header, 16 longs: 0 delivered entries   1 published (entries whose position was published: SPSC, broadcast)
 *                   2 committed messages  3 error   4 holding   5 command (the test writes it)
 *                   6 stopped (MPMC: took a STOP)   7 finished producing
 *                   8 attach: 1 attaching, 2 attached   9..15 reserved
 * entries, 2 longs each, from byte 128:
 *      SPSC      (seq, 0)
 *      broadcast (seq | TORN if the seqlock said the copy was overwritten, laps &lt;&lt; 40 | lost so far)
 *      MPMC      (tag &lt;&lt; 40 | seq, 0)
 * </pre>
 *
 * An entry is written first, then the delivered count is stored with release; a reader loads the
 * count with acquire and then reads that many entries.
 */
final class ChaosJournal implements AutoCloseable {
    static final int DELIVERED = 0;
    static final int PUBLISHED = 1;
    static final int COMMITTED = 2;
    static final int ERROR = 3;
    static final int HOLDING = 4;
    static final int COMMAND = 5;
    static final int STOPPED = 6;
    static final int FINISHED = 7;
    static final int ATTACH = 8;

    /** The next handler call journals its message and never returns; the next MPMC claim is never committed. */
    static final long HOLD = 1;
    /** The next MPMC take never returns and is not journaled. */
    static final long HOLD_TAKE = 2;
    /** Stop producing (MPMC). */
    static final long FINISH = 3;

    static final long TORN = 1L << 62;
    static final long SEQ_MASK = (1L << 40) - 1;
    private static final long HEADER_BYTES = 128;
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    private final Path file;
    private final Arena arena;
    private final MemorySegment segment;
    private final long capacity;
    private long count; // the writer's copy of DELIVERED

    private ChaosJournal(Path file) {
        this.file = file;
        this.arena = Arena.ofShared();
        try (FileChannel fc = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            this.segment = fc.map(FileChannel.MapMode.READ_WRITE, 0, fc.size(), arena);
        } catch (IOException e) {
            arena.close();
            throw new UncheckedIOException(e);
        }
        this.capacity = (segment.byteSize() - HEADER_BYTES) / 16;
        this.count = get(DELIVERED);
    }

    /** Creates a journal file for {@code capacity} entries (sparse: pages cost memory once written). */
    static ChaosJournal create(Path file, long capacity) {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(HEADER_BYTES + 16 * capacity);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new ChaosJournal(file);
    }

    /** Maps an existing journal (the peer's side). */
    static ChaosJournal open(Path file) {
        return new ChaosJournal(file);
    }

    Path file() {
        return file;
    }

    long get(int field) {
        return (long) LONG.getAcquire(segment, field * 8L);
    }

    void set(int field, long value) {
        LONG.setRelease(segment, field * 8L, value);
    }

    long delivered() {
        return get(DELIVERED);
    }

    /** First word of entry {@code i} (below {@link #delivered()}). */
    long a(long i) {
        return segment.get(ValueLayout.JAVA_LONG, HEADER_BYTES + 16 * i);
    }

    /** Second word of entry {@code i}. */
    long b(long i) {
        return segment.get(ValueLayout.JAVA_LONG, HEADER_BYTES + 16 * i + 8);
    }

    /** The writer appends an entry; a full journal is an error the test reports (its capacity was too small). */
    void append(long a, long b) {
        if (count == capacity) {
            set(ERROR, 7);
            throw new IllegalStateException("journal " + file + " is full at " + count + " entries");
        }
        segment.set(ValueLayout.JAVA_LONG, HEADER_BYTES + 16 * count, a);
        segment.set(ValueLayout.JAVA_LONG, HEADER_BYTES + 16 * count + 8, b);
        count++;
        set(DELIVERED, count);
    }

    static long mpmcEntry(long tag, long seq) {
        return tag << 40 | seq;
    }

    @Override
    public void close() {
        arena.close();
    }
}
