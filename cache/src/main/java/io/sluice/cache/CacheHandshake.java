package io.sluice.cache;

import io.sluice.api.AttachRefusedException;
import io.sluice.api.ConnectionClosedException;
import io.sluice.api.ProtocolException;
import io.sluice.fdpassing.ReceivedMessage;
import io.sluice.fdpassing.SeqPacketSocket;

import java.time.Duration;

/**
 * The reader's side of subscribing, the same for every kind ({@code docs/cache-protocol.md}):
 * HELLO, then the first PUBLISH or a REFUSED; and the checks of a PUBLISH's fields before its fd
 * is looked at. What the fd must be is the kind's own business ({@link SnapshotSubscription},
 * {@link MapSubscription}).
 */
final class CacheHandshake {
    private CacheHandshake() {
    }

    /**
     * Sends HELLO for {@code kind} and {@code name}, and returns the host's first answer if it is
     * a PUBLISH (the caller closes it). Closes nothing on failure: the caller owns the connection.
     *
     * @throws AttachRefusedException if the host answered REFUSED (its text escaped)
     * @throws ProtocolException      if the answer is anything else, or malformed
     * @throws io.sluice.fdpassing.ReceiveTimeoutException if no answer came within {@code timeout}
     */
    static ReceivedMessage subscribe(SeqPacketSocket connection, int kind, String name, Duration timeout) {
        String what = CacheMessages.kindName(kind) + " '" + name + "'";
        try {
            connection.send(CacheMessages.hello(kind, name));
        } catch (ConnectionClosedException e) {
            // The host may have refused at once (a connection cap) and closed: its REFUSED is
            // still in our queue, and says more than EPIPE.
        }
        ReceivedMessage m = connection.receive(CacheMessages.MAX_LENGTH, 1, timeout);
        try {
            short type = CacheMessages.type(m.data(), m.fdCount());
            if (type == CacheMessages.REFUSED) {
                CacheMessages.Refused r = CacheMessages.decodeRefused(m.data());
                throw new AttachRefusedException(r.reason(), what + " refused by the host ("
                        + (r.reason() == null ? "code " + r.code() : r.reason()) + "): " + r.text());
            }
            if (type != CacheMessages.PUBLISH) {
                throw new ProtocolException(what + ": " + CacheMessages.typeName(type)
                        + " where the first PUBLISH or a REFUSED was due");
            }
            return m;
        } catch (RuntimeException e) {
            m.close(); // and any fd that came with it
            throw e;
        }
    }

    /**
     * Decodes a PUBLISH and checks its kind against the one asked for, and its version against
     * the last one received ({@code after}, 0 before the first).
     *
     * @throws ProtocolException naming the region and the field
     */
    static CacheMessages.Publish publish(ReceivedMessage m, int kind, String name, long after) {
        String what = CacheMessages.kindName(kind) + " '" + name + "'";
        CacheMessages.Publish p;
        try {
            p = CacheMessages.decodePublish(m.data());
        } catch (ProtocolException e) {
            throw new ProtocolException(what + ": " + e.getMessage());
        }
        if (p.kind() != kind) {
            throw new ProtocolException(what + ": PUBLISH of a " + CacheMessages.kindName(p.kind())
                    + ", a " + CacheMessages.kindName(kind) + " was asked for");
        }
        if (p.version() <= after) {
            throw new ProtocolException(what + ": PUBLISH of version " + p.version()
                    + " after version " + after + " (versions strictly increase)");
        }
        return p;
    }
}
