package io.sluice.channel;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A C program of {@code fd-passing/native} started from a test (the native client's peer,
 * {@code sluice_peer}, or an example), built by Maven into {@code target/native/<variant>/}.
 * Its stdout and stderr (where ASan and UBSan report) are collected; {@link #awaitLine} waits,
 * bounded, for a line. Closing it kills the process if it is still running.
 */
final class NativeChild implements AutoCloseable {
    /** Optimised, -Werror: what a user builds. */
    static final String RELEASE = "release";
    /** The same code under AddressSanitizer and UndefinedBehaviorSanitizer; any report fails the run. */
    static final String SANITIZED = "asan";

    private final Process process;
    private final StringBuffer output = new StringBuffer();
    private final Thread pump;
    private boolean ended; // guarded by output

    private NativeChild(Process process) {
        this.process = process;
        this.pump = Thread.ofPlatform().daemon().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    synchronized (output) {
                        output.append(line).append('\n');
                        output.notifyAll();
                    }
                }
            } catch (IOException ignored) {
                // child gone
            }
            synchronized (output) {
                ended = true;
                output.notifyAll();
            }
        });
    }

    /** The built program, or an assertion error saying how to build it. */
    static Path program(String variant, String name) {
        Path dir = Path.of(System.getProperty("sluice.native.dir", "target/native"));
        Path p = dir.resolve(variant).resolve(name);
        if (!Files.isExecutable(p)) {
            throw new AssertionError(p + " is missing: the native client is built by `./mvnw verify` "
                    + "(fd-passing's process-test-classes phase runs native/build.sh)");
        }
        return p;
    }

    static NativeChild start(String variant, String name, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(program(variant, name).toString());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        // Any sanitizer finding ends the child with a report on stderr and a non-zero exit code.
        pb.environment().put("ASAN_OPTIONS", "halt_on_error=1:detect_leaks=1:exitcode=23");
        pb.environment().put("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1");
        return new NativeChild(pb.start());
    }

    /**
     * Waits until the child printed a line starting with {@code prefix}; returns that line.
     * Throws with the child's output if it does not come within {@code seconds} or the output
     * ends first.
     */
    String awaitLine(String prefix, long seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        synchronized (output) {
            while (true) {
                for (String line : output.toString().split("\n")) {
                    if (line.startsWith(prefix)) {
                        return line;
                    }
                }
                long left = deadline - System.nanoTime();
                if (ended || left <= 0) {
                    throw new AssertionError("native child never printed '" + prefix + "'"
                            + (ended ? " (its output ended)" : "") + "; its output:\n" + output);
                }
                TimeUnit.NANOSECONDS.timedWait(output, left);
            }
        }
    }

    /** Every line printed so far that starts with {@code prefix}. */
    List<String> lines(String prefix) {
        return output.toString().lines().filter(l -> l.startsWith(prefix)).toList();
    }

    /** Waits for the exit; returns the exit code, or throws with the output on timeout. */
    int waitFor(long seconds) throws InterruptedException {
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            throw new AssertionError("native child did not exit within " + seconds + " s; output so far:\n" + output);
        }
        pump.join(TimeUnit.SECONDS.toMillis(5));
        return process.exitValue();
    }

    /** Waits for the exit and fails, with the output, unless the exit code is 0. */
    void assertExitsCleanly(long seconds) throws InterruptedException {
        int code = waitFor(seconds);
        if (code != 0) {
            throw new AssertionError("native child exited with " + code + "; its output:\n" + output);
        }
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** SIGKILL. */
    void kill() {
        process.destroyForcibly();
    }

    String output() {
        return output.toString();
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
        }
    }
}
