package io.sluice.api;

import org.junit.jupiter.api.Test;

import static io.sluice.api.BackOffIdleStrategy.Phase.PARKING;
import static io.sluice.api.BackOffIdleStrategy.Phase.SPINNING;
import static io.sluice.api.BackOffIdleStrategy.Phase.YIELDING;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class IdleStrategyTest {

    @Test
    void backOffSpinsThenYieldsThenParks() {
        BackOffIdleStrategy s = new BackOffIdleStrategy(3, 2, 1, 8);
        assertEquals(SPINNING, s.phase());
        for (int i = 0; i < 3; i++) {
            s.idle(0);
            assertEquals(SPINNING, s.phase(), "spin step " + i);
        }
        s.idle(0);
        assertEquals(YIELDING, s.phase(), "fourth idle yields");
        s.idle(0);
        assertEquals(YIELDING, s.phase());
        assertEquals(1, s.parkNanos(), "no park yet");
        s.idle(0);
        assertEquals(PARKING, s.phase(), "after 3 spins and 2 yields it parks");
        assertEquals(2, s.parkNanos(), "the first park used the minimum, the next one doubles");
    }

    @Test
    void backOffParkPeriodDoublesUpToTheCap() {
        BackOffIdleStrategy s = new BackOffIdleStrategy(0, 0, 1, 10);
        long[] expected = {2, 4, 8, 10, 10, 10};
        for (long e : expected) {
            s.idle();
            assertEquals(PARKING, s.phase());
            assertEquals(e, s.parkNanos());
        }
    }

    @Test
    void parkPeriodDoublingSaturatesAtTheCapInsteadOfOverflowing() {
        assertEquals(Long.MAX_VALUE, BackOffIdleStrategy.doubled(Long.MAX_VALUE / 2 + 1, Long.MAX_VALUE));
        assertEquals(Long.MAX_VALUE - 1, BackOffIdleStrategy.doubled(Long.MAX_VALUE / 2, Long.MAX_VALUE));
        assertEquals(Long.MAX_VALUE, BackOffIdleStrategy.doubled(Long.MAX_VALUE, Long.MAX_VALUE));
        assertEquals(9, BackOffIdleStrategy.doubled(5, 9));
        assertEquals(8, BackOffIdleStrategy.doubled(4, 9));
    }

    @Test
    void workResetsBackOffToSpinning() {
        BackOffIdleStrategy s = new BackOffIdleStrategy(1, 1, 1, 100);
        for (int i = 0; i < 5; i++) {
            s.idle(0);
        }
        assertEquals(PARKING, s.phase());
        s.idle(7);
        assertEquals(SPINNING, s.phase(), "work resets");
        assertEquals(1, s.parkNanos(), "and the park period starts over");
        for (int i = 0; i < 5; i++) {
            s.idle(0);
        }
        s.reset();
        assertEquals(SPINNING, s.phase());
    }

    @Test
    void backOffRefusesImpossibleSettings() {
        assertThrows(IllegalArgumentException.class, () -> new BackOffIdleStrategy(-1, 0, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new BackOffIdleStrategy(0, -1, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new BackOffIdleStrategy(0, 0, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> new BackOffIdleStrategy(0, 0, 10, 9));
    }

    @Test
    void defaultIdleWithWorkCallsResetAndWithoutWorkCallsIdle() {
        int[] calls = new int[2];
        IdleStrategy s = new IdleStrategy() {
            @Override
            public void idle() {
                calls[0]++;
            }

            @Override
            public void reset() {
                calls[1]++;
            }
        };
        s.idle(0);
        s.idle(-1);
        s.idle(3);
        assertEquals(2, calls[0], "idle steps");
        assertEquals(1, calls[1], "resets");
    }

    @Test
    void busySpinAndYieldingReturnAndKeepNoState() {
        for (int i = 0; i < 1000; i++) {
            BusySpinIdleStrategy.INSTANCE.idle(0);
            YieldingIdleStrategy.INSTANCE.idle(0);
        }
        BusySpinIdleStrategy.INSTANCE.idle(1);
        YieldingIdleStrategy.INSTANCE.reset();
    }
}
