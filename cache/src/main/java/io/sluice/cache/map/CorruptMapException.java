package io.sluice.cache.map;

import io.sluice.api.SluiceException;

/**
 * The bytes of a shared map are impossible: a header that breaks a rule, or a slot whose control
 * word is stable while its fields are out of range (a key or value length above the map's
 * maximum, a state no writer writes). Thrown instead of reading outside the region or returning
 * a wrong answer; the message names the map, the field or slot and the values found.
 */
public class CorruptMapException extends SluiceException {
    private static final long serialVersionUID = 1L;

    public CorruptMapException(String message) {
        super(message);
    }
}
