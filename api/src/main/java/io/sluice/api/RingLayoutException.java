package io.sluice.api;

/**
 * A segment offered to a ring does not hold the layout expected: wrong magic, layout version,
 * ring kind, capacity or sizes. Thrown when attaching, before any message is read.
 */
public class RingLayoutException extends SluiceException {
    private static final long serialVersionUID = 1L;

    /**
     * Reports a region whose header does not describe the ring that was expected.
     *
     * @param message what was wrong, in which channel or region, and the values found
     */
    public RingLayoutException(String message) {
        super(message);
    }
}
