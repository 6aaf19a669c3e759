package io.sluice.channel;

import io.sluice.testing.ChildJvm;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

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

    /**
     * Whether the build left the native client out ({@code -Dnative.skip}, for building without a
     * C compiler): every test that runs a C program is then skipped, with {@link #SKIP_REASON}.
     */
    static final String SKIP_PROPERTY = "sluice.native.skip";
    static final boolean SKIPPED = Boolean.getBoolean(SKIP_PROPERTY);
    static final String SKIP_REASON = "the native client was not built (-Dnative.skip): this test runs C programs";

    private final ChildJvm child; // the output pump and bounded waits are ChildJvm's

    private NativeChild(ChildJvm child) {
        this.child = child;
    }

    /**
     * Ends the calling test as skipped, saying why, when the native client was not built. Every
     * test that runs a C program goes through here ({@link #program}). A test class whose tests
     * cannot report a skip from inside (a wrapper turns every throwable into a failure) is instead
     * disabled as a whole on {@link #SKIP_PROPERTY}, with the same reason.
     */
    static void assumeBuilt() {
        Assumptions.assumeFalse(SKIPPED, SKIP_REASON);
    }

    /** The built program, or an assertion error saying how to build it (a skip with -Dnative.skip). */
    static Path program(String variant, String name) {
        assumeBuilt();
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
        return new NativeChild(ChildJvm.watch(pb));
    }

    /** Waits (bounded) for a line starting with {@code prefix}; see {@link ChildJvm#awaitLine}. */
    String awaitLine(String prefix, long seconds) throws InterruptedException {
        return child.awaitLine(prefix, seconds);
    }

    /**
     * Writes one line to the child's stdin (the command modes of sluice_peer: lie-position,
     * mpmc-garbage; their commands are at the top of sluice_peer.c).
     */
    void send(String line) throws IOException {
        var in = child.stdin();
        in.write((line + "\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        in.flush();
    }

    /** Every line printed so far that starts with {@code prefix}. */
    List<String> lines(String prefix) {
        return child.lines(prefix);
    }

    /** Waits for the exit; returns the exit code, or throws with the output on timeout. */
    int waitFor(long seconds) throws InterruptedException {
        return child.waitFor(seconds);
    }

    /** Waits for the exit and fails, with the output, unless the exit code is 0. */
    void assertExitsCleanly(long seconds) throws InterruptedException {
        int code = waitFor(seconds);
        if (code != 0) {
            throw new AssertionError("native child exited with " + code + "; its output:\n" + child.output());
        }
    }

    long pid() {
        return child.pid();
    }

    boolean isAlive() {
        return child.isAlive();
    }

    /** SIGKILL. */
    void kill() {
        child.kill();
    }

    String output() {
        return child.output();
    }

    @Override
    public void close() {
        child.close();
    }
}
