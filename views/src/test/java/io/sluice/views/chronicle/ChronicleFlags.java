package io.sluice.views.chronicle;

import java.lang.management.ManagementFactory;

/** The flags Chronicle needs (the views pom's argLine), taken from this JVM for the child JVMs it starts. */
final class ChronicleFlags {
    private ChronicleFlags() {
    }

    static String[] ofThisJvm() {
        return ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> a.startsWith("--add-exports") || a.startsWith("--add-opens")
                        || a.startsWith("--sun-misc-unsafe-memory-access") || a.startsWith("-Dchronicle."))
                .toArray(String[]::new);
    }
}
