package io.sluice.examples;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * Starts another JVM running one of the demos' programs, exactly as this one runs: the same JDK,
 * on the module path with {@code --enable-native-access=io.sluice.memfd} when this JVM runs as a
 * module, else on the class path (as in tests).
 */
public final class DemoJvm {
    private DemoJvm() {
    }

    /** The command line; {@code jvmOptions} go before the program, {@code args} after. */
    public static List<String> command(List<String> jvmOptions, Class<?> main, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmOptions);
        String modulePath = System.getProperty("jdk.module.path");
        if (modulePath != null) {
            cmd.add("--enable-native-access=io.sluice.memfd");
            cmd.add("--module-path");
            cmd.add(modulePath);
            cmd.add("--module");
            cmd.add(main.getModule().getName() + "/" + main.getName());
        } else {
            cmd.add("--enable-native-access=ALL-UNNAMED");
            cmd.add("-cp");
            cmd.add(System.getProperty("java.class.path"));
            cmd.add(main.getName());
        }
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** Starts it sharing this process's standard output and error. */
    public static Process start(List<String> jvmOptions, Class<?> main, String... args) throws IOException {
        return new ProcessBuilder(command(jvmOptions, main, args)).inheritIO().start();
    }

    /**
     * Starts it with its standard error merged into its output, for {@link #pump}; {@code -XX:+UseSerialGC
     * -Xmx64m}, as a demo's child needs no more.
     */
    public static Process startSmall(Class<?> main, String... args) throws IOException {
        return new ProcessBuilder(command(List.of("-XX:+UseSerialGC", "-Xmx64m"), main, args)).redirectErrorStream(true).start();
    }

    /**
     * Starts a platform thread that reads {@code p}'s output to its end: a line that {@code report}
     * takes (returns true for) is the caller's, every other line is echoed to this process's standard
     * output. {@code report} runs on that thread. A read error is said on standard output, naming
     * {@code who}.
     */
    public static Thread pump(Process p, String who, Predicate<String> report) {
        return Thread.ofPlatform().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (!report.test(line)) {
                        System.out.println(line);
                    }
                }
            } catch (IOException e) {
                System.out.println(who + " lost a process's output: " + e);
            }
        });
    }

    /**
     * Waits up to {@code seconds} for each process, killing one that is not done by then, then up to
     * 5 s for each pump thread (its process is gone, so its output ends).
     */
    public static void awaitAll(List<Process> processes, long seconds, List<Thread> pumps) throws InterruptedException {
        for (Process p : processes) {
            if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
        for (Thread t : pumps) {
            t.join(5_000);
        }
    }

    /**
     * A demo's optional first argument: {@code args[0]} as a whole number, or {@code absent} if there
     * is none; {@code what} names it in the {@link IllegalArgumentException} thrown for a value
     * outside {@code [min, max]} ({@link NumberFormatException} for one that is not a number).
     */
    public static long firstArgument(String[] args, long absent, long min, long max, String what) {
        long v = args.length > 0 ? Long.parseLong(args[0]) : absent;
        if (v < min || v > max) {
            throw new IllegalArgumentException(what + " " + v + " is outside " + min + ".." + max);
        }
        return v;
    }
}
