package io.sluice.perf.latency.systems;

import io.sluice.perf.latency.Endpoint;
import io.sluice.perf.latency.Role;
import io.sluice.perf.latency.RunSpec;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.queue.ChronicleQueue;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.wire.DocumentContext;

/**
 * Chronicle Queue, one queue per direction, each a directory under this run's /dev/shm folder:
 * the sender appends ({@code writingDocument}), the receiver tails ({@code readingDocument}).
 * A queue is a growing log, not a ring: its files grow with every message, so page faults on new
 * blocks are part of what it costs. Nothing is pre-touched: pre-touching is a Chronicle Queue
 * Enterprise feature, and in the open-source 2026.4 {@code ExcerptAppender.pretouch()} ends in a
 * {@code StackOverflowError} (PretouchUtil and ChronicleQueue.createPretoucher call each other).
 */
public final class ChronicleEndpoint implements Endpoint {
    private final ChronicleQueue outQueue;
    private final ChronicleQueue inQueue;
    private final ExcerptAppender appender;
    private final ExcerptTailer tailer;
    private final byte[] payload;

    public static ChronicleEndpoint open(Role role, RunSpec spec) {
        boolean a = role == Role.INITIATOR;
        ChronicleQueue ab = SingleChronicleQueueBuilder.binary(spec.workDir().resolve("chronicle-ab")).build();
        ChronicleQueue ba = SingleChronicleQueueBuilder.binary(spec.workDir().resolve("chronicle-ba")).build();
        return new ChronicleEndpoint(a ? ab : ba, a ? ba : ab, spec.messageSize());
    }

    ChronicleEndpoint(ChronicleQueue outQueue, ChronicleQueue inQueue, int size) {
        this.outQueue = outQueue;
        this.inQueue = inQueue;
        this.appender = outQueue.createAppender();
        this.tailer = inQueue.createTailer();
        this.payload = Payload.of(size);
    }

    @Override
    public void send(long value) {
        try (DocumentContext dc = appender.writingDocument()) {
            Bytes<?> bytes = dc.wire().bytes();
            bytes.writeLong(value);
            bytes.write(payload);
        }
    }

    @Override
    public long poll() {
        try (DocumentContext dc = tailer.readingDocument()) {
            if (!dc.isPresent()) {
                return EMPTY;
            }
            return dc.wire().bytes().readLong();
        }
    }

    @Override
    public void close() {
        appender.close();
        tailer.close();
        outQueue.close();
        inQueue.close();
    }
}
