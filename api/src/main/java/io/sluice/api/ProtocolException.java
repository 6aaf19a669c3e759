package io.sluice.api;

/**
 * A message from a peer over the socket broke the rules: truncated, more file descriptors than
 * the protocol allows, an unknown version or field value. Any fds it carried are closed.
 */
public class ProtocolException extends SluiceException {
    private static final long serialVersionUID = 1L;

    /**
     * A broken rule of the wire protocol.
     *
     * @param message which peer or connection, which message, and what was wrong with it
     */
    public ProtocolException(String message) {
        super(message);
    }

    /**
     * A broken rule of the wire protocol found through another failure.
     *
     * @param message which peer or connection, which message, and what was wrong with it
     * @param cause   the failure that revealed it (e.g. a decoding error)
     */
    public ProtocolException(String message, Throwable cause) {
        super(message, cause);
    }
}
