package io.sluice.ringbuffer;

import io.sluice.api.MessageProducer;
import io.sluice.api.RingKind;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/** Rings, regions and payload patterns shared by the broadcast tests. */
final class BroadcastTestSupport {
    private BroadcastTestSupport() {
    }

    static final int TYPE = 7;

    /** A formatted ring on the heap, over a long[] so that its counters are 8-byte aligned. */
    static MemorySegment heapRing(RingKind kind, long capacity, int maxMessageLength) {
        MemorySegment ring = MemorySegment.ofArray(new long[(int) (BroadcastRingDescriptor.regionSize(capacity) / 8)]);
        BroadcastRingDescriptor.format(ring, kind, capacity, maxMessageLength);
        return ring;
    }

    static MemorySegment heapPositionRegion() {
        return MemorySegment.ofArray(new long[BroadcastConsumerPositionDescriptor.REGION_SIZE / 8]);
    }

    /** Payload byte {@code i} of message {@code seq}: the seq's little-endian bytes, then a pattern. */
    static byte payloadByte(long seq, long i) {
        if (i < 8) {
            return (byte) (seq >>> (8 * i));
        }
        long h = (seq + 1) * 0x9E37_79B9_7F4A_7C15L + i * 0xBF58_476D_1CE4_E5B9L;
        return (byte) (h >>> 56);
    }

    static void writePayload(MemorySegment buffer, long at, long seq, int length) {
        for (int i = 0; i < length; i++) {
            buffer.set(ValueLayout.JAVA_BYTE, at + i, payloadByte(seq, i));
        }
    }

    static boolean payloadMatches(MemorySegment payload, long seq) {
        long n = payload.byteSize();
        for (long i = 0; i < n; i++) {
            if (payload.get(ValueLayout.JAVA_BYTE, i) != payloadByte(seq, i)) {
                return false;
            }
        }
        return true;
    }

    /** Claims, writes the pattern of {@code seq}, commits. */
    static boolean send(MessageProducer producer, long seq, int length) {
        long at = producer.tryClaim(TYPE, length);
        if (at < 0) {
            return false;
        }
        writePayload(producer.buffer(), at, seq, length);
        producer.commit(at);
        return true;
    }

    /** Sends {@code count} messages with the producer's next sequences, failing if one does not fit. */
    static void sendAll(BroadcastProducer producer, int count, int length) {
        for (int i = 0; i < count; i++) {
            if (!send(producer, producer.nextSequence(), length)) {
                throw new AssertionError("no room for message " + producer.nextSequence());
            }
        }
    }

    /** Polls everything available, returning the delivered sequences; checks every payload. */
    static List<Long> drain(BroadcastConsumer consumer) {
        List<Long> seqs = new ArrayList<>();
        while (consumer.poll((type, payload) -> {
            if (type != TYPE) {
                throw new AssertionError("type " + type);
            }
            if (!payloadMatches(payload, consumer.sequence())) {
                throw new AssertionError("payload of message " + consumer.sequence() + " does not match");
            }
            seqs.add(consumer.sequence());
        }, 1000) > 0) {
            // keep going
        }
        return seqs;
    }

    /**
     * A file mapped twice into this process: a writable mapping for the writer and a separate
     * read-only mapping for readers — distinct virtual addresses over the same pages, as between
     * processes.
     */
    static final class SharedMapping implements AutoCloseable {
        final Arena arena = Arena.ofShared();
        final MemorySegment writable;
        final MemorySegment readOnly;

        SharedMapping(String name, long size) {
            try {
                Path dir = Files.isDirectory(Path.of("/dev/shm")) ? Path.of("/dev/shm") : Path.of(System.getProperty("java.io.tmpdir"));
                Path file = Files.createTempFile(dir, "sluice-" + name + "-", ".map");
                try (FileChannel rw = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
                     FileChannel ro = FileChannel.open(file, StandardOpenOption.READ)) {
                    rw.truncate(0);
                    rw.write(java.nio.ByteBuffer.allocate(1), size - 1);
                    writable = rw.map(FileChannel.MapMode.READ_WRITE, 0, size, arena);
                    readOnly = ro.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
                } finally {
                    Files.delete(file); // the mappings keep the pages alive
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public void close() {
            arena.close();
        }
    }
}
