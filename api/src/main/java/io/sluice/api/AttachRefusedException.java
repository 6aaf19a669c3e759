package io.sluice.api;

/**
 * The host refused to attach this process to a channel; {@link #reason()} says why in a form a
 * program can act on, the message in words (as the host wrote it).
 */
public class AttachRefusedException extends SluiceException {
    private static final long serialVersionUID = 1L;

    private final RefusalReason reason;

    public AttachRefusedException(RefusalReason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public RefusalReason reason() {
        return reason;
    }
}
