package io.sluice.adversarial;

import io.sluice.memfd.ProcessResources;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

/**
 * What the adversarial tests share: the quick/long switch, seeds, and the evidence that a host
 * gave back everything a peer made it hold (fds, threads, mappings).
 *
 * <p>{@code -Dsluice.adversarial=long} (Maven passes it through, see {@code fd-passing/pom.xml})
 * runs the long versions; {@code -Dsluice.test.seed=N} replays a randomized run.
 */
final class Adversarial {
    private Adversarial() {
    }

    /** {@code quick} (the default) or {@code long}. */
    static String mode() {
        String m = System.getProperty("sluice.adversarial", "quick").trim();
        return m.isEmpty() ? "quick" : m;
    }

    static boolean isLong() {
        return mode().equals("long");
    }

    /** {@code quick} in quick mode, {@code long} in long mode. */
    static long byMode(long quick, long longer) {
        return isLong() ? longer : quick;
    }

    /** The seed to use: {@code -Dsluice.test.seed} if set, else a fresh one; printed either way. */
    static long seed(String test) {
        String given = System.getProperty("sluice.test.seed", "").trim();
        long seed = given.isEmpty() ? System.nanoTime() ^ ProcessHandle.current().pid() << 32 : Long.parseLong(given);
        System.out.println("[" + test + "] seed " + seed + " (replay: -Dsluice.test.seed=" + seed + "), mode " + mode());
        return seed;
    }

    /** This process's uid, from {@code /proc/self}. */
    static int uid() {
        try {
            return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Threads of channel hosts in this JVM (named {@code sluice-host <path>}). */
    static long hostThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("sluice-host") && t.isAlive()).count();
    }

