package io.sluice.perf.latency;

/**
 * One table of the summary: a scenario at one message size (and rate). Its key names files:
 * {@code pingpong-32B}, {@code fixedrate-1000k-32B}, {@code throughput-4096B}.
 */
public record ScenarioConfig(Scenario scenario, int messageSize, long rate) {
    public String key() {
        return switch (scenario) {
            case FIXED_RATE -> scenario.key() + "-" + rateLabel(rate) + "-" + messageSize + "B";
            default -> scenario.key() + "-" + messageSize + "B";
        };
    }

    public String title() {
        return switch (scenario) {
            case PING_PONG -> "Round trip (ping-pong), " + messageSize + "-byte messages";
            case FIXED_RATE -> "One-way latency at " + rateLabel(rate) + " msg/s, " + messageSize + "-byte messages";
            case THROUGHPUT -> "Throughput, " + messageSize + "-byte messages";
        };
    }

    static String rateLabel(long rate) {
        if (rate % 1_000_000 == 0) {
            return rate / 1_000_000 + "M";
        }
        if (rate % 1000 == 0) {
            return rate / 1000 + "k";
        }
        return Long.toString(rate);
    }
}
