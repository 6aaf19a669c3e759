package io.sluice.cache.snapshot;

import io.sluice.api.SystemCallException;
import io.sluice.memfd.MemfdRegion;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;

/**
 * Every way a process holding a sealed region can try to change it, with nothing but Sluice's
 * public API and plain {@code java.nio}: map it writable, re-open its fd read-write through
 * {@code /proc/self/fd} (a file opened read-only or received from a peer can be re-opened with
 * the access its owner and mode allow) and then map, write, grow or shrink it, and store through
 * the read-only segment. The demos run these in a consumer and print what stopped each one.
 */
public final class WriteAttempts {
    private WriteAttempts() {
    }

    /** What one attempt does; may throw whatever the JDK or Sluice throws on refusal. */
    @FunctionalInterface
    public interface Attempt {
        void run() throws IOException;
    }

    /**
     * Runs every attempt on {@code region}, of which {@code readOnly} is a read-only mapping, and
     * returns, in order, a short key for each ({@code mmap_rw}, {@code reopen_map_rw}, {@code write},
     * {@code grow}, {@code shrink}, {@code java_store}) and its {@link #outcome}.
     */
    public static Map<String, String> tryAll(MemfdRegion region, MemorySegment readOnly) {
        Path self = region.fd().apply(n -> Path.of("/proc/self/fd/" + n));
        long size = region.size();
        Map<String, String> results = new LinkedHashMap<>();
        results.put("mmap_rw", outcome(region::mapReadWrite));
        results.put("reopen_map_rw", outcome(() -> {
            try (FileChannel ch = FileChannel.open(self, READ, WRITE)) {
                ch.map(FileChannel.MapMode.READ_WRITE, 0, size);
            }
        }));
        results.put("write", outcome(() -> {
            try (FileChannel ch = FileChannel.open(self, READ, WRITE)) {
                ch.write(ByteBuffer.allocate(8), 0);
            }
        }));
        results.put("grow", outcome(() -> {
            try (RandomAccessFile f = new RandomAccessFile(self.toFile(), "rw")) {
                f.setLength(size * 2);
            }
        }));
        results.put("shrink", outcome(() -> {
            try (FileChannel ch = FileChannel.open(self, READ, WRITE)) {
                ch.truncate(0);
            }
        }));
        results.put("java_store", outcome(() -> readOnly.set(ValueLayout.JAVA_BYTE, 0, (byte) 1)));
        return results;
    }

    /** What {@link #tryAll} says for each key, for people. */
    public static String describe(String key) {
        return switch (key) {
            case "mmap_rw" -> "mmap(PROT_READ|PROT_WRITE, MAP_SHARED) of the fd";
            case "reopen_map_rw" -> "re-open /proc/self/fd/N read-write, map it READ_WRITE";
            case "write" -> "re-open read-write, write(2) 8 bytes";
            case "grow" -> "re-open read-write, ftruncate to twice the size";
            case "shrink" -> "re-open read-write, ftruncate to zero";
            case "java_store" -> "a Java store through the read-only segment";
            default -> key;
        };
    }

    /**
     * {@code ALLOWED} if the attempt succeeded, else what refused it: the errno's name for the
     * kernel ({@code EPERM}), the exception's simple name for the JVM.
     */
    public static String outcome(Attempt attempt) {
        try {
            attempt.run();
            return "ALLOWED";
        } catch (SystemCallException e) {
            return e.errnoName();
        } catch (IOException e) {
            return errnoName(e);
        } catch (RuntimeException e) {
            return e.getClass().getSimpleName();
        }
    }

    // java.nio reports a failed system call as an IOException carrying strerror's text; these
    // are the refusals the attempts above can meet.
    private static String errnoName(IOException e) {
        if (e instanceof AccessDeniedException) {
            return "EACCES";
        }
        String m = String.valueOf(e.getMessage());
        if (m.contains("Operation not permitted")) {
            return "EPERM";
        }
        if (m.contains("Permission denied")) {
            return "EACCES";
        }
        if (m.contains("Bad file descriptor")) {
            return "EBADF";
        }
        if (m.contains("Invalid argument")) {
            return "EINVAL";
        }
        return e.getClass().getSimpleName() + "(" + m.replace(' ', '_') + ")";
    }
}
