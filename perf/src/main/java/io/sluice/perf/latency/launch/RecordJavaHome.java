package io.sluice.perf.latency.launch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Run by the build with the toolchain's {@code java}: writes that JDK's home to the file named by
 * the one argument, so that {@code perf/run-latency.sh} launches every peer with the JDK the
 * build found, whatever the default {@code java} of the machine is.
 */
public final class RecordJavaHome {
    private RecordJavaHome() {
    }

    public static void main(String[] args) throws IOException {
        Path out = Path.of(args[0]);
        Files.createDirectories(out.getParent());
        Files.writeString(out, System.getProperty("java.home") + System.lineSeparator());
    }
}
