package io.sluice.api;

/**
 * The peer closed its end of the socket (or died: the kernel closes a dead process's sockets,
 * which is how Sluice notices peer death within milliseconds).
 */
public class ConnectionClosedException extends SluiceException {
    private static final long serialVersionUID = 1L;

    public ConnectionClosedException(String message) {
        super(message);
    }
}
