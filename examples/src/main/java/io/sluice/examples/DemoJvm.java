package io.sluice.examples;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

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
}
