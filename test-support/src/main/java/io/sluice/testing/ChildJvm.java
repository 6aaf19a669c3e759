package io.sluice.testing;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A second process started from a test, usually a JVM running a {@code main} on this JVM's JDK
 * and class path with native access on ({@link #start}, {@link #launcher}); any other program
 * can be watched the same way ({@link #watch}).
 *
 * <p>Its stdout and stderr are merged and collected line by line: {@link #awaitLine} waits,
 * bounded, for a line; every failure (a line that never comes, a child that does not exit in
 * time) throws an {@link AssertionError} carrying all the child printed. {@link #kill()} is
 * {@code kill -9}; {@link #close()} kills the child if it still runs and waits for it to go, so
 * that a test leaves no process behind.
 */
public final class ChildJvm implements AutoCloseable {
    /** How long {@link #close()} waits for a killed child to be gone. */
    private static final long CLOSE_WAIT_SECONDS = 10;

    private final Process process;
    private final StringBuilder output = new StringBuilder(); // guarded by itself
    private boolean ended;                                     // guarded by output
    private final Thread pump;

    private ChildJvm(Process process) {
        this.process = process;
        this.pump = Thread.ofPlatform().daemon().name("child-" + process.pid() + "-output").start(this::pump);
    }

    private void pump() {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                synchronized (output) {
                    output.append(line).append('\n');
                    output.notifyAll();
                }
            }
        } catch (IOException ignored) {
            // the child is gone
        } finally {
            synchronized (output) {
                ended = true;
                output.notifyAll();
            }
        }
    }

    /**
     * Starts {@code main} with {@code args} in a child JVM with the default options (see {@link Launcher}).
     *
     * @param main the class whose {@code main} the child runs
     * @param args its arguments
     * @return the running child; close it (kills it if still running)
     * @throws IOException if the process cannot be started
     */
    public static ChildJvm start(Class<?> main, String... args) throws IOException {
        return launcher(main).start(args);
    }

    /**
     * A launcher for {@code main}, to set JVM options, a command prefix or another user first.
     *
     * @param main the class whose {@code main} the child runs
     * @return a launcher with the default options
     */
    public static Launcher launcher(Class<?> main) {
        return new Launcher(main);
    }

    /**
     * Watches any process (a C program, say): the same output capture and bounded waits.
     *
     * @param builder the process to start; its output is captured here
     * @return the running process; close it (kills it if still running)
     * @throws IOException if the process cannot be started
     */
    public static ChildJvm watch(ProcessBuilder builder) throws IOException {
        return new ChildJvm(builder.redirectErrorStream(true).start());
    }

    /**
     * How a child JVM is started: {@code java --enable-native-access=ALL-UNNAMED -Xshare:auto
     * -Xmx128m [options] -cp <this class path> main args}, with this JVM's {@code java.home}.
     * A small heap: the children share memory off-heap, and a small address space makes the
     * kernel tear a killed child down faster.
     */
    public static final class Launcher {
        private final Class<?> main;
        private final List<String> jvmOptions = new ArrayList<>();
        private List<String> prefix = List.of();
        private Path readableCopyDir;
        private boolean closeStdin;

        private Launcher(Class<?> main) {
            this.main = main;
        }

        /**
         * Extra JVM options, before the class path (e.g. {@code -XX:TieredStopAtLevel=1} for a short-lived child).
         *
         * @param options JVM options, added to those given before
         * @return this launcher
         */
        public Launcher jvmOptions(String... options) {
            jvmOptions.addAll(List.of(options));
            return this;
        }

        /**
         * Runs the JVM behind a command prefix, e.g. {@code setpriv --reuid=65534 ...}.
         *
         * @param command the prefix, replacing any given before
         * @return this launcher
         */
        public Launcher prefix(List<String> command) {
            prefix = List.copyOf(command);
            return this;
        }

        /**
         * For a child that runs as another user (see {@link #prefix}): first copies this JVM's class
         * path into a world-readable folder under {@code dir}, since the other user cannot read
         * the build's folders or {@code ~/.m2}.
         *
         * @param dir a folder the other user can reach
         * @return this launcher
         */
        public Launcher classPathCopiedReadableTo(Path dir) {
            readableCopyDir = dir;
            return this;
        }

        /**
         * Closes the child's stdin at once: for a child that reads nothing, so no pipe fd is held for it.
         *
         * @return this launcher
         */
        public Launcher withoutStdin() {
            closeStdin = true;
            return this;
        }

        /**
         * Starts the child.
         *
         * @param args the arguments of its {@code main}
         * @return the running child; close it (kills it if still running)
         * @throws IOException if the process cannot be started
         */
        public ChildJvm start(String... args) throws IOException {
            List<String> cmd = new ArrayList<>(prefix);
            cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            cmd.add("--enable-native-access=ALL-UNNAMED");
            cmd.add("-Xshare:auto");
            cmd.add("-Xmx128m");
            cmd.addAll(jvmOptions);
            cmd.add("-cp");
            cmd.add(readableCopyDir == null ? System.getProperty("java.class.path") : readableClassPath(readableCopyDir));
            cmd.add(main.getName());
            cmd.addAll(List.of(args));
            ChildJvm child = new ChildJvm(new ProcessBuilder(cmd).redirectErrorStream(true).start());
            if (closeStdin) {
                child.process.getOutputStream().close();
            }
            return child;
        }
    }

    private static String readableClassPath(Path dir) throws IOException {
        Path cp = dir.resolve("classpath");
        List<String> entries = new ArrayList<>();
        int i = 0;
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path from = Path.of(entry);
            if (!Files.exists(from)) {
                continue;
            }
            Path to = cp.resolve(i++ + "-" + from.getFileName());
            try (Stream<Path> walk = Files.walk(from)) {
                for (Path p : (Iterable<Path>) walk::iterator) {
                    Path target = to.resolve(from.relativize(p).toString());
                    if (Files.isDirectory(p)) {
                        Files.createDirectories(target);
                    } else {
                        Files.createDirectories(target.getParent());
                        Files.copy(p, target);
                    }
                }
            }
            entries.add(to.toString());
        }
        try (Stream<Path> walk = Files.walk(cp)) {
            for (Path p : (Iterable<Path>) walk::iterator) {
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(Files.isDirectory(p) ? "rwxr-xr-x" : "rw-r--r--"));
            }
        }
        return String.join(File.pathSeparator, entries);
    }

    /**
     * The first line the child printed (since it started) that starts with {@code prefix},
     * waiting for it at most {@code seconds}. Throws an {@link AssertionError} with the child's
     * output if it does not come in time or the child's output ends first.
     *
     * @param prefix  what the line starts with
     * @param seconds how long to wait at most
     * @return the whole line
     * @throws InterruptedException if the test thread is interrupted while waiting
     */
    public String awaitLine(String prefix, long seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        int scanned = 0; // output before this index holds no matching line
        synchronized (output) {
            while (true) {
                int lineStart = scanned;
                for (int nl; (nl = output.indexOf("\n", lineStart)) >= 0; lineStart = nl + 1) {
                    if (startsAt(output, lineStart, nl, prefix)) {
                        return output.substring(lineStart, nl);
                    }
                }
                scanned = lineStart;
                long left = deadline - System.nanoTime();
                if (ended || left <= 0) {
                    throw new AssertionError("the child never printed a line starting with '" + prefix + "'"
                            + (ended ? " (its output ended)" : " within " + seconds + " s")
                            + "; its output:\n" + output);
                }
                TimeUnit.NANOSECONDS.timedWait(output, left);
            }
        }
    }

    private static boolean startsAt(StringBuilder text, int start, int end, String prefix) {
        if (end - start < prefix.length()) {
            return false;
        }
        for (int i = 0; i < prefix.length(); i++) {
            if (text.charAt(start + i) != prefix.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Every line printed so far that starts with {@code prefix}.
     *
     * @param prefix what the lines start with
     * @return the lines, a snapshot
     */
    public List<String> lines(String prefix) {
        return output().lines().filter(l -> l.startsWith(prefix)).toList();
    }

    /**
     * All the child printed so far.
     *
     * @return stdout and stderr as captured, interleaved, a snapshot
     */
    public String output() {
        synchronized (output) {
            return output.toString();
        }
    }

    /**
     * Waits at most {@code seconds} for the child to exit and for its output to drain; returns its
     * exit status. Throws an {@link AssertionError} with its output if it does not exit in time.
     *
     * @param seconds how long to wait at most
     * @return the exit status
     * @throws InterruptedException if the test thread is interrupted while waiting
     */
    public int waitFor(long seconds) throws InterruptedException {
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            throw new AssertionError("the child did not exit within " + seconds + " s; its output so far:\n" + output());
        }
        pump.join(TimeUnit.SECONDS.toMillis(CLOSE_WAIT_SECONDS));
        return process.exitValue();
    }

    /**
     * The child's stdin, for children that take commands.
     *
     * @return the stream; closing it sends end of file
     */
    public OutputStream stdin() {
        return process.getOutputStream();
    }

    /** {@code kill -9}: the child gets no chance to clean up. Returns at once; {@link #waitFor} waits. */
    public void kill() {
        process.destroyForcibly();
    }

    /**
     * The exit status of a child that has exited; {@link IllegalThreadStateException} while it runs.
     *
     * @return the exit status
     */
    public int exitValue() {
        return process.exitValue();
    }

    /**
     * Whether the child still runs.
     *
     * @return true until it has exited
     */
    public boolean isAlive() {
        return process.isAlive();
    }

    /**
     * The child's process id.
     *
     * @return the pid
     */
    public long pid() {
        return process.pid();
    }

    /** Kills the child if it still runs and waits (bounded) for it to be gone. */
    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public String toString() {
        return "child pid " + process.pid() + (process.isAlive() ? "" : " (exited)");
    }
}
