package io.sluice.perf.latency.systems;

import io.sluice.perf.latency.RunSpec;
import io.sluice.perf.latency.Scenario;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

class SluiceMixedRowsTest {
    private static RunSpec spec(int messageSize) {
        return new RunSpec("sluice-mixed", Scenario.PING_PONG, messageSize, 0, 10, 5000, 4, 50_000, 300, 20_000, 50_000,
                65536, Path.of("/dev/shm/x/0001"), Path.of("/tmp/out/sluice-mixed-r1"));
    }

    @Test
    void mpmcSlotsHoldTheMessageAndTheRingHoldsTheCapacityOfTheOtherRows() {
        assertEquals(64, SluiceMixedRows.slotLength(spec(32)));   // 16-byte slot header + 32
        assertEquals(1024, SluiceMixedRows.slotCount(spec(32)));
        assertEquals(512, SluiceMixedRows.slotLength(spec(256))); // 16 + 256 = 272, next power of two
        assertEquals(128, SluiceMixedRows.slotCount(spec(256)));
        assertEquals(64, SluiceMixedRows.slotLength(spec(48)));   // exactly a power of two
    }
}
