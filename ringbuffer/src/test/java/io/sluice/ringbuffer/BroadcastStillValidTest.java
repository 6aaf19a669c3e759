package io.sluice.ringbuffer;

import io.sluice.api.RingKind;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static io.sluice.ringbuffer.BroadcastTestSupport.heapRing;
import static io.sluice.ringbuffer.BroadcastTestSupport.payloadMatches;
import static io.sluice.ringbuffer.BroadcastTestSupport.sendAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Zero-copy reads on an overwrite ring: the handler reads the payload in place while the producer
 * writes, then asks {@link BroadcastConsumer#isStillValid()}. These tests drive the producer from
 * inside the handler, so they know exactly which bytes were overwritten when.
 */
class BroadcastStillValidTest {

    private final MemorySegment ring = heapRing(RingKind.BROADCAST_OVERWRITE, 1024, 100);
    private final BroadcastProducer producer = BroadcastRing.attachProducer(ring, "md");
    private final BroadcastConsumer consumer;

    BroadcastStillValidTest() {
        // A full ring of 64-byte records, 0..14: a 16th would mark the first record's header.
        sendAll(producer, 15, 48);
        consumer = BroadcastRing.attachConsumer(ring, null, BroadcastStart.OLDEST, null);
    }

    @Test
    void staysValidUpToTheLastByteBeforeTheRecordIsReachedAndFailsFromTheFirstByteAfter() {
        skip(1);                                            // now at message 1, position 64
        List<String> observations = new ArrayList<>();
        consumer.poll((type, payload) -> {
            assertEquals(1, consumer.sequence());
            observations.add("read " + payloadMatches(payload, 1) + " valid " + consumer.isStillValid());
            sendAll(producer, 1, 48);                       // message 15 over [960, 1024): intent 1040, 64 + capacity is 1088
            observations.add("read " + payloadMatches(payload, 1) + " valid " + consumer.isStillValid());
            sendAll(producer, 1, 48);                       // message 16 over [1024, 1088), intent 1104: it marks our Sequence
            observations.add("read " + payloadMatches(payload, 1) + " valid " + consumer.isStillValid());
            sendAll(producer, 1, 48);                       // message 17 over [1088, 1152): our payload
            observations.add("read " + payloadMatches(payload, 1) + " valid " + consumer.isStillValid());
        }, 1);
        assertEquals(List.of("read true valid true", "read true valid true", "read true valid false",
                "read false valid false"), observations);
    }

    @Test
    void aClaimInFlightOverOurRecordInvalidatesItBeforeAnyByteIsCommitted() {
        List<Boolean> valid = new ArrayList<>();
        consumer.poll((type, payload) -> {
            valid.add(consumer.isStillValid());
            long at = producer.tryClaim(7, 48);             // [960, 1024), marking [1032, 1040): our record's Sequence
            valid.add(consumer.isStillValid());             // intent moved before any byte was written
            producer.abort(at);
        }, 1);
        assertEquals(List.of(true, false), valid);
    }

    @Test
    void validityFollowsTheLastDeliveredMessageAfterPollReturns() {
        assertThrows(IllegalStateException.class, consumer::isStillValid);
        assertEquals(15, consumer.poll((t, p) -> { }, 16));
        assertTrue(consumer.isStillValid());                // message 14 at [896, 960)
        sendAll(producer, 14, 48);                          // overwrites up to 832 and marks up to 848
        assertTrue(consumer.isStillValid());
        sendAll(producer, 1, 48);
        assertFalse(consumer.isStillValid());
    }

    @Test
    void aTornPayloadIsNeverReportedValid() {
        // Overwrite our record partially in the middle of reading it, at every possible byte.
        for (int split = 0; split <= 48; split += 8) {
            MemorySegment r = heapRing(RingKind.BROADCAST_OVERWRITE, 1024, 100);
            BroadcastProducer p = BroadcastRing.attachProducer(r, "md");
            sendAll(p, 15, 48);
            BroadcastConsumer c = BroadcastRing.attachConsumer(r, null, BroadcastStart.OLDEST, null);
            int at = split;
            boolean[] result = new boolean[2];
            c.poll((type, payload) -> {
                byte[] first = payload.asSlice(0, at).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
                sendAll(p, 2, 48);                          // message 16 lands on our bytes
                byte[] rest = payload.asSlice(at).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
                byte[] all = new byte[48];
                System.arraycopy(first, 0, all, 0, first.length);
                System.arraycopy(rest, 0, all, at, rest.length);
                result[0] = payloadMatches(MemorySegment.ofArray(all), 0);
                result[1] = c.isStillValid();
            }, 1);
            if (split < 48) {
                assertFalse(result[0], "split at " + split + ": the set-up should have torn the payload");
            }
            assertFalse(result[1], "split at " + split + ": read " + (result[0] ? "intact" : "torn") + " data, reported valid");
        }
    }

    private void skip(int messages) {
        assertEquals(messages, consumer.poll((t, p) -> { }, messages));
    }
}