    /**
     * Open fds of this process that a peer can make a host hold: everything but the JVM's own
     * class-path jars and JDK files, which the JVM opens lazily and keeps (a class loaded late would
     * otherwise look like a leak). Sockets, memfds, pipes, eventfds and any file received from a
     * peer all count.
     */
    static long peerReachableFds() {
        String javaHome = System.getProperty("java.home");
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.filter(p -> {
                try {
                    String t = Files.readSymbolicLink(p).toString();
                    return !(t.endsWith(".jar") || t.endsWith(".jmod") || t.startsWith(javaHome) || t.startsWith("/dev/urandom")
                            || t.startsWith("/dev/random"));
                } catch (IOException e) {
                    return false; // closed while we looked
                }
            }).count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Fds, host threads and Sluice mappings of this process, at one moment. */
    record Resources(long fds, long hostThreads, long mappings) {
        static Resources now() {
            return new Resources(peerReachableFds(), Adversarial.hostThreads(), ProcessResources.sluiceMappings());
        }

        Resources minus(Resources base) {
            return new Resources(fds - base.fds, hostThreads - base.hostThreads, mappings - base.mappings);
        }

        @Override
        public String toString() {
            return fds + " fds, " + hostThreads + " host threads, " + mappings + " sluice mappings";
        }
    }

    /**
     * Waits (polling, at most {@code timeout}) until this process's resources equal {@code base},
     * and returns the last reading: the host closes what a peer left on its own thread, a moment
     * after the peer is gone, so the count comes back asynchronously; a leak never does.
     */
    static Resources awaitBaseline(Resources base, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Resources r;
        while (!(r = Resources.now()).equals(base) && System.nanoTime() < deadline) {
            LockSupport.parkNanos(5_000_000L); // polling counts another thread changes; bounded by the deadline
        }
        return r;
    }

    /**
     * Captures what the Sluice loggers say while open, and keeps it off the console (a fuzzer
     * makes the host log a refusal per case): counts records by level and keeps those that say the
     * host failed on its own account. The loggers are {@code java.util.logging}'s (the JDK's
     * {@code System.Logger} backend), reached reflectively: this module does not read
     * {@code java.logging}, and a test should not make it.
     */
    static final class LogCapture extends java.io.OutputStream implements AutoCloseable {
        private final Class<?> loggerClass;
        private final Object logger;
        private final Object handler;
        private final Object oldLevel;
        private final boolean oldUseParent;
        private final StringBuilder line = new StringBuilder();
        private final List<String> warnings = new ArrayList<>();
        private final List<String> failures = new ArrayList<>();
        private String source = "";
        private long info;
        private long warning;
        private long severe;

        LogCapture() {
            try {
                loggerClass = Class.forName("java.util.logging.Logger");
                Class<?> level = Class.forName("java.util.logging.Level");
                Class<?> formatter = Class.forName("java.util.logging.Formatter");
                logger = loggerClass.getMethod("getLogger", String.class).invoke(null, "io.sluice");
                oldLevel = loggerClass.getMethod("getLevel").invoke(logger);
                oldUseParent = (boolean) loggerClass.getMethod("getUseParentHandlers").invoke(logger);
                handler = Class.forName("java.util.logging.StreamHandler").getConstructor(java.io.OutputStream.class, formatter)
                        .newInstance(this, Class.forName("java.util.logging.SimpleFormatter").getConstructor().newInstance());
                loggerClass.getMethod("setLevel", level).invoke(logger, level.getField("INFO").get(null));
                loggerClass.getMethod("setUseParentHandlers", boolean.class).invoke(logger, false);
                loggerClass.getMethod("addHandler", Class.forName("java.util.logging.Handler")).invoke(logger, handler);
            } catch (ReflectiveOperationException e) {
                throw new AssertionError("cannot capture java.util.logging", e);
            }
        }

        /** SimpleFormatter writes "date source" then "LEVEL: message", then any stack trace. */
        @Override
        public synchronized void write(int b) {
            if (b != '\n') {
                line.append((char) b);
                return;
            }
            String l = line.toString();
            line.setLength(0);
            if (l.startsWith("INFO: ")) {
                info++;
            } else if (l.startsWith("WARNING: ")) {
                warning++;
                if (warnings.size() < 1000) {
                    warnings.add(source + ": " + l);
                }
                if (l.contains("failed")) {
                    failures.add(source + ": " + l);
                }
            } else if (l.startsWith("SEVERE: ")) {
                severe++;
                failures.add(source + ": " + l);
            } else if (l.startsWith("\tat ") || l.startsWith("Caused by") || l.contains("Exception") || l.contains("Error")) {
                if (failures.size() < 1000) {
                    failures.add(source + ": " + l); // a stack trace: something threw
                }
            } else {
                source = l;
            }
        }

        private void flushHandler() {
            try {
                handler.getClass().getMethod("flush").invoke(handler);
            } catch (ReflectiveOperationException e) {
                throw new AssertionError(e);
            }
        }

        synchronized List<String> warnings() {
            flushHandler();
            return List.copyOf(warnings);
        }

        /** Lines that say the host failed on its own account (SEVERE, "failed", a stack trace). */
        synchronized List<String> failures() {
            flushHandler();
            return List.copyOf(failures);
        }

        synchronized String summary() {
            flushHandler();
            return info + " info, " + warning + " warning, " + severe + " severe log records";
        }

        @Override
        public void close() {
            try {
                flushHandler();
                loggerClass.getMethod("removeHandler", Class.forName("java.util.logging.Handler")).invoke(logger, handler);
                loggerClass.getMethod("setUseParentHandlers", boolean.class).invoke(logger, oldUseParent);
                loggerClass.getMethod("setLevel", Class.forName("java.util.logging.Level")).invoke(logger, oldLevel);
            } catch (ReflectiveOperationException e) {
                throw new AssertionError(e);
            }
        }
    }

    /** Whether {@code text} holds a control (Cc) or format (Cf: bidi overrides, zero-width) character. */
    static boolean hasControlCharacters(String text) {
        return text.codePoints().anyMatch(c -> Character.getType(c) == Character.CONTROL || Character.getType(c) == Character.FORMAT);
    }
}
