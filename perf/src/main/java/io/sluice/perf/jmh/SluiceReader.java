package io.sluice.perf.jmh;

import io.sluice.api.MessageHandler;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.Blackhole;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/** The consumer thread's handler in the Sluice rows: reads the first word in place, like the others. */
@State(Scope.Thread)
public class SluiceReader implements MessageHandler {
    Blackhole bh;

    @Setup
    public void setup(Blackhole bh) {
        this.bh = bh;
    }

    @Override
    public void onMessage(int type, MemorySegment payload) {
        bh.consume(payload.get(JAVA_LONG_UNALIGNED, 0));
    }
}
