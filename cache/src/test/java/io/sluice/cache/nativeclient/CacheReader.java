package io.sluice.cache.nativeclient;

import io.sluice.testing.ChildJvm;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The C program {@code cache_reader} (fd-passing/native/test/cache_reader.c), started from a test:
 * it reads snapshot tables and shared maps through the native client. fd-passing's build writes
 * it to {@code fd-passing/target/native/<variant>/}; this module's surefire configuration passes
 * that directory as {@code sluice.native.dir}. Its output (stdout and stderr, where ASan and
 * UBSan report) is collected; closing it kills the process if it still runs.
 */
final class CacheReader implements AutoCloseable {
    /** Optimised, -Werror: what a user builds. */
    static final String RELEASE = "release";
    /** The same code under AddressSanitizer and UndefinedBehaviorSanitizer; any report fails the run. */
    static final String SANITIZED = "asan";

    static final String SKIP_PROPERTY = "sluice.native.skip";
    static final String SKIP_REASON = "the native client was not built (-Dnative.skip): this test runs C programs";

    private final ChildJvm child; // the output pump and the bounded waits are ChildJvm's

    private CacheReader(ChildJvm child) {
        this.child = child;
    }

    /** Ends the calling test as skipped, saying why, when the native client was not built. */
    static void assumeBuilt() {
        Assumptions.assumeFalse(Boolean.getBoolean(SKIP_PROPERTY), SKIP_REASON);
    }

    /** The built program, or an assertion error saying how to build it (a skip with -Dnative.skip). */
    static Path program(String variant, String name) {
        assumeBuilt();
        Path dir = Path.of(System.getProperty("sluice.native.dir", "../fd-passing/target/native"));
        Path p = dir.resolve(variant).resolve(name);
        if (!Files.isExecutable(p)) {
            throw new AssertionError(p + " is missing: the native client is built by fd-passing's process-test-classes "
                    + "phase (native/build.sh), e.g. `./mvnw verify -pl cache -am`");
        }
        return p;
    }

    /** Starts {@code cache_reader} (or another program of the native build) with {@code args}. */
    static CacheReader start(String variant, String name, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(program(variant, name).toString());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        // Any sanitizer finding ends the child with a report on stderr and a non-zero exit code.
        pb.environment().put("ASAN_OPTIONS", "halt_on_error=1:detect_leaks=1:exitcode=23");
        pb.environment().put("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1");
        return new CacheReader(ChildJvm.watch(pb));
    }

    static CacheReader reader(String variant, String... args) throws IOException {
        return start(variant, "cache_reader", args);
    }

    /** Waits (bounded) for a line starting with {@code prefix}; see {@link ChildJvm#awaitLine}. */
    String awaitLine(String prefix, long seconds) throws InterruptedException {
        return child.awaitLine(prefix, seconds);
    }

    /** Every line printed so far that starts with {@code prefix}. */
    List<String> lines(String prefix) {
        return child.lines(prefix);
    }

    /** Waits for the exit and fails, with the output, unless the exit code is 0. */
    void assertExitsCleanly(long seconds) throws InterruptedException {
        int code = child.waitFor(seconds);
        if (code != 0) {
            throw new AssertionError("cache_reader exited with " + code + "; its output:\n" + child.output());
        }
    }

    String output() {
        return child.output();
    }

    @Override
    public void close() {
        child.close();
    }
}
