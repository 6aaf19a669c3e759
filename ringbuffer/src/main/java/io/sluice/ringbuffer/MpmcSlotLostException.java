package io.sluice.ringbuffer;

import io.sluice.api.SluiceException;

/**
 * A participant found that a slot it held (a claim it was about to commit or abort, a message it
 * was reading) had been taken from it: the host ran {@link MpmcRecovery} for this participant's
 * id, believing it dead. The ring itself is intact (every transition is a compare-and-set, so the
 * late commit or release changed nothing); the message is lost, and the payload this participant
 * wrote or read after the recovery may have raced with the slot's next user. A participant that
 * sees this has been fenced off by its host and should stop using the ring.
 */
public class MpmcSlotLostException extends SluiceException {
    private static final long serialVersionUID = 1L;

    /**
     * A lost slot.
     *
     * @param message which ring, participant, position and operation found the slot recovered
     */
    public MpmcSlotLostException(String message) {
        super(message);
    }
}
