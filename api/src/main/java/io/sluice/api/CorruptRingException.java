package io.sluice.api;

/**
 * Something read from a ring's shared memory is impossible: a record length past the capacity, an
 * unknown record type, a slot sequence from the future. The ring cannot be trusted any more; the
 * message says where (ring, position or slot) and what was found.
 */
public class CorruptRingException extends SluiceException {
    private static final long serialVersionUID = 1L;

    /**
     * Reports a ring whose shared memory holds something no honest writer writes.
     *
     * @param message what was wrong, in which channel or region, and the values found
     */
    public CorruptRingException(String message) {
        super(message);
    }
}
