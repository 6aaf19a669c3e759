package io.sluice.channel;

import java.lang.System.Logger.Level;
import java.util.function.Supplier;

/**
 * A log line that may recur thousands of times a second (out of descriptors, a connection flood,
 * a peer sending garbage in a loop): logged at most once per interval, with how many were
 * suppressed since. Never throws: at {@code EMFILE} even loading a logging class can fail, and
 * the caller must go on.
 */
final class RateLimitedLog {
    private static final System.Logger LOG = System.getLogger(ChannelEvents.LOGGER);

    private final Level level;
    private final long intervalNanos;
    private long lastNanos;
    private long suppressed;
    private boolean logged;

    RateLimitedLog(Level level, long intervalNanos) {
        this.level = level;
        this.intervalNanos = intervalNanos;
    }

    /** Loads and initializes what logging a warning needs, while the process still has descriptors. */
    static void preload() {
        try {
            LOG.isLoggable(Level.WARNING);
            // The JDK's default log format stamps each record with the local time: the first use
            // of the zone rules opens lib/tzdb.dat. Done first at EMFILE, that fails, the warning
            // is lost, and the failed class initialization makes every later record (and every
            // use of the default time zone in this process) throw NoClassDefFoundError.
            java.time.ZoneId.systemDefault().getRules();
            new RateLimitedLog(Level.WARNING, 1).log(() -> null);
        } catch (Throwable ignored) {
            // nothing to preload then
        }
    }

    /** Logs {@code message} unless one was logged less than an interval ago. Not thread-safe. */
    void log(Supplier<String> message) {
        log(message, null);
    }

    /** {@link #log(Supplier)}, with the stack trace of {@code thrown} (null: none). */
    void log(Supplier<String> message, Throwable thrown) {
        long now = System.nanoTime();
        if (logged && now - lastNanos < intervalNanos) {
            suppressed++;
            return;
        }
        try {
            String text = message.get();
            if (text != null && LOG.isLoggable(level)) {
                String line = suppressed == 0 ? text : text + " (" + suppressed + " more like it since the last)";
                if (thrown == null) {
                    LOG.log(level, line);
                } else {
                    LOG.log(level, line, thrown);
                }
            }
        } catch (Throwable ignored) {
            // the warning is lost; the caller's recovery is not
        }
        logged = true;
        lastNanos = now;
        suppressed = 0;
    }
}
