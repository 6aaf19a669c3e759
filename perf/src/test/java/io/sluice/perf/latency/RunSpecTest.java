package io.sluice.perf.latency;

import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class RunSpecTest {
    private static RunSpec spec() {
        return new RunSpec("agrona", Scenario.FIXED_RATE, 32, 100_000, 10, 1000, 4, 10_000, 300, 20_000, 50_000, 65536,
                Path.of("/dev/shm/x/0001"), Path.of("/tmp/out/agrona-r1"));
    }

    @Test
    void argumentsRoundTrip() {
        assertEquals(spec(), RunSpec.parse(spec().toArgs()));
        assertEquals(40_000, spec().measuredMessages());
        assertEquals(10_000, spec().intervalNs());
    }

    @Test
    void refusesUnknownAndMissingArguments() {
        List<String> args = new ArrayList<>(spec().toArgs());
        args.add("colour=blue");
        assertThrows(IllegalArgumentException.class, () -> RunSpec.parse(args));
        assertThrows(IllegalArgumentException.class, () -> RunSpec.parse(spec().toArgs().subList(1, 14)));
    }

    @Test
    void refusesASliceThatIsNotWholeBatches() {
        assertThrows(IllegalArgumentException.class, () -> new RunSpec("agrona", Scenario.PING_PONG, 32, 0, 10, 3000, 4,
                10_000, 0, 1, 1, 65536, Path.of("a"), Path.of("b")));
    }

    @Test
    void batchSizeDividesTheSlice() {
        assertEquals(10_000, Plan.batchFor(100_000));
        assertEquals(1000, Plan.batchFor(10_000));
        assertEquals(2000, Plan.batchFor(20_000));
        int batch = Plan.batchFor(26_000);
        assertEquals(0, 26_000 % batch);
    }

    @Test
    void scenarioKeysNameTheRateAndSize() {
        assertEquals("fixedrate-1M-32B", new ScenarioConfig(Scenario.FIXED_RATE, 32, 1_000_000).key());
        assertEquals("fixedrate-100k-256B", new ScenarioConfig(Scenario.FIXED_RATE, 256, 100_000).key());
        assertEquals("pingpong-32B", new ScenarioConfig(Scenario.PING_PONG, 32, 0).key());
    }

    @Test
    void histogramsSurviveTheirTextEncoding() {
        Histogram h = Histograms.newHistogram();
        for (long v = 100; v < 100_000; v += 37) {
            h.recordValue(v);
        }
        Histogram back = Histograms.decode(Histograms.encode(h));
        assertEquals(h, back);
    }
}
