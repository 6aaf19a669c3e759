package io.sluice.api;

/**
 * A shared region offered by a peer is not what the protocol promised: not a memfd, missing
 * seals, the wrong size. The offending fd has been closed by the time this is thrown.
 */
public class RegionRefusedException extends SluiceException {
    private static final long serialVersionUID = 1L;

    /**
     * Reports a shared-memory region that failed validation before it was used.
     *
     * @param message what was wrong, in which channel or region, and the values found
     */
    public RegionRefusedException(String message) {
        super(message);
    }
}
