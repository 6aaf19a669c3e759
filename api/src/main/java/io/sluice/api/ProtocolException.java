package io.sluice.api;

/**
 * A message from a peer over the socket broke the rules: truncated, more file descriptors than
 * the protocol allows, an unknown version or field value. Any fds it carried are closed.
 */
public class ProtocolException extends SluiceException {
    private static final long serialVersionUID = 1L;

    public ProtocolException(String message) {
        super(message);
    }

    public ProtocolException(String message, Throwable cause) {
        super(message, cause);
    }
}
