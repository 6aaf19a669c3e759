package io.sluice.fdpassing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A second JVM started from a test: the same JDK and class path as this one, running {@code main}.
 * Its output is collected so that a failing test can show what the child said. Closing it
 * destroys the child forcibly if it is still running.
 */
public final class ChildJvm implements AutoCloseable {
    private final Process process;
    private final StringBuffer output = new StringBuffer();
    private final Thread pump;
    private boolean ended; // guarded by output

    private ChildJvm(Process process) {
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

    /**
     * Waits until the child printed a line starting with {@code prefix}; returns that line.
     * Bounded: throws with the child's output if the line does not come within {@code seconds}
     * or the child's output ends first.
     */
    public String awaitLine(String prefix, long seconds) throws InterruptedException {
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
                    throw new AssertionError("child never printed '" + prefix + "'" + (ended ? " (its output ended)" : "")
                            + "; its output:\n" + output);
                }
                TimeUnit.NANOSECONDS.timedWait(output, left);
            }
        }
    }

    public static ChildJvm start(Class<?> main, String... args) throws IOException {
        return start(List.of(), main, args);
    }

    /**
     * Starts the child as another user (behind {@code prefix}, e.g. {@code setpriv --reuid=...}):
     * first copies this JVM's class path into a world-readable folder under {@code dir}, since
     * the other user cannot read the build's folders or {@code ~/.m2}.
     */
    public static ChildJvm startAsOtherUser(List<String> prefix, Path dir, Class<?> main, String... args) throws IOException {
        Path cp = dir.resolve("classpath");
        List<String> entries = new ArrayList<>();
        int i = 0;
        for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            Path from = Path.of(entry);
            if (!java.nio.file.Files.exists(from)) {
                continue;
            }
            Path to = cp.resolve(i++ + "-" + from.getFileName());
            copyReadable(from, to);
            entries.add(to.toString());
        }
        makeReadable(cp);
        return start(prefix, String.join(java.io.File.pathSeparator, entries), main, args);
    }

    private static void copyReadable(Path from, Path to) throws IOException {
        try (var walk = java.nio.file.Files.walk(from)) {
            for (Path p : (Iterable<Path>) walk::iterator) {
                Path target = to.resolve(from.relativize(p).toString());
                if (java.nio.file.Files.isDirectory(p)) {
                    java.nio.file.Files.createDirectories(target);
                } else {
                    java.nio.file.Files.createDirectories(target.getParent());
                    java.nio.file.Files.copy(p, target);
                }
            }
        }
    }

    private static void makeReadable(Path root) throws IOException {
        try (var walk = java.nio.file.Files.walk(root)) {
            for (Path p : (Iterable<Path>) walk::iterator) {
                java.nio.file.Files.setPosixFilePermissions(p, java.nio.file.attribute.PosixFilePermissions.fromString(
                        java.nio.file.Files.isDirectory(p) ? "rwxr-xr-x" : "rw-r--r--"));
            }
        }
    }

    /** Starts the child behind a command prefix (for example {@code setpriv --reuid=65534 ...}). */
    public static ChildJvm start(List<String> prefix, Class<?> main, String... args) throws IOException {
        return start(prefix, System.getProperty("java.class.path"), main, args);
    }

    private static ChildJvm start(List<String> prefix, String classPath, Class<?> main, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.add("-Xshare:auto");
        cmd.add("-Xmx128m"); // a small address space also makes the kernel tear a killed child down faster
        cmd.add("-cp");
        cmd.add(classPath);
        cmd.add(main.getName());
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        return new ChildJvm(p);
    }

    /**
     * Watches any child process (a C program, say): collects its output, offers the same bounded
     * waits. The builder's output is merged into one stream.
     */
    public static ChildJvm watch(ProcessBuilder builder) throws IOException {
        return new ChildJvm(builder.redirectErrorStream(true).start());
    }

    /** Every line printed so far that starts with {@code prefix}. */
    public List<String> lines(String prefix) {
        return output.toString().lines().filter(l -> l.startsWith(prefix)).toList();
    }

    public long pid() {
        return process.pid();
    }

    public Process process() {
        return process;
    }

    /** Waits for the child to exit; returns its exit code, or throws with its output on timeout. */
    public int waitFor(long seconds) throws InterruptedException {
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            throw new AssertionError("child did not exit within " + seconds + " s; output so far:\n" + output());
        }
        pump.join(TimeUnit.SECONDS.toMillis(5));
        return process.exitValue();
    }

    public String output() {
        return output.toString();
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
        }
    }
}
