package io.sluice.examples.snapshot;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The demo's C reader ({@code fd-passing/native/examples/snapshot_reader.c}), built here from
 * source with gcc, with the native client's units, into a directory of the demo's: the demo then
 * needs no build step of its own, only a C compiler. The sources are found through the system
 * property {@value #SOURCES_PROPERTY} (the examples' pom sets it), else under the working
 * directory or its parent.
 */
final class NativeReader {
    static final String SOURCES_PROPERTY = "sluice.native.src";
    private static final long COMPILE_SECONDS = 300;

    private NativeReader() {
    }

    /** Why the C reader cannot be built (no gcc, no sources), said to the user. */
    static final class Unavailable extends Exception {
        private static final long serialVersionUID = 1L;

        Unavailable(String message) {
            super(message);
        }
    }

    /**
     * Compiles the reader into {@code dir}; returns the program.
     *
     * @throws Unavailable if there is no gcc, no sources, or gcc fails (its output in the message)
     */
    static Path build(Path dir) throws Unavailable, IOException, InterruptedException {
        Path sources = sources();
        List<String> cmd = new ArrayList<>(List.of("gcc", "-std=c11", "-O2", "-I", sources.toString()));
        try (Stream<Path> units = Files.list(sources)) { // the library: every .c file of the directory
            units.filter(p -> p.toString().endsWith(".c")).sorted().forEach(p -> cmd.add(p.toString()));
        }
        Path program = dir.resolve("snapshot_reader");
        cmd.addAll(List.of(sources.resolve("examples").resolve("snapshot_reader.c").toString(), "-o", program.toString()));
        Process gcc;
        try {
            gcc = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new Unavailable("the C reader needs gcc, and it could not be run (" + e.getMessage() + "). Install gcc "
                    + "(Debian/Ubuntu: apt-get install gcc; Fedora: dnf install gcc) and run the demo again.");
        }
        gcc.getOutputStream().close();
        if (!gcc.waitFor(COMPILE_SECONDS, TimeUnit.SECONDS)) {
            gcc.destroyForcibly();
            throw new Unavailable("gcc did not finish building the C reader within " + COMPILE_SECONDS + " s");
        }
        String output = new String(gcc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (gcc.exitValue() != 0) {
            throw new Unavailable("gcc could not build the C reader (exit " + gcc.exitValue() + "):\n" + output);
        }
        return program;
    }

    private static Path sources() throws Unavailable {
        List<Path> candidates = new ArrayList<>();
        String configured = System.getProperty(SOURCES_PROPERTY);
        if (configured != null) {
            candidates.add(Path.of(configured));
        }
        candidates.add(Path.of("fd-passing", "native"));
        candidates.add(Path.of("..", "fd-passing", "native"));
        for (Path p : candidates) {
            if (Files.isRegularFile(p.resolve("sluice.h")) && Files.isRegularFile(p.resolve("examples/snapshot_reader.c"))) {
                return p.toAbsolutePath().normalize();
            }
        }
        throw new Unavailable("the C reader's sources (fd-passing/native) are not under " + candidates
                + ": run the demo from the repository (./mvnw -q compile exec:exec -Ddemo=snapshot), or set -D"
                + SOURCES_PROPERTY + "=<the repository>/fd-passing/native");
    }
}
