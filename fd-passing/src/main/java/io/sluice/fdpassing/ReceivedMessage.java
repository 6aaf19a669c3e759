package io.sluice.fdpassing;

import io.sluice.memfd.OwnedFd;

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
    private final OwnedFd[] fds; // null once taken or closed

    ReceivedMessage(byte[] data, OwnedFd[] fds) {
        this.data = data;
        this.fds = fds;
    }

    /**
     * The message bytes, as a little-endian read-only buffer.
     *
     * @return a new read-only view; its position is 0 and its limit the message length
     */
    public ByteBuffer data() {
        return ByteBuffer.wrap(data).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * A copy of the message bytes.
     *
     * @return a new array
     */
    public byte[] bytes() {
        return data.clone();
    }

    /**
     * How many fds arrived with the message.
     *
     * @return the count, 0 to the {@code maxFds} of the receive
     */
    public int fdCount() {
        return fds.length;
    }

    /**
     * Transfers ownership of fd {@code index} to the caller, who must close it.
     *
     * @param index 0 to {@link #fdCount()} - 1
     * @return the fd, now the caller's to close
     * @throws IllegalStateException if it was already taken or the message closed
     */
    public OwnedFd takeFd(int index) {
        OwnedFd fd = fds[index];
        if (fd == null) {
            throw new IllegalStateException("fd " + index + " of this message was already taken or closed");
        }
        fds[index] = null;
        return fd;
    }

    /** Closes every fd that was not taken. */
    @Override
    public void close() {
        for (int i = 0; i < fds.length; i++) {
            if (fds[i] != null) {
                fds[i].close();
                fds[i] = null;
            }
        }
    }

    @Override
    public String toString() {
        return "ReceivedMessage[" + data.length + " bytes, " + fds.length + " fds " + Arrays.toString(fds) + "]";
    }
}
