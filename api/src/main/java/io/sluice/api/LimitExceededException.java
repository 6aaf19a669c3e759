package io.sluice.api;

/**
 * A request would take more of a bounded resource than its limit allows: a host's memory budget,
 * a number of connections. The message names the resource, the limit, what was asked for, and
 * the setting that changes the limit.
 */
public class LimitExceededException extends SluiceException {
    private static final long serialVersionUID = 1L;

    /**
     * Reports a request that would exceed a configured or documented limit.
     *
     * @param message what was wrong, in which channel or region, and the values found
     */
    public LimitExceededException(String message) {
        super(message);
    }
}
