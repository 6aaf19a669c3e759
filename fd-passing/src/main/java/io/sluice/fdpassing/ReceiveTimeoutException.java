package io.sluice.fdpassing;

import io.sluice.api.ProtocolException;

/** No message arrived within the time allowed (a peer that connects and says nothing). */
public class ReceiveTimeoutException extends ProtocolException {
    private static final long serialVersionUID = 1L;

    /**
     * A receive that timed out.
     *
     * @param message which socket, what was awaited and for how long
     */
    public ReceiveTimeoutException(String message) {
        super(message);
    }
}
