package io.sluice.api;

/**
 * The peer closed its end of the socket (or died: the kernel closes a dead process's sockets,
 * which is how Sluice notices peer death within milliseconds), or the host ended the attachment
 * and said why ({@link #reason()}).
 */
public class ConnectionClosedException extends SluiceException {
    private static final long serialVersionUID = 1L;

    private final RefusalReason reason;

    public ConnectionClosedException(String message) {
        this(message, null);
    }

    public ConnectionClosedException(String message, RefusalReason reason) {
        super(message);
        this.reason = reason;
    }

    /** Why the host ended the attachment ({@code DETACH}); null if the connection simply ended. */
    public RefusalReason reason() {
        return reason;
    }
}
