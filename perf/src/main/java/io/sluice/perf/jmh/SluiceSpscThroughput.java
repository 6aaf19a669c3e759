package io.sluice.perf.jmh;

/**
 * The Sluice SPSC ring, as a channel uses it (the consumer reads through a read-only view), same
 * data capacity as {@link AgronaRingThroughput}.
 */
public class SluiceSpscThroughput extends SluiceRingThroughput {
    @Override
    AutoCloseable open() {
        MemfdSpscRing spsc = new MemfdSpscRing("jmh.spsc");
        producer = spsc.producer;
        consumer = spsc.consumer;
        return spsc;
    }
}
