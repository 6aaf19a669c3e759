package io.sluice.channel;

import io.sluice.api.BroadcastPolicy;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The options a channel is made with: immutable, with documented defaults, checked field by field. */
class ChannelOptionsTest {

    @Test
    void withersReturnNewOptionsAndLeaveTheOriginalAsItWas() {
        SpscOptions spsc = SpscOptions.of(4096);
        assertTrue(spsc.wakeParkedConsumers(true).wakeParkedConsumers());
        assertFalse(spsc.wakeParkedConsumers(), "off by default, and unchanged by the wither");

        BroadcastOptions bcast = BroadcastOptions.of(BroadcastPolicy.BACK_PRESSURE, 4096);
        assertEquals(new BroadcastOptions(BroadcastPolicy.BACK_PRESSURE, 4096, 4096 / 8, BroadcastOptions.DEFAULT_MAX_CONSUMERS),
                bcast, "an eighth of the capacity, 16 consumers by default");
        assertEquals(new BroadcastOptions(BroadcastPolicy.BACK_PRESSURE, 4096, 64, 2), bcast.maxMessageLength(64).maxConsumers(2));
        assertEquals(512, bcast.maxMessageLength());

        MpmcOptions mpmc = MpmcOptions.of(16, 64);
        assertEquals(MpmcOptions.DEFAULT_MAX_PARTICIPANTS, mpmc.maxParticipants());
        assertEquals(new MpmcOptions(16, 64, 3), mpmc.maxParticipants(3));
    }

    @Test
    void everyValueIsCheckedWhenTheOptionsAreMadeNamingTheFieldAndItsBounds() {
        assertMessage("SpscOptions.capacity: spsc capacity 100 is not a power of two in [64, 1073741824]",
                () -> SpscOptions.of(100));
        assertMessage("SpscOptions.capacity: spsc capacity 32 is not a power of two", () -> new SpscOptions(32, true));
        assertMessage("BroadcastOptions.capacity: ", () -> BroadcastOptions.of(BroadcastPolicy.OVERWRITE, 64));
        assertMessage("BroadcastOptions.maxMessageLength -1 is outside 0..2016 for capacity 4096",
                () -> BroadcastOptions.of(BroadcastPolicy.OVERWRITE, 4096).maxMessageLength(-1));
        assertMessage("BroadcastOptions.maxConsumers 0 is outside 1..4096",
                () -> BroadcastOptions.of(BroadcastPolicy.OVERWRITE, 4096).maxConsumers(0));
        assertMessage("MpmcOptions: slot length 48 is not a power of two", () -> MpmcOptions.of(16, 48));
        assertMessage("MpmcOptions: mpmc data length 2147483648", () -> MpmcOptions.of(1 << 16, 1 << 15));
        assertMessage("MpmcOptions.maxParticipants " + (MpmcOptions.MAX_PARTICIPANTS + 1L) + " is outside 1..",
                () -> MpmcOptions.of(16, 64).maxParticipants(MpmcOptions.MAX_PARTICIPANTS + 1));
        NullPointerException npe = assertThrows(NullPointerException.class, () -> BroadcastOptions.of(null, 4096));
        assertEquals("BroadcastOptions.policy", npe.getMessage());
    }

    private static void assertMessage(String prefix, Runnable make) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, make::run);
        assertTrue(e.getMessage().startsWith(prefix), "expected '" + prefix + "...', got: " + e.getMessage());
    }
}
