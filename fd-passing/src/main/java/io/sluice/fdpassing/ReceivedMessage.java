package io.sluice.fdpassing;

import io.sluice.memfd.libc.Libc;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * One message received over a {@link SeqPacketSocket}: its bytes and the fds that came with it.
 *
 * <p>The message owns its fds until a caller {@link #takeFd(int) takes} one; {@link #close()}
 * closes every fd not taken. Use it in try-with-resources so that a failure anywhere between
 * receiving and adopting the fds leaks nothing.
 */
public final class ReceivedMessage implements AutoCloseable {
    private final byte[] data;
    private final int[] fds; // -1 once taken or closed

    ReceivedMessage(byte[] data, int[] fds) {
        this.data = data;
        this.fds = fds;
    }

    /** The message bytes, as a little-endian read-only buffer. */
    public ByteBuffer data() {
        return ByteBuffer.wrap(data).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** A copy of the message bytes. */
    public byte[] bytes() {
        return data.clone();
    }

    /** How many fds arrived with the message. */
    public int fdCount() {
        return fds.length;
    }

    /** Transfers ownership of fd {@code index} to the caller. */
    public int takeFd(int index) {
        int fd = fds[index];
        if (fd < 0) {
            throw new IllegalStateException("fd " + index + " of this message was already taken or closed");
        }
        fds[index] = -1;
        return fd;
    }

    /** Closes every fd that was not taken. */
    @Override
    public void close() {
        for (int i = 0; i < fds.length; i++) {
            if (fds[i] >= 0) {
                Libc.closeQuietly(fds[i]);
                fds[i] = -1;
            }
        }
    }

    @Override
    public String toString() {
        return "ReceivedMessage[" + data.length + " bytes, fds " + Arrays.toString(fds) + "]";
    }
}
