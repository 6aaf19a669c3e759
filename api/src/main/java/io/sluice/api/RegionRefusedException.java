package io.sluice.api;

/**
 * A shared region offered by a peer is not what the protocol promised: not a memfd, missing
 * seals, the wrong size. The offending fd has been closed by the time this is thrown.
 */
public class RegionRefusedException extends SluiceException {
    private static final long serialVersionUID = 1L;

    public RegionRefusedException(String message) {
        super(message);
    }
}
