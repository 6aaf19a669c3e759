package io.sluice.perf.latency;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

/**
 * The command lines of a run's peers: a JVM running {@link PeerMain} with its system's jars and
 * flags, or the native peer program, each pinned to its side's CPU when this machine can pin.
 */
final class PeerCommands {
    private static final List<String> PEER_JVM_FLAGS = List.of(
            "-XX:+UseSerialGC", "-Xms512m", "-Xmx512m", "-XX:+AlwaysPreTouch", "--enable-native-access=ALL-UNNAMED");

    /** Extra flags for every peer JVM, separated by spaces or commas (diagnostics: {@code -XX:+LogCompilation}, ...). */
    static final String PEER_JVM_ARGS_PROPERTY = "sluice.perf.peerJvmArgs";

    private final Path latencyDir;
    private final Path classes;
    private final Path nativePeer;
    private final String taskset;

    PeerCommands(LaunchOptions options) {
        this.latencyDir = options.latencyDir();
        this.classes = options.classes();
        this.nativePeer = options.nativePeer();
        this.taskset = Runtime.getRuntime().availableProcessors() >= 2 ? taskset() : null;
    }

    /** Whether peers are pinned: {@code taskset} is there and so is a second CPU. */
    boolean pinned() {
        return taskset != null;
    }

    /** A JVM peer: {@code side} is A, B, or {@code both} for an in-process row. */
    List<String> jvm(LatencySystem system, String side, String cpus, Path control, String classPath, RunSpec spec) {
        List<String> cmd = pinnedTo(cpus);
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(PEER_JVM_FLAGS);
        cmd.addAll(system.jvmArgs());
        String extra = System.getProperty(PEER_JVM_ARGS_PROPERTY, "").strip();
        if (!extra.isEmpty()) {
            cmd.addAll(Arrays.asList(extra.split("[\\s,]+")));
        }
        System.getProperties().stringPropertyNames().stream()
                .filter(k -> k.startsWith("sluice.perf.") && !k.equals(Control.PATH_PROPERTY) && !k.equals(PEER_JVM_ARGS_PROPERTY)).sorted()
                .forEach(k -> cmd.add("-D" + k + "=" + System.getProperty(k)));
        cmd.add("-D" + Control.PATH_PROPERTY + "=" + control);
        cmd.add("-cp");
        cmd.add(classPath);
        cmd.add(PeerMain.class.getName());
        cmd.add(side);
        cmd.addAll(spec.toArgs());
        return cmd;
    }

    /** The native peer as one side of {@code system}: pinned like the JVM it replaces. */
    List<String> nativePeer(LatencySystem system, Role role, Path control, RunSpec spec) {
        List<String> cmd = pinnedTo(Integer.toString(role.cpu()));
        cmd.add(nativePeer.toString());
        cmd.add(role.letter());
        cmd.add(control.toString());
        cmd.addAll(system.nativeArgs(spec));
        cmd.addAll(spec.toArgs());
        return cmd;
    }

    /** The start of a command line: {@code taskset -c cpus} when this machine pins, else nothing. */
    List<String> pinnedTo(String cpus) {
        List<String> cmd = new ArrayList<>();
        if (pinned()) {
            cmd.addAll(List.of(taskset, "-c", cpus));
        }
        return cmd;
    }

    /** A peer JVM's class path: the harness's classes and jars, then the system's dependency sets. */
    String classPath(LatencySystem system) throws IOException {
        List<String> parts = new ArrayList<>();
        parts.add(classes.toString());
        parts.add(Files.readString(latencyDir.resolve("harness.classpath")).strip());
        for (String set : system.classpathSets()) {
            parts.addAll(jars(set));
        }
        return String.join(java.io.File.pathSeparator, parts);
    }

    /** The jars of a dependency set: a {@code <set>.classpath} file or a {@code <set>/} folder. */
    List<String> jars(String set) throws IOException {
        Path file = latencyDir.resolve(set + ".classpath");
        if (Files.exists(file)) {
            return Arrays.stream(Files.readString(file).strip().split(java.io.File.pathSeparator))
                    .filter(s -> !s.isEmpty()).toList();
        }
        Path dir = latencyDir.resolve(set);
        if (!Files.isDirectory(dir)) {
            throw new IllegalStateException("no dependency set '" + set + "' in " + latencyDir + " (build perf first)");
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(".jar")).sorted().map(Path::toString).toList();
        }
    }

    private static String taskset() {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            Path p = Path.of(dir, "taskset");
            if (Files.isExecutable(p)) {
                return p.toString();
            }
        }
        return null;
    }
}
