package io.sluice.ringbuffer;

import java.lang.foreign.MemorySegment;

/**
 * How every consumer cuts the payload it hands to a handler out of its ring. The slice costs
 * nothing only if C2 inlines its creation into the consumer's drain loop, so that escape analysis
 * sees it never leaves the handler call; otherwise it is 40 bytes of heap per message.
 *
 * <p>{@code asSlice(offset, length)} is reached from the interface through a bridge method of the
 * JDK's segment implementation (it narrows the return type), and C2 judges the bridge's inner call
 * by the bridge's own profile, which every caller in the process shares: in about one run in three
 * it found that call "low frequency" and left it out of line, and the slice was allocated. The
 * three-argument {@code asSlice(offset, length, byteAlignment)} has no bridge: its inner calls are
 * straight-line code that C2 inlines whenever it inlines the method, which a hot drain loop does.
 */
final class PayloadSlice {
    private PayloadSlice() {
    }

    /** {@return {@code length} bytes of {@code ring} from {@code offset}, a slice of the same access mode} */
    static MemorySegment of(MemorySegment ring, long offset, long length) {
        return ring.asSlice(offset, length, 1);
    }
}
