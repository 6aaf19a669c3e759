package io.sluice.api;

/**
 * The peer closed its end of the socket (or died: the kernel closes a dead process's sockets,
 * which is how Sluice notices peer death within milliseconds), or the host ended the attachment
 * and said why ({@link #reason()}).
 */
public class ConnectionClosedException extends SluiceException {
    private static final long serialVersionUID = 1L;

    /** The reason of the host's {@code DETACH}; null if none came. */
    private final RefusalReason reason;

    /**
     * The connection ended without a {@code DETACH}: the peer closed it or died.
     *
     * @param message which connection, and what this side was doing when it ended
     */
    public ConnectionClosedException(String message) {
        this(message, null);
    }

    /**
     * The connection ended; the host may have said why first.
     *
     * @param message which connection, and what this side was doing when it ended
     * @param reason  the reason of the host's {@code DETACH}, or null if none came
     */
    public ConnectionClosedException(String message, RefusalReason reason) {
        super(message);
        this.reason = reason;
    }

    /**
     * Why the host ended the attachment ({@code DETACH}); null if the connection simply ended.
     *
     * @return the {@code DETACH} reason, or null
     */
    public RefusalReason reason() {
        return reason;
    }
}
