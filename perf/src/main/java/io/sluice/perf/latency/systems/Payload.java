package io.sluice.perf.latency.systems;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** The bytes after the 8-byte value that every sender writes into every message. */
final class Payload {
    private Payload() {
    }

    /**
     * A whole message off-heap, for the Sluice rows ({@link OfferSender}): 8 bytes for the value,
     * then {@link #of}'s bytes. Off-heap because the rows copy it with
     * {@code MemorySegment.copy(segment, ..., segment, ...)}, JDK code shared by every
     * segment-to-segment copy in the process that C2 compiles from the receiver classes it has
     * seen: had it seen a heap segment besides the native ones (a heap source here, or any heap
     * destination elsewhere, even four times during the handshake), it compiled the base and
     * offset lookups as virtual calls and declined to inline tryClaim and commit, in about half
     * of the runs: 40-50 ns more per round trip on each side that did. Only native segments pass
     * through it in these peers.
     */
    static MemorySegment offHeapMessage(int messageSize) {
        MemorySegment message = Arena.ofAuto().allocate(messageSize, 8);
        byte[] bytes = of(messageSize);
        MemorySegment.copy(bytes, 0, message, ValueLayout.JAVA_BYTE, 8, bytes.length); // the array overload: no heap segment
        return message;
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
