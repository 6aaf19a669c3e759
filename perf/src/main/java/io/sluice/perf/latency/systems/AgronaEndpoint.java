package io.sluice.perf.latency.systems;

import io.sluice.perf.latency.Endpoint;
import io.sluice.perf.latency.Role;
import io.sluice.perf.latency.RunSpec;
import org.agrona.IoUtil;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;

import java.io.File;
import java.nio.MappedByteBuffer;

/**
 * Agrona's {@code OneToOneRingBuffer}, one per direction, each over its own file in /dev/shm
 * mapped by both processes. Zero-copy writes ({@code tryClaim}, write in place, {@code commit}),
 * one message per {@code read}.
 */
public final class AgronaEndpoint implements Endpoint, MessageHandler {
    private final MappedByteBuffer outMap;
    private final MappedByteBuffer inMap;
    private final RingBuffer out;
    private final RingBuffer in;
    private final UnsafeBuffer outBuffer;
    private final UnsafeBuffer payload;
    private final int size;
    private long received;

    public static AgronaEndpoint open(Role role, RunSpec spec) {
        File ab = spec.workDir().resolve("agrona-ab.ring").toFile();
        File ba = spec.workDir().resolve("agrona-ba.ring").toFile();
        long length = spec.ringCapacity() + RingBufferDescriptor.TRAILER_LENGTH;
        boolean a = role == Role.INITIATOR;
        MappedByteBuffer abMap = a ? IoUtil.mapNewFile(ab, length) : IoUtil.mapExistingFile(ab, "ab");
        MappedByteBuffer baMap = a ? IoUtil.mapNewFile(ba, length) : IoUtil.mapExistingFile(ba, "ba");
        return new AgronaEndpoint(a ? abMap : baMap, a ? baMap : abMap, spec.messageSize());
    }

    AgronaEndpoint(MappedByteBuffer outMap, MappedByteBuffer inMap, int size) {
        this.outMap = outMap;
        this.inMap = inMap;
        this.out = new OneToOneRingBuffer(new UnsafeBuffer(outMap));
        this.in = new OneToOneRingBuffer(new UnsafeBuffer(inMap));
        this.outBuffer = (UnsafeBuffer) out.buffer();
        this.payload = new UnsafeBuffer(Payload.of(size));
        this.size = size;
    }

    @Override
    public void awaitReady() {
        touch(out.buffer());
        touch(in.buffer());
    }

    private static void touch(org.agrona.concurrent.AtomicBuffer buffer) {
        for (int at = 0; at < buffer.capacity(); at += 4096) {
            buffer.getAndAddLong(at, 0); // a write fault now instead of in the measured loop
        }
    }

    @Override
    public void send(long value) {
        int index;
        while ((index = out.tryClaim(1, size)) <= 0) {
            // full: spin
        }
        outBuffer.putLong(index, value);
        outBuffer.putBytes(index + 8, payload, 0, size - 8);
        out.commit(index);
    }

    @Override
    public long poll() {
        received = EMPTY;
        in.read(this, 1);
        return received;
    }

    @Override
    public void onMessage(int msgTypeId, MutableDirectBuffer buffer, int index, int length) {
        received = buffer.getLong(index);
    }

    @Override
    public void close() {
        IoUtil.unmap(outMap);
        IoUtil.unmap(inMap);
    }
}
