package io.sluice.perf.latency;

/** What a run measures. */
public enum Scenario {
    /** A sends a message to B on one ring, B sends it back on another; A records the round trip. */
    PING_PONG("pingpong", "Round trip (ping-pong)"),
    /**
     * A sends at a fixed rate, stamping each message with {@code System.nanoTime()}; B records
     * now minus the stamp, corrected for coordinated omission
     * ({@code recordValueWithExpectedInterval}). Both peers run on one machine and share the clock.
     */
    FIXED_RATE("fixedrate", "One-way latency at a fixed rate"),
    /** A sends as fast as the ring takes them, B receives; messages/s and MB/s as B sees them. */
    THROUGHPUT("throughput", "Throughput, one producer process, one consumer process");

    private final String key;
    private final String title;

    Scenario(String key, String title) {
        this.key = key;
        this.title = title;
    }

    /** Short name used in file names and on the command line. */
    public String key() {
        return key;
    }

    public String title() {
        return title;
    }

    public static Scenario ofKey(String key) {
        for (Scenario s : values()) {
            if (s.key.equals(key)) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown scenario '" + key + "' (pingpong, fixedrate, throughput)");
    }
}
