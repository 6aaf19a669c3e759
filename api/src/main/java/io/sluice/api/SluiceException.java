package io.sluice.api;

/**
 * Root of every exception Sluice throws. Messages say what, where and why, for example
 * {@code channel 'md.eurusd': region size 4096 does not match descriptor 65536}.
 */
public class SluiceException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * A Sluice failure.
     *
     * @param message what failed, where and why
     */
    public SluiceException(String message) {
        super(message);
    }

    /**
     * A Sluice failure caused by another.
     *
     * @param message what failed, where and why
     * @param cause   the underlying failure
     */
    public SluiceException(String message, Throwable cause) {
        super(message, cause);
    }
}
