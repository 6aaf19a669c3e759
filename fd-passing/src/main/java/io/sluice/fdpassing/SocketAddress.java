package io.sluice.fdpassing;

import io.sluice.memfd.libc.SocketCalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** Builds {@code struct sockaddr_un} for a filesystem path. */
final class SocketAddress {
    private SocketAddress() {
    }

    /** Longest path that fits {@code sun_path} with its terminating NUL. */
    static final int MAX_PATH_BYTES = (int) SocketCalls.SUN_PATH_MAX - 1;

    static boolean fits(Path path) {
        return path.toString().getBytes(StandardCharsets.UTF_8).length <= MAX_PATH_BYTES;
    }

    static MemorySegment of(Path path, Arena arena) {
        byte[] bytes = path.toString().getBytes(StandardCharsets.UTF_8);
        if (bytes.length > MAX_PATH_BYTES) {
            throw new IllegalArgumentException("socket path is " + bytes.length + " bytes, longer than the "
                    + MAX_PATH_BYTES + " that sockaddr_un holds: " + path);
        }
        MemorySegment addr = arena.allocate(SocketCalls.SOCKADDR_UN_SIZE, 8); // zero-filled
        addr.set(ValueLayout.JAVA_SHORT, 0, (short) SocketCalls.AF_UNIX);
        MemorySegment.copy(bytes, 0, addr, ValueLayout.JAVA_BYTE, SocketCalls.SUN_PATH_OFFSET, bytes.length);
        return addr;
    }
}
