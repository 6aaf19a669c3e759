package io.sluice.perf.latency.systems;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** The bytes after the 8-byte value that every sender writes into every message. */
final class Payload {
    private Payload() {
    }

    /**
     * The same bytes off-heap, for the Sluice rows, which copy them with
     * {@code MemorySegment.copy(segment, ..., segment, ...)}. That JDK code is shared by every
     * segment-to-segment copy in the process, and C2 compiles it from the receiver classes it
     * has seen: had it seen a heap segment besides the native ones (a heap source here, or any
     * heap destination elsewhere, even four times during the handshake), it compiled the base
     * and offset lookups as virtual calls and declined to inline tryClaim and commit, in about
     * half of the runs: 40-50 ns more per round trip on each side that did. Only native
     * segments ever pass through it in these peers.
     */
    static MemorySegment offHeap(int messageSize) {
        byte[] bytes = of(messageSize);
        MemorySegment segment = Arena.ofAuto().allocate(bytes.length, 8);
        MemorySegment.copy(bytes, 0, segment, ValueLayout.JAVA_BYTE, 0, bytes.length); // not from a heap segment: see above
        return segment;
    }

    /** {@code messageSize - 8} bytes of a recognisable pattern. */
    static byte[] of(int messageSize) {
        byte[] b = new byte[messageSize - 8];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (i * 31 + 7);
        }
        return b;
    }
}
