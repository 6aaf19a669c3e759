package io.sluice.api;

/**
 * A system call failed. Carries the call and the errno, by number and by name, so that callers
 * can react to specific failures ({@code errnoName().equals("EPERM")}) and logs read like
 * {@code mmap: EPERM (Operation not permitted)}.
 */
public class SystemCallException extends SluiceException {
    private static final long serialVersionUID = 1L;

    /** The libc function that failed. */
    private final String call;
    /** The errno it left behind. */
    private final int errno;
    /** The symbolic name of the errno. */
    private final String errnoName;

    /**
     * A failed libc call; the message is {@code "call: ERRNONAME (description) [context]"}.
     *
     * @param call        the libc function that failed, e.g. {@code "mmap"}
     * @param errno       the errno it left behind
     * @param errnoName   the symbolic name of {@code errno}, e.g. {@code "ENOMEM"}
     * @param description the C library's text for it ({@code strerror}), or null
     * @param context     what the call was for (a path, a size, a name), or null
     */
    public SystemCallException(String call, int errno, String errnoName, String description, String context) {
        super(format(call, errnoName, description, context));
        this.call = call;
        this.errno = errno;
        this.errnoName = errnoName;
    }

    private SystemCallException(String message, String call, int errno, String errnoName, Throwable cause) {
        super(message, cause);
        this.call = call;
        this.errno = errno;
        this.errnoName = errnoName;
    }

    /**
     * The same failure, its message prefixed with what it was for ({@code "channel 'orders'"}), so
     * that an {@code ENOMEM} or {@code EMFILE} names the channel or region that needed the memory
     * or the descriptor. Call, errno and name are kept.
     *
     * @param subject what the call was for, e.g. {@code "channel 'orders'"}
     * @return a new exception with this one as its cause
     */
    public SystemCallException about(String subject) {
        return new SystemCallException(subject + ": " + getMessage(), call, errno, errnoName, this);
    }

    private static String format(String call, String errnoName, String description, String context) {
        StringBuilder sb = new StringBuilder(call).append(": ").append(errnoName);
        if (description != null && !description.isEmpty()) {
            sb.append(" (").append(description).append(')');
        }
        if (context != null && !context.isEmpty()) {
            sb.append(" [").append(context).append(']');
        }
        return sb.toString();
    }

    /**
     * The libc function that failed, e.g. {@code "mmap"}.
     *
     * @return the function name
     */
    public String call() {
        return call;
    }

    /**
     * The errno value the call left behind.
     *
     * @return the errno
     */
    public int errno() {
        return errno;
    }

    /**
     * The symbolic errno name, e.g. {@code "EPERM"}, or {@code "errno 123"} if unknown.
     *
     * @return the name
     */
    public String errnoName() {
        return errnoName;
    }
}
