package io.sluice.perf.latency.systems;

/**
 * How the {@code aeron} row threads its media driver, chosen by {@code -Dsluice.perf.aeron.driver}:
 * {@code invoker} (the default), {@code shared-busy} or {@code shared-backoff}. Why INVOKER is the
 * default is in {@link AeronEndpoint}. This class names no Aeron type, so the launcher can label
 * the row without Aeron's jars.
 */
public final class AeronDriverMode {
    static final String PROPERTY = "sluice.perf.aeron.driver";

    private AeronDriverMode() {
    }

    /** The property's value, unchecked: {@link AeronEndpoint#open} refuses an unknown one. */
    static String current() {
        return System.getProperty(PROPERTY, "invoker");
    }

    /** The row's label for the summary, naming the driver's set-up. */
    public static String label() {
        return switch (current()) {
            case "shared-busy" -> "Aeron IPC (exclusive publication, tryClaim), driver embedded in A: SHARED threading, busy-spin";
            case "shared-backoff" -> "Aeron IPC (exclusive publication, tryClaim), driver embedded in A: SHARED threading, back-off idle";
            default -> "Aeron IPC (exclusive publication, tryClaim), driver embedded in A: INVOKER (duty cycle run by A's measured thread)";
        };
    }
}
