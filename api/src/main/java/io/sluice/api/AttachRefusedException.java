package io.sluice.api;

/**
 * The host refused to attach this process to a channel; {@link #reason()} says why in a form a
 * program can act on, the message in words (as the host wrote it).
 */
public class AttachRefusedException extends SluiceException {
    private static final long serialVersionUID = 1L;

    /** Why the host refused; null for a code this version does not know. */
    private final RefusalReason reason;

    /**
     * A refusal the host sent (REFUSE).
     *
     * @param reason  why, as the host coded it; null if the host sent a code this version does not know
     * @param message the host's refusal text (escaped), with what this process was attaching to
     */
    public AttachRefusedException(RefusalReason reason, String message) {
        super(message);
        this.reason = reason;
    }

    /**
     * Why the host refused.
     *
     * @return the refusal's reason, or null if the host sent a code this version does not know
     */
    public RefusalReason reason() {
        return reason;
    }
}
