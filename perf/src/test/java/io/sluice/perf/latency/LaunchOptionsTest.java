package io.sluice.perf.latency;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class LaunchOptionsTest {
    private static LaunchOptions parse(String... extra) {
        List<String> args = new ArrayList<>(List.of("--latency-dir", "/tmp/l", "--classes", "/tmp/c", "--run-id", "t"));
        args.addAll(List.of(extra));
        return LaunchOptions.parse(args.toArray(String[]::new));
    }

    @Test
    void theCommandLineIsCheckedBeforeAnythingRuns() {
        assertEquals("--classes is required", assertThrows(IllegalArgumentException.class,
                () -> LaunchOptions.parse(new String[] {"--latency-dir", "/tmp/l"})).getMessage());
        assertEquals("expected --option value, got '--rounds'", assertThrows(IllegalArgumentException.class,
                () -> parse("--rounds")).getMessage());
        assertThrows(IllegalArgumentException.class, () -> parse("--systems", "raw-java,nope"));
        assertThrows(IllegalArgumentException.class, () -> parse("--mode", "slow"));
    }

    @Test
    void eachScenarioRunsThePlansSizesInOrder() {
        LaunchOptions o = parse("--scenarios", "throughput,pingpong", "--rounds", "1");
        assertEquals(1, o.plan().rounds());
        assertEquals(List.of("throughput-32B", "throughput-256B", "throughput-4096B", "pingpong-32B", "pingpong-256B"),
                o.configs().stream().map(ScenarioConfig::key).toList());
    }

    @Test
    void rowsWhoseProgramIsMissingAreLeftOut() {
        LaunchOptions o = parse("--systems", "raw-c,raw-java,sluice-c-java,agrona", "--probe", "/nonexistent",
                "--native-peer", "/nonexistent");
        ScenarioConfig ping = o.configs().getFirst();
        assertEquals(List.of("raw-java", "agrona"), o.systemsFor(ping));
        ScenarioConfig throughput = o.configs().getLast();
        assertEquals(List.of("agrona"), o.systemsFor(throughput)); // raw-java is ping-pong only
    }

    @Test
    void largeMessagesGetARingThatHoldsSixteenOfThem() {
        LaunchOptions o = parse("--scenarios", "throughput", "--throughput-sizes", "4096,65536", "--systems", "memcpy,agrona",
                "--memcpy-probe", "/nonexistent");
        assertEquals(List.of("throughput-4096B", "throughput-65536B"), o.configs().stream().map(ScenarioConfig::key).toList());
        assertEquals(64 * 1024, LaunchOptions.ringCapacity(32));
        assertEquals(64 * 1024, LaunchOptions.ringCapacity(4096));
        assertEquals(1024 * 1024, LaunchOptions.ringCapacity(65536));
        assertEquals(List.of("agrona"), o.systemsFor(o.configs().getFirst())); // no copy probe built
    }

    @Test
    void pingSizesPickTheRoundTripMessages() {
        LaunchOptions o = parse("--scenarios", "pingpong", "--ping-sizes", "240, 272", "--systems", "agrona");
        assertEquals(List.of("pingpong-240B", "pingpong-272B"), o.configs().stream().map(ScenarioConfig::key).toList());
    }
}
