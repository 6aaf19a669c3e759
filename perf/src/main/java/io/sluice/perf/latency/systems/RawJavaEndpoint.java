package io.sluice.perf.latency.systems;

import io.sluice.perf.latency.Control;
import io.sluice.perf.latency.Endpoint;
import io.sluice.perf.latency.Role;
import io.sluice.perf.latency.RunSpec;

/**
 * The machine's limit in Java, through the harness: one long word per direction on a shared
 * mapping (the control file under /dev/shm, a constant segment), VarHandle release store and
 * acquire load, no ring, no header, no payload. Against the bare bracket loop it shows what the
 * harness's own loop costs; ping-pong only (a single word has no room for a stream).
 *
 * <p>Sends by storing the value in one word, receives by seeing a new value in the other.
 */
public final class RawJavaEndpoint implements Endpoint {
    private final long out;
    private final long in;
    private long lastSeen;

    private RawJavaEndpoint(long out, long in) {
        this.out = out;
        this.in = in;
    }

    public static RawJavaEndpoint open(Role role, RunSpec spec) {
        return role == Role.INITIATOR
                ? new RawJavaEndpoint(Control.MAILBOX_AB, Control.MAILBOX_BA)
                : new RawJavaEndpoint(Control.MAILBOX_BA, Control.MAILBOX_AB);
    }

    @Override
    public void send(long value) {
        Control.LONG.setRelease(Control.SEGMENT, out, value);
    }

    @Override
    public long poll() {
        long v = (long) Control.LONG.getAcquire(Control.SEGMENT, in);
        if (v == lastSeen) {
            return EMPTY;
        }
        lastSeen = v;
        return v;
    }

    @Override
    public void close() {
    }
}
