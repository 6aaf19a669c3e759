package io.sluice.perf.latency.systems;

import io.sluice.perf.latency.Endpoint;
import io.sluice.perf.latency.LatencySystem;
import io.sluice.perf.latency.Role;
import io.sluice.perf.latency.RunSpec;
import io.sluice.perf.latency.Scenario;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.queue.ChronicleQueue;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.wire.DocumentContext;

import java.util.List;
import java.util.Set;

/**
 * Chronicle Queue, one queue per direction, each a directory under this run's /dev/shm folder:
 * the sender appends ({@code writingDocument}), the receiver tails ({@code readingDocument}).
 * A queue is a growing log, not a ring: its files grow with every message, so page faults on new
 * blocks are part of what it costs. Nothing is pre-touched: pre-touching is a Chronicle Queue
 * Enterprise feature, and in the open-source 2026.4 {@code ExcerptAppender.pretouch()} ends in a
 * {@code StackOverflowError} (PretouchUtil and ChronicleQueue.createPretoucher call each other).
 */
public final class ChronicleQueueSystem implements LatencySystem {
    @Override
    public String id() {
        return "chronicle";
    }

    @Override
    public String label() {
        return "Chronicle Queue (binary queue per direction in /dev/shm, appender + tailer)";
    }

    @Override
    public Kind kind() {
        return Kind.IPC;
    }

    @Override
    public Set<Scenario> scenarios() {
        return Set.of(Scenario.PING_PONG, Scenario.FIXED_RATE, Scenario.THROUGHPUT);
    }

    @Override
    public List<String> classpathSets() {
        return List.of("chronicle");
    }

    @Override
    public List<String> jvmArgs() {
        return List.of("--add-exports=java.base/sun.nio.ch=ALL-UNNAMED",
                "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
                "--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow",
                "-Dchronicle.analytics.disable=true",
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn");
    }

    @Override
    public Endpoint open(Role role, RunSpec spec) {
        return ChronicleEndpoint.open(role, spec); // peer types stay out of this class (see Systems)
    }

    static final class ChronicleEndpoint implements Endpoint {
        private final ChronicleQueue outQueue;
        private final ChronicleQueue inQueue;
        private final ExcerptAppender appender;
        private final ExcerptTailer tailer;
        private final byte[] payload;

        static ChronicleEndpoint open(Role role, RunSpec spec) {
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
}
